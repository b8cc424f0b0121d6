// JSON work on big values (a 30,000-key ConfigMap and its managedFields: 1.7 MB, 60,000 nodes) cut into slices
// that hand the event loop back between them. JSON.stringify, JSON.parse or a structured clone of such a value
// is one 70–300 ms turn on the apiserver's main thread, during which /healthz and lease renewals wait.
//
// A value is described as a list of chunks: a big container (more than GROUP_NODES nodes) is opened, its small
// entries go in groups of a few tens of kilobytes of JSON, its big entries recurse, and it is closed. The chunks
// are plain strings in arrays: cheap to post to a worker thread, cheap to rebuild from one group at a time. The
// rebuilt value, and the text assembled from the chunks, are exactly what JSON.parse(JSON.stringify(value)) and
// JSON.stringify(value) give: keys in the same order, undefined and functions left out of objects and null in
// arrays, toJSON honoured.

/** a container with more nodes than this is cut into chunks; a smaller one is one JSON text */
const GROUP_NODES = 1000;
/** a group of small entries is closed at this much JSON */
const GROUP_CHARS = 32 * 1024;
/** hand the event loop back after this much work */
const SLICE_MS = 5;

/** An entry of a chunked value: a whole value, a container opened or closed, or a group of small entries. */
export type JsonChunk =
  | readonly ['v', string | null, string]
  | readonly ['o' | 'a', string | null]
  | readonly ['c']
  | readonly ['e', string];

/** Yields the event loop (setImmediate: I/O first) once SLICE_MS have passed since the last yield. */
export class Slicer {
  private since = performance.now();
  constructor(private readonly sliceMs = SLICE_MS) {}

  /** whether the slice is used up: then `await pause()` */
  due(): boolean {
    return performance.now() - this.since > this.sliceMs;
  }

  async pause(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/**
 * Whether a value holds more than `limit` nodes (object entries and array items), counted without recursion
 * and stopping at the limit, so asking costs at most `limit` steps.
 */
export function hasMoreNodesThan(value: unknown, limit: number): boolean {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      count += v.length;
      if (count > limit) return true;
      for (const item of v) stack.push(item);
      continue;
    }
    // for-in, not Object.values: a 30,000-key map is left after `limit` keys, not copied whole first
    const record = v as Record<string, unknown>;
    for (const k in record) {
      if (++count > limit) return true;
      stack.push(record[k]);
    }
  }
  return false;
}

/** an array or a plain object without toJSON: what JSON.stringify walks into */
function isPlainContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (
    (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/**
 * Sizes up containers for one encoding, remembering the keys of the wide objects it enumerated: enumerating a
 * 30,000-key map takes milliseconds, and it is needed to weigh the map, its parent and to encode it.
 */
class Weigher {
  private readonly known = new Map<object, string[]>();

  keysOf(o: Record<string, unknown>): string[] {
    let keys = this.known.get(o);
    if (!keys) {
      keys = Object.keys(o);
      if (keys.length > 64) this.known.set(o, keys);
    }
    return keys;
  }

  /** a container of more than GROUP_NODES nodes (counted as hasMoreNodesThan does) */
  isBig(value: unknown): value is Record<string, unknown> | unknown[] {
    if (!isPlainContainer(value)) return false;
    let count = 0;
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        count += v.length;
        if (count > GROUP_NODES) return true;
        for (const item of v) stack.push(item);
        continue;
      }
      const record = v as Record<string, unknown>;
      const keys = this.keysOf(record);
      count += keys.length;
      if (count > GROUP_NODES) return true;
      for (const k of keys) stack.push(record[k]);
    }
    return false;
  }
}

/**
 * The chunks of `value` (undefined for what JSON.stringify gives undefined: undefined, a function, a symbol).
 * With a slicer, the event loop is handed back between entries.
 */
export async function encodeChunks(value: unknown, slicer?: Slicer): Promise<JsonChunk[] | undefined> {
  const out: JsonChunk[] = [];
  const weigher = new Weigher();
  if (!weigher.isBig(value)) {
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) return undefined;
    out.push(['v', null, json]);
    return out;
  }
  await encodeContainer(value, null, out, { weigher, open: new Set(), slicer });
  return out;
}

