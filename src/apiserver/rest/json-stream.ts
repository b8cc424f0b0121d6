// Writes a large JSON response (a list of 80 MB, say) a piece at a time: the same bytes JSON.stringify would
// give, but serialised item by item, written with the socket's flow control and yielding the event loop, so one
// list neither holds the loop for seconds nor keeps a second copy of itself as one string in memory.
import type { ServerResponse } from 'node:http';

/** what we gather before one write (TLS encrypts each write in one go) */
const CHUNK_BYTES = 256 * 1024;
/** hand the event loop back after this much serialising */
const SLICE_MS = 10;

/** The top-level arrays a streamed body is cut along: a list's items, a Table's rows. */
const STREAMED_FIELDS = new Set(['items', 'rows']);

/** A body worth streaming: an object with a top-level `items` or `rows` array. */
export function isStreamable(body: unknown): body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  for (const f of STREAMED_FIELDS) if (Array.isArray(record[f])) return true;
  return false;
}

/**
 * The JSON text of body in pieces whose concatenation is exactly `JSON.stringify(body)` (or with `pretty`,
 * `JSON.stringify(body, null, 2)`), one piece per element of its top-level arrays `items`/`rows`.
 */
export function* jsonPieces(body: Record<string, unknown>, pretty: boolean): Generator<string> {
  const nl = pretty ? '\n' : '';
  const colon = pretty ? ': ' : ':';
  const indent = (text: string, by: string): string => (pretty ? text.replaceAll('\n', `\n${by}`) : text);
  const stringify = (v: unknown): string | undefined =>
    pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
  let head = '{';
  let first = true;
  for (const [key, value] of Object.entries(body)) {
    const prefix = `${first ? '' : ','}${nl}${pretty ? '  ' : ''}${JSON.stringify(key)}${colon}`;
    if (STREAMED_FIELDS.has(key) && Array.isArray(value)) {
      first = false;
      if (value.length === 0) {
        head += `${prefix}[]`;
        continue;
      }
      yield `${head}${prefix}[`;
      head = '';
      for (let i = 0; i < value.length; i++) {
        // JSON.stringify writes null for array holes, undefined and functions
        const text = stringify(value[i]) ?? 'null';
        yield `${i === 0 ? '' : ','}${nl}${pretty ? '    ' : ''}${indent(text, '    ')}`;
      }
      head += `${nl}${pretty ? '  ' : ''}]`;
      continue;
    }
    const text = stringify(value);
    if (text === undefined) continue; // undefined and functions are left out, as JSON.stringify does
    first = false;
    head += `${prefix}${indent(text, '  ')}`;
  }
  yield `${head}${first ? '' : nl}}`;
}

function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Stream body as JSON with the given status and headers (chunked: no Content-Length). */
export async function streamJson(
  res: ServerResponse,
  code: number,
  body: Record<string, unknown>,
  headers: Record<string, string | string[]>,
  pretty: boolean,
): Promise<void> {
  res.writeHead(code, headers);
  let pending = '';
  let sliceStart = performance.now();
  for (const piece of jsonPieces(body, pretty)) {
    if (res.destroyed) return;
    pending += piece;
    if (pending.length < CHUNK_BYTES) continue;
    const more = res.write(pending);
    pending = '';
    // a socket that takes everything at once emits 'drain' on the next tick, before any I/O: waiting for it is
    // no turn of the event loop, so the slice is timed across drains too
    if (!more) await writable(res);
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  if (!res.destroyed) res.end(pending);
}
