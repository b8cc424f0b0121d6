// A custom resource's structural schema applied to its objects, as upstream's apiextensions-apiserver does
// (pkg/apiserver/schema/pruning/algorithm.go, schema/defaulting/algorithm.go, schema/objectmeta/coerce.go and the
// kube-openapi validator behind pkg/apiserver/validation): pruning of unknown fields, defaulting, and value
// validation with upstream's field paths and messages. x-kubernetes-validations (CEL) are not evaluated here: see
// ./cel-rules.ts.
import { fe, type FieldError } from '../../api/errors.js';
import { deepCopy, deepEqual } from '../../util/objects.js';

/** a JSONSchemaProps as JSON */
export type Schema = { [key: string]: unknown };

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** the fields of ObjectMeta: anything else under an object's metadata is pruned (upstream's objectmeta coercion) */
export const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

const props = (s: Schema | undefined): Record<string, Schema> | undefined =>
  s && isSchema(s['properties']) ? (s['properties'] as Record<string, Schema>) : undefined;
const preserves = (s: Schema | undefined): boolean => s?.['x-kubernetes-preserve-unknown-fields'] === true;
const embedded = (s: Schema | undefined): boolean => s?.['x-kubernetes-embedded-resource'] === true;

const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const index = (path: string, i: number): string => `${path}[${i}]`;

// ---------------------------------------------------------------- pruning

/**
 * Remove the fields the schema does not specify, in place; returns their paths (`spec.foo`, `spec.items[0].bar`)
 * for fieldValidation (upstream's pruning.PruneWithOptions with ReturnPruned). `isRoot`: apiVersion, kind and
 * metadata are kept at the root, as in an embedded resource.
 */
export function prune(obj: unknown, schema: Schema | undefined, isRoot = true): string[] {
  const pruned: string[] = [];
  pruneValue(obj, schema, isRoot, '', pruned);
  return pruned;
}

function pruneValue(
  v: unknown,
  s: Schema | undefined,
  isResource: boolean,
  path: string,
  out: string[],
): void {
  if (Array.isArray(v)) {
    const items = s && isSchema(s['items']) ? s['items'] : undefined;
    if (!items && preserves(s)) return;
    v.forEach((item, i) => pruneValue(item, items, embedded(items), index(path, i), out));
    return;
  }
  if (!isPlainObject(v)) return;
  const p = props(s);
  const additional = s && isSchema(s['additionalProperties']) ? s['additionalProperties'] : undefined;
  const keep = preserves(s) || s?.['additionalProperties'] === true;
  for (const key of Object.keys(v)) {
    if (isResource && (key === 'apiVersion' || key === 'kind')) continue;
    if (isResource && key === 'metadata') {
      pruneMetadata(v[key], child(path, key), out);
      continue;
    }
    const ps = p?.[key] ?? additional;
    if (ps) {
      pruneValue(v[key], ps, embedded(ps), child(path, key), out);
    } else if (!keep) {
      out.push(child(path, key));
      delete v[key];
    }
  }
}

function pruneMetadata(m: unknown, path: string, out: string[]): void {
  if (!isPlainObject(m)) return;
  for (const key of Object.keys(m)) {
    if (!OBJECT_META_FIELDS.has(key)) {
      out.push(child(path, key));
      delete m[key];
    }
  }
}

// ---------------------------------------------------------------- defaulting

/** Apply the schema's `default`s in place (upstream's structuraldefaulting.Default): missing fields and nulls. */
export function applyDefaults(obj: unknown, schema: Schema | undefined): void {
  if (!schema) return;
  if (Array.isArray(obj)) {
    const items = isSchema(schema['items']) ? schema['items'] : undefined;
    if (items) for (const item of obj) applyDefaults(item, items);
    return;
  }
  if (!isPlainObject(obj)) return;
  const p = props(schema);
  if (p) {
    for (const [key, ps] of Object.entries(p)) {
      if (!isSchema(ps)) continue;
      const nullable = ps['nullable'] === true;
      if ('default' in ps && (!(key in obj) || (obj[key] === null && !nullable))) {
        obj[key] = deepCopy(ps['default']);
      }
      if (key in obj) applyDefaults(obj[key], ps);
    }
  }
  const additional = isSchema(schema['additionalProperties']) ? schema['additionalProperties'] : undefined;
  if (additional) {
    for (const key of Object.keys(obj)) if (!p?.[key]) applyDefaults(obj[key], additional);
  }
}