async function encodeContainer(
  value: Record<string, unknown> | unknown[],
  key: string | null,
  out: JsonChunk[],
  ctx: { weigher: Weigher; open: Set<unknown>; slicer: Slicer | undefined },
): Promise<void> {
  const { weigher, open, slicer } = ctx;
  // JSON.stringify's own words for a value that contains itself
  if (open.has(value)) throw new TypeError('Converting circular structure to JSON');
  open.add(value);
  const array = Array.isArray(value);
  out.push([array ? 'a' : 'o', key]);
  let group: string[] = [];
  let groupChars = 0;
  const flush = (): void => {
    if (group.length === 0) return;
    out.push(['e', array ? `[${group.join(',')}]` : `{${group.join(',')}}`]);
    group = [];
    groupChars = 0;
  };
  const entry = async (k: string | null, v: unknown): Promise<void> => {
    if (weigher.isBig(v)) {
      flush();
      await encodeContainer(v, k, out, ctx);
    } else {
      const json = JSON.stringify(v) as string | undefined;
      if (json === undefined && k !== null) return; // left out of an object, as JSON.stringify does
      const text = k === null ? (json ?? 'null') : `${JSON.stringify(k)}:${json}`;
      group.push(text);
      groupChars += text.length;
      if (groupChars >= GROUP_CHARS) flush();
    }
    if (slicer?.due()) {
      flush();
      await slicer.pause();
    }
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) await entry(null, value[i]);
  } else {
    for (const k of weigher.keysOf(value)) await entry(k, value[k]);
  }
  flush();
  out.push(['c']);
  open.delete(value);
}

/** set a key as JSON.parse does: `__proto__` becomes an own property, not the prototype */
function put(target: Record<string, unknown> | unknown[], key: string | null, v: unknown): void {
  if (Array.isArray(target)) target.push(v);
  else if (key === '__proto__')
    Object.defineProperty(target, key, { value: v, writable: true, enumerable: true, configurable: true });
  else target[key!] = v;
}

/** The value the chunks describe: JSON.parse(JSON.stringify(value)) of what was encoded. */
export async function decodeChunks(chunks: readonly JsonChunk[], slicer?: Slicer): Promise<unknown> {
  const root: unknown[] = [];
  const stack: (Record<string, unknown> | unknown[])[] = [root];
  for (const c of chunks) {
    const top = stack[stack.length - 1];
    switch (c[0]) {
      case 'v':
        put(top, c[1], JSON.parse(c[2]));
        break;
      case 'o':
      case 'a': {
        const container: Record<string, unknown> | unknown[] = c[0] === 'a' ? [] : {};
        put(top, c[1], container);
        stack.push(container);
        break;
      }
      case 'c':
        stack.pop();
        break;
      case 'e': {
        const parsed = JSON.parse(c[1]) as Record<string, unknown> | unknown[];
        if (Array.isArray(parsed)) for (const item of parsed) put(top, null, item);
        else for (const k of Object.keys(parsed)) put(top, k, parsed[k]);
        break;
      }
    }
    if (slicer?.due()) await slicer.pause();
  }
  return root[0];
}

/** The JSON text the chunks describe: exactly JSON.stringify of what was encoded. */
export async function textOfChunks(chunks: readonly JsonChunk[], slicer?: Slicer): Promise<string> {
  const parts: string[] = [];
  // per open container: whether it has had an entry yet (a comma goes before every later one)
  const started: boolean[] = [false];
  const closers: string[] = [];
  const lead = (key: string | null): void => {
    if (started[started.length - 1]) parts.push(',');
    started[started.length - 1] = true;
    if (key !== null) parts.push(`${JSON.stringify(key)}:`);
  };
  for (const c of chunks) {
    switch (c[0]) {
      case 'v':
        lead(c[1]);
        parts.push(c[2]);
        break;
      case 'o':
      case 'a':
        lead(c[1]);
        parts.push(c[0] === 'a' ? '[' : '{');
        closers.push(c[0] === 'a' ? ']' : '}');
        started.push(false);
        break;
      case 'c':
        parts.push(closers.pop()!);
        started.pop();
        break;
      case 'e': {
        const inner = c[1].slice(1, -1);
        if (inner === '') break;
        lead(null);
        parts.push(inner);
        break;
      }
    }
    if (slicer?.due()) await slicer.pause();
  }
  return parts.join('');
}

/** JSON.stringify(value), in slices. */
export async function stringifyInSlices(value: unknown, slicer = new Slicer()): Promise<string | undefined> {
  const chunks = await encodeChunks(value, slicer);
  return chunks && textOfChunks(chunks, slicer);
}

/**
 * Whether JSON.parse(JSON.stringify(value)) gives back the same value: only strings, booleans, null, finite
 * numbers (not -0), and arrays (without holes) and plain objects of those, without undefined anywhere, and no
 * container reached twice (a cycle, or a sharing a copy would not keep).
 */
export async function isJsonSafe(value: unknown, slicer?: Slicer): Promise<boolean> {
  const stack: unknown[] = [value];
  const seen = new Set<unknown>();
  let steps = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++steps % 1024 === 0 && slicer?.due()) await slicer.pause();
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v) || Object.is(v, -0)) return false;
        continue;
      case 'object':
        if (v === null) continue;
        if (seen.has(v)) return false;
        seen.add(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            if (!(i in v)) return false;
            stack.push(v[i]);
          }
          continue;
        }
        if (!isPlainContainer(v)) return false;
        for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
        continue;
      default:
        return false;
    }
  }
  return true;
}
