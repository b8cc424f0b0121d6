// ValidateNodeSelector (upstream pkg/apis/core/validation/validation.go, 1.33): a PersistentVolume's
// nodeAffinity.required (and any required node selector) — at least one term, each requirement's key a qualified
// name, operator and values consistent; matchFields only on metadata.name with one value.
import type { NodeSelector, NodeSelectorRequirement } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { isQualifiedName } from './names.js';

function validateRequirement(r: NodeSelectorRequirement, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0)
        errs.push(fe.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0)
        errs.push(
          fe.forbidden(
            `${path}.values`,
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1)
        errs.push(
          fe.required(`${path}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"),
        );
      break;
    default:
      errs.push(fe.invalid(`${path}.operator`, r.operator, 'not a valid selector operator'));
  }
  for (const msg of isQualifiedName(r.key)) errs.push(fe.invalid(`${path}.key`, r.key, msg));
  return errs;
}

/** validateNodeFieldSelectorRequirement: only metadata.name, In or NotIn with one value */
function validateFieldRequirement(r: NodeSelectorRequirement, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (r.operator === 'In' || r.operator === 'NotIn') {
    if ((r.values ?? []).length !== 1)
      errs.push(
        fe.required(
          `${path}.values`,
          "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        ),
      );
  } else errs.push(fe.invalid(`${path}.operator`, r.operator, 'not a valid selector operator'));
  if (r.key !== 'metadata.name')
    errs.push(fe.invalid(`${path}.key`, r.key, 'not a valid field selector key'));
  return errs;
}

export function validateNodeSelector(selector: NodeSelector, path: string): FieldError[] {
  const terms = selector.nodeSelectorTerms ?? [];
  if (terms.length === 0)
    return [fe.required(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => {
    const tp = `${path}.nodeSelectorTerms[${i}]`;
    (t.matchExpressions ?? []).forEach((r, j) =>
      errs.push(...validateRequirement(r, `${tp}.matchExpressions[${j}]`)),
    );
    (t.matchFields ?? []).forEach((r, j) =>
      errs.push(...validateFieldRequirement(r, `${tp}.matchFields[${j}]`)),
    );
  });
  return errs;
}
