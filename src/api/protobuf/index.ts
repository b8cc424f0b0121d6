// Decodes `application/vnd.kubernetes.protobuf` request bodies (what kubectl's typed clients send) into the plain
// JSON object the JSON decoder would have produced, so the rest of the apiserver sees one encoding.
import { errors } from '../errors.js';
import { DELETE_OPTIONS_MESSAGE, I, K, KIND_MESSAGES, LIST_MESSAGES, M, MESSAGES, R } from './messages.js';
import { WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, WireError, WireReader } from './wire-reader.js';

/** upstream's protobuf serializer prefixes every object with these four bytes: `k8s\0` */
export const PROTOBUF_MAGIC: Readonly<Buffer> = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type JsonObject = Record<string, unknown>;

/**
 * Decode a Kubernetes protobuf body (magic `k8s\0` + runtime.Unknown{typeMeta{apiVersion,kind}, raw, contentEncoding,
 * contentType}) into the JSON object upstream's JSON rendering of the same Go object would give: apiVersion/kind
 * from typeMeta, JSON field names, IntOrString as number or string, Quantities as strings, Times as RFC 3339, bytes
 * as base64, zero values dropped where the Go field is `omitempty` and not a pointer. Unknown field numbers are
 * skipped. Throws ApiError BadRequest on malformed input or a kind kubemu has no message table for.
 */
export function decodeProtobufBody(body: Buffer): unknown {
  if (
    body.length < PROTOBUF_MAGIC.length ||
    !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)
  ) {
    throw errors.badRequest(
      'the body of the request is not a Kubernetes protobuf object: it must start with "k8s\\x00"',
    );
  }
  try {
    const envelope = readUnknown(body.subarray(PROTOBUF_MAGIC.length));
    if (envelope.contentEncoding) {
      throw errors.badRequest(
        `protobuf body with contentEncoding "${envelope.contentEncoding}" is not supported`,
      );
    }
    const { apiVersion, kind } = envelope;
    if (!kind) throw errors.badRequest("Object 'Kind' is missing in protobuf body");
    const message =
      kind === 'DeleteOptions' ? DELETE_OPTIONS_MESSAGE : KIND_MESSAGES[`${apiVersion}/${kind}`];
    if (!message) {
      throw errors.badRequest(
        `no kind "${kind}" is registered for version "${apiVersion}" in protobuf request bodies`,
      );
    }
    return { kind, apiVersion, ...decodeMessage(envelope.raw, message) };
  } catch (e) {
    if (e instanceof WireError)
      throw errors.badRequest(`unable to decode protobuf body: ${e.message}`, { cause: e });
    throw e;
  }
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
  contentEncoding: string;
}

/** runtime.Unknown{1: typeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType} */
function readUnknown(buf: Buffer): Envelope {
  const out: Envelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0), contentEncoding: '' };
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WIRE_BYTES) {
      const tm = new WireReader(r.bytes());
      while (!tm.done()) {
        const t = tm.tag();
        if (t.field === 1 && t.wireType === WIRE_BYTES) out.apiVersion = tm.bytes().toString('utf8');
        else if (t.field === 2 && t.wireType === WIRE_BYTES) out.kind = tm.bytes().toString('utf8');
        else tm.skip(t.wireType);
      }
    } else if (field === 2 && wireType === WIRE_BYTES) out.raw = r.bytes();
    else if (field === 3 && wireType === WIRE_BYTES) out.contentEncoding = r.bytes().toString('utf8');
    else r.skip(wireType);
  }
  return out;
}

/**
 * Decode a Kubernetes protobuf body as the given message (`meta.v1.Status`, …) whatever kind its envelope names:
 * for objects that are not request bodies of a served kind (upstream's round-trip fixtures of meta kinds).
 */
export function decodeProtobufBodyAs(body: Buffer, message: string): unknown {
  const envelope = readUnknown(body.subarray(PROTOBUF_MAGIC.length));
  const { kind, apiVersion } = envelope;
  // a WatchEvent carries no type meta, and upstream's JSON of it has none either
  return {
    ...(kind && { kind }),
    ...(apiVersion && { apiVersion }),
    ...decodeMessage(envelope.raw, message),
  };
}

