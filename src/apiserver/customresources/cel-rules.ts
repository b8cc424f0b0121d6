// THE call site of x-kubernetes-validations (CEL) rules on custom resources. Custom objects are validated by
// ./definition.ts (CustomResource.validate): first the structural schema (./structural.ts), then this function,
// once per write, with the version's whole openAPIV3Schema, the new object and, on update, the stored one. The rules
// run in src/api/cel (self, oldSelf transition rules, messageExpression, fieldPath, reason, upstream's cost budget).
// A rule the library cannot compile (it refuses has() of a field under an index, `has(self.a[0].b)`: 8 of Gateway
// API v1.3 HTTPRoute's 156 rules) is not evaluated; the CRD was admitted, so upstream's CEL compiles it.
import type { FieldError } from '../../api/errors.js';
import { hasSchemaRules, validateSchemaRules, type RuleSchema } from '../../api/cel/schema-rules.js';
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