// ---------------------------------------------------------------- validation

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** kube-openapi's "in body" messages, as a field.Invalid */
const inBody = (path: string, value: unknown, what: string): FieldError =>
  fe.invalid(path, value, `${path} in body ${what}`);

const FORMATS: Readonly<Record<string, RegExp>> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
  ipv4: /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/,
  hostname: /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/,
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
};

/**
 * Validate a value against a structural schema with upstream's messages (`spec.replicas: Invalid value: "x":
 * spec.replicas in body must be of type integer: "string"`). `path` is the value's field path ('' at the root).
 */
export function validateValue(v: unknown, s: Schema | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s) walk(v, s, path, errs);
  return errs;
}

function checkType(v: unknown, s: Schema, path: string, errs: FieldError[]): boolean {
  const type = typeof s['type'] === 'string' ? s['type'] : '';
  if (v === null) {
    if (s['nullable'] === true || (!type && preserves(s))) return false;
    if (!type) return false;
    errs.push(inBody(path, 'null', `must be of type ${type}: "null"`));
    return false;
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    const t = jsonType(v);
    if (t !== 'integer' && t !== 'string') {
      errs.push(inBody(path, v, `must be of type integer,string: "${t}"`));
      return false;
    }
    return true;
  }
  if (!type) return true;
  const actual = jsonType(v);
  const ok = actual === type || (type === 'number' && actual === 'integer');
  if (!ok) {
    errs.push(inBody(path, v, `must be of type ${type}: "${actual}"`));
    return false;
  }
  return true;
}

function walk(v: unknown, s: Schema, path: string, errs: FieldError[]): void {
  if (v === undefined) return;
  if (!checkType(v, s, path || '<root>', errs)) return;
  const shown = path || '<root>';
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => deepEqual(e, v))) {
    errs.push(
      fe.notSupported(
        shown,
        v,
        (s['enum'] as unknown[]).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
      ),
    );
  }
  if (typeof v === 'string') validateString(v, s, shown, errs);
  if (typeof v === 'number') validateNumber(v, s, shown, errs);
  if (Array.isArray(v)) validateArray(v, s, path, errs);
  else if (isPlainObject(v)) validateObject(v, s, path, errs);
  validateJunctors(v, s, shown, errs);
}

const patterns = new Map<string, RegExp | undefined>();
/**
 * a schema's ECMA-262 pattern; Go's RE2 (which upstream uses) accepts escapes such as `\-` that a unicode-mode
 * JavaScript pattern refuses, so those compile without the u flag. A pattern neither accepts was refused when the CRD
 * was written (src/api/validation/crd-schema.ts).
 */
function compilePattern(pattern: string): RegExp | undefined {
  if (patterns.has(pattern)) return patterns.get(pattern);
  let re: RegExp | undefined;
  for (const flags of ['u', '']) {
    try {
      re = new RegExp(pattern, flags);
      break;
    } catch {
      re = undefined;
    }
  }
  patterns.set(pattern, re);
  return re;
}

function validateString(v: string, s: Schema, path: string, errs: FieldError[]): void {
  if (typeof s['maxLength'] === 'number' && [...v].length > s['maxLength'])
    errs.push(fe.tooLong(path, v, s['maxLength']));
  if (typeof s['minLength'] === 'number' && [...v].length < s['minLength'])
    errs.push(inBody(path, v, `should be at least ${s['minLength']} chars long`));
  if (typeof s['pattern'] === 'string') {
    const re = compilePattern(s['pattern']);
    if (re && !re.test(v)) errs.push(inBody(path, v, `should match '${s['pattern']}'`));
  }
  const format = typeof s['format'] === 'string' ? s['format'] : '';
  const re = FORMATS[format];
  if (re && !re.test(v)) errs.push(inBody(path, v, `must be of type ${format}: ${JSON.stringify(v)}`));
}

function validateNumber(v: number, s: Schema, path: string, errs: FieldError[]): void {
  const max = s['maximum'];
  if (typeof max === 'number') {
    if (s['exclusiveMaximum'] === true ? v >= max : v > max)
      errs.push(
        inBody(path, v, `should be less than ${s['exclusiveMaximum'] === true ? '' : 'or equal to '}${max}`),
      );
  }
  const min = s['minimum'];
  if (typeof min === 'number') {
    if (s['exclusiveMinimum'] === true ? v <= min : v < min)
      errs.push(
        inBody(
          path,
          v,
          `should be greater than ${s['exclusiveMinimum'] === true ? '' : 'or equal to '}${min}`,
        ),
      );
  }
  const mult = s['multipleOf'];
  if (typeof mult === 'number' && mult > 0 && Math.abs(v / mult - Math.round(v / mult)) > 1e-9)
    errs.push(inBody(path, v, `should be a multiple of ${mult}`));
}

