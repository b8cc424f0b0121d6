// The CronJob controller v2 (upstream pkg/controller/cronjob/cronjob_controllerv2.go): creates a Job at each time
// the schedule fires, honouring timeZone, concurrencyPolicy, startingDeadlineSeconds, suspend and the history limits.
// kubemu adds time compression: the `kubemu.dev/schedule-speed` annotation (or --cronjob-schedule-speed) runs a
// CronJob's schedule that many times faster than real time, so an hourly job can be watched firing.
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { rfc3339 } from '../../util/objects.js';
import { getControllerOf, isNotFound, newControllerRef } from '../common/controller-ref.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { jobClient, jobInformer } from '../job/job-controller.js';
import { finishedCondition } from '../job/job-util.js';
import {
  cronJobSchedule,
  mostRecentScheduleTime,
  nextAfter,
  toReal,
  toVirtual,
  wallClockRfc3339,
  type ScheduleClock,
} from './schedule.js';
import type { CronSchedule } from '../../api/validation/cron.js';

export const CRONJOB_CONTROLLER_NAME = 'cronjob-controller';
export const SCHEDULE_SPEED_ANNOTATION = 'kubemu.dev/schedule-speed';
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** upstream's nextScheduleDelta: wake a little after the schedule time */
const NEXT_SCHEDULE_DELTA_MS = 100;
const MAX_SPEED = 1_000_000;

export interface CronJobControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
  /** every CronJob's schedule runs this many times faster than real time unless annotated (default 1: off) */
  scheduleSpeed?: number;
  recorder?: EventRecorder;
}

export function cronJobClient(client: KubeClient): ResourceClient<CronJob> {
  return client.resource<CronJob>('batch', 'v1', 'cronjobs');
}

export class CronJobController {
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly cronJobs: ResourceClient<CronJob>;
  private readonly jobs: ResourceClient<Job>;
  private readonly informers: SharedInformerFactory;
  private readonly cronJobInformer: Informer<CronJob>;
  private readonly jobInformer: Informer<Job>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly defaultSpeed: number;
  /** `uid/speed` of CronJobs told about their compressed clock already */
  private readonly announced = new Set<string>();
  private workersDone: Promise<void> | undefined;

