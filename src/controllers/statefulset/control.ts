// defaultStatefulSetControl (upstream stateful_set_control.go): one pass over a StatefulSet and its pods — revisions,
// ordered (or parallel) creation, scale-down from the highest ordinal, rolling updates by partition (and
// maxUnavailable), OnDelete, the claims' retention refs, status, and the revision history limit.
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeClient, ResourceClient } from '../../client/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { getControllerOf } from '../common/controller-ref.js';
import {
  findEqualRevisions,
  equalRevision,
  sortControllerRevisions,
  type History,
} from '../history/controller-history.js';
import { isNotFound, type StatefulPodControl } from './pod-control.js';
import {
  allowsBurst,
  applyRevision,
  completeRollingUpdate,
  endOrdinal,
  getOrdinal,
  identityMatches,
  inconsistentStatus,
  isCreated,
  isFailed,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  isUnavailable,
  maxUnavailableOf,
  newRevision,
  newVersionedStatefulSetPod,
  nextRevision,
  podInOrdinalRange,
  podRevision,
  startOrdinal,
  storageMatches,
  STS_API_VERSION,
  STS_KIND,
} from './utils.js';

/** upstream's MaxBatchSize for Parallel pod management */
const MAX_BATCH_SIZE = 500;

export interface StatefulSetControlDeps {
  client: KubeClient;
  sets: ResourceClient<StatefulSet>;
  podControl: StatefulPodControl;
  history: History;
  clock: Clock;
  log: Logger;
}

/** what a pass ends with: `shouldExit` stops the ordered walk (monotonic), `err` fails the sync */
type StepResult = { exit: boolean };

export class StatefulSetControl {
  constructor(private readonly d: StatefulSetControlDeps) {}

  listRevisions(set: StatefulSet): ControllerRevision[] {
    return this.d.history.list(set, set.spec?.selector);
  }

  async adoptOrphanRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<void> {
    for (const r of revisions)
      if (!getControllerOf(r)) await this.d.history.adopt(set, STS_API_VERSION, STS_KIND, r);
  }

  /** UpdateStatefulSet: the pass, then the history limit (also after a failed pass); returns the status it wrote */
  async updateStatefulSet(original: StatefulSet, pods: Pod[]): Promise<StatefulSetStatus | undefined> {
    const set: StatefulSet = structuredClone(original);
    const revisions = sortControllerRevisions(this.listRevisions(set));
    let current: ControllerRevision | undefined;
    let update: ControllerRevision | undefined;
    let status: StatefulSetStatus | undefined;
    let error: unknown;
    try {
      ({ current, update, status } = await this.performUpdate(set, pods, revisions));
    } catch (err) {
      error = err;
      const partial = err as { current?: ControllerRevision; update?: ControllerRevision };
      current = partial.current;
      update = partial.update;
    }
    try {
      await this.truncateHistory(set, pods, revisions, current, update);
    } catch (err) {
      error ??= err;
    }
    if (error) throw asError(error);
    return status;
  }

  private async performUpdate(
    set: StatefulSet,
    pods: Pod[],
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; status: StatefulSetStatus }> {
    const { current, update, collisionCount } = await this.getStatefulSetRevisions(set, revisions);
    let status: StatefulSetStatus | undefined;
    let err: unknown;
    try {
      status = await this.updateStatefulSetPods(set, current, update, collisionCount, pods);
    } catch (e) {
      const partial = e as { status?: StatefulSetStatus };
      status = partial.status;
      err = e;
    }
    const fail = (e: unknown): never => {
      const wrapped = asError(e);
      throw Object.assign(wrapped, { current, update });
    };
    if (!status) return fail(err);
    let statusErr: unknown;
    try {
      await this.updateStatefulSetStatus(set, status);
    } catch (e) {
      statusErr = e;
      if (err) this.d.log.warn({ err: e, set: set.metadata?.name }, 'could not update status');
    }
    if (err) return fail(err);
    if (statusErr) return fail(statusErr);
    return { current, update, status };
  }