function validateArray(v: unknown[], s: Schema, path: string, errs: FieldError[]): void {
  const shown = path || '<root>';
  if (typeof s['maxItems'] === 'number' && v.length > s['maxItems'])
    errs.push(fe.tooMany(shown, v.length, s['maxItems']));
  if (typeof s['minItems'] === 'number' && v.length < s['minItems'])
    errs.push(inBody(shown, v.length, `should have at least ${s['minItems']} items`));
  const items = isSchema(s['items']) ? s['items'] : undefined;
  const listType = s['x-kubernetes-list-type'];
  if (s['uniqueItems'] === true || listType === 'set') {
    v.forEach((item, i) => {
      if (v.findIndex((o) => deepEqual(o, item)) < i) errs.push(fe.duplicate(index(path, i), item));
    });
  }
  if (listType === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys = s['x-kubernetes-list-map-keys'] as string[];
    const seen = new Set<string>();
    v.forEach((item, i) => {
      if (!isPlainObject(item)) return;
      const k = JSON.stringify(keys.map((key) => item[key] ?? (items && props(items)?.[key]?.['default'])));
      if (seen.has(k)) {
        const shownKey = Object.fromEntries(keys.map((key) => [key, item[key]]));
        errs.push(fe.duplicate(index(path, i), shownKey));
      }
      seen.add(k);
    });
  }
  if (items) v.forEach((item, i) => walk(item, items, index(path, i), errs));
}

function validateObject(v: Record<string, unknown>, s: Schema, path: string, errs: FieldError[]): void {
  const shown = path || '<root>';
  const n = Object.keys(v).length;
  if (typeof s['maxProperties'] === 'number' && n > s['maxProperties'])
    errs.push(fe.tooMany(shown, n, s['maxProperties']));
  if (typeof s['minProperties'] === 'number' && n < s['minProperties'])
    errs.push(inBody(shown, n, `should have at least ${s['minProperties']} properties`));
  if (Array.isArray(s['required'])) {
    for (const r of s['required'] as string[])
      if (!(r in v) || v[r] === undefined) errs.push(fe.required(child(path, r)));
  }
  const p = props(s);
  const additional = isSchema(s['additionalProperties']) ? s['additionalProperties'] : undefined;
  for (const [key, value] of Object.entries(v)) {
    const ps = p?.[key] ?? additional;
    if (!ps) continue;
    // an embedded resource's and the root's metadata are ObjectMeta, validated as such elsewhere
    if (key === 'metadata' && (embedded(s) || path === '')) continue;
    walk(value, ps, child(path, key), errs);
  }
  if (embedded(s) && !preserves(s)) {
    if (typeof v['apiVersion'] !== 'string' || !v['apiVersion'])
      errs.push(fe.required(child(path, 'apiVersion'), 'must not be empty'));
    if (typeof v['kind'] !== 'string' || !v['kind'])
      errs.push(fe.required(child(path, 'kind'), 'must not be empty'));
  }
}

/** allOf, anyOf, oneOf, not: value validations only (structural schemas allow no types or properties in them) */
function validateJunctors(v: unknown, s: Schema, path: string, errs: FieldError[]): void {
  const list = (key: string): Schema[] =>
    Array.isArray(s[key]) ? (s[key] as unknown[]).filter(isSchema) : [];
  const passes = (sub: Schema): boolean => {
    const e: FieldError[] = [];
    walk(v, sub, path === '<root>' ? '' : path, e);
    return e.length === 0;
  };
  for (const sub of list('allOf')) walk(v, sub, path === '<root>' ? '' : path, errs);
  const anyOf = list('anyOf');
  if (anyOf.length && !anyOf.some(passes))
    errs.push(inBody(path, v, 'must validate at least one schema (anyOf)'));
  const oneOf = list('oneOf');
  if (oneOf.length && oneOf.filter(passes).length !== 1)
    errs.push(inBody(path, v, 'must validate one and only one schema (oneOf)'));
  if (isSchema(s['not']) && passes(s['not']))
    errs.push(inBody(path, v, 'must not validate the schema (not)'));
}
