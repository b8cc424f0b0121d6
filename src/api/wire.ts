// The internal face's wire format: msgpack frames between components and the apiserver over one WebSocket.
// first: msgpackr loads its native extension as it is evaluated, and that reads LIBC
import '../util/libc-family.js';
import { Packr } from 'msgpackr';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { ALL_VERBS, type Verb } from './resources.js';
import type { ApiRequest, ApiResult, KubeObject, PatchType, WatchEventType } from './request.js';

/** the WebSocket path of the internal face */
export const WS_PATH = '/kubemu/v1/ws';

/**
 * the largest message either side accepts (the REST face limits bodies to 3 MiB). Lists may be far larger:
 * they travel as a stream of `items` frames, so no message ever carries a whole big list.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Frames written in one tick share a message up to this many bytes, and a streamed list's `items` frames are cut
 * at this size: no message is bigger, except one holding a single frame (an object) that is bigger by itself.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** A request as it travels: an ApiRequest without the user (the server knows who the connection is). */
export type WireRequest = Omit<ApiRequest, 'user' | 'options'> & { options?: ApiRequest['options'] };

// client → server
export interface RequestFrame {
  t: 'req';
  id: number;
  req: WireRequest;
  /** the credential (a `cred` frame's id) the request is made with; the connection's own when absent */
  cred?: number;
}
export interface WatchFrame {
  t: 'watch';
  id: number;
  req: WireRequest;
  cred?: number;
}
/**
 * Registers (or replaces) bearer token `token` as credential `id` of this connection: requests naming it are
 * authenticated with that token, each on its own, as an HTTP/2 connection carries requests with different
 * Authorization headers (client-go's controllers share one connection so; HPACK sends a repeated header once).
 */
export interface CredentialFrame {
  t: 'cred';
  id: number;
  token: string;
}
export interface UnwatchFrame {
  t: 'unwatch';
  id: number;
}
export type ClientFrame = RequestFrame | WatchFrame | UnwatchFrame | CredentialFrame;

// server → client
export interface ResponseFrame {
  t: 'res';
  id: number;
  code: number;
  body: unknown;
  warnings?: string[];
  /** the body is a list sent without its items: they follow in `items` frames, the last one marked `done` */
  streamed?: true;
}
/** a piece of a streamed list's items, in order */
export interface ItemsFrame {
  t: 'items';
  id: number;
  items: unknown[];
  /** the list is complete */
  done?: true;
}
export interface ErrorFrame {
  t: 'err';
  id: number;
  status: Status;
}
export interface WatchEventFrame {
  t: 'ev';
  id: number;
  type: WatchEventType;
  object: KubeObject;
}
/** the watch is over; `status` says why when it is not a plain stop (e.g. 410 Expired → relist) */
export interface WatchEndFrame {
  t: 'end';
  id: number;
  status?: Status;
}
export type ServerFrame = ResponseFrame | ItemsFrame | ErrorFrame | WatchEventFrame | WatchEndFrame;

/** WebSocket close codes the internal face uses, with why. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  /** a text frame: the protocol is binary msgpack only */
  unsupportedData: 1003,
  /** not msgpack, or msgpack of the wrong shape */
  invalidFrame: 1007,
  policyViolation: 1008,
  tooBig: 1009,
} as const;

// Plain msgpack maps (no record extension) so each frame is self-contained and any msgpack reader can decode it.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

export class FrameError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FrameError';
  }
}

export function encodeFrame(frame: ClientFrame | ServerFrame): Buffer {
  return packr.pack(frame);
}

// Watch fan-out and lists: the watch cache and the registry hand out the same (never mutated) stored objects to
// every watcher and lister, so each is packed once.
const packedObjects = new WeakMap<object, Buffer>();
const OBJECT_KEY = packr.pack('object');
const ITEMS_KEY = packr.pack('items');

/** `object` packed, from the cache when it was packed before; `object` must never be mutated afterwards */
function packObject(object: object): Buffer {
  let body = packedObjects.get(object);
  if (!body) {
    body = packr.pack(object);
    packedObjects.set(object, body);
  }
  return body;
}

