// The ReplicaSet controller (upstream pkg/controller/replicaset): keeps spec.replicas pods matching each ReplicaSet's selector.
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../api/errors.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
  type ObjectWithMeta,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { claimObjects, getControllerOf, isNotFound, newControllerRef } from '../common/controller-ref.js';
import { ControllerExpectations } from '../common/expectations.js';
import { CONTROLLER_UID_INDEX, NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { isPodActive, isPodAvailable, isPodReady, sortPodsForDeletion } from '../common/pods.js';
import { labelsContain, selectorMatches, selectsEverything } from '../common/selectors.js';

export const REPLICASET_CONTROLLER_NAME = 'replicaset-controller';

/** upstream's BurstReplicas: at most this many creates or deletes per sync */
const BURST_REPLICAS = 500;
/** upstream's SlowStartInitialBatchSize */
const SLOW_START_INITIAL_BATCH = 1;

/**
 * The kind a ReplicaSetController manages. Upstream runs the ReplicationController manager as the ReplicaSet
 * controller over adapters that convert between the two kinds (pkg/controller/replication/conversion.go); this is
 * that seam: the controller sees ReplicaSets, `toReplicaSet`/`get`/`updateStatus` convert at the edges.
 */
export interface ReplicaSetKind {
  apiVersion: string;
  kind: string;
  /** the component name on events and logs (upstream's controller name) */
  controllerName: string;
  informer: Informer<ObjectWithMeta>;
  toReplicaSet(obj: ObjectWithMeta): ReplicaSet;
  get(name: string, namespace: string | undefined): Promise<ReplicaSet>;
  updateStatus(rs: ReplicaSet): Promise<ReplicaSet>;
}

function replicaSetKind(client: KubeClient, informers: SharedInformerFactory): ReplicaSetKind {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    controllerName: REPLICASET_CONTROLLER_NAME,
    informer: informers.replicaSets() as unknown as Informer<ObjectWithMeta>,
    toReplicaSet: (obj) => obj as ReplicaSet,
    get: (name, namespace) => client.replicaSets.get(name, namespace),
    updateStatus: (rs) => client.replicaSets.updateStatus(rs),
  };
}

export interface ReplicaSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-replicaset-syncs, default 5) */
  workers?: number;
  burstReplicas?: number;
  recorder?: EventRecorder;
  /** default: ReplicaSets */
  kind?: ReplicaSetKind;
}

export class ReplicaSetController {
  readonly expectations: ControllerExpectations;
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly kind: ReplicaSetKind;
  private readonly podInformer: Informer<Pod>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly burstReplicas: number;
  private workersDone: Promise<void> | undefined;

