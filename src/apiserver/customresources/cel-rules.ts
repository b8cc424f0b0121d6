// THE call site of x-kubernetes-validations (CEL) rules on custom resources. Custom objects are validated by
// ./definition.ts (CustomResource.validate): first the structural schema (./structural.ts), then this function,
// once per write, with the version's whole openAPIV3Schema, the new object and, on update, the stored one. The rules
// run in src/api/cel (self, oldSelf transition rules, messageExpression, fieldPath, reason, upstream's cost budget).
// A rule the library cannot compile (it lacks the format, semver, base64 and math libraries and two-variable
// comprehensions; has() under an index is rewritten, ../../api/cel/rewrite.ts) is not evaluated: upstream would have
// refused the CRD, and we cannot refuse a CRD upstream admits. That is never silent: the CRD's create and update
// answer with a Warning naming each such rule and its path (crdRuleWarnings, the CRD strategy's warnings).
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import {
  hasSchemaRules,
  uncompilableRules,
  validateSchemaRules,
  type RuleSchema,
} from '../../api/cel/schema-rules.js';
import type { Schema } from './structural.js';

/** whether a version's schema has any rule at all: walked once per schema object, not per write */
const withRules = new WeakMap<Schema, boolean>();

/** the field errors of `obj`'s x-kubernetes-validations rules (`old`: the stored object on update, for transition rules) */
export function celRuleErrors(schema: Schema, obj: unknown, old: unknown): FieldError[] {
  const rules = schema as RuleSchema;
  let has = withRules.get(schema);
  if (has === undefined) withRules.set(schema, (has = hasSchemaRules(rules)));
  return has ? validateSchemaRules(rules, obj, old ?? undefined, { skipUncompilable: true }) : [];
}

/** a Warning for each x-kubernetes-validations rule or messageExpression of the CRD that objects are not checked by */
export function crdRuleWarnings(obj: KubeObject): string[] {
  const crd = obj as unknown as CustomResourceDefinition;
  return (crd.spec?.versions ?? []).flatMap((v, i) =>
    uncompilableRules(
      v.schema?.openAPIV3Schema as RuleSchema | undefined,
      `spec.versions[${i}].schema.openAPIV3Schema`,
    ).map(
      (u) =>
        `${u.path}: not evaluated: kubemu's CEL library cannot compile it, so ${crd.spec.names?.plural ?? 'objects'}.${crd.spec.group} objects are not checked against it (${u.error})`,
    ),
  );
}
