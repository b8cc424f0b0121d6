// HorizontalPodAutoscaler validation (upstream pkg/apis/autoscaling/validation), on the autoscaling/v2 form.
import type {
  HPAScalingRules,
  HorizontalPodAutoscaler,
  MetricSpec,
  MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import { fe, type FieldError } from '../errors.js';
import { compareQuantities, isNegativeQuantity } from '../schema/quantity.js';
import {
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta.js';
import { isValidPathSegmentName } from './names.js';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];
const nameIsPathSegment: NameValidator = (name, prefix) => isValidPathSegmentName(name, prefix);

function validateTarget(
  t: MetricTarget | undefined,
  path: string,
  errs: FieldError[],
  allowUtilization: boolean,
): void {
  if (!t) {
    errs.push(fe.required(path));
    return;
  }
  if (!t.type) errs.push(fe.required(`${path}.type`, 'must specify a metric target type'));
  else if (!TARGET_TYPES.includes(t.type)) errs.push(fe.notSupported(`${path}.type`, t.type, TARGET_TYPES));
  if (t.value !== undefined && compareQuantities(t.value, '0') <= 0)
    errs.push(fe.invalid(`${path}.value`, t.value, 'must be positive'));
  if (t.averageValue !== undefined && compareQuantities(t.averageValue, '0') <= 0) {
    errs.push(fe.invalid(`${path}.averageValue`, t.averageValue, 'must be positive'));
  }
  if (t.averageUtilization !== undefined && t.averageUtilization < 1) {
    errs.push(fe.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
  if (!allowUtilization && t.averageUtilization !== undefined) {
    errs.push(
      fe.forbidden(
        `${path}.averageUtilization`,
        'may only be set for Resource and ContainerResource metrics',
      ),
    );
  }
  if (t.type === 'Utilization' && t.averageUtilization === undefined)
    errs.push(fe.required(`${path}.averageUtilization`, 'must populate the given metric target'));
  if (t.type === 'Value' && t.value === undefined)
    errs.push(fe.required(`${path}.value`, 'must populate the given metric target'));
  if (t.type === 'AverageValue' && t.averageValue === undefined)
    errs.push(fe.required(`${path}.averageValue`, 'must populate the given metric target'));
}

function validateMetric(m: MetricSpec, path: string, errs: FieldError[]): void {
  if (!m.type) {
    errs.push(fe.required(`${path}.type`, 'must specify a metric source type'));
    return;
  }
  if (!METRIC_TYPES.includes(m.type)) {
    errs.push(fe.notSupported(`${path}.type`, m.type, METRIC_TYPES));
    return;
  }
  const sources = (['object', 'pods', 'resource', 'containerResource', 'external'] as const).filter(
    (s) => m[s] !== undefined,
  );
  const expected = m.type.charAt(0).toLowerCase() + m.type.slice(1);
  if (sources.length > 1) errs.push(fe.forbidden(path, 'must populate the given metric source only'));
  if (!sources.includes(expected as (typeof sources)[number])) {
    errs.push(fe.required(`${path}.${expected}`, 'must populate information for the given metric source'));
    return;
  }
  switch (m.type) {
    case 'Resource':
      if (!m.resource!.name) errs.push(fe.required(`${path}.resource.name`));
      validateTarget(m.resource!.target, `${path}.resource.target`, errs, true);
      break;
    case 'ContainerResource':
      if (!m.containerResource!.name) errs.push(fe.required(`${path}.containerResource.name`));
      if (!m.containerResource!.container) errs.push(fe.required(`${path}.containerResource.container`));
      validateTarget(m.containerResource!.target, `${path}.containerResource.target`, errs, true);
      break;
    case 'Pods':
      if (!m.pods!.metric?.name)
        errs.push(fe.required(`${path}.pods.metric.name`, 'must specify a metric name'));
      errs.push(...validateLabelSelector(m.pods!.metric?.selector, `${path}.pods.metric.selector`));
      validateTarget(m.pods!.target, `${path}.pods.target`, errs, false);
      break;
    case 'Object':
      if (!m.object!.describedObject?.kind) errs.push(fe.required(`${path}.object.describedObject.kind`));
      if (!m.object!.describedObject?.name) errs.push(fe.required(`${path}.object.describedObject.name`));
      if (!m.object!.metric?.name)
        errs.push(fe.required(`${path}.object.metric.name`, 'must specify a metric name'));
      validateTarget(m.object!.target, `${path}.object.target`, errs, false);
      break;
    case 'External':
      if (!m.external!.metric?.name)
        errs.push(fe.required(`${path}.external.metric.name`, 'must specify a metric name'));
      validateTarget(m.external!.target, `${path}.external.target`, errs, false);
      break;
  }
}

function validateRules(rules: HPAScalingRules | undefined, path: string, errs: FieldError[]): void {
  if (!rules) return;
  const w = rules.stabilizationWindowSeconds;
  if (w !== undefined) {
    if (w < 0)
      errs.push(fe.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
    if (w > 3600)
      errs.push(fe.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  }
  const select = rules.selectPolicy;
  if (select !== undefined && !['Disabled', 'Max', 'Min'].includes(select)) {
    errs.push(fe.notSupported(`${path}.selectPolicy`, select, ['Disabled', 'Max', 'Min']));
  }
  const policies = rules.policies ?? [];
  if (policies.length === 0) errs.push(fe.required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (p.type !== 'Pods' && p.type !== 'Percent')
      errs.push(fe.notSupported(`${pp}.type`, p.type, ['Percent', 'Pods']));
    if (p.value <= 0) errs.push(fe.invalid(`${pp}.value`, p.value, 'must be greater than zero'));
    if (p.periodSeconds <= 0)
      errs.push(fe.invalid(`${pp}.periodSeconds`, p.periodSeconds, 'must be greater than zero'));
    if (p.periodSeconds > 1800)
      errs.push(fe.invalid(`${pp}.periodSeconds`, p.periodSeconds, 'must be less than or equal to 1800'));
  });
}

function validateSpec(hpa: HorizontalPodAutoscaler, errs: FieldError[]): void {
  const spec = hpa.spec;
  if (!spec) {
    errs.push(fe.required('spec'));
    return;
  }
  if (spec.minReplicas !== undefined && spec.minReplicas < 1)
    errs.push(fe.invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  // maxReplicas is a plain int32 upstream: absent means 0
  const maxReplicas = spec.maxReplicas ?? 0;
  if (maxReplicas < 1) errs.push(fe.invalid('spec.maxReplicas', maxReplicas, 'must be greater than 0'));
  if (spec.minReplicas !== undefined && maxReplicas < spec.minReplicas) {
    errs.push(fe.invalid('spec.maxReplicas', maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  const ref = spec.scaleTargetRef;
  if (!ref?.kind) errs.push(fe.required('spec.scaleTargetRef.kind'));
  else
    for (const m of isValidPathSegmentName(ref.kind))
      errs.push(fe.invalid('spec.scaleTargetRef.kind', ref.kind, m));
  if (!ref?.name) errs.push(fe.required('spec.scaleTargetRef.name'));
  else
    for (const m of isValidPathSegmentName(ref.name))
      errs.push(fe.invalid('spec.scaleTargetRef.name', ref.name, m));
  (spec.metrics ?? []).forEach((m, i) => validateMetric(m, `spec.metrics[${i}]`, errs));
  validateRules(spec.behavior?.scaleUp, 'spec.behavior.scaleUp', errs);
  validateRules(spec.behavior?.scaleDown, 'spec.behavior.scaleDown', errs);
}

export function validateHpa(hpa: HorizontalPodAutoscaler, old?: HorizontalPodAutoscaler): FieldError[] {
  const errs = old
    ? validateObjectMetaUpdate(hpa.metadata, old.metadata, true, nameIsPathSegment)
    : validateObjectMeta(hpa.metadata, true, nameIsPathSegment);
  validateSpec(hpa, errs);
  return errs;
}

export function validateHpaStatusUpdate(
  hpa: HorizontalPodAutoscaler,
  old: HorizontalPodAutoscaler,
): FieldError[] {
  const errs = validateObjectMetaUpdate(hpa.metadata, old.metadata, true, nameIsPathSegment);
  const status = hpa.status;
  if (status?.currentReplicas !== undefined && status.currentReplicas < 0) {
    errs.push(
      fe.invalid('status.currentReplicas', status.currentReplicas, 'must be greater than or equal to 0'),
    );
  }
  if (status && status.desiredReplicas < 0)
    errs.push(
      fe.invalid('status.desiredReplicas', status.desiredReplicas, 'must be greater than or equal to 0'),
    );
  for (const [i, m] of (status?.currentMetrics ?? []).entries()) {
    const v = m.resource?.current.averageValue;
    if (v !== undefined && isNegativeQuantity(v))
      errs.push(
        fe.invalid(
          `status.currentMetrics[${i}].resource.current.averageValue`,
          v,
          'must be greater than or equal to 0',
        ),
      );
  }
  return errs;
}
