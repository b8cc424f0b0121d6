// THE call site of x-kubernetes-validations (CEL) rules on custom resources. Custom objects are validated by
// ./definition.ts (CustomResource.validate): first the structural schema (./structural.ts), then this function,
// once per write, with the version's whole openAPIV3Schema, the new object and, on update, the stored one.
//
// CEL is not evaluated yet: the rule evaluator is being built separately (issue #23, the CEL half) and plugs in
// here, returning upstream's field errors (`spec.x: Invalid value: "object": <rule's message>`). Until then a
// CRD's rules are validated statically when the CRD is written (src/api/validation/crd-schema.ts) but not run.
import type { FieldError } from '../../api/errors.js';
import type { Schema } from './structural.js';

export type CelRuleChecker = (schema: Schema, obj: unknown, old: unknown) => FieldError[];

let checker: CelRuleChecker | undefined;

/** install the CEL evaluator (one per process) */
export function setCelRuleChecker(c: CelRuleChecker | undefined): void {
  checker = c;
}

/** whether rules are evaluated: false until an evaluator is installed */
export function celRulesEvaluated(): boolean {
  return checker !== undefined;
}

/** the field errors of `obj`'s x-kubernetes-validations rules (`old`: the stored object on update, for transition rules) */
export function celRuleErrors(schema: Schema, obj: unknown, old: unknown): FieldError[] {
  return checker ? checker(schema, obj, old) : [];
}