  /**
   * truncateHistory: revisions that are neither current, update, nor any pod's are deleted, lowest first, until only
   * revisionHistoryLimit of them remain.
   */
  private async truncateHistory(
    set: StatefulSet,
    pods: Pod[],
    revisions: ControllerRevision[],
    current: ControllerRevision | undefined,
    update: ControllerRevision | undefined,
  ): Promise<void> {
    const live = new Set<string>();
    if (current) live.add(current.metadata?.name ?? '');
    if (update) live.add(update.metadata?.name ?? '');
    for (const p of pods) live.add(podRevision(p));
    const history = revisions.filter((r) => !live.has(r.metadata?.name ?? ''));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (limit < 0 || history.length <= limit) return;
    for (const r of history.slice(0, history.length - limit)) await this.d.history.delete(r);
  }

  /**
   * getStatefulSetRevisions: the update revision is the set's template now — the latest revision if equal, an earlier
   * equal one renumbered (a rollback), else a new one; the current revision is status.currentRevision's, if any.
   */
  private async getStatefulSetRevisions(
    set: StatefulSet,
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    let update = newRevision(set, nextRevision(revisions), collisionCount);
    const equal = findEqualRevisions(revisions, update);
    const last = revisions[revisions.length - 1];
    if (equal.length > 0 && equalRevision(last, equal[equal.length - 1])) {
      update = last;
    } else if (equal.length > 0) {
      update = await this.d.history.updateRevision(equal[equal.length - 1], update.revision);
    } else {
      const created = await this.d.history.create(set, update, collisionCount);
      update = created.revision;
      collisionCount = created.collisionCount;
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** computeReplicaStatus over every list given */
  private countReplicas(
    status: StatefulSetStatus,
    set: StatefulSet,
    current: ControllerRevision,
    update: ControllerRevision,
    ...lists: Pod[][]
  ): void {
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = this.d.clock.now();
    status.replicas = 0;
    status.readyReplicas = 0;
    status.availableReplicas = 0;
    status.currentReplicas = 0;
    status.updatedReplicas = 0;
    for (const list of lists)
      for (const pod of list) {
        if (isCreated(pod)) status.replicas++;
        if (isRunningAndReady(pod)) {
          status.readyReplicas++;
          if (isRunningAndAvailable(pod, minReady, now)) status.availableReplicas++;
        }
        if (isCreated(pod) && !isTerminating(pod)) {
          const rev = podRevision(pod);
          if (rev === current.metadata?.name) status.currentReplicas++;
          if (rev === update.metadata?.name) status.updatedReplicas++;
        }
      }
  }

  /** updateStatefulSet: create, repair, delete pods towards the target state; returns the status to record */
  private async updateStatefulSetPods(
    set: StatefulSet,
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    collisionCount: number,
    pods: Pod[],
  ): Promise<StatefulSetStatus> {
    const currentSet = applyRevision(set, currentRevision);
    const updateSet = applyRevision(set, updateRevision);
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = (): number => this.d.clock.now();
    const status: StatefulSetStatus = {
      replicas: 0,
      observedGeneration: set.metadata?.generation ?? 0,
      currentRevision: currentRevision.metadata?.name ?? '',
      updateRevision: updateRevision.metadata?.name ?? '',
      collisionCount,
    };
    this.countReplicas(status, set, currentRevision, updateRevision, pods);

    const start = startOrdinal(set);
    const end = endOrdinal(set);
    const replicas: Pod[] = new Array<Pod>(Math.max(0, end - start + 1));
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
      else if (getOrdinal(pod) >= 0) condemned.push(pod);
    }
    for (let ord = start; ord <= end; ord++)
      replicas[ord - start] ??= newVersionedStatefulSetPod(
        currentSet,
        updateSet,
        currentRevision.metadata?.name ?? '',
        updateRevision.metadata?.name ?? '',
        ord,
      );
    condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));

    let firstUnavailable: Pod | undefined;
    let unavailable = 0;
    for (const p of replicas)
      if (isUnavailable(p, minReady, now())) {
        unavailable++;
        firstUnavailable ??= p;
      }
    for (let i = condemned.length - 1; i >= 0; i--)
      if (isUnavailable(condemned[i], minReady, now())) {
        unavailable++;
        firstUnavailable ??= condemned[i];
      }
    if (unavailable > 0)
      this.d.log.debug(
        { set: set.metadata?.name, unavailable, pod: firstUnavailable?.metadata?.name },
        'unavailable pods',
      );

