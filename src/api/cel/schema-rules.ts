// x-kubernetes-validations of a structural schema (upstream's apiextensions-apiserver/pkg/apiserver/schema/cel
// Validator): every rule on every node of the schema, with `self` the node's value and `oldSelf` the old
// object's value at the same place (properties and additionalProperties by key, `x-kubernetes-list-type: map`
// items by their keys). Transition rules (those using `oldSelf`) run only where an old value exists. Failures are
// field errors at the node's path (or the rule's `fieldPath`), with the rule's message, messageExpression or
// `failed rule: <rule>`, and the rule's `reason`. Nodes that are null are not validated, as upstream.
import { fe, type FieldError } from '../errors.js';
import { CostLimitError, PER_CALL_LIMIT, RUNTIME_CEL_COST_BUDGET } from './budget.js';
import { compile, evaluationErrorMessage, isCompileError, type Program } from './compile.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** FieldValueInvalid (the default), FieldValueForbidden, FieldValueRequired or FieldValueDuplicate */
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** the part of a structural schema (JSONSchemaProps) the rules need */
export interface RuleSchema {
  type?: string;
  properties?: Record<string, RuleSchema>;
  additionalProperties?: RuleSchema | boolean;
  items?: RuleSchema;
  allOf?: RuleSchema[];
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

export interface SchemaRulesOptions {
  /** the whole budget of the object's rules (upstream's RuntimeCELCostBudget) */
  budget?: number;
  /** the path of the schema's root (default '': `spec.x`) */
  path?: string;
  /**
   * skip a rule that does not compile instead of reporting it (custom objects: the CRD was admitted, so the rule is
   * one this CEL library cannot compile, not a bad one)
   */
  skipUncompilable?: boolean;
}

const VARS_SELF = ['self'] as const;
const VARS_OLD = ['self', 'oldSelf'] as const;

/** does the expression refer to oldSelf (upstream decides by the checked AST; a word match is close enough) */
function usesOldSelf(rule: string): boolean {
  return /(^|[^A-Za-z0-9_.])oldSelf([^A-Za-z0-9_]|$)/.test(rule);
}

/** schema-aware JSON → CEL: integers are CEL ints except under `type: number`, which are doubles */
function toCelTyped(v: unknown, s: RuleSchema | undefined): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && s?.type !== 'number' ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCelTyped(x, s?.items));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    const extra = typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined;
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      if (x !== undefined) out[k] = toCelTyped(x, s?.properties?.[k] ?? extra);
    return out;
  }
  return v;
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** upstream's ValidFieldPath, without the schema check (the CRD's validation did it): `.a.b['c']` → `a.b[c]` */
export function normalizeRuleFieldPath(base: string, jsonPath: string): string {
  let out = base;
  const re = /\.([^.[\]]+)|\[\s*'((?:[^'\\]|\\.)*)'\s*\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(jsonPath))) {
    if (m[1] !== undefined) out = child(out, m[1]);
    else out = `${out}[${m[2].replace(/\\(.)/g, '$1')}]`;
  }
  return out;
}

function schemaTypeOf(s: RuleSchema): string {
  return s.type ?? (s['x-kubernetes-int-or-string'] ? 'integer-or-string' : '');
}

function fieldErrorForReason(
  path: string,
  type: string,
  detail: string,
  reason: string | undefined,
): FieldError {
  switch (reason) {
    case 'FieldValueForbidden':
      return fe.forbidden(path, detail);
    case 'FieldValueRequired':
      return fe.required(path, detail);
    case 'FieldValueDuplicate':
      return fe.duplicate(path, detail);
    default:
      return fe.invalid(path, type, detail);
  }
}

function ruleMessageOrDefault(r: ValidationRule): string {
  return r.message ? r.message.trim() : `failed rule: ${r.rule.trim()}`;
}

class Walker {
  errors: FieldError[] = [];
  budget: number;
  stopped = false;
  constructor(
    budget: number,
    readonly options: SchemaRulesOptions = {},
  ) {
    this.budget = budget;
  }

