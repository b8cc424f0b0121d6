// The Job controller (upstream pkg/controller/job/job_controller.go): runs a Job's pods to completion, counting
// each finished pod exactly once through the `batch.kubernetes.io/job-tracking` finalizer and
// status.uncountedTerminatedPods, with back-off, failure and success policies, deadlines and suspension.
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../api/errors.js';
import {
  EventRecorder,
  ItemExponentialRateLimiter,
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { claimObjects, getControllerOf, isNotFound, newControllerRef } from '../common/controller-ref.js';
import { ControllerExpectations } from '../common/expectations.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { isPodActive, isPodReady, sortPodsForDeletion } from '../common/pods.js';
import { selectorMatches, selectsEverything } from '../common/selectors.js';
import { slowStartBatch } from '../replicaset/replicaset-controller.js';
import {
  BackoffStore,
  finishedTime,
  remainingBackoff,
  remainingBackoffPerIndex,
  type BackoffRecord,
} from './backoff.js';
import {
  COMPLETION_INDEX_ANNOTATION,
  INDEX_FAILURE_COUNT_ANNOTATION,
  INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  OrderedIntervals,
  UNKNOWN_INDEX,
  addCompletionIndexEnv,
  annotationCount,
  completionIndex,
  firstPendingIndexes,
  generateNameWithIndex,
  indexAbsoluteFailureCount,
  indexFailureCount,
  indexesOf,
} from './indexes.js';
import {
  JOB_TRACKING_FINALIZER,
  ensureCondition,
  findCondition,
  hasBackoffLimitPerIndex,
  hasTrackingFinalizer,
  isIndexedJob,
  isJobFinished,
  isPodTerminating,
  isSuspended,
  managedByExternalController,
  newCondition,
} from './job-util.js';
import { isPodFailed, matchPodFailurePolicy, matchSuccessPolicy, onlyReplaceFailedPods } from './policies.js';
import type { JobCondition } from 'kubernetes-types/batch/v1.js';

export const JOB_CONTROLLER_NAME = 'job-controller';

/** upstream's MaxUncountedPods: the uncounted UID lists stay below ~20 KB */
const MAX_UNCOUNTED_PODS = 500;
/** upstream's MaxPodCreateDeletePerSync */
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** upstream's DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff are 10 s / 10 min; kubemu's default is 10× shorter */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 1_000;
export const DEFAULT_MAX_POD_FAILURE_BACKOFF_MS = 60_000;

export interface JobControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-job-syncs, default 5) */
  workers?: number;
  /** the first back-off before replacing a failed pod; doubles per consecutive failure (upstream 10 s) */
  podFailureBackoffMs?: number;
  /** the longest back-off (upstream 10 min) */
  maxPodFailureBackoffMs?: number;
  /** pod events are batched this long before a sync (upstream's syncJobBatchPeriod, 1 s) */
  syncBatchMs?: number;
  recorder?: EventRecorder;
}

/** the Job informer every batch controller shares */
export function jobInformer(informers: SharedInformerFactory): Informer<Job> {
  return informers.forResource('jobs.batch', jobClient(informers.client));
}

export function jobClient(client: KubeClient): ResourceClient<Job> {
  return client.resource<Job>('batch', 'v1', 'jobs');
}

/** what one sync knows (upstream's syncJobCtx) */
interface SyncContext {
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  finishedCondition: JobCondition | undefined;
  succeeded: number;
  failed: number;
  prevSucceededIndexes: OrderedIntervals;
  succeededIndexes: OrderedIntervals;
  failedIndexes: OrderedIntervals | undefined;
  newBackoffRecord: BackoffRecord;
  expectedRmFinalizers: Set<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  podsWithDelayedDeletionPerIndex: Map<number, Pod>;
  terminating: number;
  ready: number;
}

export class JobController {
  readonly expectations: ControllerExpectations;
  readonly queue: WorkQueue<string>;
  readonly orphanQueue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly jobs: ResourceClient<Job>;
  private readonly informers: SharedInformerFactory;
  private readonly jobInformer: Informer<Job>;
  private readonly podInformer: Informer<Pod>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly syncBatchMs: number;
  private readonly backoffStore = new BackoffStore();
  /** per Job key, the pod uids whose tracking finalizer we removed but have not yet seen removed */
  private readonly finalizerExpectations = new Map<string, Set<string>>();
  private workersDone: Promise<void> | undefined;

