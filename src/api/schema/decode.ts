// The schema walker behind decodeObject: type-checks parsed JSON as Go's encoding/json would, prunes unknown
// fields, drops nulls and canonicalises quantities and times — in place, in one pass.
import { goTypeName, type SchemaNode } from './compile.js';
import { canonicalQuantity, QUANTITY_FORMAT_ERROR } from './quantity.js';
import { MAX_NESTING_DEPTH, valueNestingError } from '../nesting-depth.js';

/** A decode failure, worded as upstream's decoder; the caller prefixes the kind/version. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface DecodeContext {
  /** JSON path of the value being decoded: struct fields, array indices and map keys */
  path: PathElement[];
  /** paths (`spec.containers[0].foo`) of fields that are not in the schema, in document order */
  unknown: string[];
}

/** a struct field is a string, an array index a number, a map key a `{ key }` */
export type PathElement = string | number | { key: string };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** `spec.containers[0].image`, `metadata.labels[app]` */
export function jsonPath(path: readonly PathElement[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (typeof p === 'object') s += `[${p.key}]`;
    else s += s.length ? `.${p}` : p;
  }
  return s;
}

/** encoding/json's field path: struct field names only, no indices or map keys (`spec.containers.image`) */
function goPath(path: readonly PathElement[]): string {
  let s = '';
  for (const p of path) if (typeof p === 'string') s += s.length ? `.${p}` : p;
  return s;
}

function jsonKind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return Array.isArray(v) ? 'array' : 'object';
}

function typeError(
  ctx: DecodeContext,
  owner: string | undefined,
  node: SchemaNode,
  value: unknown,
  withValue = false,
): DecodeError {
  const what = withValue ? `number ${String(value)}` : jsonKind(value);
  const where = owner === undefined ? 'Go value' : `Go struct field ${owner}.${goPath(ctx.path)}`;
  return new DecodeError(
    `json: cannot unmarshal ${what} into ${where} of type ${goTypeName(node)}`,
    jsonPath(ctx.path),
  );
}

/** Go's zero value, for nulls inside arrays and maps (encoding/json leaves those elements zeroed). */
function zeroValue(node: SchemaNode): unknown {
  switch (node.t) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int':
      return 0;
    case 'quantity':
      return '0';
    case 'intOrString':
      return 0;
    case 'struct':
      return {};
    default:
      return null;
  }
}

/**
 * Decode `value` against `node`; returns the (possibly canonicalised) value. Objects and arrays are
 * modified in place. `owner` is the Go struct holding the current field (for error messages).
 */