  private run(p: Program, activation: Record<string, unknown>): unknown {
    const { value, cost } = p.evaluate(activation, Math.min(PER_CALL_LIMIT, this.budget));
    this.budget -= cost;
    return value;
  }

  private expressions(s: RuleSchema, path: string, obj: unknown, old: unknown, root: boolean): void {
    const rules = s['x-kubernetes-validations'];
    if (!rules?.length) return;
    const type = schemaTypeOf(s);
    if (this.budget <= 0) {
      this.errors.push(
        fe.invalid(
          path,
          type,
          'validation failed due to running out of cost budget, no further validation rules will be run',
        ),
      );
      this.stopped = true;
      return;
    }
    let self = toCelTyped(obj, s);
    let oldSelf = old === undefined || old === null ? undefined : toCelTyped(old, s);
    if (root) {
      // upstream's WithTypeAndObjectMeta: apiVersion, kind and metadata.name/generateName are visible at the root
      const meta = (v: unknown) => {
        const o = v as Record<string, unknown>;
        const m = (o['metadata'] ?? {}) as Record<string, unknown>;
        const md: Record<string, unknown> = {};
        if (m['name'] !== undefined) md['name'] = m['name'];
        if (m['generateName'] !== undefined) md['generateName'] = m['generateName'];
        return { ...o, metadata: md };
      };
      self = meta(self);
      if (oldSelf !== undefined) oldSelf = meta(oldSelf);
    }
    for (const r of rules) {
      if (this.stopped) return;
      if (!r.rule?.trim()) continue;
      const transition = usesOldSelf(r.rule);
      if (transition && oldSelf === undefined && !r.optionalOldSelf) continue;
      const program = compile(r.rule, transition ? VARS_OLD : VARS_SELF);
      // a rule upstream's CEL compiles (the CRD was admitted) that this library cannot, e.g. has() of a field
      // under an index (`has(self.a[0].b)`): not evaluated, rather than refusing every object
      if (isCompileError(program)) {
        if (!this.options.skipUncompilable)
          this.errors.push(fe.invalid(path, type, `rule compile error: ${program.message}`));
        continue;
      }
      const activation: Record<string, unknown> = { self };
      if (transition) activation['oldSelf'] = oldSelf ?? null;
      let result: unknown;
      try {
        result = this.run(program, activation);
      } catch (e) {
        const msg = evaluationErrorMessage(e);
        if (e instanceof CostLimitError) {
          this.errors.push(
            fe.invalid(
              path,
              type,
              `'${msg}': no further validation rules will be run due to call cost exceeds limit for rule: ${r.rule.trim()}`,
            ),
          );
          this.stopped = true;
          return;
        }
        if (msg.startsWith('no such overload') || msg.startsWith('found no matching overload'))
          this.errors.push(
            fe.invalid(
              path,
              type,
              `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${r.rule.trim()}`,
            ),
          );
        else this.errors.push(fe.invalid(path, type, `${msg} evaluating rule: ${r.rule.trim()}`));
        continue;
      }
      if (result === true) continue;
      const at = r.fieldPath ? normalizeRuleFieldPath(path, r.fieldPath) : path;
      let detail: string | undefined;
      if (r.messageExpression) {
        const mp = compile(r.messageExpression, transition ? VARS_OLD : VARS_SELF);
        if (!isCompileError(mp)) {
          try {
            const m = this.run(mp, activation);
            if (typeof m !== 'string') {
              this.errors.push(fe.invalid(at, type, 'messageExpression should evaluate to a string'));
              this.stopped = true;
              return;
            }
            if (m.trim() && m.length <= 5000 && !m.includes('\n')) detail = m.trim();
          } catch (e) {
            if (e instanceof CostLimitError) {
              this.errors.push(
                fe.invalid(
                  at,
                  type,
                  `messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run`,
                ),
              );
              this.stopped = true;
              return;
            }
          }
        }
      }
      this.errors.push(fieldErrorForReason(at, type, detail ?? ruleMessageOrDefault(r), r.reason));
    }
  }

