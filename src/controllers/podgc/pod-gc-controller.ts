// The pod garbage collector: removes pods whose node is gone, unscheduled terminating pods and surplus terminated pods.
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { type Informer, keyOf, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { rfc3339 } from '../../util/objects.js';
import { SharedInformerFactory } from '../common/informers.js';

export interface PodGCControllerOptions {
  client: KubeClient;
  /** the controller-manager's shared informers; default: a factory of its own */
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --terminated-pod-gc-threshold (12500); <= 0 disables terminated-pod collection */
  terminatedPodThreshold?: number;
  /** how often to collect (upstream gcCheckPeriod, 20 s); kubemu default 2 s */
  gcCheckPeriodMs?: number;
  /** how long a node must be missing before its pods count as orphaned (upstream 40 s); default 2 s */
  quarantineMs?: number;
}

const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

const isTerminated = (pod: Pod): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * Every gcCheckPeriod: (1) terminated pods beyond the threshold, oldest first; (2) pods bound to a node that
 * has been missing for the quarantine period (checked live with a GET), marked Failed with a DisruptionTarget
 * condition; (3) terminating pods never scheduled; (4) terminating pods on out-of-service, not-ready nodes.
 * All are force-deleted (grace period 0), as upstream's podgc does.
 */
export class PodGCController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly threshold: number;
  private readonly periodMs: number;
  private readonly quarantineMs: number;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  /** node name → when we first saw pods bound to it while it was missing */
  private readonly missingSince = new Map<string, number>();
  private timer: { cancel(): void } | undefined;
  private stopped = false;

  constructor(opts: PodGCControllerOptions) {
    if (!opts.client) throw new TypeError('PodGCController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'pod-garbage-collector' });
    this.clock = opts.clock ?? realClock;
    this.threshold = opts.terminatedPodThreshold ?? 12_500;
    this.periodMs = opts.gcCheckPeriodMs ?? 2_000;
    this.quarantineMs = opts.quarantineMs ?? 2_000;
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.pods = this.informers.pods();
    this.nodes = this.informers.nodes();
  }

  /** start informers, wait for their caches, start the periodic pass; resolves once it is scheduled */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.pods.waitForSync(), this.nodes.waitForSync()]);
    if (this.stopped) return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    if (this.ownsInformers) this.informers.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void this.gc().finally(() => this.schedule());
    }, this.periodMs);
  }

  /** one collection pass */
  async gc(): Promise<void> {
    const pods = this.pods.store.list();
    try {
      if (this.threshold > 0) await this.gcTerminated(pods);
      await this.gcOrphaned(pods);
      await this.gcUnscheduledTerminating(pods);
      await this.gcTerminatingOutOfService(pods);
    } catch (err) {
      this.log.warn({ err }, 'pod garbage collection pass failed; retrying next period');
    }
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter(isTerminated);
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    terminated.sort((a, b) =>
      String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')),
    );
    this.log.info({ count: excess, threshold: this.threshold }, 'garbage collecting terminated pods');
    for (const pod of terminated.slice(0, excess)) await this.forceDelete(pod);
  }

  private async gcOrphaned(pods: Pod[]): Promise<void> {
    const now = this.clock.now();
    const missing = new Set<string>();
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName && !this.nodes.store.get(nodeName)) missing.add(nodeName);
    }
    for (const name of this.missingSince.keys()) if (!missing.has(name)) this.missingSince.delete(name);
    for (const name of missing) {
      const since = this.missingSince.get(name);
      if (since === undefined) {
        this.missingSince.set(name, now);
        continue;
      }
      if (now - since < this.quarantineMs) continue;
      // The cache may lag behind a node just created: ask the apiserver before deleting anything.
      if (await this.nodeExists(name)) {
        this.missingSince.delete(name);
        continue;
      }
      for (const pod of pods) {
        if (pod.spec?.nodeName !== name) continue;
        this.log.info({ pod: keyOf(pod), node: name }, 'deleting orphaned pod: its node no longer exists');
        await this.markFailed(pod, 'DeletionByPodGC', 'PodGC: node no longer exists');
        await this.forceDelete(pod);
      }
      this.missingSince.delete(name);
    }
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp || pod.spec?.nodeName) continue;
      this.log.info({ pod: keyOf(pod) }, 'deleting unscheduled terminating pod');
      await this.forceDelete(pod);
    }
  }

  private async gcTerminatingOutOfService(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (!pod.metadata?.deletionTimestamp || !nodeName) continue;
      const node = this.nodes.store.get(nodeName);
      if (!node) continue;
      const outOfService = node.spec?.taints?.some(
        (t) => t.key === TAINT_OUT_OF_SERVICE && t.effect === 'NoExecute',
      );
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (!outOfService || ready) continue;
      this.log.info({ pod: keyOf(pod), node: nodeName }, 'deleting terminating pod on out-of-service node');
      await this.markFailed(pod, 'DeletionByPodGC', 'PodGC: node is out of service');
      await this.forceDelete(pod);
    }
  }

  private async nodeExists(name: string): Promise<boolean> {
    try {
      await this.client.nodes.get(name);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }

  /** upstream markFailedAndDeletePodWithCondition: phase Failed (if not terminal) and a DisruptionTarget condition */
  private async markFailed(pod: Pod, reason: string, message: string): Promise<void> {
    const condition: PodCondition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason,
      message,
      lastTransitionTime: rfc3339(this.clock.now()),
    };
    const next: Pod = {
      ...structuredClone(pod),
      status: {
        ...structuredClone(pod.status),
        ...(isTerminated(pod) ? {} : { phase: 'Failed' }),
        conditions: [
          ...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
          condition,
        ],
      },
    };
    try {
      await this.client.pods.updateStatus(next);
    } catch (err) {
      // best effort: the delete below is what matters
      this.log.debug({ err, pod: keyOf(pod) }, 'could not mark pod failed');
    }
  }

  private async forceDelete(pod: Pod): Promise<void> {
    try {
      await this.client.pods.delete(pod.metadata?.name ?? '', {
        namespace: pod.metadata?.namespace ?? 'default',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid ?? '' },
      });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
