// batch/v1 defaulting (upstream pkg/apis/batch/v1/defaults.go, 1.33) plus the pod template's.
import type { CronJob, Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import { defaultPodTemplate } from './core.js';

const MAX_INT32 = 2147483647;

/** what SetDefaults_Job and the nested defaulters do to a JobSpec (a CronJob's jobTemplate gets only the last) */
function defaultPodFailurePolicy(spec: JobSpec): void {
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const pattern of rule.onPodConditions ?? []) if (!pattern.status) pattern.status = 'True';
  }
}

export function defaultJob(job: Job): void {
  const spec = (job.spec ??= { template: {} });
  // a non-parallel job may leave both unset: both become 1
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (spec.parallelism === undefined) spec.parallelism = 1;
  if (spec.backoffLimit === undefined)
    spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata?.labels ?? {}).length === 0) {
    (job.metadata ??= {}).labels = { ...templateLabels };
  }
  if (spec.completionMode === undefined) spec.completionMode = 'NonIndexed';
  if (spec.suspend === undefined) spec.suspend = false;
  defaultPodFailurePolicy(spec);
  if (spec.podReplacementPolicy === undefined)
    spec.podReplacementPolicy = spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  if (spec.manualSelector === undefined) spec.manualSelector = false;
  defaultPodTemplate(spec.template);
}

export function defaultCronJob(cj: CronJob): void {
  const spec = (cj.spec ??= { schedule: '', jobTemplate: {} });
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (spec.suspend === undefined) spec.suspend = false;
  if (spec.successfulJobsHistoryLimit === undefined) spec.successfulJobsHistoryLimit = 3;
  if (spec.failedJobsHistoryLimit === undefined) spec.failedJobsHistoryLimit = 1;
  const jobTemplate = (spec.jobTemplate ??= {});
  // JobTemplateSpec.metadata is a non-pointer ObjectMeta: upstream prints its null creationTimestamp
  jobTemplate.metadata ??= {};
  if (!('creationTimestamp' in jobTemplate.metadata))
    (jobTemplate.metadata as Record<string, unknown>).creationTimestamp = null;
  if (jobTemplate.spec) {
    defaultPodFailurePolicy(jobTemplate.spec);
    defaultPodTemplate(jobTemplate.spec.template);
  }
}
