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
import { validateManagedBy, validatePodFailurePolicy, validateSuccessPolicy } from './batch-policies.js';
import { isDNS1123Label } from './names.js';
import { validatePodTemplateSpec } from './pod.js';

const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const POD_REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

/** ValidateHasLabel (core validation): the template carries `key` with the generated value */
function validateHasLabel(
  labels: Record<string, string> | undefined,
  key: string,
  value: string,
): FieldError[] {
  const path = `spec.template.metadata.labels[${key}]`;
  const actual = labels?.[key];
  if (actual === undefined) return [fe.required(path, `must be '${value}'`)];
  return actual === value ? [] : [fe.invalid(path, labels, `must be '${value}'`)];
}

/**
 * validateGeneratedSelector: a generated selector (manualSelector not true) must select the job's own uid and
 * name, and the template must carry the generated labels; the prefixed ones are required on create and on updates of
 * a job that already had them (upstream's RequirePrefixedLabels)
 */
function validateGeneratedSelector(job: Job, requirePrefixedLabels: boolean): FieldError[] {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true || !spec.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  if (!uid) errs.push(fe.required('metadata.uid'));
  const labels = spec.template?.metadata?.labels;
  errs.push(...validateHasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(labels, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = {};
  if (requirePrefixedLabels) {
    errs.push(...validateHasLabel(labels, CONTROLLER_UID_LABEL, uid));
    errs.push(...validateHasLabel(labels, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  expected[LEGACY_CONTROLLER_UID_LABEL] = uid;
  expected[LEGACY_JOB_NAME_LABEL] = name;
  if (!selectorMatches(spec.selector, expected)) {
    errs.push(fe.invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

/** the Indexed-mode limits of validateJobSpec */
function validateIndexedLimits(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const { completions, parallelism, maxFailedIndexes, backoffLimitPerIndex } = spec;
  if (completions === undefined) {
    errs.push(fe.required(`${path}.completions`, 'when completion mode is Indexed'));
  }
  if (parallelism !== undefined && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
    errs.push(
      fe.invalid(
        `${path}.parallelism`,
        parallelism,
        `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
      ),
    );
  }
  if (completions !== undefined && maxFailedIndexes !== undefined && maxFailedIndexes > completions) {
    errs.push(
      fe.invalid(`${path}.maxFailedIndexes`, maxFailedIndexes, 'must be less than or equal to completions'),
    );
  }
  if (maxFailedIndexes !== undefined && maxFailedIndexes > MAX_FAILED_INDEXES_FOR_INDEXED_JOB) {
    errs.push(
      fe.invalid(
        `${path}.maxFailedIndexes`,
        maxFailedIndexes,
        `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`,
      ),
    );
  }
  if (
    completions !== undefined &&
    completions > COMPLETIONS_SOFT_LIMIT &&
    backoffLimitPerIndex !== undefined
  ) {
    const when = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
    if (maxFailedIndexes === undefined) {
      errs.push(
        fe.required(
          `${path}.maxFailedIndexes`,
          `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`,
        ),
      );
    }
    if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        fe.invalid(
          `${path}.parallelism`,
          parallelism,
          `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${when}`,
        ),
      );
    }
    if (maxFailedIndexes !== undefined && maxFailedIndexes > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        fe.invalid(
          `${path}.maxFailedIndexes`,
          maxFailedIndexes,
          `must be less than or equal to ${MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} ${when}`,
        ),
      );
    }
  }
  return errs;
}

/** validateJobSpec: the parts a Job and a CronJob's jobTemplate share, in upstream's order */
function validateJobSpecCommon(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [
    ...nonNegative(spec.parallelism, `${path}.parallelism`),
    ...nonNegative(spec.completions, `${path}.completions`),
    ...nonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`),
    ...nonNegative(spec.backoffLimit, `${path}.backoffLimit`),
    ...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`),
    ...nonNegative(spec.backoffLimitPerIndex, `${path}.backoffLimitPerIndex`),
  ];
  if (spec.maxFailedIndexes !== undefined) {
    errs.push(...nonNegative(spec.maxFailedIndexes, `${path}.maxFailedIndexes`));
    if (spec.backoffLimitPerIndex === undefined) {
      errs.push(fe.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
    }
  }
  if (spec.managedBy !== undefined) errs.push(...validateManagedBy(spec.managedBy, `${path}.managedBy`));
  const mode = spec.completionMode;
  if (mode !== undefined) {
    if (!COMPLETION_MODES.includes(mode)) {
      errs.push(fe.notSupported(`${path}.completionMode`, mode, COMPLETION_MODES));
    }
    if (mode === 'Indexed') errs.push(...validateIndexedLimits(spec, path));
  }
  if (mode === undefined || mode === 'NonIndexed') {
    for (const f of ['backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
      if (spec[f] !== undefined) {
        errs.push(fe.invalid(`${path}.${f}`, spec[f], 'requires indexed completion mode'));
      }
    }
  }
  if (spec.podFailurePolicy) errs.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
  if (spec.successPolicy) {
    if (mode !== 'Indexed') {
      errs.push(fe.invalid(`${path}.successPolicy`, spec.successPolicy, 'requires indexed completion mode'));
    } else errs.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined) {
    if (spec.podFailurePolicy) {
      if (replacement !== 'Failed') {
        errs.push(fe.notSupported(`${path}.podReplacementPolicy`, replacement, ['Failed']));
      }
    } else if (!POD_REPLACEMENT_POLICIES.includes(replacement)) {
      errs.push(fe.notSupported(`${path}.podReplacementPolicy`, replacement, POD_REPLACEMENT_POLICIES));
    }
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  // the pod default Always (or nothing) is "required", another value "unsupported"
  const restartPolicy = spec.template?.spec?.restartPolicy;
  const restartPath = `${path}.template.spec.restartPolicy`;
  if (restartPolicy === undefined || restartPolicy === '' || restartPolicy === 'Always') {
    errs.push(fe.required(restartPath, 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(fe.notSupported(restartPath, restartPolicy, ['OnFailure', 'Never']));
  } else if (spec.podFailurePolicy && restartPolicy !== 'Never') {
    errs.push(
      fe.invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'),
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

/** ValidateJob; `requirePrefixedLabels` is upstream's validation option (true on create) */
function validateJobWith(job: Job, requirePrefixedLabels: boolean): FieldError[] {
  const errs = [
    ...validateObjectMeta(job.metadata, true, nameIsDNSSubdomain),
    ...validateGeneratedSelector(job, requirePrefixedLabels),
    ...validateJobSpec(job.spec),
  ];
  const completions = job.spec?.completions;
  if (job.spec?.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    // the controller names pods `<job>-<index>`: the largest index must still make a DNS label
    const name = job.metadata?.name ?? '';
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(
        fe.invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${hostname}`),
      );
    }
  }
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  return validateJobWith(job, true);
}

/** validateCompletions (ElasticIndexedJob, GA): an Indexed job may change completions together with parallelism */
function validateCompletionsUpdate(spec: JobSpec, oldSpec: JobSpec): FieldError[] {
  if (spec.completionMode !== 'Indexed') {
    return immutable(spec.completions, oldSpec.completions, 'spec.completions');
  }
  if (spec.completions === oldSpec.completions || spec.completions === undefined) return [];
  return spec.completions !== spec.parallelism
    ? [
        fe.invalid(
          'spec.completions',
          spec.completions,
          'can only be modified in tandem with spec.parallelism',
        ),
      ]
    : [];
}

type Template = JobSpec['template'];

/**
 * validatePodTemplateUpdate: the template is immutable, except that a suspended job that never started may change
 * its node affinity, node selector, tolerations, scheduling gates, labels and annotations
 */
function validateTemplateUpdate(spec: JobSpec, oldSpec: JobSpec, mayMutateScheduling: boolean): FieldError[] {
  const template: Template | undefined = spec.template;
  let oldTemplate: Template | undefined = oldSpec.template;
  if (mayMutateScheduling && template && oldTemplate) {
    const next = template.spec ?? ({} as NonNullable<Template['spec']>);
    const old = structuredClone(oldTemplate);
    const oldPod = (old.spec ??= {} as NonNullable<Template['spec']>);
    if (!next.affinity && oldPod.affinity) {
      delete oldPod.affinity.nodeAffinity;
      if (Object.keys(oldPod.affinity).length === 0) delete oldPod.affinity;
    } else if (next.affinity && !oldPod.affinity) {
      oldPod.affinity = next.affinity.nodeAffinity ? { nodeAffinity: next.affinity.nodeAffinity } : {};
    } else if (next.affinity && oldPod.affinity) {
      if (next.affinity.nodeAffinity) oldPod.affinity.nodeAffinity = next.affinity.nodeAffinity;
      else delete oldPod.affinity.nodeAffinity;
    }
    for (const f of ['nodeSelector', 'tolerations', 'schedulingGates'] as const) {
      if (next[f] === undefined) delete oldPod[f];
      else (oldPod as unknown as Record<string, unknown>)[f] = next[f];
    }
    const meta = (old.metadata ??= {});
    for (const f of ['labels', 'annotations'] as const) {
      if (template.metadata?.[f] === undefined) delete meta[f];
      else meta[f] = template.metadata[f];
    }
    oldTemplate = old;
  }
  return deepEqual(template, oldTemplate)
    ? []
    : [fe.invalid('spec.template', template, 'field is immutable')];
}

/** ValidateJob + ValidateJobSpecUpdate with the options upstream's strategy derives from the old job */
export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  const oldSpec = old.spec ?? ({} as JobSpec);
  const oldLabels = oldSpec.template?.metadata?.labels ?? {};
  const requirePrefixedLabels = JOB_NAME_LABEL in oldLabels && CONTROLLER_UID_LABEL in oldLabels;
  const mayMutateScheduling = oldSpec.suspend === true && (old.status?.startTime ?? undefined) === undefined;
  return [
    ...validateJobWith(job, requirePrefixedLabels),
    // (upstream's ValidateJobSpecUpdate runs ValidateJobSpec a second time; its message lists each error once)
    ...validateObjectMetaUpdate(job.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateCompletionsUpdate(spec, oldSpec),
    ...immutable(spec.selector, oldSpec.selector, 'spec.selector'),
    ...validateTemplateUpdate(spec, oldSpec, mayMutateScheduling),
    ...immutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'),
    ...immutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy'),
    ...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'),
    ...immutable(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'),
    ...immutable(spec.successPolicy, oldSpec.successPolicy, 'spec.successPolicy'),
  ];
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
