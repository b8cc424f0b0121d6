// StatefulSet, DaemonSet and ControllerRevision validation (upstream pkg/apis/apps/validation/validation.go, 1.33).
import type {
  ControllerRevision,
  DaemonSet,
  DaemonSetSpec,
  StatefulSet,
  StatefulSetSpec,
} from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { intOrPercent } from './apps.js';
import { validatePersistentVolumeClaimSpec } from './core-storage.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  nonNegative,
  selectorIsEmpty,
  selectorMatches,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

/** a StatefulSet's containers mount its volumeClaimTemplates by name: they count as the template's volumes
 *  (upstream skips the pod spec's checks altogether for this reason; we check it with the claims added) */
function withVolumes(template: PodTemplateSpec, names: string[]): PodTemplateSpec {
  if (names.length === 0 || !template.spec) return template;
  const volumes = [...(template.spec.volumes ?? []), ...names.map((name) => ({ name, emptyDir: {} }))];
  return { ...template, spec: { ...template.spec, volumes } };
}

/** the selector is required, non-empty and selects the template; restartPolicy Always; no deadline */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  kind: 'statefulset' | 'daemonset',
  kindName: string,
  claimVolumes: string[] = [],
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) {
    // StatefulSet requires it; a DaemonSet's nil selector selects nothing (LabelSelectorAsSelector(nil))
    if (kind === 'statefulset') errs.push(fe.required('spec.selector'));
    else if (template) {
      errs.push(
        fe.invalid(
          'spec.template.metadata.labels',
          template.metadata?.labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  } else {
    errs.push(...validateLabelSelector(selector, 'spec.selector'));
    if (selectorIsEmpty(selector))
      errs.push(fe.invalid('spec.selector', selector, `empty selector is invalid for ${kind}`));
    else if (!selectorMatches(selector, template?.metadata?.labels)) {
      errs.push(
        fe.invalid(
          'spec.template.metadata.labels',
          template?.metadata?.labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  }
  errs.push(...validatePodTemplateSpec(template && withVolumes(template, claimVolumes), 'spec.template'));
  const restartPolicy = template?.spec?.restartPolicy;
  if (template && restartPolicy !== 'Always') {
    errs.push(fe.notSupported('spec.template.spec.restartPolicy', restartPolicy ?? '', ['Always']));
  }
  if (template?.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(
      fe.forbidden(
        'spec.template.spec.activeDeadlineSeconds',
        `activeDeadlineSeconds in ${kindName} is not Supported`,
      ),
    );
  }
  return errs;
}

function validateStatefulSetSpec(spec: StatefulSetSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (policy === undefined || policy === '') errs.push(fe.required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(fe.invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const strategy = spec.updateStrategy;
  switch (strategy?.type) {
    case undefined:
    case '':
      errs.push(fe.required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (strategy.rollingUpdate) {
        errs.push(
          fe.invalid(
            'spec.updateStrategy.rollingUpdate',
            strategy.rollingUpdate,
            "only allowed for updateStrategy 'RollingUpdate'",
          ),
        );
      }
      break;
    case 'RollingUpdate':
      if (strategy.rollingUpdate) {
        errs.push(
          ...nonNegative(strategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'),
        );
        // validateRollingUpdateStatefulSet (maxUnavailable only survives the strategy when the old object had it)
        const maxUnavailable = strategy.rollingUpdate.maxUnavailable;
        const path = 'spec.updateStrategy.rollingUpdate.maxUnavailable';
        intOrPercent(maxUnavailable, path, true, errs);
        if (maxUnavailable === 0 || (typeof maxUnavailable === 'string' && /^0+%$/.test(maxUnavailable))) {
          errs.push(fe.invalid(path, maxUnavailable, 'cannot be 0'));
        }
      }
      break;
    default:
      errs.push(fe.invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    for (const f of ['whenDeleted', 'whenScaled'] as const) {
      const v = retention[f];
      if (v !== undefined && v !== 'Retain' && v !== 'Delete') {
        errs.push(fe.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  const claims = (spec.volumeClaimTemplates ?? []).map((pvc) => pvc.metadata?.name ?? '').filter((n) => n);
  errs.push(
    ...validateSelectorAndTemplate(spec.selector, spec.template, 'statefulset', 'StatefulSet', claims),
  );
  (spec.volumeClaimTemplates ?? []).forEach((pvc, i) => {
    errs.push(...validatePersistentVolumeClaimSpec(pvc.spec, `spec.volumeClaimTemplates[${i}].spec`));
  });
  return errs;
}

export function validateStatefulSet(sts: StatefulSet): FieldError[] {
  return [
    ...validateObjectMeta(sts.metadata, true, nameIsDNSSubdomain),
    ...validateStatefulSetSpec(sts.spec),
  ];
}

const STATEFULSET_MUTABLE = [
  'replicas',
  'template',
  'updateStrategy',
  'minReadySeconds',
  'ordinals',
  'revisionHistoryLimit',
  'persistentVolumeClaimRetentionPolicy',
] as const;

/** ValidateStatefulSetUpdate: everything but the listed fields is fixed once created */
export function validateStatefulSetUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(sts.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateStatefulSetSpec(sts.spec),
  ];
  const rest = (spec: StatefulSetSpec | undefined): Record<string, unknown> => {
    const out = { ...(spec ?? {}) } as Record<string, unknown>;
    for (const f of STATEFULSET_MUTABLE) delete out[f];
    return out;
  };
  if (!deepEqual(rest(sts.spec), rest(old.spec))) {
    errs.push(
      fe.forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** IsDecremented: status.collisionCount may only grow */
function collisionCountDecremented(now: number | undefined, before: number | undefined): FieldError[] {
  if (before === undefined || (now !== undefined && now >= before)) return [];
  return [fe.invalid('status.collisionCount', now ?? 0, 'cannot be decremented')];
}

/** ValidateStatefulSetStatusUpdate */
export function validateStatefulSetStatusUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateObjectMetaUpdate(sts.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = (sts.status ?? {}) as Record<string, number | undefined>;
  for (const f of [
    'replicas',
    'readyReplicas',
    'currentReplicas',
    'updatedReplicas',
    'availableReplicas',
    'observedGeneration',
    'collisionCount',
  ]) {
    errs.push(...nonNegative(status[f], `status.${f}`));
  }
  const replicas = status['replicas'] ?? 0;
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas']) {
    const v = status[f];
    if (v !== undefined && v > replicas)
      errs.push(fe.invalid(`status.${f}`, v, 'cannot be greater than status.replicas'));
  }
  const available = status['availableReplicas'];
  if (available !== undefined && available > (status['readyReplicas'] ?? 0)) {
    errs.push(
      fe.invalid('status.availableReplicas', available, 'cannot be greater than status.readyReplicas'),
    );
  }
  errs.push(...collisionCountDecremented(sts.status?.collisionCount, old.status?.collisionCount));
  return errs;
}

const isZero = (v: number | string | undefined): boolean => v === undefined || v === 0 || v === '0%';

function validateDaemonSetSpec(spec: DaemonSetSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, 'daemonset', 'DaemonSet');
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const strategy = spec.updateStrategy;
  switch (strategy?.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) {
        errs.push(fe.required('spec.updateStrategy.rollingUpdate'));
        break;
      }
      const path = 'spec.updateStrategy.rollingUpdate';
      const hasUnavailable = !isZero(ru.maxUnavailable);
      const hasSurge = !isZero(ru.maxSurge);
      if (hasUnavailable) intOrPercent(ru.maxUnavailable, `${path}.maxUnavailable`, true, errs);
      if (hasSurge) intOrPercent(ru.maxSurge, `${path}.maxSurge`, true, errs);
      if (hasUnavailable && hasSurge) {
        errs.push(
          fe.invalid(`${path}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'),
        );
      } else if (!hasUnavailable && !hasSurge) {
        errs.push(fe.required(`${path}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      }
      break;
    }
    default:
      errs.push(fe.notSupported('spec.updateStrategy', strategy ?? {}, ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain), ...validateDaemonSetSpec(ds.spec)];
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ds.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateDaemonSetSpec(ds.spec),
    ...immutable(ds.spec?.selector, old.spec?.selector, 'spec.selector'),
  ];
}

export function validateDaemonSetStatusUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = validateObjectMetaUpdate(ds.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = (ds.status ?? {}) as Record<string, number | undefined>;
  for (const f of [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
    'collisionCount',
  ]) {
    errs.push(...nonNegative(status[f], `status.${f}`));
  }
  errs.push(...collisionCountDecremented(ds.status?.collisionCount, old.status?.collisionCount));
  return errs;
}

export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(cr.metadata, true, nameIsDNSSubdomain);
  if (cr.data === undefined || cr.data === null) errs.push(fe.required('data', 'data is mandatory'));
  errs.push(...nonNegative(cr.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(
  cr: ControllerRevision,
  old: ControllerRevision,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(cr.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...(cr.data === undefined || cr.data === null ? [fe.required('data', 'data is mandatory')] : []),
    ...nonNegative(cr.revision, 'revision'),
    ...immutable(cr.data, old.data, 'data'),
  ];
}