export function decodeValue(
  node: SchemaNode,
  value: unknown,
  owner: string | undefined,
  ctx: DecodeContext,
): unknown {
  switch (node.t) {
    case 'string':
      if (typeof value !== 'string') throw typeError(ctx, owner, node, value);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(ctx, owner, node, value);
      return value;
    case 'int':
      if (typeof value !== 'number') throw typeError(ctx, owner, node, value);
      if (!Number.isInteger(value) || (node.bits === 32 && (value < INT32_MIN || value > INT32_MAX))) {
        throw typeError(ctx, owner, node, value, true);
      }
      return value;
    case 'struct':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw typeError(ctx, owner, node, value);
      decodeStruct(node, value as Record<string, unknown>, ctx);
      return value;
    case 'array': {
      if (!Array.isArray(value)) throw typeError(ctx, owner, node, value);
      const items = node.items;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === null || item === undefined) {
          value[i] = zeroValue(items);
          continue;
        }
        ctx.path.push(i);
        value[i] = decodeValue(items, item, owner, ctx);
        ctx.path.pop();
      }
      return value;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw typeError(ctx, owner, node, value);
      const map = value as Record<string, unknown>;
      const values = node.values;
      for (const key in map) {
        const v = map[key];
        if (v === undefined) {
          delete map[key];
          continue;
        }
        if (v === null) {
          map[key] = zeroValue(values);
          continue;
        }
        // the common case (ConfigMap data, labels) without a path entry or a write-back per key: 30,000 keys
        if (values.t === 'string' && typeof v === 'string') continue;
        ctx.path.push({ key });
        const decoded = decodeValue(values, v, owner, ctx);
        if (decoded !== v) map[key] = decoded;
        ctx.path.pop();
      }
      return value;
    }
    case 'quantity': {
      // resource.Quantity's own UnmarshalJSON: its error carries no field path
      const canonical =
        typeof value === 'string' || typeof value === 'number' ? canonicalQuantity(value) : undefined;
      if (canonical === undefined) throw new DecodeError(QUANTITY_FORMAT_ERROR, jsonPath(ctx.path));
      return canonical;
    }
    case 'intOrString':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        return value;
      throw new DecodeError(
        `json: cannot unmarshal ${typeof value === 'number' ? `number ${value}` : jsonKind(value)} into Go value of type int32`,
        jsonPath(ctx.path),
      );
    case 'time': {
      if (typeof value !== 'string') {
        throw new DecodeError(
          `json: cannot unmarshal ${jsonKind(value)} into Go value of type string`,
          jsonPath(ctx.path),
        );
      }
      const t = canonicalTime(value, node.micro);
      if (t === undefined) {
        throw new DecodeError(
          `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"`,
          jsonPath(ctx.path),
        );
      }
      return t;
    }
    case 'bytes': {
      if (typeof value !== 'string') throw typeError(ctx, owner, node, value);
      const bad = base64Error(value);
      if (bad !== undefined)
        throw new DecodeError(`illegal base64 data at input byte ${bad}`, jsonPath(ctx.path));
      return value;
    }
    case 'any': {
      // free-form JSON (managedFields' fieldsV1) is stored as it is: no deeper than a body may be
      const tooDeep = valueNestingError(value, MAX_NESTING_DEPTH, ctx.path.length + 1);
      if (tooDeep) throw new DecodeError(tooDeep, jsonPath(ctx.path));
      return value;
    }
  }
}

function decodeStruct(
  node: Extract<SchemaNode, { t: 'struct' }>,
  obj: Record<string, unknown>,
  ctx: DecodeContext,
): void {
  const fields = node.fields;
  for (const key in obj) {
    const field = fields.get(key);
    if (field === undefined) {
      ctx.path.push(key);
      ctx.unknown.push(jsonPath(ctx.path));
      ctx.path.pop();
      delete obj[key];
      continue;
    }
    const v = obj[key];
    if (v === null || v === undefined) {
      // null for an optional field is the field absent (undefined only comes over the internal face's msgpack)
      delete obj[key];
      continue;
    }
    ctx.path.push(key);
    const out = decodeValue(field, v, node.name, ctx);
    if (out !== v) obj[key] = out;
    ctx.path.pop();
  }
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** metav1.Time / MicroTime as upstream re-serialises them: UTC, seconds (Time) or microseconds (MicroTime). */
export function canonicalTime(s: string, micro: boolean): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)
    return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(sec));
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (sign) ms -= (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const iso = new Date(ms).toISOString().slice(0, 19);
  if (!micro) return `${iso}Z`;
  return `${iso}.${(frac ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}

const B64 = /^[A-Za-z0-9+/]$/;

/** index of the first offending byte as Go's base64.StdEncoding reports it, or undefined when valid */
function base64Error(s: string): number | undefined {
  const t = s.replace(/[\r\n]/g, '');
  let i = 0;
  for (; i < t.length; i++) {
    if (!B64.test(t[i])) break;
  }
  if (i === t.length) return t.length % 4 === 0 ? undefined : t.length - (t.length % 4);
  // padding: only at the end, making the length a multiple of 4
  const pad = t.length - i;
  if (pad <= 2 && /^=+$/.test(t.slice(i)) && t.length % 4 === 0 && i % 4 >= 2) return undefined;
  return i;
}
