// RuntimeClass validation (upstream pkg/apis/node/validation/validation.go, 1.33).
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  immutable,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { validateResources, validateToleration } from './pod.js';

function validateRuntimeClassSpec(rc: RuntimeClass): FieldError[] {
  const errs: FieldError[] = nameIsDNSLabel(rc.handler ?? '', false).map((m) =>
    fe.invalid('handler', rc.handler ?? '', m),
  );
  // upstream's validateOverhead reuses ValidateResourceRequirements on {limits: podFixed}: its paths say "limits"
  if (rc.overhead) validateResources({ limits: rc.overhead.podFixed ?? {} }, 'overhead', errs);
  if (rc.scheduling?.nodeSelector)
    errs.push(...validateLabels(rc.scheduling.nodeSelector, 'scheduling.nodeSelector'));
  (rc.scheduling?.tolerations ?? []).forEach((t, i) =>
    validateToleration(t, `scheduling.tolerations[${i}]`, errs),
  );
  return errs;
}

export function validateRuntimeClass(rc: RuntimeClass): FieldError[] {
  return [...validateObjectMeta(rc.metadata, false, nameIsDNSSubdomain), ...validateRuntimeClassSpec(rc)];
}

export function validateRuntimeClassUpdate(rc: RuntimeClass, old: RuntimeClass): FieldError[] {
  return [
    ...validateObjectMetaUpdate(rc.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...immutable(rc.handler, old.handler, 'handler'),
  ];
}