  constructor(opts: CronJobControllerOptions) {
    if (!opts.client || !opts.informers) throw new TypeError('CronJobController needs client and informers');
    const speed = opts.scheduleSpeed ?? 1;
    if (!(speed >= 1 && speed <= MAX_SPEED))
      throw new TypeError(
        `CronJobController: scheduleSpeed must be between 1 and ${MAX_SPEED}, got ${speed}`,
      );
    this.defaultSpeed = speed;
    this.client = opts.client;
    this.cronJobs = cronJobClient(opts.client);
    this.jobs = jobClient(opts.client);
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: CRONJOB_CONTROLLER_NAME });
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({ name: 'cronjob', clock: this.clock, logger: this.log });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: CRONJOB_CONTROLLER_NAME,
        clock: this.clock,
        logger: this.log,
      });
    this.cronJobInformer = this.informers.forResource('cronjobs.batch', this.cronJobs);
    this.jobInformer = jobInformer(this.informers);
    this.cronJobInformer.addEventHandler({
      onAdd: (cj) => this.queue.add(keyOf(cj)),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.queue.add(keyOf(cur));
      },
      onDelete: (cj) => this.queue.add(keyOf(cj)),
    });
    const enqueueOwner = (job: Job): void => {
      const ref = getControllerOf(job);
      if (ref?.kind !== 'CronJob') return;
      const cj = this.cronJobInformer.store.getByName(job.metadata?.namespace, ref.name);
      if (cj?.metadata?.uid === ref.uid) this.queue.add(keyOf(cj));
    };
    this.jobInformer.addEventHandler({
      onAdd: enqueueOwner,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        enqueueOwner(cur);
        if (getControllerOf(old)?.uid !== getControllerOf(cur)?.uid) enqueueOwner(old);
      },
      onDelete: enqueueOwner,
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.cronJobInformer.waitForSync(), this.jobInformer.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  /** the CronJob's compressed clock: the annotation, else the controller's default */
  scheduleClock(cj: CronJob): ScheduleClock {
    const anchor = Date.parse(cj.metadata?.creationTimestamp ?? '') || 0;
    const raw = cj.metadata?.annotations?.[SCHEDULE_SPEED_ANNOTATION];
    if (raw === undefined) return { speed: this.defaultSpeed, anchor };
    const speed = Number(raw);
    if (!Number.isFinite(speed) || speed < 1 || speed > MAX_SPEED) {
      this.recorder.event(
        asCronJob(cj),
        'Warning',
        'InvalidScheduleSpeed',
        `${SCHEDULE_SPEED_ANNOTATION}: "${raw}" is not a number between 1 and ${MAX_SPEED}; the schedule runs in real time`,
      );
      return { speed: 1, anchor };
    }
    return { speed, anchor };
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.cronJobInformer.store.getByName(namespace, name);
    if (!cached) return;
    const cj = structuredClone(cached);
    const jobs = this.jobInformer.store
      .byIndex(NAMESPACE_INDEX, namespace ?? '')
      .filter((j) => getControllerOf(j)?.uid === cj.metadata?.uid);
    const { requeueAfter, updateStatus: fromSync } = await this.syncCronJob(cj, jobs);
    let updateStatus = fromSync;
    if (cj.metadata?.deletionTimestamp === undefined && (await this.cleanupFinishedJobs(cj, jobs)))
      updateStatus = true;
    if (updateStatus) {
      try {
        await this.cronJobs.updateStatus(cj);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    if (requeueAfter !== undefined) this.queue.addAfter(key, requeueAfter);
  }

  /** syncCronJob: reconcile the active list, then start the Job of the most recent unmet schedule time */
  private async syncCronJob(
    cj: CronJob,
    jobs: Job[],
  ): Promise<{ requeueAfter?: number; updateStatus: boolean }> {
    const now = this.clock.now();
    let updateStatus = false;
    const status = (cj.status ??= {});
    const childUids = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata?.uid ?? '';
      childUids.add(uid);
      const found = inActiveList(cj, uid);
      const finished = finishedCondition(j);
      if (!found && !finished) {
        const fresh = await this.cronJobs.get(cj.metadata?.name ?? '', cj.metadata?.namespace);
        if (inActiveList(fresh, uid)) {
          Object.assign(cj, fresh);
          continue;
        }
        this.recorder.event(
          asCronJob(cj),
          'Warning',
          'UnexpectedJob',
          `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`,
        );
      } else if (found && finished) {
        deleteFromActiveList(cj, uid);
        this.recorder.event(
          asCronJob(cj),
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata?.name}, status: ${finished.type}`,
        );
        updateStatus = true;
      }
      if (finished?.type === 'Complete' && j.status?.completionTime) {
        const last = cj.status?.lastSuccessfulTime;
        if (!last || Date.parse(j.status.completionTime) > Date.parse(last)) {
          cj.status.lastSuccessfulTime = j.status.completionTime;
          updateStatus = true;
        }
      }
    }
    for (const ref of [...(cj.status?.active ?? [])]) {
      if (childUids.has(ref.uid ?? '')) continue;
      try {
        await this.jobs.get(ref.name ?? '', ref.namespace);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.recorder.event(asCronJob(cj), 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        deleteFromActiveList(cj, ref.uid ?? '');
        updateStatus = true;
      }
    }
    if (cj.metadata?.deletionTimestamp) return { updateStatus };
    if (cj.spec?.suspend) return { updateStatus };

    let schedule: CronSchedule;
    try {
      schedule = cronJobSchedule(cj);
    } catch (err) {
      this.recorder.event(
        asCronJob(cj),
        'Warning',
        'UnparseableSchedule',
        `unparseable schedule: "${cj.spec?.schedule}" : ${errorMessage(err)}`,
      );
      return { updateStatus };
    }
    if ((cj.spec?.schedule ?? '').includes('TZ'))
      this.recorder.event(
        asCronJob(cj),
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule "${cj.spec?.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    const clock = this.scheduleClock(cj);
    this.announceSpeed(cj, clock);
    const nowV = toVirtual(clock, now);
    const earliestV = this.earliestTime(cj, clock, nowV);
    const recent = mostRecentScheduleTime(schedule, earliestV, nowV);
    if (recent.missed > 100)
      this.recorder.event(
        asCronJob(cj),
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${recent.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    const requeue = (): number | undefined => {
      const next = nextAfter(schedule, recent.mostRecent ?? earliestV);
      if (next === undefined) return undefined;
      return Math.max(0, toReal(clock, next) - now) + NEXT_SCHEDULE_DELTA_MS;
    };
    const scheduledV = recent.mostRecent;
    if (scheduledV === undefined) return { requeueAfter: requeue(), updateStatus };

    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && scheduledV + sds * 1000 < nowV) {
      this.recorder.event(
        asCronJob(cj),
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${rfc1123z(scheduledV)}`,
      );
      return { requeueAfter: requeue(), updateStatus };
    }
    const jobName = `${cj.metadata?.name}-${Math.floor(scheduledV / 60_000)}`;
    const scheduledReal = toReal(clock, scheduledV);
    const last = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : undefined;
    if ((status.active ?? []).some((r) => r.name === jobName) || last === scheduledReal)
      return { requeueAfter: requeue(), updateStatus };
    if (cj.spec?.concurrencyPolicy === 'Forbid' && (status.active?.length ?? 0) > 0) {
      this.recorder.event(
        asCronJob(cj),
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return { requeueAfter: requeue(), updateStatus };
    }
    if (cj.spec?.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.jobs.get(ref.name ?? '', ref.namespace);
        } catch (err) {
          this.recorder.event(asCronJob(cj), 'Warning', 'FailedGet', `Get job: ${errorMessage(err)}`);
          throw err;
        }
        if (!(await this.deleteJob(cj, job)))
          throw new Error(`could not replace job ${ref.namespace}/${ref.name}`);
        updateStatus = true;
      }
    }

    const request = this.jobFromTemplate(cj, jobName, scheduledV, clock);
    let created: Job;
    let alreadyExists = false;
    try {
      created = await this.jobs.create(request);
    } catch (err) {
      if (isNamespaceTerminating(err)) throw err;
      if (!(ApiError.isApiError(err) && err.code === 409)) {
        this.recorder.event(
          asCronJob(cj),
          'Warning',
          'FailedCreate',
          `Error creating job: ${errorMessage(err)}`,
        );
        throw err;
      }
      alreadyExists = true;
      created = await this.jobs.get(jobName, cj.metadata?.namespace);
      if (getControllerOf(created)?.uid !== cj.metadata?.uid) return { updateStatus };
      if (inActiveList(cj, created.metadata?.uid ?? '')) return { updateStatus };
    }
    if (!alreadyExists)
      this.recorder.event(
        asCronJob(cj),
        'Normal',
        'SuccessfulCreate',
        `Created job ${created.metadata?.name}`,
      );
    status.active = [...(status.active ?? []), jobReference(created)];
    status.lastScheduleTime = rfc3339(scheduledReal);
    return { requeueAfter: requeue(), updateStatus: true };
  }

  /** creation, the last schedule time, or now − startingDeadlineSeconds, whichever is latest (virtual) */
  private earliestTime(cj: CronJob, clock: ScheduleClock, nowV: number): number {
    let earliest = Date.parse(cj.metadata?.creationTimestamp ?? '') || 0;
    const last = cj.status?.lastScheduleTime;
    if (last) earliest = toVirtual(clock, Date.parse(last));
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined) earliest = Math.max(earliest, nowV - sds * 1000);
    return earliest;
  }

  private announceSpeed(cj: CronJob, clock: ScheduleClock): void {
    if (clock.speed === 1) return;
    const id = `${cj.metadata?.uid}/${clock.speed}`;
    if (this.announced.has(id)) return;
    this.announced.add(id);
    this.recorder.event(
      asCronJob(cj),
      'Normal',
      'ScheduleSpeed',
      `kubemu time compression is on: this CronJob's schedule runs ${clock.speed}× faster than real time (${SCHEDULE_SPEED_ANNOTATION}); Job names and the ${SCHEDULED_TIMESTAMP_ANNOTATION} annotation use the compressed clock, status times the real one`,
    );
  }

  /** getJobFromTemplate2 */
  private jobFromTemplate(cj: CronJob, name: string, scheduledV: number, clock: ScheduleClock): Job {
    const tmpl = cj.spec?.jobTemplate;
    const zone = cj.spec?.timeZone ?? 'UTC';
    const annotations: Record<string, string> = {
      ...(tmpl?.metadata?.annotations ?? {}),
      [SCHEDULED_TIMESTAMP_ANNOTATION]: wallClockRfc3339(scheduledV, zone),
    };
    if (clock.speed !== 1) annotations[SCHEDULE_SPEED_ANNOTATION] = String(clock.speed);
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata?.namespace,
        ...(tmpl?.metadata?.labels ? { labels: { ...tmpl.metadata.labels } } : {}),
        annotations,
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: structuredClone(tmpl?.spec ?? { template: {} }),
    };
  }

  /** cleanupFinishedJobs: keep at most the history limits of finished Jobs, deleting the oldest first */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<boolean> {
    const successfulLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if (successfulLimit === undefined && failedLimit === undefined) return false;
    const successful: Job[] = [];
    const failed: Job[] = [];
    for (const j of jobs) {
      const type = finishedCondition(j)?.type;
      if (type === 'Complete') successful.push(j);
      else if (type === 'Failed') failed.push(j);
    }
    let changed = false;
    if (successfulLimit !== undefined && (await this.removeOldestJobs(cj, successful, successfulLimit)))
      changed = true;
    if (failedLimit !== undefined && (await this.removeOldestJobs(cj, failed, failedLimit))) changed = true;
    return changed;
  }

  private async removeOldestJobs(cj: CronJob, jobs: Job[], max: number): Promise<boolean> {
    const n = jobs.length - max;
    if (n <= 0) return false;
    let changed = false;
    for (const j of [...jobs].sort(byJobStartTime).slice(0, n))
      if (await this.deleteJob(cj, j)) changed = true;
    return changed;
  }

  /** deleteJob: delete the Job in the background (the garbage collector takes its pods) */
  private async deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.jobs.delete(job.metadata?.name ?? '', {
        namespace: job.metadata?.namespace,
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) {
        this.recorder.event(asCronJob(cj), 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`);
        return false;
      }
    }
    deleteFromActiveList(cj, job.metadata?.uid ?? '');
    this.recorder.event(asCronJob(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    return true;
  }
}

function inActiveList(cj: CronJob, uid: string): boolean {
  return (cj.status?.active ?? []).some((r) => r.uid === uid);
}

function deleteFromActiveList(cj: CronJob, uid: string): void {
  if (!cj.status?.active) return;
  cj.status.active = cj.status.active.filter((r) => r.uid !== uid);
  if (cj.status.active.length === 0) delete cj.status.active;
}

function jobReference(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata?.name,
    namespace: job.metadata?.namespace,
    uid: job.metadata?.uid,
    resourceVersion: job.metadata?.resourceVersion,
  };
}

/** byJobStartTime: started Jobs oldest first, then those never started; names break ties */
function byJobStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sb) return sa ? -1 : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  if (!sa) return 1;
  const d = Date.parse(sa) - Date.parse(sb);
  return d !== 0 ? d : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000" */
function rfc1123z(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

const asCronJob = (cj: CronJob): CronJob => ({ ...cj, apiVersion: 'batch/v1', kind: 'CronJob' });

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isNamespaceTerminating(err: unknown): boolean {
  if (!ApiError.isApiError(err)) return false;
  return (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