function decodeMessage(buf: Buffer, message: string): JsonObject {
  const spec = MESSAGES[message];
  if (!spec) throw errors.internal(`no protobuf table for message ${message}`);
  const out: JsonObject = {};
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    const f = spec[field];
    if (!f) {
      r.skip(wireType);
      continue;
    }
    const [json, type, flags = 0] = f;
    const where = `${message}.${json || type}`;
    if (flags & M) {
      expectWire(wireType, WIRE_BYTES, where);
      const [key, value] = readMapEntry(r.bytes(), type, where);
      ((out[json] ??= {}) as JsonObject)[key] = value;
    } else if (flags & R) {
      const list = (out[json] ??= []) as unknown[];
      if (wireType === WIRE_BYTES && isPackable(type)) {
        // proto2 writes repeated scalars unpacked, but a packed run is valid wire format too
        const packed = new WireReader(r.bytes());
        while (!packed.done()) list.push(readValue(packed, packableWire(type), type, where));
      } else list.push(readValue(r, wireType, type, where));
    } else {
      const value = readValue(r, wireType, type, where);
      if (flags & I) Object.assign(out, value);
      else if (value === undefined || (!(flags & K) && isZero(value))) delete out[json];
      else out[json] = value;
    }
  }
  return out;
}

function readMapEntry(buf: Buffer, valueType: string, where: string): [string, unknown] {
  let key = '';
  let value: unknown;
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWire(wireType, WIRE_BYTES, `${where} key`);
      key = r.bytes().toString('utf8');
    } else if (field === 2) value = readValue(r, wireType, valueType, `${where}[${key}]`);
    else r.skip(wireType);
  }
  // an absent value is the type's zero value, as upstream's generated Unmarshal leaves it
  return [key, value ?? zeroOf(valueType)];
}

function readValue(r: WireReader, wireType: number, type: string, where: string): unknown {
  switch (type) {
    case 'string':
      expectWire(wireType, WIRE_BYTES, where);
      return r.bytes().toString('utf8');
    case 'bytes':
      expectWire(wireType, WIRE_BYTES, where);
      return r.bytes().toString('base64');
    case 'bool':
      expectWire(wireType, WIRE_VARINT, where);
      return r.varint() !== 0n;
    case 'int32':
      expectWire(wireType, WIRE_VARINT, where);
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      expectWire(wireType, WIRE_VARINT, where);
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint32':
      expectWire(wireType, WIRE_VARINT, where);
      return Number(BigInt.asUintN(32, r.varint()));
    case 'uint64':
      expectWire(wireType, WIRE_VARINT, where);
      return Number(r.varint());
    case 'double':
      expectWire(wireType, WIRE_FIXED64, where);
      return r.fixed64().readDoubleLE(0);
    case 'float':
      expectWire(wireType, WIRE_FIXED32, where);
      return r.fixed32().readFloatLE(0);
  }
  expectWire(wireType, WIRE_BYTES, where);
  const payload = r.bytes();
  switch (type) {
    case 'meta.v1.Time':
      return readTime(payload, false, where);
    case 'meta.v1.MicroTime':
      return readTime(payload, true, where);
    case 'meta.v1.Duration':
      return readDuration(payload, where);
    case 'resource.Quantity':
    case 'resource.QuantityValue':
      return readQuantity(payload);
    case 'intstr.IntOrString':
      return readIntOrString(payload, where);
    case 'meta.v1.FieldsV1':
      return readFieldsV1(payload, where);
    case 'runtime.RawExtension':
      return readRawExtension(payload, where);
    default:
      if (LIST_MESSAGES.has(type)) return decodeMessage(payload, type).items ?? [];
      return decodeMessage(payload, type);
  }
}

/** Duration {1: int64 nanoseconds}, rendered as Go's time.Duration.String() ("1h2m3.5s", "150ms", "0s") */
function readDuration(buf: Buffer, where: string): string {
  let nanos = 0n;
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWire(wireType, WIRE_VARINT, where);
      nanos = BigInt.asIntN(64, r.varint());
    } else r.skip(wireType);
  }
  return goDuration(nanos);
}