    if (set.metadata?.deletionTimestamp) return status;

    const monotonic = !allowsBurst(set);
    const bail = (err?: unknown): StatefulSetStatus => {
      this.countReplicas(status, set, currentRevision, updateRevision, replicas, condemned);
      if (err) throw Object.assign(asError(err), { status });
      return status;
    };

    // every live replica, in ordinal order: create, repair, wait
    let step = await runForAll(
      replicas,
      (i) => this.processReplica(set, updateSet, monotonic, replicas, i),
      monotonic,
    );
    if (step.exit || step.err) return bail(step.err);

    // condemned pods' claims get their scale-down refs before the pods go
    step = await runForAll(
      condemned,
      async (i) => {
        if (!this.d.podControl.claimsMatchRetentionPolicy(updateSet, condemned[i]))
          await this.d.podControl.updatePodClaimForRetentionPolicy(updateSet, condemned[i]);
        return { exit: false };
      },
      monotonic,
    );
    if (step.exit || step.err) return bail(step.err);

    // scale down, highest ordinal first, once every predecessor is available (monotonic)
    step = await runForAll(
      condemned,
      (i) => this.processCondemned(set, firstUnavailable, monotonic, condemned, i),
      monotonic,
    );
    if (step.exit || step.err) return bail(step.err);

    this.countReplicas(status, set, currentRevision, updateRevision, replicas, condemned);

    if (set.spec?.updateStrategy?.type === 'OnDelete') return status;

    if (set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable !== undefined)
      return this.rollWithMaxUnavailable(set, replicas, updateRevision, status);