  walk(s: RuleSchema | undefined, path: string, obj: unknown, old: unknown, root = false): void {
    if (!s || obj === null || obj === undefined || this.stopped) return;
    this.expressions(s, path, obj, old, root);
    for (const sub of s.allOf ?? []) this.walk(sub, path, obj, undefined);
    if (Array.isArray(obj)) {
      const items = s.items;
      if (!items) return;
      const keys =
        s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
      const oldItems = Array.isArray(old) && keys ? old : [];
      const keyOf = (x: unknown) => JSON.stringify(keys?.map((k) => (x as Record<string, unknown>)?.[k]));
      const oldByKey = new Map(oldItems.map((x) => [keyOf(x), x]));
      obj.forEach((x, i) => this.walk(items, `${path}[${i}]`, x, keys ? oldByKey.get(keyOf(x)) : undefined));
      return;
    }
    if (typeof obj === 'object') {
      const o = obj as Record<string, unknown>;
      const oo =
        old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined;
      if (s.properties) {
        for (const [k, ps] of Object.entries(s.properties))
          if (k in o) this.walk(ps, child(path, k), o[k], oo?.[k]);
      } else if (typeof s.additionalProperties === 'object') {
        for (const [k, v] of Object.entries(o))
          this.walk(s.additionalProperties, `${path}[${k}]`, v, oo?.[k]);
      }
    }
  }
}

/**
 * Check `obj` (and, for an update, `oldObj`) against the schema's x-kubernetes-validations rules; the field errors
 * in upstream's words. `schema` is the version's openAPIV3Schema (its root is the resource's root).
 */
export function validateSchemaRules(
  schema: RuleSchema,
  obj: unknown,
  oldObj?: unknown,
  options: SchemaRulesOptions = {},
): FieldError[] {
  const w = new Walker(options.budget ?? RUNTIME_CEL_COST_BUDGET, options);
  w.walk(schema, options.path ?? '', obj, oldObj, true);
  return w.errors;
}

/** whether any node of the schema has rules (callers skip the walk when not) */
export function hasSchemaRules(schema: RuleSchema | undefined): boolean {
  if (!schema) return false;
  if (schema['x-kubernetes-validations']?.length) return true;
  return (
    Object.values(schema.properties ?? {}).some(hasSchemaRules) ||
    (typeof schema.additionalProperties === 'object' && hasSchemaRules(schema.additionalProperties)) ||
    hasSchemaRules(schema.items) ||
    (schema.allOf ?? []).some(hasSchemaRules)
  );
}

/** a rule (or messageExpression) of a schema that this library cannot compile, at upstream's field path */
export interface UncompilableRule {
  /** e.g. `spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule` */
  path: string;
  /** the library's compile error, first line */
  error: string;
}

/**
 * Every x-kubernetes-validations rule and messageExpression of `schema` (found at `path`) that does not compile
 * here. Upstream refuses a CRD with such a rule; a CRD upstream admits may still have one our library refuses.
 */
export function uncompilableRules(schema: RuleSchema | undefined, path: string): UncompilableRule[] {
  const out: UncompilableRule[] = [];
  const walk = (s: RuleSchema | undefined, at: string): void => {
    if (!s) return;
    (s['x-kubernetes-validations'] ?? []).forEach((r, i) => {
      const vars = r.rule && usesOldSelf(r.rule) ? VARS_OLD : VARS_SELF;
      for (const [field, text] of [
        ['rule', r.rule],
        ['messageExpression', r.messageExpression],
      ] as const) {
        if (!text?.trim()) continue;
        const program = compile(text, vars);
        if (isCompileError(program))
          out.push({
            path: `${at}.x-kubernetes-validations[${i}].${field}`,
            error: program.message.split('\n')[0],
          });
      }
    });
    for (const [name, p] of Object.entries(s.properties ?? {})) walk(p, `${at}.properties[${name}]`);
    if (typeof s.additionalProperties === 'object')
      walk(s.additionalProperties, `${at}.additionalProperties`);
    walk(s.items, `${at}.items`);
    (s.allOf ?? []).forEach((a, i) => walk(a, `${at}.allOf[${i}]`));
  };
  walk(schema, path);
  return out;
}