  constructor(opts: ReplicaSetControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('ReplicaSetController needs client and informers');
    this.client = opts.client;
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.kind = opts.kind ?? replicaSetKind(opts.client, opts.informers);
    this.log = (opts.logger ?? silentLogger()).child({ controller: this.kind.controllerName });
    this.workers = opts.workers ?? 5;
    this.burstReplicas = opts.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new ControllerExpectations(this.clock);
    this.queue = new WorkQueue<string>({
      name: this.kind.kind.toLowerCase(),
      clock: this.clock,
      logger: this.log,
    });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: this.kind.controllerName,
        clock: this.clock,
        logger: this.log,
      });
    this.podInformer = this.informers.pods();
    this.kind.informer.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (rs) => {
        this.expectations.delete(keyOf(rs));
        this.enqueue(rs);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
  }

  /** start the informers, wait for their caches, start the workers; resolves once syncing has begun */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.kind.informer.waitForSync(), this.podInformer.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.syncReplicaSet(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  /** resolves when the workers have finished after stop() */
  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** events recorded so far are written */
  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  private enqueue(rs: ObjectWithMeta): void {
    this.queue.add(keyOf(rs));
  }

  /** the ReplicaSet a controllerRef points at, if it still is that object (same uid) */
  private resolveControllerRef(namespace: string | undefined, ref: OwnerReference): ReplicaSet | undefined {
    if (ref.kind !== this.kind.kind) return undefined;
    const rs = this.kind.informer.store.getByName(namespace, ref.name);
    return rs?.metadata?.uid === ref.uid ? this.kind.toReplicaSet(rs) : undefined;
  }

  /** ReplicaSets whose selector matches an orphan pod (getPodReplicaSets) */
  private replicaSetsMatching(pod: Pod): ReplicaSet[] {
    return this.kind.informer.store
      .byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')
      .map((o) => this.kind.toReplicaSet(o))
      .filter(
        (rs) =>
          !selectsEverything(rs.spec?.selector) && selectorMatches(rs.spec?.selector, pod.metadata?.labels),
      );
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // on restart the informer may see a pod already being deleted: that is a deletion to observe
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.enqueue(rs);
      return;
    }
    // an orphan: wake every ReplicaSet that might adopt it
    for (const rs of this.replicaSetsMatching(pod)) this.enqueue(rs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (cur.metadata?.deletionTimestamp) {
      // a graceful delete shows up as an update long before the final delete: count it now
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const oldRS = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (oldRS) this.enqueue(oldRS);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (!rs) return;
      this.enqueue(rs);
      // a pod that just became ready becomes available minReadySeconds later: look again then
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0)
        this.queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.replicaSetsMatching(cur)) this.enqueue(rs);
  }

  private deletePod(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (!rs) return;
    const rsKey = keyOf(rs);
    this.expectations.deletionObserved(rsKey, keyOf(pod));
    this.enqueue(rs);
  }

  /** one pass of the control loop for one ReplicaSet key; throws to be retried with backoff */
  async syncReplicaSet(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const stored = this.kind.informer.store.getByName(namespace, name);
    if (!stored) {
      this.expectations.delete(key);
      return;
    }
    const cached = this.kind.toReplicaSet(stored);
    const rsNeedsSync = this.expectations.satisfied(key);
    const selector = cached.spec?.selector;
    const activePods = this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace ?? '').filter(isPodActive);
    const pods = await claimObjects<Pod>({
      owner: cached,
      ownerApiVersion: this.kind.apiVersion,
      ownerKind: this.kind.kind,
      selector,
      objects: activePods,
      client: this.client.pods,
      canAdopt: () => this.canAdopt(cached),
    });

    let manageError: Error | undefined;
    if (rsNeedsSync && !cached.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(pods, cached, key);
      } catch (err) {
        manageError = err instanceof Error ? err : new Error(String(err));
      }
    }
    const newStatus = this.calculateStatus(cached, pods, manageError);
    const updated = await this.updateStatus(cached, newStatus);
    const want = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (
      !manageError &&
      minReady > 0 &&
      updated.status?.readyReplicas === want &&
      (updated.status?.availableReplicas ?? 0) !== want
    ) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  /** RecheckDeletionTimestamp: read the ReplicaSet fresh before adopting anything */
  private async canAdopt(rs: ReplicaSet): Promise<boolean> {
    try {
      const fresh = await this.kind.get(rs.metadata?.name ?? '', rs.metadata?.namespace);
      return fresh.metadata?.uid === rs.metadata?.uid && !fresh.metadata?.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async manageReplicas(pods: Pod[], rs: ReplicaSet, key: string): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    let diff = pods.length - want;
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      // expect before creating: the watch may deliver the new pods before create() returns
      this.expectations.expectCreations(key, diff);
      this.log.debug({ rs: key, need: want, creating: diff }, 'too few replicas');
      const { succeeded, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, () =>
        this.createPod(rs),
      );
      // creates never attempted (a batch failed) will never be observed
      for (let i = succeeded; i < diff; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      this.log.debug({ rs: key, need: want, deleting: diff }, 'too many replicas');
      const victims = this.podsToDelete(pods, rs, diff);
      this.expectations.expectDeletions(
        key,
        victims.map((p) => keyOf(p)),
      );
      const results = await Promise.allSettled(victims.map((pod) => this.deletePodOf(rs, pod, key)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
  }

  private podsToDelete(pods: Pod[], rs: ReplicaSet, count: number): Pod[] {
    if (count >= pods.length) return pods.slice(0, count);
    const onNode = new Map<string, number>();
    for (const pod of this.relatedPods(rs)) {
      if (!isPodActive(pod)) continue;
      const node = pod.spec?.nodeName ?? '';
      onNode.set(node, (onNode.get(node) ?? 0) + 1);
    }
    const sorted = sortPodsForDeletion(
      pods,
      (p) => onNode.get(p.spec?.nodeName ?? '') ?? 0,
      this.clock.now(),
    );
    return sorted.slice(0, count);
  }

  /** pods of every ReplicaSet with the same controller as `rs` (getIndirectlyRelatedPods) */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const ref = getControllerOf(rs);
    if (!ref) return [];
    const seen = new Set<string>();
    const out: Pod[] = [];
    const nsPods = this.podInformer.store.byIndex(NAMESPACE_INDEX, rs.metadata?.namespace ?? '');
    for (const stored of this.kind.informer.store.byIndex(CONTROLLER_UID_INDEX, ref.uid)) {
      const related = this.kind.toReplicaSet(stored);
      if (related.metadata?.namespace !== rs.metadata?.namespace) continue;
      for (const pod of nsPods) {
        const uid = pod.metadata?.uid ?? keyOf(pod);
        if (seen.has(uid) || !selectorMatches(related.spec?.selector, pod.metadata?.labels)) continue;
        seen.add(uid);
        out.push(pod);
      }
    }
    return out;
  }

  private async createPod(rs: ReplicaSet): Promise<void> {
    const pod = podFromTemplate(rs.spec?.template, rs, this.kind);
    try {
      const created = await this.client.pods.create(pod);
      this.log.debug({ rs: keyOf(rs), pod: created.metadata?.name }, 'created pod');
      this.recorder.event(
        this.asOwner(rs),
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata?.name}`,
      );
    } catch (err) {
      // a terminating namespace refuses every create: nothing to report, nothing to retry
      if (isNamespaceTerminating(err)) return;
      this.recorder.event(
        this.asOwner(rs),
        'Warning',
        'FailedCreate',
        `Error creating: ${errorMessage(err)}`,
      );
      throw err;
    }
  }

  private async deletePodOf(rs: ReplicaSet, pod: Pod, rsKey: string): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.pods.delete(name, { namespace: pod.metadata?.namespace });
      this.recorder.event(this.asOwner(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      // the delete will never be observed as one we made: stop waiting for it
      this.expectations.deletionObserved(rsKey, keyOf(pod));
      if (isNotFound(err)) return;
      this.recorder.event(
        this.asOwner(rs),
        'Warning',
        'FailedDelete',
        `Error deleting: ${errorMessage(err)}`,
      );
      throw err;
    }
  }

  /** the object events are about: the managed kind, as stored */
  private asOwner(rs: ReplicaSet): ObjectWithMeta {
    const stored = this.kind.informer.store.getByName(rs.metadata?.namespace, rs.metadata?.name ?? '');
    return { ...(stored ?? rs), apiVersion: this.kind.apiVersion, kind: this.kind.kind };
  }

  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageError: Error | undefined): ReplicaSetStatus {
    const status: ReplicaSetStatus = structuredClone(rs.status ?? { replicas: 0 });
    const templateLabels = rs.spec?.template?.metadata?.labels;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const now = this.clock.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      if (labelsContain(pod.metadata?.labels, templateLabels)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
    }
    const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (manageError && !failure) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      const cond: ReplicaSetCondition = {
        type: 'ReplicaFailure',
        status: 'True',
        lastTransitionTime: rfc3339(now),
        reason,
        message: errorMessage(manageError),
      };
      status.conditions = [...(status.conditions ?? []), cond];
    } else if (!manageError && failure) {
      status.conditions = status.conditions?.filter((c) => c.type !== 'ReplicaFailure');
      if (!status.conditions?.length) delete status.conditions;
    }
    status.replicas = pods.length;
    status.fullyLabeledReplicas = fullyLabeled;
    status.readyReplicas = ready;
    status.availableReplicas = available;
    return status;
  }

  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    const old = rs.status ?? { replicas: 0 };
    const generation = rs.metadata?.generation ?? 0;
    if (
      old.replicas === status.replicas &&
      (old.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (old.readyReplicas ?? 0) === status.readyReplicas &&
      (old.availableReplicas ?? 0) === status.availableReplicas &&
      (old.observedGeneration ?? 0) === generation &&
      deepEqual(old.conditions ?? [], status.conditions ?? [])
    ) {
      return rs;
    }
    const next: ReplicaSet = {
      ...structuredClone(rs),
      status: { ...status, observedGeneration: generation },
    };
    // upstream's statusUpdateRetries = 1: on failure, refetch once and try again
    try {
      return await this.kind.updateStatus(next);
    } catch (err) {
      if (isNotFound(err)) return rs;
      const fresh = await this.kind.get(rs.metadata?.name ?? '', rs.metadata?.namespace);
      return this.kind.updateStatus({
        ...fresh,
        status: { ...status, observedGeneration: fresh.metadata?.generation ?? generation },
      });
    }
  }
}

/** controller.GetPodFromTemplate: labels, annotations, finalizers and spec from the template; generateName `<rs>-` */
export function podFromTemplate(
  template: PodTemplateSpec | undefined,
  rs: ReplicaSet,
  owner: { apiVersion: string; kind: string } = { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
): Pod {
  const meta = template?.metadata ?? {};
  const rsName = rs.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rsName}-`,
      namespace: rs.metadata?.namespace,
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [newControllerRef(rs, owner.apiVersion, owner.kind)],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
}

/**
 * Run `n` calls in batches of 1, 2, 4, ... (upstream slowStartBatch), stopping after the first batch
 * with a failure, so a quota or admission failure costs one call rather than hundreds.
 */
export async function slowStartBatch(
  n: number,
  initial: number,
  fn: () => Promise<void>,
): Promise<{ succeeded: number; error?: Error }> {
  let remaining = n;
  let succeeded = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    succeeded += results.filter((r) => r.status === 'fulfilled').length;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const reason: unknown = failed.reason;
      return { succeeded, error: reason instanceof Error ? reason : new Error(String(reason)) };
    }
    remaining -= batch;
  }
  return { succeeded };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isNamespaceTerminating(err: unknown): boolean {
  if (!ApiError.isApiError(err)) return false;
  const causes = err.details?.causes ?? [];
  return causes.some((c) => c.reason === 'NamespaceTerminating');
}
