// PodDisruptionBudget validation (upstream pkg/apis/policy/validation/validation.go, 1.33).
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { fe, type FieldError } from '../errors.js';
import { intOrPercent } from './apps.js';
import {
  nameIsPathSegment,
  nonNegative,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validatePdbSpec(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(fe.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  intOrPercent(spec.minAvailable, 'spec.minAvailable', true, errs);
  intOrPercent(spec.maxUnavailable, 'spec.maxUnavailable', true, errs);
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    errs.push(fe.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

/** ValidatePodDisruptionBudget checks no name: only the generic store's path-segment rule applies */
export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  return [...validateObjectMeta(pdb.metadata, true, nameIsPathSegment), ...validatePdbSpec(pdb)];
}

/** the spec is mutable (since 1.15): an update is validated as a create */
export function validatePodDisruptionBudgetUpdate(
  pdb: PodDisruptionBudget,
  old: PodDisruptionBudget,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(pdb.metadata, old.metadata, true, nameIsPathSegment),
    ...validatePdbSpec(pdb),
  ];
}

/** ValidatePodDisruptionBudgetStatusUpdate: the counts are non-negative */
export function validatePodDisruptionBudgetStatusUpdate(
  pdb: PodDisruptionBudget,
  old: PodDisruptionBudget,
): FieldError[] {
  const errs = validateObjectMetaUpdate(pdb.metadata, old.metadata, true, nameIsPathSegment);
  const status = (pdb.status ?? {}) as Record<string, unknown>;
  for (const f of [
    'disruptionsAllowed',
    'currentHealthy',
    'desiredHealthy',
    'expectedPods',
    'observedGeneration',
  ]) {
    errs.push(...nonNegative(status[f] as number | undefined, `status.${f}`));
  }
  return errs;
}
