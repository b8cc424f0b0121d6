// kube-scheduler's loop: watch pods and nodes, queue pending pods, decide, assume, bind, and say why when nothing fits.
import { hostname } from 'node:os';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { EventRecorder, Informer, WorkQueue, keyOf, referenceTo, type KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { deepEqual, rfc3339 } from '../util/objects.js';
import { SchedulerCache, type NodeInfo } from './cache.js';
import { effectiveTaints } from './filters.js';
import { observeAttempt, reportPendingFrom } from './metrics.js';
import { SchedulerVolumes, VolumeBindingError } from './volume-cache.js';
import { fitErrorMessage, scheduleOne, type ScheduleResult } from './schedule-one.js';
import { Nominator } from './nominator.js';
import { preempt } from './preemption.js';
import { prepareCandidate } from './prepare-candidate.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  client: KubeClient;
  logger?: Logger;
  clock?: Clock;
  /** for tie-breaking between equally good nodes; default Math.random */
  random?: () => number;
  /** pods with this spec.schedulerName (or none) are ours; default `default-scheduler` */
  schedulerName?: string;
  /** concurrent bindings in flight; default 16 */
  workers?: number;
  /** backoff of an unschedulable pod: initial, doubling to max; upstream 1 s → 10 s */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** reportingInstance of events; default `<schedulerName>-<hostname>` */
  instance?: string;
  /** how long PreBind waits for a pod's claims to be bound (upstream's bindTimeoutSeconds) */
  bindTimeoutMs?: number;
}

interface Unschedulable {
  attempts: number;
  /** when its backoff is over and it may be tried again */
  readyAt: number;
}

const UNSCHEDULABLE = 'Unschedulable';

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** what a pod update must change for a pending pod to be worth another attempt (status-only updates are ours) */
function schedulingRelevant(pod: Pod): unknown {
  const m = pod.metadata ?? {};
  return [pod.spec, m.labels, m.annotations, m.deletionTimestamp, m.ownerReferences];
}