/** `head` (a packed map of fewer than 255 entries) with one more entry, `key` → the packed `values` */
function withEntry(head: Buffer, key: Buffer, values: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(head.length + key.length + values.reduce((n, v) => n + v.length, 0));
  head.copy(out, 0);
  // a map16 (0xde, count in bytes 1-2) or a fixmap (0x80 | count)
  if (out[0] === 0xde) out[2] += 1;
  else out[0] += 1;
  let at = head.length;
  key.copy(out, at);
  at += key.length;
  for (const v of values) at += v.copy(out, at);
  return out;
}

/** a msgpack array header for `n` elements */
function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x90 | n]);
  if (n < 0x10000) return Buffer.from([0xdc, n >> 8, n & 0xff]);
  const b = Buffer.allocUnsafe(5);
  b[0] = 0xdd;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * Encode a watch event frame, reusing the packed bytes of `object` if it was sent before.
 * Objects passed here must never be mutated afterwards (watch-cache objects never are).
 */
export function encodeWatchEvent(id: number, type: WatchEventType, object: KubeObject): Buffer {
  return withEntry(packr.pack({ t: 'ev', id, type }), OBJECT_KEY, [packObject(object)]);
}

/** An `items` frame from items packed already. */
function encodeItemsFrame(id: number, packedItems: Buffer[], done: boolean): Buffer {
  const head = packr.pack(done ? { t: 'items', id, done: true } : { t: 'items', id });
  return withEntry(head, ITEMS_KEY, [arrayHeader(packedItems.length), ...packedItems]);
}

function listItems(body: unknown): unknown[] | undefined {
  if (!isPlainRecord(body)) return undefined;
  const items = body['items'];
  return Array.isArray(items) ? items : undefined;
}

/**
 * The frames answering request `id`, made lazily as they are pulled (so a slow reader holds back the encoding too).
 * A list's answer (`isList`: the request's verb was list) is streamed: a `res` frame with the list's metadata and
 * no items, then `items` frames of at most `maxChunkBytes` each (or one item, if bigger by itself), the last `done`.
 * Everything else is one `res` frame. List items must be objects that are never mutated (stored objects are not).
 */
