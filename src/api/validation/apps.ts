// Deployment and ReplicaSet validation (upstream pkg/apis/apps/validation).
import type { Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  immutable,
  nameIsDNSSubdomain,
  nonNegative,
  selectorIsEmpty,
  selectorMatches,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isValidPercent } from './names.js';
import { validatePodTemplateSpec } from './pod.js';

/** ValidatePodTemplateSpecForReplicaSet: the selector selects the template, restartPolicy Always */
function validateTemplateForReplicaSet(
  template: PodTemplateSpec | undefined,
  selector: LabelSelector | undefined,
  path: string,
): FieldError[] {
  if (!template) return [fe.required(path)];
  const errs: FieldError[] = [];
  if (selector && !selectorIsEmpty(selector) && !selectorMatches(selector, template.metadata?.labels)) {
    errs.push(
      fe.invalid(
        `${path}.metadata.labels`,
        template.metadata?.labels ?? {},
        '`selector` does not match template `labels`',
      ),
    );
  }
  errs.push(...validatePodTemplateSpec(template, path));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    errs.push(fe.notSupported(`${path}.spec.restartPolicy`, restartPolicy, ['Always']));
  }
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(
      fe.invalid(
        `${path}.spec.activeDeadlineSeconds`,
        template.spec.activeDeadlineSeconds,
        'activeDeadlineSeconds in ReplicaSet is not Supported',
      ),
    );
  }
  return errs;
}

function validateSelector(selector: LabelSelector | undefined, path: string): FieldError[] {
  if (!selector) return [fe.required(path)];
  const errs = validateLabelSelector(selector, path);
  if (selectorIsEmpty(selector))
    errs.push(fe.invalid(path, selector, 'empty selector is invalid for deployment'));
  return errs;
}

/** ValidatePositiveIntOrPercent, plus IsNotMoreThan100Percent where asked */
export function intOrPercent(
  v: number | string | undefined,
  path: string,
  max100: boolean,
  errs: FieldError[],
): void {
  if (v === undefined) return;
  if (typeof v === 'string') {
    const problems = isValidPercent(v);
    for (const m of problems) errs.push(fe.invalid(path, v, m));
    if (problems.length === 0 && max100 && Number(v.slice(0, -1)) > 100)
      errs.push(fe.invalid(path, v, 'must not be greater than 100%'));
  } else if (v < 0) errs.push(fe.invalid(path, v, 'must be greater than or equal to 0'));
}

const isZero = (v: number | string | undefined): boolean => v === undefined || v === 0 || v === '0%';

function validateDeploymentSpec(spec: DeploymentSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs: FieldError[] = [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...validateSelector(spec.selector, 'spec.selector'),
  ];
  if (spec.selector)
    errs.push(...validateTemplateForReplicaSet(spec.template, spec.selector, 'spec.template'));
  const strategy = spec.strategy;
  if (strategy) {
    if (strategy.type !== undefined && strategy.type !== 'Recreate' && strategy.type !== 'RollingUpdate') {
      errs.push(fe.notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    }
    if (strategy.type === 'Recreate' && strategy.rollingUpdate) {
      errs.push(
        fe.forbidden(
          'spec.strategy.rollingUpdate',
          "may not be specified when strategy `type` is 'Recreate'",
        ),
      );
    }
    const ru = strategy.rollingUpdate;
    if (strategy.type === 'RollingUpdate' && ru) {
      intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', true, errs);
      intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', false, errs);
      if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
        errs.push(
          fe.invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            ru.maxUnavailable ?? 0,
            'may not be 0 when `maxSurge` is 0',
          ),
        );
      }
    }
  }
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(
        fe.invalid(
          'spec.progressDeadlineSeconds',
          spec.progressDeadlineSeconds,
          'must be greater than minReadySeconds',
        ),
      );
    }
  }
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(d.metadata, true, nameIsDNSSubdomain), ...validateDeploymentSpec(d.spec)];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return [
    ...validateObjectMetaUpdate(d.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateDeploymentSpec(d.spec),
    ...immutable(d.spec?.selector, old.spec?.selector, 'spec.selector'),
  ];
}

function validateReplicaSetSpec(spec: ReplicaSetSpec | undefined): FieldError[] {
  if (!spec) return [fe.required('spec')];
  const errs: FieldError[] = [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateSelector(spec.selector, 'spec.selector'),
  ];
  if (spec.selector)
    errs.push(...validateTemplateForReplicaSet(spec.template, spec.selector, 'spec.template'));
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain), ...validateReplicaSetSpec(rs.spec)];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(rs.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateReplicaSetSpec(rs.spec),
    ...immutable(rs.spec?.selector, old.spec?.selector, 'spec.selector'),
  ];
}

const STATUS_COUNTS = [
  'replicas',
  'updatedReplicas',
  'readyReplicas',
  'availableReplicas',
  'unavailableReplicas',
  'fullyLabeledReplicas',
  'observedGeneration',
  'collisionCount',
] as const;

/** ValidateDeploymentStatusUpdate / ValidateReplicaSetStatusUpdate: counters non-negative and consistent */
export function validateAppsStatusUpdate(
  obj: Deployment | ReplicaSet,
  old: Deployment | ReplicaSet,
): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = (obj.status ?? {}) as Record<string, number | undefined>;
  for (const f of STATUS_COUNTS) errs.push(...nonNegative(status[f], `status.${f}`));
  const replicas = status.replicas ?? 0;
  for (const f of ['readyReplicas', 'availableReplicas', 'updatedReplicas'] as const) {
    const v = status[f];
    if (v !== undefined && v > replicas && f !== 'updatedReplicas') {
      errs.push(fe.invalid(`status.${f}`, v, 'cannot be greater than status.replicas'));
    }
  }
  if (status.availableReplicas !== undefined && status.availableReplicas > (status.readyReplicas ?? 0)) {
    errs.push(
      fe.invalid(
        'status.availableReplicas',
        status.availableReplicas,
        'cannot be greater than readyReplicas',
      ),
    );
  }
  return errs;
}
