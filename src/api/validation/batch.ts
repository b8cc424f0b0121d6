// Job and CronJob validation (upstream pkg/apis/batch/validation/validation.go, release 1.33).
import type { CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec } from 'kubernetes-types/batch/v1.js';
import { fe, type FieldError } from '../errors.js';
import { cronScheduleError, isKnownTimeZone } from './cron.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  nonNegative,
  selectorMatches,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
const COMPLETION_MODES = ['Indexed', 'NonIndexed'];
const POD_REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

/** validateGeneratedSelector: an auto-generated selector must select the job's own controller-uid */
function validateGeneratedSelector(job: Job): FieldError[] {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true || !spec.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid;
  if (!uid) errs.push(fe.required('metadata.uid'));
  if (!selectorMatches(spec.selector, { [CONTROLLER_UID_LABEL]: uid ?? '' })) {
    errs.push(fe.invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

/** validateJobSpec: the parts a Job and a CronJob's jobTemplate share */
function validateJobSpecCommon(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [
    ...nonNegative(spec.parallelism, `${path}.parallelism`),
    ...nonNegative(spec.completions, `${path}.completions`),
    ...nonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`),
    ...nonNegative(spec.backoffLimit, `${path}.backoffLimit`),
    ...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`),
  ];
  const mode = spec.completionMode;
  if (mode !== undefined && !COMPLETION_MODES.includes(mode)) {
    errs.push(fe.notSupported(`${path}.completionMode`, mode, COMPLETION_MODES));
  }
  if (mode === 'Indexed') {
    if (spec.completions === undefined) {
      errs.push(fe.required(`${path}.completions`, 'when completion mode is Indexed'));
    }
    if (spec.parallelism !== undefined && spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
      errs.push(
        fe.invalid(
          `${path}.parallelism`,
          spec.parallelism,
          `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
        ),
      );
    }
  }
  if (spec.backoffLimitPerIndex !== undefined) {
    errs.push(...nonNegative(spec.backoffLimitPerIndex, `${path}.backoffLimitPerIndex`));
    if (mode !== 'Indexed') {
      errs.push(fe.forbidden(`${path}.backoffLimitPerIndex`, 'requires indexed completion mode'));
    }
  }
  if (spec.maxFailedIndexes !== undefined) {
    errs.push(...nonNegative(spec.maxFailedIndexes, `${path}.maxFailedIndexes`));
    if (spec.backoffLimitPerIndex === undefined) {
      errs.push(fe.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
    } else if (spec.completions !== undefined && spec.maxFailedIndexes > spec.completions) {
      errs.push(
        fe.invalid(
          `${path}.maxFailedIndexes`,
          spec.maxFailedIndexes,
          'must be less than or equal to completions',
        ),
      );
    } else if (spec.maxFailedIndexes > MAX_FAILED_INDEXES_FOR_INDEXED_JOB) {
      errs.push(
        fe.invalid(
          `${path}.maxFailedIndexes`,
          spec.maxFailedIndexes,
          `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`,
        ),
      );
    }
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined) {
    if (!POD_REPLACEMENT_POLICIES.includes(replacement)) {
      errs.push(fe.notSupported(`${path}.podReplacementPolicy`, replacement, POD_REPLACEMENT_POLICIES));
    } else if (spec.podFailurePolicy && replacement !== 'Failed') {
      errs.push(fe.notSupported(`${path}.podReplacementPolicy`, replacement, ['Failed']));
    }
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  const restartPolicy = spec.template?.spec?.restartPolicy;
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(
      fe.notSupported(`${path}.template.spec.restartPolicy`, restartPolicy ?? '', ['OnFailure', 'Never']),
    );
  } else if (spec.podFailurePolicy && restartPolicy !== 'Never') {
    errs.push(
      fe.invalid(
        `${path}.template.spec.restartPolicy`,
        restartPolicy,
        'only "Never" is supported when podFailurePolicy is specified',
      ),
    );
  }
  return errs;
}

/** ValidateJobSpec: the selector is required and must select the template */
function validateJobSpec(spec: JobSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs = validateJobSpecCommon(spec, 'spec');
  if (!spec.selector) errs.push(fe.required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const labels = spec.template?.metadata?.labels;
    if (!selectorMatches(spec.selector, labels)) {
      errs.push(
        fe.invalid(
          'spec.template.metadata.labels',
          labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  }
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  return [
    ...validateObjectMeta(job.metadata, true, nameIsDNSSubdomain),
    ...validateGeneratedSelector(job),
    ...validateJobSpec(job.spec),
  ];
}

/** ValidateJobSpecUpdate: completions, selector, template and the failure policies are fixed once created */
export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  const oldSpec = old.spec ?? ({} as JobSpec);
  const errs = [
    ...validateObjectMetaUpdate(job.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateJobSpec(job.spec),
  ];
  // ElasticIndexedJob: an Indexed job may scale completions together with parallelism
  const elastic =
    spec.completionMode === 'Indexed' &&
    spec.completions !== oldSpec.completions &&
    spec.completions === spec.parallelism &&
    oldSpec.completions === oldSpec.parallelism;
  if (!elastic) errs.push(...immutable(spec.completions, oldSpec.completions, 'spec.completions'));
  errs.push(...immutable(spec.selector, oldSpec.selector, 'spec.selector'));
  errs.push(...immutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'));
  errs.push(...immutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...immutable(spec.successPolicy, oldSpec.successPolicy, 'spec.successPolicy'));
  errs.push(
    ...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'),
  );
  errs.push(...immutable(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'));
  // a suspended job that never started may change its pod template's scheduling directives
  // (node affinity, node selector, tolerations, scheduling gates, annotations, labels)
  const mayMutateScheduling = oldSpec.suspend === true && (old.status?.startTime ?? undefined) === undefined;
  const comparable = (t: JobSpec['template'] | undefined): unknown => {
    if (!mayMutateScheduling || !t) return t;
    const spec = { ...(t.spec ?? {}) } as Record<string, unknown>;
    for (const f of ['affinity', 'nodeSelector', 'tolerations', 'schedulingGates']) delete spec[f];
    return { ...t, metadata: { ...(t.metadata ?? {}), labels: undefined, annotations: undefined }, spec };
  };
  if (!deepEqual(comparable(spec.template), comparable(oldSpec.template))) {
    errs.push(fe.invalid('spec.template', spec.template, 'field is immutable'));
  }
  return errs;
}

export function validateJobStatusUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMetaUpdate(job.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = (job.status ?? {}) as Record<string, unknown>;
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating'] as const) {
    errs.push(...nonNegative(status[f] as number | undefined, `status.${f}`));
  }
  return errs;
}

/** ValidateJobTemplateSpec: a CronJob's job template has its selector generated, never given */
function validateJobTemplateSpec(template: JobTemplateSpec | undefined, path: string): FieldError[] {
  const spec = template?.spec;
  if (!spec) return [fe.required(`${path}.spec`)];
  const errs = validateJobSpecCommon(spec, `${path}.spec`);
  if (spec.selector)
    errs.push(fe.invalid(`${path}.spec.selector`, spec.selector, '`selector` will be auto-generated'));
  if (spec.manualSelector === true) {
    errs.push(fe.notSupported(`${path}.spec.manualSelector`, spec.manualSelector, ['nil', 'false']));
  }
  return errs;
}

const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone: nil, or an IANA zone Go's time.LoadLocation knows */
function validateTimeZone(zone: string | undefined, path: string): FieldError[] {
  if (zone === undefined) return [];
  if (zone.length === 0) return [fe.invalid(path, zone, 'timeZone must be nil or non-empty string')];
  for (const part of zone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_PART.test(part)) {
      return [fe.invalid(path, zone, `unknown time zone ${zone}`)];
    }
  }
  if (zone.toLowerCase() === 'local') {
    return [
      fe.invalid(
        path,
        zone,
        'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ),
    ];
  }
  return isKnownTimeZone(zone) ? [] : [fe.invalid(path, zone, `unknown time zone ${zone}`)];
}

function validateCronJobSpec(spec: CronJobSpec | undefined, oldSpec: CronJobSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(fe.required('spec.schedule'));
  else {
    const parseError = cronScheduleError(spec.schedule);
    if (parseError) errs.push(fe.invalid('spec.schedule', spec.schedule, parseError));
    const allowTZ = oldSpec?.schedule?.includes('TZ') ?? false;
    if (allowTZ && spec.schedule.includes('TZ') && spec.timeZone !== undefined) {
      errs.push(
        fe.invalid(
          'spec.schedule',
          spec.schedule,
          'cannot use both timeZone field and TZ or CRON_TZ in schedule',
        ),
      );
    } else if (!allowTZ && spec.schedule.includes('TZ')) {
      errs.push(
        fe.invalid(
          'spec.schedule',
          spec.schedule,
          'cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
        ),
      );
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone)
    errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  const policy = spec.concurrencyPolicy;
  if (!policy) errs.push(fe.required('spec.concurrencyPolicy'));
  else if (!CONCURRENCY_POLICIES.includes(policy)) {
    errs.push(fe.notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  }
  errs.push(...validateJobTemplateSpec(spec.jobTemplate, 'spec.jobTemplate'));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** CronJob names become Job names with an 11-character suffix: at most 52 characters */
function validateCronJobName(cj: CronJob): FieldError[] {
  const name = cj.metadata?.name;
  return name && name.length > 52
    ? [fe.invalid('metadata.name', name, 'must be no more than 52 characters')]
    : [];
}

export function validateCronJob(cj: CronJob): FieldError[] {
  return [
    ...validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain),
    ...validateCronJobName(cj),
    ...validateCronJobSpec(cj.spec, undefined),
  ];
}

export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  return [
    ...validateObjectMetaUpdate(cj.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateCronJobSpec(cj.spec, old.spec),
  ];
}

export function validateCronJobStatusUpdate(cj: CronJob, old: CronJob): FieldError[] {
  return validateObjectMetaUpdate(cj.metadata, old.metadata, true, nameIsDNSSubdomain);
}
