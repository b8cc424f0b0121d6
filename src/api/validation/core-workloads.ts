// ReplicationController and PodTemplate validation (upstream pkg/apis/core/validation/validation.go, 1.33).
import type { PodTemplate, PodTemplateSpec, ReplicationController } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { selectorMatches } from '../labels.js';
import { nameIsDNSSubdomain, nonNegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

/**
 * ValidatePodTemplateSpecForRC: the selector selects the template; restartPolicy Always; no deadline. (Releases
 * before 1.3x also required read-only GCE PDs when replicas > 1; both 1.33-era validation.go versions read have no
 * such rule.)
 */
function validateTemplateForRC(
  template: PodTemplateSpec | undefined,
  selector: Record<string, string> | undefined,
  path: string,
): FieldError[] {
  if (!template) return [fe.required(path)];
  const errs: FieldError[] = [];
  if (selector && Object.keys(selector).length > 0) {
    if (!selectorMatches({ matchLabels: selector }, template.metadata?.labels)) {
      errs.push(
        fe.invalid(
          `${path}.metadata.labels`,
          template.metadata?.labels ?? {},
          '`selector` does not match template `labels`',
        ),
      );
    }
  }
  errs.push(...validatePodTemplateSpec(template, path));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== 'Always')
    errs.push(fe.notSupported(`${path}.spec.restartPolicy`, restartPolicy ?? '', ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(
      fe.forbidden(
        `${path}.spec.activeDeadlineSeconds`,
        'activeDeadlineSeconds in ReplicationController is not Supported',
      ),
    );
  }
  return errs;
}

/**
 * ValidateReplicationControllerSpec: upstream's selector check is ValidateNonEmptySelector only (a selector's own
 * keys are not validated: a bad key cannot match the template's validated labels, which is reported instead)
 */
function validateRCSpec(rc: ReplicationController): FieldError[] {
  const spec = rc.spec ?? {};
  const errs = [...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  if (!spec.selector || Object.keys(spec.selector).length === 0) errs.push(fe.required('spec.selector'));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateTemplateForRC(spec.template, spec.selector, 'spec.template'));
  return errs;
}

export function validateReplicationController(rc: ReplicationController): FieldError[] {
  return [...validateObjectMeta(rc.metadata, true, nameIsDNSSubdomain), ...validateRCSpec(rc)];
}

export function validateReplicationControllerUpdate(
  rc: ReplicationController,
  old: ReplicationController,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(rc.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateRCSpec(rc),
  ];
}

/** ValidateReplicationControllerStatus: counts non-negative and consistent with status.replicas */
export function validateReplicationControllerStatusUpdate(
  rc: ReplicationController,
  old: ReplicationController,
): FieldError[] {
  const errs = validateObjectMetaUpdate(rc.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = (rc.status ?? {}) as Record<string, number | undefined>;
  for (const f of [
    'replicas',
    'fullyLabeledReplicas',
    'readyReplicas',
    'availableReplicas',
    'observedGeneration',
  ]) {
    errs.push(...nonNegative(status[f], `status.${f}`));
  }
  const replicas = status['replicas'] ?? 0;
  for (const f of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) {
    const v = status[f];
    if (v !== undefined && v > replicas)
      errs.push(fe.invalid(`status.${f}`, v, 'cannot be greater than status.replicas'));
  }
  const ready = status['readyReplicas'] ?? 0;
  const available = status['availableReplicas'];
  if (available !== undefined && available > ready) {
    errs.push(fe.invalid('status.availableReplicas', available, 'cannot be greater than readyReplicas'));
  }
  return errs;
}

export function validatePodTemplate(pt: PodTemplate): FieldError[] {
  return [
    ...validateObjectMeta(pt.metadata, true, nameIsDNSSubdomain),
    ...validatePodTemplateSpec(pt.template, 'template'),
  ];
}

export function validatePodTemplateUpdate(pt: PodTemplate, old: PodTemplate): FieldError[] {
  return [
    ...validateObjectMetaUpdate(pt.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validatePodTemplateSpec(pt.template, 'template'),
  ];
}
