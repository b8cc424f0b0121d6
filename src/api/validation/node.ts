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
import { compareQuantities, parseQuantity } from '../schema/quantity.js';

function validateRuntimeClassSpec(rc: RuntimeClass): FieldError[] {
  const errs: FieldError[] = nameIsDNSLabel(rc.handler ?? '', false).map((m) =>
    fe.invalid('handler', rc.handler ?? '', m),
  );
  const podFixed = (rc.overhead?.podFixed ?? {}) as Record<string, string | number>;
  for (const [name, value] of Object.entries(podFixed)) {
    const path = `overhead.podFixed[${name}]`;
    if (!parseQuantity(String(value))) errs.push(fe.invalid(path, value, 'must be a valid quantity'));
    else if (compareQuantities(String(value), '0') < 0)
      errs.push(fe.invalid(path, value, 'must be greater than or equal to 0'));
  }
  if (rc.scheduling?.nodeSelector)
    errs.push(...validateLabels(rc.scheduling.nodeSelector, 'scheduling.nodeSelector'));
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