export function* encodeAnswer(
  id: number,
  answer: ApiResult,
  isList: boolean,
  maxChunkBytes = MAX_BATCH_BYTES,
): Generator<Buffer, void, undefined> {
  const items = isList ? listItems(answer.body) : undefined;
  const head: ResponseFrame = { t: 'res', id, code: answer.code, body: answer.body };
  if (answer.warnings?.length) head.warnings = answer.warnings;
  if (!items) {
    yield encodeFrame(head);
    return;
  }
  head.body = { ...(answer.body as Record<string, unknown>), items: [] };
  head.streamed = true;
  yield encodeFrame(head);
  let chunk: Buffer[] = [];
  let chunkBytes = 0;
  for (const item of items) {
    const packed = typeof item === 'object' && item !== null ? packObject(item) : packr.pack(item);
    if (chunk.length && chunkBytes + packed.length > maxChunkBytes) {
      yield encodeItemsFrame(id, chunk, false);
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(packed);
    chunkBytes += packed.length;
  }
  yield encodeItemsFrame(id, chunk, true);
}

/**
 * Coalesces the frames written in one tick into one WebSocket message (msgpack values back to back), so a
 * burst of watch events costs one socket write per connection instead of one per event. A message holds at most
 * `maxBatchBytes` (or one frame bigger than that): a burst of big frames becomes several messages, never one
 * gigantic buffer.
 */
export class FrameBatcher {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;

  constructor(
    private readonly write: (bytes: Buffer) => void,
    private readonly maxBatchBytes = MAX_BATCH_BYTES,
  ) {}

  push(bytes: Buffer): void {
    if (this.queue.length && this.queuedBytes + bytes.length > this.maxBatchBytes) this.writeQueued();
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** bytes waiting for the next flush (count them with the socket's own buffer for backpressure) */
  pendingBytes(): number {
    return this.queuedBytes;
  }

  flush(): void {
    this.scheduled = false;
    this.writeQueued();
  }

  private writeQueued(): void {
    if (!this.queue.length) return;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  clear(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }
}

/** every msgpack value in one WebSocket message: a message carries one or more frames */
function decodeAll(data: Uint8Array): Record<string, unknown>[] {
  if (data.length > MAX_FRAME_BYTES)
    throw new FrameError(`frame of ${data.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  let values: unknown[];
  try {
    values = packr.unpackMultiple(data);
  } catch (err) {
    throw new FrameError('frame is not valid msgpack', { cause: err });
  }
  if (!values.length) throw new FrameError('empty message');
  for (const v of values) if (!isPlainRecord(v)) throw new FrameError('frame is not a msgpack map');
  return values as Record<string, unknown>[];
}

function decode(data: Uint8Array): Record<string, unknown> {
  if (data.length > MAX_FRAME_BYTES)
    throw new FrameError(`frame of ${data.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  let value: unknown;
  try {
    value = packr.unpack(data);
  } catch (err) {
    throw new FrameError('frame is not valid msgpack', { cause: err });
  }
  if (!isPlainRecord(value)) throw new FrameError('frame is not a msgpack map');
  return value;
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkId(f: Record<string, unknown>): number {
  const id = f['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    throw new FrameError('frame id must be a non-negative integer');
  return id;
}

const VERBS = new Set<string>(ALL_VERBS);
const PATCH_TYPES = new Set<string>(['json', 'merge', 'strategic', 'apply']);

type OptionKind = 'string' | 'number' | 'boolean' | 'object';
// Every RequestOption with its type: anything else in `options` is a malformed frame.
const OPTION_TYPES: Record<string, OptionKind> = {
  labelSelector: 'string',
  fieldSelector: 'string',
  limit: 'number',
  continue: 'string',
  resourceVersion: 'string',
  resourceVersionMatch: 'string',
  allowWatchBookmarks: 'boolean',
  sendInitialEvents: 'boolean',
  timeoutSeconds: 'number',
  dryRun: 'boolean',
  fieldValidation: 'string',
  fieldManager: 'string',
  force: 'boolean',
  propagationPolicy: 'string',
  orphanDependents: 'boolean',
  gracePeriodSeconds: 'number',
  preconditions: 'object',
  container: 'string',
  follow: 'boolean',
  previous: 'boolean',
  tailLines: 'number',
  sinceSeconds: 'number',
  timestamps: 'boolean',
};

function optionalString(r: Record<string, unknown>, key: string): void {
  const v = r[key];
  if (v !== undefined && v !== null && typeof v !== 'string')
    throw new FrameError(`req.${key} must be a string`);
  if (v === null) delete r[key];
}

function checkRequest(v: unknown): WireRequest {
  if (!isPlainRecord(v)) throw new FrameError('req must be a map');
  if (typeof v['verb'] !== 'string' || !VERBS.has(v['verb']))
    throw new FrameError('req.verb is not a known verb');
  for (const key of ['group', 'version', 'resource'] as const) {
    if (typeof v[key] !== 'string') throw new FrameError(`req.${key} must be a string`);
  }
  if (!v['version'] || !v['resource']) throw new FrameError('req.version and req.resource must not be empty');
  for (const key of ['subresource', 'namespace', 'name'] as const) optionalString(v, key);
  if (v['patchType'] !== undefined && v['patchType'] !== null && !PATCH_TYPES.has(v['patchType'] as string)) {
    throw new FrameError('req.patchType is not a known patch type');
  }
  const options = v['options'];
  if (options !== undefined && options !== null) {
    if (!isPlainRecord(options)) throw new FrameError('req.options must be a map');
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined || value === null) {
        delete options[key];
        continue;
      }
      const kind = OPTION_TYPES[key];
      if (!kind) throw new FrameError(`req.options.${key} is not a known option`);
      if (kind === 'object' ? !isPlainRecord(value) : typeof value !== kind) {
        throw new FrameError(`req.options.${key} must be a ${kind}`);
      }
    }
  }
  const req = v as unknown as WireRequest & { patchType?: PatchType; verb: Verb };
  return req;
}

/** Decode and validate a client frame; throws FrameError on anything malformed. */
export function decodeClientFrame(data: Uint8Array): ClientFrame {
  return checkClientFrame(decode(data));
}

/** Decode and validate every client frame of one message; throws FrameError if any is malformed. */
export function decodeClientFrames(data: Uint8Array): ClientFrame[] {
  return decodeAll(data).map(checkClientFrame);
}

function checkClientFrame(f: Record<string, unknown>): ClientFrame {
  const id = checkId(f);
  switch (f['t']) {
    case 'req':
    case 'watch': {
      const cred = f['cred'];
      if (cred === undefined) return { t: f['t'], id, req: checkRequest(f['req']) };
      if (!Number.isSafeInteger(cred) || (cred as number) < 0)
        throw new FrameError('cred must be a non-negative integer');
      return { t: f['t'], id, req: checkRequest(f['req']), cred: cred as number };
    }
    case 'unwatch':
      return { t: 'unwatch', id };
    case 'cred': {
      const token = f['token'];
      if (typeof token !== 'string' || token === '' || token.length > 16_384)
        throw new FrameError('cred.token must be a non-empty string of at most 16 KiB');
      return { t: 'cred', id, token };
    }
    default:
      throw new FrameError('unknown frame type');
  }
}

function checkStatus(v: unknown): Status {
  if (!isPlainRecord(v)) throw new FrameError('status must be a map');
  return v;
}

/** Decode and validate a server frame; throws FrameError on anything malformed. */
export function decodeServerFrame(data: Uint8Array): ServerFrame {
  return checkServerFrame(decode(data));
}

/** Decode and validate every server frame of one message; throws FrameError if any is malformed. */
export function decodeServerFrames(data: Uint8Array): ServerFrame[] {
  return decodeAll(data).map(checkServerFrame);
}

function checkServerFrame(f: Record<string, unknown>): ServerFrame {
  const id = checkId(f);
  switch (f['t']) {
    case 'res': {
      if (typeof f['code'] !== 'number') throw new FrameError('res.code must be a number');
      const warnings = f['warnings'];
      if (
        warnings !== undefined &&
        !(Array.isArray(warnings) && warnings.every((w) => typeof w === 'string'))
      ) {
        throw new FrameError('res.warnings must be strings');
      }
      const frame: ResponseFrame = { t: 'res', id, code: f['code'], body: f['body'] };
      if (warnings) frame.warnings = warnings;
      if (f['streamed'] === true) {
        if (!listItems(frame.body)) throw new FrameError('a streamed res must carry a list body');
        frame.streamed = true;
      }
      return frame;
    }
    case 'items': {
      const items = f['items'];
      if (!Array.isArray(items)) throw new FrameError('items.items must be an array');
      const frame: ItemsFrame = { t: 'items', id, items };
      if (f['done'] === true) frame.done = true;
      return frame;
    }
    case 'err':
      return { t: 'err', id, status: checkStatus(f['status']) };
    case 'ev': {
      const type = f['type'];
      if (
        type !== 'ADDED' &&
        type !== 'MODIFIED' &&
        type !== 'DELETED' &&
        type !== 'BOOKMARK' &&
        type !== 'ERROR'
      ) {
        throw new FrameError('ev.type is not a watch event type');
      }
      if (!isPlainRecord(f['object'])) throw new FrameError('ev.object must be a map');
      return { t: 'ev', id, type, object: f['object'] };
    }
    case 'end': {
      const frame: WatchEndFrame = { t: 'end', id };
      if (f['status'] !== undefined && f['status'] !== null) frame.status = checkStatus(f['status']);
      return frame;
    }
    default:
      throw new FrameError('unknown frame type');
  }
}
