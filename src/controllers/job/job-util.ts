// Job conditions, finished checks and the names the Job controller writes (upstream job util.go, batch/v1 types).
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { rfc3339 } from '../../util/objects.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** spec.managedBy of Jobs this controller syncs (the default when the field is unset) */
export const JOB_CONTROLLER_MANAGER = 'kubernetes.io/job-controller';

export type JobConditionType = 'Complete' | 'Failed' | 'Suspended' | 'FailureTarget' | 'SuccessCriteriaMet';

export function findCondition(job: Job, type: JobConditionType): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/** Complete or Failed, True */
export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

export const isJobFinished = (job: Job): boolean => finishedCondition(job) !== undefined;

export function newCondition(
  type: JobConditionType,
  status: 'True' | 'False',
  reason: string,
  message: string,
  now: number,
): JobCondition {
  const t = rfc3339(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/**
 * ensureJobConditionStatus: set the condition (a False one is only written over an existing one); true when the
 * list changed.
 */
export function ensureCondition(
  job: Job,
  type: JobConditionType,
  status: 'True' | 'False',
  reason: string,
  message: string,
  now: number,
): boolean {
  const status0 = (job.status ??= {});
  const list = (status0.conditions ??= []);
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i];
    if (c.status === status && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') return false;
  list.push(newCondition(type, status, reason, message, now));
  return true;
}

export const hasTrackingFinalizer = (pod: Pod): boolean =>
  pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;

export const isSuspended = (job: Job): boolean => job.spec?.suspend === true;

export const isIndexedJob = (job: Job): boolean => job.spec?.completionMode === 'Indexed';

export const hasBackoffLimitPerIndex = (job: Job): boolean => job.spec?.backoffLimitPerIndex !== undefined;

/** CountTerminatingPods: being deleted and not yet Succeeded or Failed */
export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

/** the external controller that manages the Job, or undefined when it is this one */
export function managedByExternalController(job: Job): string | undefined {
  const by = job.spec?.managedBy;
  return by && by !== JOB_CONTROLLER_MANAGER ? by : undefined;
}
