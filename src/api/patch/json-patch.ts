// RFC 6902 JSON patch, applied as the apiserver does (evanphx/json-patch v4, which Kubernetes vendors), quirks included.
import { ApiError, errors } from '../errors.js';
import { deepEqual, isObject } from '../../util/objects.js';
import { jsonTypeWord } from './go-format.js';
import { setOwn } from './json-values.js';

/** upstream's maxJSONPatchOperations: more operations than this is 413 */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * How much `copy` operations may add to the document, in bytes of JSON: the apiserver sets json-patch's
 * AccumulatedCopySizeLimit to its max request body size (3 MiB), against CVE-2019-1002100, where a few copies of
 * a copy double the document each time.
 */
export const MAX_ACCUMULATED_COPY_BYTES = 3 * 1024 * 1024;

type Container = Record<string, unknown> | unknown[];

interface PatchedDocument {
  root: Container;
  /** JSON bytes the patch's `copy` operations have added so far */
  copiedBytes: number;
}

/** A failed operation: upstream turns every one into the same 422, keeping its text only in logs. */
class PatchOpError extends Error {}

/**
 * Apply a JSON patch (already JSON-decoded). A patch that is not a list of operations is 400; an operation that
 * does not apply (missing path, failed `test`, bad index) is upstream's 422 "the server rejected our request due to
 * an error in our request", with the precise reason as the ApiError's `cause`.
 */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  const ops = decodePatch(patch);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  // the apiserver applies patches to the encoded object; a non-container document is left as it is
  if (!isObject(target) && !Array.isArray(target)) return target;
  const doc: PatchedDocument = { root: structuredClone(target) as Container, copiedBytes: 0 };
  try {
    for (const op of ops) applyOperation(doc, op);
  } catch (e) {
    // moves and copies can nest a document deeper than the stack can clone: that patch does not apply either
    if (e instanceof PatchOpError || isStackOverflow(e)) {
      throw new ApiError(
        'Invalid',
        'the server rejected our request due to an error in our request',
        {},
        { cause: e },
      );
    }
    throw e;
  }
  return doc.root;
}

function decodePatch(patch: unknown): (Record<string, unknown> | null)[] {
  if (patch === null) return [];
  if (!Array.isArray(patch)) {
    throw errors.badRequest(
      `json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type jsonpatch.Patch`,
    );
  }
  for (const op of patch) {
    if (op !== null && !isObject(op)) {
      throw errors.badRequest(
        `json: cannot unmarshal ${jsonTypeWord(op)} into Go value of type jsonpatch.Operation`,
      );
    }
  }
  return patch as (Record<string, unknown> | null)[];
}

function applyOperation(doc: PatchedDocument, op: Record<string, unknown> | null): void {
  const kind = op && typeof op.op === 'string' ? op.op : 'unknown';
  switch (kind) {
    case 'add':
      return add(doc, op!);
    case 'remove':
      return remove(doc, op!);
    case 'replace':
      return replace(doc, op!);
    case 'move':
      return move(doc, op!);
    case 'test':
      return test(doc, op!);
    case 'copy':
      return copy(doc, op!);
    default:
      throw new PatchOpError(`Unexpected kind: ${kind}`);
  }
}

function stringField(op: Record<string, unknown>, name: 'path' | 'from', failure: string): string {
  const v = op[name];
  if (typeof v !== 'string') throw new PatchOpError(`${failure}: missing value`);
  return v;
}

/** the operation's value; absent decodes as JSON null, as upstream's lazy node does */
function valueOf(op: Record<string, unknown>): unknown {
  return op.value === undefined ? null : structuredClone(op.value);
}

function decodeKey(k: string): string {
  return k.replace(/~1|~0/g, (m) => (m === '~1' ? '/' : '~'));
}

/** strconv.Atoi, as upstream parses array indices */
function atoi(key: string): number | undefined {
  if (!/^[+-]?\d+$/.test(key)) return undefined;
  const n = Number(key);
  return Number.isSafeInteger(n) ? n : undefined;
}

function invalidIndex(idx: number): PatchOpError {
  return new PatchOpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
}

/** upstream's findObject: the container holding the last path segment, or undefined when the path is missing */
function findObject(doc: PatchedDocument, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let con: Container = doc.root;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = get(con, decodeKey(part));
    } catch {
      return undefined;
    }
    if (Array.isArray(next) || isObject(next)) con = next;
    else return undefined;
  }
  return { con, key: decodeKey(split[split.length - 1]) };
}

/** the value at key; undefined for a missing object key (or JSON null); throws for a bad array index */
function get(con: Container, key: string): unknown {
  if (!Array.isArray(con)) return Object.hasOwn(con, key) && con[key] !== null ? con[key] : undefined;
  let idx = atoi(key);
  if (idx === undefined)
    throw new PatchOpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  if (idx >= con.length) throw invalidIndex(idx);
  return con[idx] === null ? undefined : con[idx];
}

function addTo(con: Container, key: string, val: unknown): void {
  if (!Array.isArray(con)) {
    setOwn(con, key, val);
    return;
  }
  if (key === '-') {
    con.push(val);
    return;
  }
  let idx = atoi(key);
  if (idx === undefined) {
    throw new PatchOpError(
      `value was not a proper array index: '${key}': strconv.Atoi: parsing "${key}": invalid syntax`,
    );
  }
  const size = con.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  con.splice(idx, 0, val);
}

function removeFrom(con: Container, key: string): void {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key))
      throw new PatchOpError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete con[key];
    return;
  }
  let idx = atoi(key);
  if (idx === undefined)
    throw new PatchOpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  if (idx >= con.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  con.splice(idx, 1);
}