/** node changes that can make a pending pod schedulable (upstream's NodeUpdate event hints) */
function nodeSchedulingRelevant(node: Node): unknown {
  return [node.status?.allocatable, node.metadata?.labels, node.spec?.unschedulable, effectiveTaints(node)];
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly podInformer: Informer<Pod>;
  readonly nodeInformer: Informer<Node>;
  readonly volumes: SchedulerVolumes;
  /** PodDisruptionBudgets, which preemption respects as far as it can */
  readonly pdbInformer: Informer<PodDisruptionBudget>;
  readonly nominator = new Nominator();
  private readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly schedulerName: string;
  private readonly workers: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly recorder: EventRecorder;
  private readonly unschedulable = new Map<string, Unschedulable>();
  private running: Promise<void> | undefined;
  /** writes that outlive their worker (PodScheduled conditions), awaited by idle() with the events */
  private readonly background = new Set<Promise<unknown>>();

  constructor(opts: SchedulerOptions) {
    if (!opts.client) throw new TypeError('Scheduler needs a client');
    this.client = opts.client;
    this.log = (opts.logger ?? silentLogger()).child({ controller: 'scheduler' });
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.workers = opts.workers ?? 16;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    if (this.workers < 1 || this.initialBackoffMs <= 0 || this.maxBackoffMs < this.initialBackoffMs) {
      throw new TypeError('Scheduler: workers must be ≥ 1 and 0 < initialBackoffMs ≤ maxBackoffMs');
    }
    this.recorder = new EventRecorder({
      client: this.client,
      component: this.schedulerName,
      instance: opts.instance ?? `${this.schedulerName}-${hostname()}`,
      clock: this.clock,
      logger: this.log,
    });
    this.queue = new WorkQueue<string>({ name: 'scheduler', clock: this.clock, logger: this.log });
    this.podInformer = new Informer<Pod>({
      name: 'pods',
      source: this.client.pods,
      clock: this.clock,
      logger: this.log,
    });
    this.nodeInformer = new Informer<Node>({
      name: 'nodes',
      source: this.client.nodes,
      clock: this.clock,
      logger: this.log,
    });
    this.pdbInformer = new Informer<PodDisruptionBudget>({
      name: 'poddisruptionbudgets',
      source: this.client.resource<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets'),
      clock: this.clock,
      logger: this.log,
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.onPodAdd(pod),
      onUpdate: (old, pod) => this.onPodUpdate(old, pod),
      onDelete: (pod) => this.onPodDelete(pod),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (node) => {
        this.cache.setNode(node);
        this.moveAllToActive('NodeAdd');
      },
      onUpdate: (old, node) => {
        this.cache.setNode(node);
        if (!deepEqual(nodeSchedulingRelevant(old), nodeSchedulingRelevant(node)))
          this.moveAllToActive('NodeUpdate');
      },
      onDelete: (node) => this.cache.removeNode(node.metadata!.name!),
    });
    this.volumes = new SchedulerVolumes(
      this.client,
      this.clock,
      this.log,
      (event) => this.moveAllToActive(event),
      (name) => this.nodeInformer.store.get(name),
      opts.bindTimeoutMs,
    );
  }

  /** start the informers, wait for their caches, then start the workers */
  async start(): Promise<void> {
    reportPendingFrom(() => this.pendingCounts());
    this.nodeInformer.start();
    this.podInformer.start();
    this.volumes.start();
    this.pdbInformer.start();
    await Promise.all([
      this.nodeInformer.waitForSync(),
      this.podInformer.waitForSync(),
      this.volumes.waitForSync(),
      this.pdbInformer.waitForSync(),
    ]);
    this.log.info(
      { nodes: this.nodeInformer.store.size(), pods: this.podInformer.store.size(), workers: this.workers },
      'caches synced; scheduling',
    );
    this.running = this.queue.runWorkers(this.workers, (key) => this.schedulePod(key));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.podInformer.stop();
    this.nodeInformer.stop();
    this.volumes.stop();
    this.pdbInformer.stop();
    await this.running;
    await this.idle();
  }

  /** resolves once the event writes started so far are done (tests) */
  async idle(): Promise<void> {
    do {
      await Promise.all([...this.background]);
      await this.recorder.flush();
    } while (this.background.size);
  }

  pendingCounts(): { active: number; backoff: number; unschedulable: number } {
    const now = this.clock.now();
    let backoff = 0;
    for (const u of this.unschedulable.values()) if (u.readyAt > now) backoff++;
    return { active: this.queue.len(), backoff, unschedulable: this.unschedulable.size - backoff };
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  private needsScheduling(pod: Pod): boolean {
    return (
      !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && !isTerminal(pod) && this.responsibleFor(pod)
    );
  }

  private onPodAdd(pod: Pod): void {
    this.nominator.update(pod);
    if (pod.spec?.nodeName) this.cache.updatePod(pod);
    else if (this.needsScheduling(pod)) this.queue.add(keyOf(pod));
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    this.nominator.update(pod);
    if (pod.spec?.nodeName) {
      const freed = !isTerminal(old) && isTerminal(pod);
      this.cache.updatePod(pod);
      this.unschedulable.delete(keyOf(pod));
      if (freed) this.moveAllToActive('AssignedPodTerminated');
      return;
    }
    if (!this.needsScheduling(pod)) return;
    const key = keyOf(pod);
    // our own PodScheduled condition writes come back as updates; only a changed spec/labels is worth a retry
    if (!this.unschedulable.has(key) || !deepEqual(schedulingRelevant(old), schedulingRelevant(pod))) {
      this.unschedulable.delete(key);
      this.queue.add(key);
    }
  }

  private onPodDelete(pod: Pod): void {
    const key = keyOf(pod);
    const wasAssigned = this.cache.nodeOf(key) !== undefined;
    this.cache.removePod(key);
    this.nominator.remove(key);
    this.unschedulable.delete(key);
    this.recorder.forget(pod.metadata?.uid);
    if (wasAssigned) this.moveAllToActive('AssignedPodDelete');
  }

  /** a cluster event may have made room: retry unschedulable pods whose backoff is over, the rest when it is */
  private moveAllToActive(event: string): void {
    if (this.unschedulable.size === 0) return;
    const now = this.clock.now();
    this.log.debug({ event, pods: this.unschedulable.size }, 'moving unschedulable pods to the active queue');
    for (const [key, u] of this.unschedulable) {
      if (u.readyAt <= now) this.queue.add(key);
      else this.queue.addAfter(key, u.readyAt - now);
    }
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** one scheduling attempt for the pod under `key` (a work queue handler: throwing re-queues with backoff) */
  private async schedulePod(key: string): Promise<void> {
    const pod = this.podInformer.store.get(key);
    if (!pod || !this.needsScheduling(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    // bound by us a moment ago, the watch has not caught up yet
    if (this.cache.isAssumed(key)) return;
    const started = this.clock.now();
    // Decide and assume with no await in between, so concurrent workers always see each other's choices.
    const infos = this.nominator.withNominatedPods(pod, this.cache.nodeInfos());
    const result = this.scheduleWithNomination(pod, infos);
    if ('unschedulable' in result) {
      await this.postFilter(key, pod, infos, result);
      observeAttempt('unschedulable', this.schedulerName, (this.clock.now() - started) / 1000);
      return;
    }
    const nodeName = result.node;
    this.cache.assumePod(pod, nodeName);
    this.nominator.remove(key);
    this.unschedulable.delete(key);
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    if (result.volumes) {
      try {
        await this.volumes.preBind(pod, nodeName, result.volumes);
      } catch (err) {
        // the binding cycle failed: forget the assumption and try again later, as upstream's unreserve does
        this.cache.forgetPod(key);
        const message =
          err instanceof VolumeBindingError
            ? err.message
            : `running PreBind plugin "VolumeBinding": ${(err as Error).message}`;
        this.handleUnschedulable(key, pod, message);
        observeAttempt('error', this.schedulerName, (this.clock.now() - started) / 1000);
        return;
      }
    }
    try {
      await this.client.pods.bind(
        {
          metadata: { name, namespace, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
        { namespace },
      );
    } catch (err) {
      this.cache.forgetPod(key);
      const code = (err as { code?: number }).code;
      if (code === 404 || code === 409) {
        // deleted, being deleted, or bound by someone else: the informer will tell us what became of it
        this.log.info(
          { pod: key, node: nodeName, err: (err as Error).message },
          'binding rejected; dropping',
        );
        return;
      }
      observeAttempt('error', this.schedulerName, (this.clock.now() - started) / 1000);
      throw err;
    }
    observeAttempt('scheduled', this.schedulerName, (this.clock.now() - started) / 1000);
    this.log.debug({ pod: key, node: nodeName, feasible: result.feasible }, 'bound');
    this.recorder.forget(pod.metadata?.uid);
    this.recorder.event(
      referenceTo(pod, 'v1', 'Pod'),
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${name} to ${nodeName}`,
      'Binding',
    );
  }

  /** a pod that preempted others tries the node it was nominated to first (evaluateNominatedNode) */
  private scheduleWithNomination(pod: Pod, infos: NodeInfo[]): ScheduleResult {
    const nominated = pod.status?.nominatedNodeName ?? this.nominator.nodeOf(keyOf(pod));
    const info = nominated ? infos.find((i) => i.name === nominated) : undefined;
    if (info) {
      const first = scheduleOne(pod, [info], this.random, this.volumes);
      if (!('unschedulable' in first)) return first;
    }
    return scheduleOne(pod, infos, this.random, this.volumes);
  }

  /** DefaultPreemption as the PostFilter: preempt and nominate, or explain why not */
  private async postFilter(
    key: string,
    pod: Pod,
    infos: NodeInfo[],
    result: Extract<ScheduleResult, { unschedulable: true }>,
  ): Promise<void> {
    if (result.failures.size === 0) {
      this.handleUnschedulable(key, pod, result.message);
      return;
    }
    const outcome = preempt(pod, infos, result.failures, this.pdbInformer.store.list());
    if (outcome.kind !== 'preempt') {
      const message = fitErrorMessage(
        pod,
        infos.length,
        result.failures,
        `preemption: ${outcome.message}`,
        result.preFilterMessage,
      );
      // no node would do: the pod no longer waits for one (NominatingInfo with an empty node)
      if (outcome.kind === 'none') this.nominator.remove(key);
      this.handleUnschedulable(key, pod, message, outcome.kind === 'none' ? null : undefined);
      return;
    }
    const { candidate } = outcome;
    this.log.info(
      { pod: key, node: candidate.node, victims: candidate.victims.map(keyOf) },
      'preempting lower-priority pods',
    );
    try {
      await prepareCandidate(
        {
          client: this.client,
          recorder: this.recorder,
          nominator: this.nominator,
          log: this.log,
          nowMs: this.clock.now(),
        },
        pod,
        candidate,
      );
    } catch (err) {
      this.log.warn({ err, pod: key }, 'preemption failed');
      this.handleUnschedulable(key, pod, result.message);
      return;
    }
    this.nominator.nominate(pod, candidate.node);
    this.handleUnschedulable(
      key,
      pod,
      fitErrorMessage(pod, infos.length, result.failures, '', result.preFilterMessage),
      candidate.node,
    );
  }

  /** `nominatedNodeName`: a node to write into the status, null to clear it, undefined to leave it */
  private handleUnschedulable(
    key: string,
    pod: Pod,
    message: string,
    nominatedNodeName?: string | null,
  ): void {
    const prev = this.unschedulable.get(key);
    const attempts = (prev?.attempts ?? 0) + 1;
    const backoff = Math.min(this.initialBackoffMs * 2 ** (attempts - 1), this.maxBackoffMs);
    this.unschedulable.set(key, { attempts, readyAt: this.clock.now() + backoff });
    this.queue.addAfter(key, backoff);
    this.log.info({ pod: key, attempts, message }, 'unable to schedule pod; waiting');
    this.recorder.event(referenceTo(pod, 'v1', 'Pod'), 'Warning', 'FailedScheduling', message, 'Scheduling');
    this.track(this.setUnschedulableCondition(pod, message, nominatedNodeName));
  }

  /** PodScheduled=False/Unschedulable with the message, written only when it changed (as upstream's updatePod) */
  private async setUnschedulableCondition(
    pod: Pod,
    message: string,
    nominatedNodeName?: string | null,
  ): Promise<void> {
    const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nominationUnchanged =
      nominatedNodeName === undefined || (pod.status?.nominatedNodeName ?? null) === nominatedNodeName;
    if (
      current?.status === 'False' &&
      current.reason === UNSCHEDULABLE &&
      current.message === message &&
      nominationUnchanged
    )
      return;
    const condition: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason: UNSCHEDULABLE,
      message,
      lastProbeTime: null as unknown as string,
      lastTransitionTime:
        current?.status === 'False' && current.lastTransitionTime
          ? current.lastTransitionTime
          : rfc3339(this.clock.now()),
    };
    try {
      await this.client.pods.patch(
        pod.metadata!.name!,
        {
          status: {
            conditions: [condition],
            ...(nominationUnchanged ? {} : { nominatedNodeName }),
          },
        },
        'strategic',
        { namespace: pod.metadata!.namespace!, subresource: 'status' },
      );
    } catch (err) {
      this.log.warn({ err, pod: keyOf(pod) }, 'could not update the PodScheduled condition');
    }
  }
}