    // the default: terminate the highest-ordinal pod not at the update revision, at or above the partition
    const updateMin = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= updateMin; target--) {
      const pod = replicas[target];
      if (podRevision(pod) !== updateRevision.metadata?.name && !isTerminating(pod)) {
        this.d.log.info({ set: set.metadata?.name, pod: pod.metadata?.name }, 'terminating pod for update');
        try {
          await this.d.podControl.deleteStatefulPod(set, pod);
        } catch (err) {
          if (!isNotFound(err)) throw Object.assign(asError(err), { status });
        }
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return status;
      }
      if (isUnavailable(pod, minReady, now())) return status;
    }
    return status;
  }

  /**
   * updateStatefulSetAfterInvariantEstablished (MaxUnavailableStatefulSet): up to maxUnavailable pods not at the
   * update revision, highest ordinal first and at or above the partition, are deleted at once.
   */
  private async rollWithMaxUnavailable(
    set: StatefulSet,
    replicas: Pod[],
    updateRevision: ControllerRevision,
    status: StatefulSetStatus,
  ): Promise<StatefulSetStatus> {
    const minReady = set.spec?.minReadySeconds ?? 0;
    const updateMin = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const maxUnavailable = maxUnavailableOf(set);
    const now = this.d.clock.now();
    const unavailablePods = replicas.filter((p) => isUnavailable(p, minReady, now)).length;
    if (unavailablePods > maxUnavailable) return status;
    const toDelete = maxUnavailable - unavailablePods;
    let deleted = 0;
    for (let target = replicas.length - 1; target >= updateMin && deleted < toDelete; target--) {
      const pod = replicas[target];
      if (podRevision(pod) === updateRevision.metadata?.name || isTerminating(pod)) continue;
      try {
        await this.d.podControl.deleteStatefulPod(set, pod);
      } catch (err) {
        if (!isNotFound(err)) throw Object.assign(asError(err), { status });
      }
      deleted++;
      status.currentReplicas = (status.currentReplicas ?? 0) - 1;
    }
    return status;
  }

  /** processReplica: replace a finished pod, create a missing one, repair identity/storage/claim refs */
  private async processReplica(
    set: StatefulSet,
    updateSet: StatefulSet,
    monotonic: boolean,
    replicas: Pod[],
    i: number,
  ): Promise<StepResult> {
    const pod = replicas[i];
    // a Failed or Succeeded pod is deleted; the next sync creates its replacement once it is gone
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!pod.metadata?.deletionTimestamp) await this.d.podControl.deleteStatefulPod(set, pod);
      return { exit: true };
    }
    if (!isCreated(pod)) {
      // a claim still owned by an earlier pod of this name (whenScaled Delete) waits for the garbage collector
      if (this.d.podControl.podClaimIsStale(set, pod)) return { exit: true };
      await this.d.podControl.createStatefulPod(set, pod);
      if (monotonic) return { exit: true };
      return { exit: false };
    }
    if (isPending(pod)) await this.d.podControl.createMissingPersistentVolumeClaims(set, pod);
    const minReady = set.spec?.minReadySeconds ?? 0;
    // a pod on its way out (a dead node's included) is never replaced before it is gone: at most one pod per ordinal
    if (isTerminating(pod) && monotonic) return { exit: true };
    if (!isRunningAndReady(pod) && monotonic) return { exit: true };
    if (!isRunningAndAvailable(pod, minReady, this.d.clock.now()) && monotonic) return { exit: true };
    const retentionMatch = this.d.podControl.claimsMatchRetentionPolicy(updateSet, pod);
    if (identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch) return { exit: false };
    await this.d.podControl.updateStatefulPod(updateSet, pod);
    return { exit: false };
  }

  /** processCondemned: delete a pod above the range, in monotonic mode only once its predecessors are available */
  private async processCondemned(
    set: StatefulSet,
    firstUnavailable: Pod | undefined,
    monotonic: boolean,
    condemned: Pod[],
    i: number,
  ): Promise<StepResult> {
    const pod = condemned[i];
    if (isTerminating(pod)) return { exit: monotonic };
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (!isRunningAndReady(pod) && monotonic && pod !== firstUnavailable) return { exit: true };
    if (!isRunningAndAvailable(pod, minReady, this.d.clock.now()) && monotonic && pod !== firstUnavailable)
      return { exit: true };
    this.d.log.info({ set: set.metadata?.name, pod: pod.metadata?.name }, 'terminating pod for scale down');
    await this.d.podControl.deleteStatefulPod(set, pod);
    return { exit: true };
  }

  /** updateStatefulSetStatus: complete a finished rolling update; write only what changed */
  private async updateStatefulSetStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    completeRollingUpdate(set, status);
    if (!inconsistentStatus(set, status)) return;
    await this.updateStatusWithRetry(set, status);
  }

  /** UpdateStatefulSetStatus: the status subresource, retried on conflicts with a fresh read */
  private async updateStatusWithRetry(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    let target: StatefulSet = { ...structuredClone(set), status: { ...set.status, ...status } };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.d.sets.updateStatus(target);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (attempt >= 4 || !(err as { code?: number }).code || (err as { code?: number }).code !== 409)
          throw err;
        const fresh = await this.d.sets.get(set.metadata?.name ?? '', set.metadata?.namespace);
        target = { ...fresh, status: { ...fresh.status, ...status } };
      }
    }
  }
}

/**
 * runForAll: in order, stopping at the first step that says exit (monotonic); else all of them in slow-start batches
 * of 1, 2, 4, ... (at most 500), stopping after a batch with a failure.
 */
async function runForAll(
  pods: Pod[],
  fn: (i: number) => Promise<StepResult>,
  monotonic: boolean,
): Promise<{ exit: boolean; err?: unknown }> {
  if (monotonic) {
    for (let i = 0; i < pods.length; i++) {
      try {
        if ((await fn(i)).exit) return { exit: true };
      } catch (err) {
        return { exit: true, err };
      }
    }
    return { exit: false };
  }
  let next = 0;
  for (
    let batch = Math.min(pods.length, 1);
    batch > 0;
    batch = Math.min(2 * batch, pods.length - next, MAX_BATCH_SIZE)
  ) {
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, k) => fn(next + k)));
    next += batch;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) return { exit: true, err: failed.reason };
  }
  return { exit: false };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e));
}