export function goDuration(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const n = nanos < 0n ? -nanos : nanos;
  if (n === 0n) return '0s';
  if (n < 1_000_000_000n) {
    // below a second Go picks the largest unit (ns, µs, ms) and prints a decimal fraction
    const [unit, scale] = n < 1000n ? ['ns', 1n] : n < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    return `${sign}${fraction(n, scale)}${unit}`;
  }
  const hours = n / 3_600_000_000_000n;
  const minutes = (n / 60_000_000_000n) % 60n;
  const seconds = `${fraction(n % 60_000_000_000n, 1_000_000_000n)}s`;
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** n / scale as a decimal without trailing zeros */
function fraction(n: bigint, scale: bigint): string {
  const whole = n / scale;
  const rest = n % scale;
  if (rest === 0n) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** the bytes of field 1 of a message whose only field is one (RawExtension's raw, FieldsV1's Raw) */
function bytesField1(buf: Buffer): Buffer | undefined {
  let raw: Buffer | undefined;
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WIRE_BYTES) raw = r.bytes();
    else r.skip(wireType);
  }
  return raw;
}

/** RawExtension {1: raw}: the raw bytes are the embedded object's JSON, which upstream's JSON form inlines */
function readRawExtension(buf: Buffer, where: string): unknown {
  const raw = bytesField1(buf);
  if (!raw || raw.length === 0) return undefined;
  if (raw.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw new WireError(`${where}: an embedded protobuf object is not supported, send its JSON`);
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (e) {
    throw new WireError(`${where}: invalid JSON in RawExtension: ${(e as Error).message}`);
  }
}

/** Time/MicroTime {1: seconds, 2: nanos}; upstream writes the zero time as an empty message, rendered as absent */
function readTime(buf: Buffer, micro: boolean, where: string): string | undefined {
  if (buf.length === 0) return undefined;
  let seconds = 0n;
  let nanos = 0;
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWire(wireType, WIRE_VARINT, where);
      seconds = BigInt.asIntN(64, r.varint());
    } else if (field === 2) {
      expectWire(wireType, WIRE_VARINT, where);
      nanos = Number(BigInt.asIntN(32, r.varint()));
    } else r.skip(wireType);
  }
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos > 999_999_999) {
    throw new WireError(`${where}: time out of range (seconds ${seconds}, nanos ${nanos})`);
  }
  const base = date.toISOString().slice(0, 19);
  // Time is RFC 3339 to the second, MicroTime always carries six fractional digits (upstream's RFC3339Micro)
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Quantity {1: string}; an empty one is the zero quantity, which upstream renders as "0" */
function readQuantity(buf: Buffer): string {
  let text = '';
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WIRE_BYTES) text = r.bytes().toString('utf8');
    else r.skip(wireType);
  }
  return text || '0';
}

/** IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal} */
function readIntOrString(buf: Buffer, where: string): number | string {
  let kind = 0n;
  let intVal = 0;
  let strVal = '';
  const r = new WireReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWire(wireType, WIRE_VARINT, where);
      kind = r.varint();
    } else if (field === 2) {
      expectWire(wireType, WIRE_VARINT, where);
      intVal = Number(BigInt.asIntN(32, r.varint()));
    } else if (field === 3) {
      expectWire(wireType, WIRE_BYTES, where);
      strVal = r.bytes().toString('utf8');
    } else r.skip(wireType);
  }
  return kind === 1n ? strVal : intVal;
}

/** FieldsV1 {1: Raw} carries the JSON of the managed fields set */
function readFieldsV1(buf: Buffer, where: string): unknown {
  const raw = bytesField1(buf);
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (e) {
    throw new WireError(`${where}: invalid JSON in FieldsV1: ${(e as Error).message}`);
  }
}

function expectWire(actual: number, expected: number, where: string): void {
  if (actual !== expected) throw new WireError(`wrong wire type ${actual} for ${where} (want ${expected})`);
}

function isPackable(type: string): boolean {
  return ['bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float'].includes(type);
}

function packableWire(type: string): number {
  return type === 'double' ? WIRE_FIXED64 : type === 'float' ? WIRE_FIXED32 : WIRE_VARINT;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function zeroOf(type: string): unknown {
  if (LIST_MESSAGES.has(type)) return [];
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'resource.Quantity':
      return '0';
    case 'meta.v1.Time':
    case 'meta.v1.MicroTime':
      // upstream's JSON renders the zero time as null (PodDisruptionBudgetStatus.disruptedPods values)
      return null;
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'double':
    case 'float':
    case 'intstr.IntOrString':
      return 0;
    default:
      return {};
  }
}