  constructor(opts: JobControllerOptions) {
    if (!opts.client || !opts.informers) throw new TypeError('JobController needs client and informers');
    this.client = opts.client;
    this.jobs = jobClient(opts.client);
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: JOB_CONTROLLER_NAME });
    this.workers = opts.workers ?? 5;
    this.backoffBaseMs = opts.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.backoffMaxMs = opts.maxPodFailureBackoffMs ?? DEFAULT_MAX_POD_FAILURE_BACKOFF_MS;
    if (!(this.backoffBaseMs > 0) || !(this.backoffMaxMs >= this.backoffBaseMs))
      throw new TypeError('JobController: podFailureBackoffMs must be > 0 and ≤ maxPodFailureBackoffMs');
    this.syncBatchMs = opts.syncBatchMs ?? 100;
    this.expectations = new ControllerExpectations(this.clock);
    // upstream's DefaultJobApiBackOff / MaxJobApiBackOff are 1 s / 1 min
    const limiter = () => new ItemExponentialRateLimiter<string>(100, 60_000);
    this.queue = new WorkQueue<string>({
      name: 'job',
      clock: this.clock,
      logger: this.log,
      rateLimiter: limiter(),
    });
    this.orphanQueue = new WorkQueue<string>({
      name: 'job_orphan_pod',
      clock: this.clock,
      logger: this.log,
      rateLimiter: limiter(),
    });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: JOB_CONTROLLER_NAME,
        clock: this.clock,
        logger: this.log,
      });
    this.jobInformer = jobInformer(this.informers);
    this.podInformer = this.informers.pods();
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.queue.add(keyOf(job)),
      onUpdate: (old, cur) => this.updateJob(old, cur),
      onDelete: (job) => {
        this.queue.add(keyOf(job));
        this.cleanupPodFinalizers(job);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod, true),
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.jobInformer.waitForSync(), this.podInformer.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = Promise.all([
      this.queue.runWorkers(this.workers, (key) => this.syncOrRequeue(key)),
      this.orphanQueue.runWorkers(1, (key) => this.syncOrphanPod(key)),
    ]).then(() => undefined);
  }

  stop(): void {
    this.queue.shutDown();
    this.orphanQueue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  // ---- event handlers ----

  private enqueueBatched(job: Job): void {
    this.queue.addAfter(keyOf(job), this.syncBatchMs);
  }

  private resolveControllerRef(namespace: string | undefined, ref: OwnerReference): Job | undefined {
    if (ref.kind !== 'Job') return undefined;
    const job = this.jobInformer.store.getByName(namespace, ref.name);
    return job?.metadata?.uid === ref.uid ? job : undefined;
  }

  private jobsMatching(pod: Pod): Job[] {
    return this.jobInformer.store
      .byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')
      .filter(
        (j) =>
          !selectsEverything(j.spec?.selector) && selectorMatches(j.spec?.selector, pod.metadata?.labels),
      );
  }

  private updateJob(old: Job, cur: Job): void {
    const key = keyOf(cur);
    if (cur.metadata?.generation === old.metadata?.generation) this.enqueueBatched(cur);
    else this.queue.add(key);
    // a finished Job's pods lose their finalizers even if a sync never gets to them (upstream's backup)
    if (isJobFinished(cur)) this.cleanupPodFinalizers(cur);
    const start = cur.status?.startTime;
    const ads = cur.spec?.activeDeadlineSeconds;
    if (start && ads !== undefined && old.spec?.activeDeadlineSeconds !== ads)
      this.queue.addAfter(key, ads * 1000 - (this.clock.now() - Date.parse(start)));
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.deletePod(pod, false);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const job = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!job) return;
      this.expectations.creationObserved(keyOf(job));
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(keyOf(pod));
    for (const job of this.jobsMatching(pod)) this.enqueueBatched(job);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      this.deletePod(cur, false);
      return;
    }
    const finalizerRemoved = !hasTrackingFinalizer(cur);
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const job = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (job) {
        if (finalizerRemoved) this.finalizerRemovalObserved(keyOf(job), cur.metadata?.uid);
        this.enqueueBatched(job);
      }
    }
    if (curRef) {
      const job = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (!job) return;
      if (finalizerRemoved) this.finalizerRemovalObserved(keyOf(job), cur.metadata?.uid);
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(cur)) this.orphanQueue.add(keyOf(cur));
    if (refChanged || !deepEqual(cur.metadata?.labels ?? {}, old.metadata?.labels ?? {}))
      for (const job of this.jobsMatching(cur)) this.enqueueBatched(job);
  }

  private deletePod(pod: Pod, final: boolean): void {
    const ref = getControllerOf(pod);
    const hasFinalizer = hasTrackingFinalizer(pod);
    if (!ref) {
      if (hasFinalizer) this.orphanQueue.add(keyOf(pod));
      return;
    }
    const job = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer) this.orphanQueue.add(keyOf(pod));
      return;
    }
    const key = keyOf(job);
    this.expectations.deletionObserved(key, keyOf(pod));
    if (final || !hasFinalizer) this.finalizerRemovalObserved(key, pod.metadata?.uid);
    this.enqueueBatched(job);
  }

  private finalizerRemovalObserved(jobKey: string, uid: string | undefined): void {
    const set = this.finalizerExpectations.get(jobKey);
    if (set && uid) set.delete(uid);
  }

  private cleanupPodFinalizers(job: Job): void {
    for (const pod of this.podInformer.store.byIndex(NAMESPACE_INDEX, job.metadata?.namespace ?? '')) {
      if (getControllerOf(pod)?.uid === job.metadata?.uid && hasTrackingFinalizer(pod))
        this.orphanQueue.add(keyOf(pod));
    }
  }

  /** syncOrphanPod: a pod no Job tracks any more loses the tracking finalizer */
  async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.store.getByName(namespace, name);
    if (!pod) return;
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = this.resolveControllerRef(namespace, ref);
      if (job && managedByExternalController(job)) return;
      if (job && !isJobFinished(job)) return;
    }
    await this.removeTrackingFinalizer(pod);
  }

  private async removeTrackingFinalizer(pod: Pod): Promise<void> {
    if (!hasTrackingFinalizer(pod)) return;
    try {
      await this.client.pods.patch(
        pod.metadata?.name ?? '',
        { metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] } },
        'strategic',
        { namespace: pod.metadata?.namespace },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // ---- the sync ----

  /**
   * A status write that lost to a newer resourceVersion (our cache had not yet seen our own last write) is retried
   * after the batch period from a fresher cache, without growing the key's back-off: with pods finishing every few
   * hundred milliseconds, an exponential back-off on such conflicts would hold a big Job back for seconds.
   */
  private async syncOrRequeue(key: string): Promise<void> {
    try {
      await this.syncJob(key);
    } catch (err) {
      if (!(ApiError.isApiError(err) && err.code === 409)) throw err;
      this.log.debug({ job: key }, 'status conflict; syncing again from a fresher cache');
      this.queue.addAfter(key, Math.max(this.syncBatchMs, 50));
    }
  }

  /** one pass of the control loop for one Job key; throws to be retried with backoff */
  async syncJob(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const shared = this.jobInformer.store.getByName(namespace, name);
    if (!shared) {
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoffStore.remove(key);
      return;
    }
    if (managedByExternalController(shared)) return;
    if (isJobFinished(shared)) {
      this.backoffStore.remove(key);
      return;
    }
    const mode = shared.spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.recorder.event(
        asJob(shared),
        'Warning',
        'UnknownCompletionMode',
        'Skipped Job sync because completion mode is unknown',
      );
      return;
    }
    const job = structuredClone(shared);
    const status = (job.status ??= {});
    status.uncountedTerminatedPods ??= {};
    const spec = job.spec!;
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.podsForJob(job);
    const activePods = pods.filter(isPodActive);
    const ctx: SyncContext = {
      job,
      pods,
      activePods,
      finishedCondition: undefined,
      succeeded: 0,
      failed: 0,
      prevSucceededIndexes: new OrderedIntervals(),
      succeededIndexes: new OrderedIntervals(),
      failedIndexes: undefined,
      newBackoffRecord: { key, failuresAfterLastSuccess: 0 },
      expectedRmFinalizers: new Set(this.finalizerExpectations.get(key) ?? []),
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
      podsWithDelayedDeletionPerIndex: new Map(),
      terminating: pods.filter(isPodTerminating).length,
      ready: activePods.filter(isPodReady).length,
    };
    let active = activePods.length;
    const newSucceeded = this.validPods(ctx, ctx.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = this.validPods(ctx, ctx.uncountedFailed, (p) => isPodFailed(p, job));
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed =
      (status.failed ?? 0) +
      newFailed.filter((p) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed).length +
      ctx.uncountedFailed.size;
    const now = this.clock.now();
    if (!status.startTime && !isSuspended(job)) status.startTime = rfc3339(now);
    ctx.newBackoffRecord = this.backoffStore.next(key, newSucceeded, newFailed);

    const backoffLimit = spec.backoffLimit ?? 6;
    ctx.finishedCondition = findTrue(job, 'SuccessCriteriaMet');
    if (!ctx.finishedCondition) {
      const target = findTrue(job, 'FailureTarget');
      if (target)
        ctx.finishedCondition = newCondition(
          'Failed',
          'True',
          target.reason ?? '',
          target.message ?? '',
          now,
        );
      else {
        const message = failJobMessage(job, pods);
        if (message !== undefined)
          ctx.finishedCondition = newCondition('FailureTarget', 'True', 'PodFailurePolicy', message, now);
      }
    }
    if (!ctx.finishedCondition) {
      if (ctx.failed > backoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finishedCondition = newCondition(
          'FailureTarget',
          'True',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          now,
        );
      } else if (this.pastActiveDeadline(job)) {
        ctx.finishedCondition = newCondition(
          'FailureTarget',
          'True',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
          now,
        );
      } else if (spec.activeDeadlineSeconds !== undefined && !isSuspended(job)) {
        this.queue.addAfter(key, spec.activeDeadlineSeconds * 1000 - (now - Date.parse(status.startTime!)));
      }
    }

    if (isIndexedJob(job)) {
      const completions = spec.completions ?? 0;
      ctx.prevSucceededIndexes = OrderedIntervals.parse(status.completedIndexes, completions);
      ctx.succeededIndexes = ctx.prevSucceededIndexes.withIndexes(
        indexesOf(
          pods.filter((p) => {
            const ix = completionIndex(p);
            return (
              p.status?.phase === 'Succeeded' &&
              ix !== UNKNOWN_INDEX &&
              ix < completions &&
              hasTrackingFinalizer(p)
            );
          }),
        ),
      );
      ctx.succeeded = ctx.succeededIndexes.total();
      if (hasBackoffLimitPerIndex(job)) {
        ctx.failedIndexes = OrderedIntervals.parse(
          status.failedIndexes ?? undefined,
          completions,
        ).withIndexes(
          indexesOf(
            pods.filter((p) => {
              const ix = completionIndex(p);
              return (
                ix !== UNKNOWN_INDEX && ix < completions && hasTrackingFinalizer(p) && isIndexFailed(job, p)
              );
            }),
          ),
        );
        if (!ctx.finishedCondition) {
          const failedTotal = ctx.failedIndexes.total();
          if (spec.maxFailedIndexes !== undefined && failedTotal > spec.maxFailedIndexes) {
            ctx.finishedCondition = newCondition(
              'FailureTarget',
              'True',
              'MaxFailedIndexesExceeded',
              'Job has exceeded the specified maximal number of failed indexes',
              now,
            );
          } else if (failedTotal > 0 && failedTotal + ctx.succeededIndexes.total() >= completions) {
            ctx.finishedCondition = newCondition(
              'FailureTarget',
              'True',
              'FailedIndexes',
              'Job has failed indexes',
              now,
            );
          }
        }
        ctx.podsWithDelayedDeletionPerIndex = this.podsWithDelayedDeletionPerIndex(ctx);
      }
      if (!ctx.finishedCondition) {
        const message = matchSuccessPolicy(spec.successPolicy, completions, ctx.succeededIndexes);
        if (message !== undefined)
          ctx.finishedCondition = newCondition('SuccessCriteriaMet', 'True', 'SuccessPolicy', message, now);
      }
    }

    let suspendCondChanged = false;
    let manageError: unknown;
    if (ctx.finishedCondition) {
      const { deletedReady, deleted, error } = await this.deleteActivePods(job, ctx.activePods);
      // not finished until every pod is gone from the active set and every pod we made is in the cache
      if (deleted !== active || !satisfied) ctx.finishedCondition = undefined;
      active -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageError = error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        try {
          active = await this.manageJob(job, ctx, key);
        } catch (err) {
          manageError = err;
          active = ctx.activePods.length;
        }
        manageCalled = true;
      }
      const complete =
        spec.completions === undefined
          ? ctx.succeeded > 0 && active === 0
          : ctx.succeeded >= spec.completions && active === 0;
      if (complete) {
        ctx.finishedCondition = newCondition(
          'SuccessCriteriaMet',
          'True',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        );
      } else if (manageCalled) {
        if (isSuspended(job)) {
          if (ensureCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendCondChanged = true;
            this.recorder.event(asJob(job), 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendCondChanged = true;
          this.recorder.event(asJob(job), 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts the time the Job is continuously active
          status.startTime = rfc3339(now);
        }
      }
    }

    const needsStatusUpdate =
      suspendCondChanged ||
      active !== (status.active ?? 0) ||
      ctx.ready !== status.ready ||
      ctx.terminating !== status.terminating;
    status.active = active;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.trackJobStatusAndRemoveFinalizers(ctx, key, needsStatusUpdate);
    if (manageError) throw manageError instanceof Error ? manageError : new Error(errorMessage(manageError));
  }

  /** getPodsForJob: the namespace's pods this Job controls, after adoption and release */
  private async podsForJob(job: Job): Promise<Pod[]> {
    const all = this.podInformer.store.byIndex(NAMESPACE_INDEX, job.metadata?.namespace ?? '');
    return claimObjects<Pod>({
      owner: job,
      ownerApiVersion: 'batch/v1',
      ownerKind: 'Job',
      selector: job.spec?.selector,
      objects: all,
      client: this.client.pods,
      canAdopt: async () => {
        try {
          const fresh = await this.jobs.get(job.metadata?.name ?? '', job.metadata?.namespace);
          return fresh.metadata?.uid === job.metadata?.uid && !fresh.metadata?.deletionTimestamp;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      },
    });
  }

  /** getValidPodsWithFilter: pods still to be counted (tracking finalizer, not uncounted yet, valid index) */
  private validPods(
    ctx: SyncContext,
    uncounted: Set<string> | undefined,
    filter: (p: Pod) => boolean,
  ): Pod[] {
    const completions = ctx.job.spec?.completions ?? 0;
    return ctx.pods.filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p) || uncounted?.has(uid) || ctx.expectedRmFinalizers.has(uid)) return false;
      if (isIndexedJob(ctx.job)) {
        const ix = completionIndex(p);
        if (ix === UNKNOWN_INDEX || ix >= completions) return false;
      }
      return filter(p);
    });
  }

  private pastActiveDeadline(job: Job): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (ads === undefined || !start || isSuspended(job)) return false;
    return this.clock.now() - Date.parse(start) >= ads * 1000;
  }

  /** getPodsWithDelayedDeletionPerIndex: per failed index, the last failed pod, kept until its replacement exists */
  private podsWithDelayedDeletionPerIndex(ctx: SyncContext): Map<number, Pod> {
    const activeIndexes = new Set(indexesOf(ctx.activePods));
    const completions = ctx.job.spec?.completions ?? 0;
    const out = new Map<number, Pod>();
    for (const p of this.validPods(ctx, undefined, (pod) => isPodFailed(pod, ctx.job))) {
      const ix = completionIndex(p);
      if (ix === UNKNOWN_INDEX || ix >= completions) continue;
      if (ctx.succeededIndexes.has(ix) || ctx.failedIndexes?.has(ix) || activeIndexes.has(ix)) continue;
      const last = out.get(ix);
      if (
        !last ||
        (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) &&
          finishedTime(p) >= finishedTime(last))
      )
        out.set(ix, p);
    }
    return out;
  }

  /** manageJob: create or delete pods towards min(parallelism, remaining completions); returns the active count */
  private async manageJob(job: Job, ctx: SyncContext, key: string): Promise<number> {
    const spec = job.spec!;
    let active = ctx.activePods.length;
    const parallelism = spec.parallelism ?? 1;
    if (isSuspended(job)) {
      const victims = activePodsForRemoval(job, ctx.activePods, active, this.clock.now());
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const { deletedReady, deleted, error } = await this.deleteJobPods(job, key, victims);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }
    let wantActive: number;
    if (spec.completions === undefined) wantActive = ctx.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(spec.completions - ctx.succeeded, parallelism));

    const rmAtLeast = Math.max(0, active - wantActive);
    let victims = activePodsForRemoval(job, ctx.activePods, rmAtLeast, this.clock.now());
    if (victims.length > MAX_POD_CREATE_DELETE_PER_SYNC)
      victims = victims.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length > 0) {
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const { deletedReady, deleted, error } = await this.deleteJobPods(job, key, victims);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }

    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    if (!hasBackoffLimitPerIndex(job)) {
      const r = ctx.newBackoffRecord;
      const remaining = remainingBackoff(
        r.failuresAfterLastSuccess,
        r.lastFailureTime,
        this.clock.now(),
        this.backoffBaseMs,
        this.backoffMaxMs,
      );
      if (remaining > 0) {
        this.queue.addAfter(key, Math.max(remaining, this.syncBatchMs));
        return active;
      }
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (isIndexedJob(job)) {
      let nonPending = ctx.succeededIndexes.withIndexes(indexesOf(ctx.activePods));
      if (onlyReplaceFailedPods(job))
        nonPending = nonPending.withIndexes(indexesOf(ctx.pods.filter(isPodTerminating)));
      if (ctx.failedIndexes) nonPending = nonPending.merge(ctx.failedIndexes);
      indexes = firstPendingIndexes(nonPending, diff, spec.completions ?? 0);
      if (hasBackoffLimitPerIndex(job)) {
        const now = this.clock.now();
        const ready: number[] = [];
        let minRemaining: number | undefined;
        for (const ix of indexes) {
          const remaining = remainingBackoffPerIndex(
            ctx.podsWithDelayedDeletionPerIndex.get(ix),
            now,
            this.backoffBaseMs,
            this.backoffMaxMs,
          );
          if (remaining === 0) ready.push(ix);
          else minRemaining = Math.min(minRemaining ?? Infinity, remaining);
        }
        if (ready.length === 0 && minRemaining !== undefined) {
          this.queue.addAfter(key, Math.max(minRemaining, this.syncBatchMs));
          return active;
        }
        indexes = ready;
      }
      diff = indexes.length;
    }
    if (diff === 0) return active;
    this.expectations.expectCreations(key, diff);
    const queue = [...indexes];
    const { succeeded, error } = await slowStartBatch(diff, 1, () =>
      this.createPod(job, ctx, queue.length ? queue.shift()! : UNKNOWN_INDEX),
    );
    // creations never attempted or failed will never be observed
    for (let i = succeeded; i < diff; i++) this.expectations.creationObserved(key);
    active += succeeded;
    if (error) throw error;
    return active;
  }

  private async createPod(job: Job, ctx: SyncContext, index: number): Promise<void> {
    const jobName = job.metadata?.name ?? '';
    const template = structuredClone(job.spec?.template ?? {});
    if (isIndexedJob(job)) addCompletionIndexEnv(template);
    const meta = template.metadata ?? {};
    const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
    const labels: Record<string, string> = { ...(meta.labels ?? {}) };
    const spec = template.spec ?? { containers: [] };
    let generateName = `${jobName}-`;
    if (index !== UNKNOWN_INDEX) {
      annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
      labels[COMPLETION_INDEX_ANNOTATION] = String(index);
      spec.hostname = `${jobName}-${index}`;
      generateName = generateNameWithIndex(jobName, index);
      if (hasBackoffLimitPerIndex(job)) {
        const replaced = ctx.podsWithDelayedDeletionPerIndex.get(index);
        let failures = 0;
        let ignored = 0;
        if (replaced) {
          failures = indexFailureCount(replaced);
          ignored = annotationCount(replaced, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
          if (matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed) failures++;
          else ignored++;
        }
        annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(failures);
        if (ignored > 0) annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(ignored);
      }
    }
    const finalizers = [...(meta.finalizers ?? [])];
    if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName,
        namespace: job.metadata?.namespace,
        ...(Object.keys(labels).length ? { labels } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
        finalizers,
        ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
      },
      spec,
    };
    try {
      const created = await this.client.pods.create(pod);
      this.recorder.event(asJob(job), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (err) {
      if (isNamespaceTerminating(err)) return;
      this.recorder.event(asJob(job), 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** deleteJobPods: remove the tracking finalizer, then delete (suspension, surplus pods) */
  private async deleteJobPods(
    job: Job,
    key: string,
    pods: Pod[],
  ): Promise<{ deletedReady: number; deleted: number; error?: Error }> {
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        try {
          await this.removeTrackingFinalizer(pod);
          await this.deletePodOf(job, pod);
        } catch (err) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    return summarizeDeletes(pods, results);
  }

  /** deleteActivePods: delete keeping the finalizers, so the pods are counted as failed before they go */
  private async deleteActivePods(
    job: Job,
    pods: Pod[],
  ): Promise<{ deletedReady: number; deleted: number; error?: Error }> {
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        try {
          await this.deletePodOf(job, pod);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    return summarizeDeletes(pods, results);
  }

  private async deletePodOf(job: Job, pod: Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.pods.delete(name, { namespace: pod.metadata?.namespace });
      this.recorder.event(asJob(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (!isNotFound(err))
        this.recorder.event(asJob(job), 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /**
   * trackJobStatusAndRemoveFinalizers: finished pods go to status.uncountedTerminatedPods, their finalizers are
   * removed, then they move into the counters; the terminal condition comes last, once nothing is uncounted.
   */
  private async trackJobStatusAndRemoveFinalizers(
    ctx: SyncContext,
    key: string,
    needsFlush0: boolean,
  ): Promise<void> {
    let needsFlush = needsFlush0;
    const job = ctx.job;
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods!;
    uncounted.succeeded ??= [];
    uncounted.failed ??= [];
    const indexed = isIndexedJob(job);
    const completions = job.spec?.completions ?? 0;
    const pods = indexed ? [...ctx.pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : ctx.pods;
    const uidsWithFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (hasTrackingFinalizer(p) && !ctx.expectedRmFinalizers.has(uid)) uidsWithFinalizer.add(uid);
    }
    if (cleanUncounted(status, uidsWithFinalizer)) needsFlush = true;
    const toRemoveFinalizer: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(pod) || ctx.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      if (!canRemoveFinalizer(ctx, pod, failed)) continue;
      toRemoveFinalizer.push(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndex(pod);
          if (ix !== UNKNOWN_INDEX && ix < completions && !ctx.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          uncounted.succeeded.push(uid);
        }
      } else if (failed || (ctx.finishedCondition && ctx.finishedCondition.type !== 'SuccessCriteriaMet')) {
        // once the Job is finished, every pod not terminated counts as failed
        const ix = completionIndex(pod);
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix !== UNKNOWN_INDEX && ix < completions))) {
          if (matchPodFailurePolicy(job.spec?.podFailurePolicy, pod).countFailed) {
            needsFlush = true;
            uncounted.failed.push(uid);
          }
        }
      }
      if (
        newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >=
        MAX_UNCOUNTED_PODS
      ) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      ctx.succeededIndexes = ctx.succeededIndexes.withIndexes(
        [...new Set(newSucceededIndexes)].sort((a, b) => a - b),
      );
      const text = ctx.succeededIndexes.toString();
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = ctx.succeededIndexes.total();
      status.completedIndexes = text;
      const failedText = ctx.failedIndexes?.toString();
      if (failedText !== (status.failedIndexes ?? undefined)) {
        if (failedText === undefined) delete status.failedIndexes;
        else status.failedIndexes = failedText;
        needsFlush = true;
      }
    }
    const now = this.clock.now();
    if (ctx.finishedCondition?.type === 'FailureTarget') {
      // the interim condition records why before the finalizers, and so the pods, go
      (status.conditions ??= []).push(ctx.finishedCondition);
      needsFlush = true;
      const c = ctx.finishedCondition;
      ctx.finishedCondition = newCondition('Failed', 'True', c.reason ?? '', c.message ?? '', now);
    }
    if (ctx.finishedCondition?.type === 'SuccessCriteriaMet' && ctx.finishedCondition.status === 'True') {
      if (!findTrue(job, 'SuccessCriteriaMet')) {
        (status.conditions ??= []).push(ctx.finishedCondition);
        needsFlush = true;
      }
      const c = ctx.finishedCondition;
      ctx.finishedCondition = newCondition('Complete', 'True', c.reason ?? '', c.message ?? '', now);
    }
    needsFlush = await this.flushUncountedAndRemoveFinalizers(
      ctx,
      key,
      toRemoveFinalizer,
      uidsWithFinalizer,
      needsFlush,
    );
    const finished = !reachedMax && this.enactJobFinished(ctx);
    if (finished) needsFlush = true;
    if (needsFlush) {
      ctx.job = await this.updateStatus(ctx.job);
      if (finished) this.recordJobFinished(ctx.job, ctx.finishedCondition!);
    }
  }

  private async flushUncountedAndRemoveFinalizers(
    ctx: SyncContext,
    key: string,
    pods: Pod[],
    uidsWithFinalizer: Set<string>,
    needsFlush0: boolean,
  ): Promise<boolean> {
    let needsFlush = needsFlush0;
    if (needsFlush) {
      ctx.job = await this.updateStatus(ctx.job);
      this.backoffStore.update(ctx.newBackoffRecord);
      needsFlush = false;
    }
    let rmError: Error | undefined;
    if (pods.length > 0) {
      const expected = this.finalizerExpectations.get(key) ?? new Set<string>();
      this.finalizerExpectations.set(key, expected);
      for (const p of pods) expected.add(p.metadata?.uid ?? '');
      const results = await Promise.allSettled(
        pods.map(async (pod) => {
          try {
            await this.removeTrackingFinalizer(pod);
          } catch (err) {
            expected.delete(pod.metadata?.uid ?? '');
            throw err;
          }
        }),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') uidsWithFinalizer.delete(pods[i].metadata?.uid ?? '');
        else rmError ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
      });
    }
    if (cleanUncounted(ctx.job.status!, uidsWithFinalizer)) needsFlush = true;
    if (rmError) {
      if (needsFlush) ctx.job = await this.updateStatus(ctx.job);
      throw rmError;
    }
    return needsFlush;
  }

  /** enactJobFinished: the Complete or Failed condition, once nothing is uncounted or terminating */
  private enactJobFinished(ctx: SyncContext): boolean {
    const cond = ctx.finishedCondition;
    if (!cond) return false;
    const status = ctx.job.status!;
    const uncounted = status.uncountedTerminatedPods;
    if ((uncounted?.succeeded?.length ?? 0) + (uncounted?.failed?.length ?? 0) > 0) return false;
    if (ctx.terminating > 0) return false;
    ensureCondition(
      ctx.job,
      cond.type as 'Complete' | 'Failed',
      'True',
      cond.reason ?? '',
      cond.message ?? '',
      this.clock.now(),
    );
    if (cond.type === 'Complete')
      status.completionTime = findCondition(ctx.job, 'Complete')?.lastTransitionTime;
    return true;
  }

  private recordJobFinished(job: Job, cond: JobCondition): void {
    if (cond.type === 'Complete') {
      const completions = job.spec?.completions;
      if (completions !== undefined && (job.status?.succeeded ?? 0) > completions)
        this.recorder.event(
          asJob(job),
          'Warning',
          'TooManySucceededPods',
          'Too many succeeded pods running after completion count reached',
        );
      this.recorder.event(asJob(job), 'Normal', 'Completed', 'Job completed');
    } else {
      this.recorder.event(asJob(job), 'Warning', cond.reason ?? '', cond.message ?? '');
    }
  }

  /** the status write; a conflict fails the sync, which retries from a fresher cache */
  private async updateStatus(job: Job): Promise<Job> {
    const status = tidyStatus(job.status ?? {});
    return this.jobs.updateStatus({ ...job, status });
  }
}

/** drop empty uncounted lists as the API's omitempty does, so repeated writes compare equal */
function tidyStatus(status: JobStatus): JobStatus {
  const out: JobStatus = { ...status };
  const u = out.uncountedTerminatedPods;
  if (u) {
    const next: typeof u = {};
    if (u.succeeded?.length) next.succeeded = u.succeeded;
    if (u.failed?.length) next.failed = u.failed;
    out.uncountedTerminatedPods = next;
  }
  if (out.completedIndexes === '') delete out.completedIndexes;
  return out;
}

function findTrue(job: Job, type: 'SuccessCriteriaMet' | 'FailureTarget'): JobCondition | undefined {
  const c = findCondition(job, type);
  return c?.status === 'True' ? c : undefined;
}

/** canRemoveFinalizer: the Job is ending, the pod succeeded, or it failed and no replacement waits on it */
function canRemoveFinalizer(ctx: SyncContext, pod: Pod, failed: boolean): boolean {
  if (ctx.job.metadata?.deletionTimestamp || ctx.finishedCondition || pod.status?.phase === 'Succeeded')
    return true;
  if (!failed) return false;
  if (hasBackoffLimitPerIndex(ctx.job)) {
    const ix = completionIndex(pod);
    const delayed = ctx.podsWithDelayedDeletionPerIndex.get(ix);
    if (ix !== UNKNOWN_INDEX && delayed?.metadata?.uid === pod.metadata?.uid) return false;
  }
  return true;
}

/** cleanUncountedPodsWithoutFinalizers: uncounted pods whose finalizer is gone move into the counters */
function cleanUncounted(status: JobStatus, uidsWithFinalizer: Set<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const keep = (list: string[] | undefined): string[] =>
    (list ?? []).filter((uid) => uidsWithFinalizer.has(uid));
  const succeeded = keep(u.succeeded);
  if (succeeded.length !== (u.succeeded?.length ?? 0)) {
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded!.length - succeeded.length);
    u.succeeded = succeeded;
    changed = true;
  }
  const failed = keep(u.failed);
  if (failed.length !== (u.failed?.length ?? 0)) {
    status.failed = (status.failed ?? 0) + (u.failed!.length - failed.length);
    u.failed = failed;
    changed = true;
  }
  return changed;
}

/** getFailJobMessage: the message of the first failed pod matching a FailJob rule */
function failJobMessage(job: Job, pods: Pod[]): string | undefined {
  if (!job.spec?.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p).failJobMessage;
    if (m !== undefined) return m;
  }
  return undefined;
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures */
function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
      restarts += s.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** isIndexFailed: the pod's failure exhausts its index's backoffLimitPerIndex, or a FailIndex rule matched */
function isIndexFailed(job: Job, pod: Pod): boolean {
  if (!isPodFailed(pod, job)) return false;
  const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, pod);
  if (m.action === 'FailIndex') return true;
  return m.countFailed && indexFailureCount(pod) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/**
 * activePodsForRemoval: for Indexed Jobs every pod without a valid index and all but one of each repeated index,
 * then the pods earliest in their lives (not ready, unscheduled, pending) up to `rmAtLeast`.
 */
function activePodsForRemoval(job: Job, pods: Pod[], rmAtLeast: number, now: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[] = pods;
  if (isIndexedJob(job)) {
    const completions = job.spec?.completions ?? 0;
    left = [];
    const byIndex = new Map<number, Pod[]>();
    for (const p of pods) {
      const ix = completionIndex(p);
      if (ix === UNKNOWN_INDEX || ix >= completions) rm.push(p);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
    }
    for (const ix of [...byIndex.keys()].sort((a, b) => a - b)) {
      const same = sortPodsForDeletion(byIndex.get(ix)!, () => 0, now);
      rm.push(...same.slice(0, -1));
      left.push(same[same.length - 1]);
    }
  }
  if (rm.length < rmAtLeast)
    rm.push(...sortPodsForDeletion(left, () => 0, now).slice(0, rmAtLeast - rm.length));
  return rm;
}

function summarizeDeletes(
  pods: Pod[],
  results: PromiseSettledResult<void>[],
): { deletedReady: number; deleted: number; error?: Error } {
  let deleted = 0;
  let deletedReady = 0;
  let error: Error | undefined;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      deleted++;
      if (isPodReady(pods[i])) deletedReady++;
    } else error ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
  });
  return { deletedReady, deleted, ...(error ? { error } : {}) };
}

const asJob = (job: Job): Job => ({ ...job, apiVersion: 'batch/v1', kind: 'Job' });

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNamespaceTerminating(err: unknown): boolean {
  if (!ApiError.isApiError(err)) return false;
  return (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