function add(doc: PatchedDocument, op: Record<string, unknown>): void {
  const path = stringField(op, 'path', 'add operation failed to decode path');
  const found = findObject(doc, path);
  if (!found)
    throw new PatchOpError(`add operation does not apply: doc is missing path: "${path}": missing value`);
  wrap(() => addTo(found.con, found.key, valueOf(op)), `error in add for path: '${path}'`);
}

function remove(doc: PatchedDocument, op: Record<string, unknown>): void {
  const path = stringField(op, 'path', 'remove operation failed to decode path');
  const found = findObject(doc, path);
  if (!found)
    throw new PatchOpError(`remove operation does not apply: doc is missing path: "${path}": missing value`);
  wrap(() => removeFrom(found.con, found.key), `error in remove for path: '${path}'`);
}

function replace(doc: PatchedDocument, op: Record<string, unknown>): void {
  const path = stringField(op, 'path', 'replace operation failed to decode path');
  if (path === '') {
    const val = valueOf(op);
    if (!isObject(val) && !Array.isArray(val))
      throw new PatchOpError('replace operation value must be object or array');
    doc.root = val;
    return;
  }
  const found = findObject(doc, path);
  if (!found)
    throw new PatchOpError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
  // upstream only checks that an array index exists; a missing object key is simply set
  try {
    get(found.con, found.key);
  } catch {
    throw new PatchOpError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
  }
  const { con, key } = found;
  if (Array.isArray(con)) {
    const idx = atoi(key)!;
    con[idx < 0 ? idx + con.length : idx] = valueOf(op);
  } else {
    setOwn(con, key, valueOf(op));
  }
}

function move(doc: PatchedDocument, op: Record<string, unknown>): void {
  const from = stringField(op, 'from', 'move operation failed to decode from');
  const source = findObject(doc, from);
  if (!source)
    throw new PatchOpError(`move operation does not apply: doc is missing from path: ${from}: missing value`);
  const val = wrap(() => rawGet(source.con, source.key), `error in move for path: '${source.key}'`);
  wrap(() => removeFrom(source.con, source.key), `error in move for path: '${source.key}'`);
  const path = stringField(op, 'path', 'move operation failed to decode path');
  const dest = findObject(doc, path);
  if (!dest) {
    throw new PatchOpError(
      `move operation does not apply: doc is missing destination path: ${path}: missing value`,
    );
  }
  wrap(() => addTo(dest.con, dest.key, val), `error in move for path: '${path}'`);
}

function copy(doc: PatchedDocument, op: Record<string, unknown>): void {
  const from = stringField(op, 'from', 'copy operation failed to decode from');
  const source = findObject(doc, from);
  if (!source)
    throw new PatchOpError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
  const val = wrap(() => rawGet(source.con, source.key), `error in copy for from: '${from}'`);
  const path = stringField(op, 'path', 'copy operation failed to decode path');
  const dest = findObject(doc, path);
  if (!dest) {
    throw new PatchOpError(
      `copy operation does not apply: doc is missing destination path: ${path}: missing value`,
    );
  }
  // copying a missing object key copies JSON null, as upstream does; the copy's JSON length counts towards the
  // limit before anything is copied, as json-patch's deepCopy does
  const copied = val === undefined ? null : val;
  doc.copiedBytes += jsonLength(copied);
  if (doc.copiedBytes > MAX_ACCUMULATED_COPY_BYTES) {
    throw new PatchOpError(
      `Unable to complete the copy, the accumulated size increase of copy is ${doc.copiedBytes}, exceeding the limit ${MAX_ACCUMULATED_COPY_BYTES}`,
    );
  }
  wrap(() => addTo(dest.con, dest.key, structuredClone(copied)), 'error while adding value during copy');
}

function test(doc: PatchedDocument, op: Record<string, unknown>): void {
  const path = stringField(op, 'path', 'test operation failed to decode path');
  if (path === '') {
    if (deepEqual(doc.root, op.value)) return;
    throw new PatchOpError(`testing value ${path} failed: test failed`);
  }
  const found = findObject(doc, path);
  if (!found)
    throw new PatchOpError(`test operation does not apply: is missing path: ${path}: missing value`);
  const val = wrap(() => get(found.con, found.key), `error in test for path: '${path}'`);
  if (val === undefined) {
    // a missing (or null) value matches an explicit null
    if (op.value === null) return;
    throw new PatchOpError(`testing value ${path} failed: test failed`);
  }
  if (op.value !== undefined && deepEqual(val, op.value)) return;
  throw new PatchOpError(`testing value ${path} failed: test failed`);
}

/** like get, but keeps JSON null (move and copy carry it) */
function rawGet(con: Container, key: string): unknown {
  if (!Array.isArray(con)) return Object.hasOwn(con, key) ? con[key] : undefined;
  get(con, key);
  const idx = atoi(key)!;
  return con[idx < 0 ? idx + con.length : idx];
}

function wrap<T>(fn: () => T, context: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PatchOpError) throw new PatchOpError(`${context}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * The length in bytes of `JSON.stringify(value)`, walked with a stack of its own: neither the string of a
 * document grown by copies (megabytes) nor its depth (any) is ever made.
 */
function jsonLength(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v === 'boolean' || typeof v === 'number') bytes += String(v).length;
    else if (typeof v === 'string') bytes += Buffer.byteLength(JSON.stringify(v));
    else if (Array.isArray(v)) {
      // brackets and the commas between items
      bytes += 2 + Math.max(0, v.length - 1);
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v);
      bytes += 2 + Math.max(0, keys.length - 1);
      for (const k of keys) {
        bytes += Buffer.byteLength(JSON.stringify(k)) + 1;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return bytes;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('Maximum call stack size exceeded');
}
