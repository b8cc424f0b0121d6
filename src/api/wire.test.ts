import { describe, it, expect } from 'vitest';
import { pack } from 'msgpackr';
import {
  FrameBatcher,
  FrameError,
  MAX_BATCH_BYTES,
  encodeAnswer,
  decodeClientFrame,
  decodeClientFrames,
  decodeServerFrame,
  decodeServerFrames,
  encodeFrame,
  encodeWatchEvent,
  type ClientFrame,
} from './wire.js';

const req = {
  verb: 'get',
  group: '',
  version: 'v1',
  resource: 'pods',
  namespace: 'default',
  name: 'a',
  options: {},
};

describe('wire frames', () => {
  it('round-trips client and server frames', () => {
    const frame: ClientFrame = {
      t: 'req',
      id: 7,
      req: { ...req, verb: 'get', options: { labelSelector: 'app=x', limit: 5 } },
    };
    expect(decodeClientFrame(encodeFrame(frame))).toEqual(frame);
    expect(decodeClientFrame(encodeFrame({ t: 'unwatch', id: 3 }))).toEqual({ t: 'unwatch', id: 3 });
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'x',
    };
    expect(decodeServerFrame(encodeFrame({ t: 'err', id: 1, status }))).toEqual({ t: 'err', id: 1, status });
    expect(
      decodeServerFrame(encodeFrame({ t: 'res', id: 2, code: 201, body: { a: 1 }, warnings: ['w'] })),
    ).toEqual({
      t: 'res',
      id: 2,
      code: 201,
      body: { a: 1 },
      warnings: ['w'],
    });
    expect(decodeServerFrame(encodeFrame({ t: 'end', id: 4 }))).toEqual({ t: 'end', id: 4 });
  });

  it('encodes a watch event with the object packed once and decodes it like a plain frame', () => {
    const object = { kind: 'Pod', metadata: { name: 'p', resourceVersion: '9' }, spec: { nodeName: 'n1' } };
    const a = encodeWatchEvent(1, 'ADDED', object);
    const b = encodeWatchEvent(250, 'MODIFIED', object);
    expect(decodeServerFrame(a)).toEqual({ t: 'ev', id: 1, type: 'ADDED', object });
    expect(decodeServerFrame(b)).toEqual({ t: 'ev', id: 250, type: 'MODIFIED', object });
    // the cache is keyed by identity: a different object with other content is packed afresh
    const other = { ...object, metadata: { name: 'q' } };
    expect(decodeServerFrame(encodeWatchEvent(1, 'ADDED', other))).toMatchObject({
      object: { metadata: { name: 'q' } },
    });
  });

  it.each([
    ['not msgpack', Buffer.from([0x92, 0x01])],
    ['trailing garbage', Buffer.from('hello world')],
    ['an array', pack([1, 2])],
    ['a string', pack('req')],
    ['unknown type', pack({ t: 'boom', id: 1 })],
    ['negative id', pack({ t: 'unwatch', id: -1 })],
    ['fractional id', pack({ t: 'unwatch', id: 1.5 })],
    ['missing req', pack({ t: 'req', id: 1 })],
    ['unknown verb', pack({ t: 'req', id: 1, req: { ...req, verb: 'explode' } })],
    ['numeric resource', pack({ t: 'req', id: 1, req: { ...req, resource: 5 } })],
    ['empty version', pack({ t: 'req', id: 1, req: { ...req, version: '' } })],
    ['unknown option', pack({ t: 'watch', id: 1, req: { ...req, options: { evil: true } } })],
    ['option of wrong type', pack({ t: 'watch', id: 1, req: { ...req, options: { limit: '5' } } })],
    ['bad patch type', pack({ t: 'req', id: 1, req: { ...req, verb: 'patch', patchType: 'xml' } })],
  ])('rejects %s with a FrameError', (_what, bytes) => {
    expect(() => decodeClientFrame(bytes)).toThrow(FrameError);
  });

  it('decodes several frames sent back to back in one message, and rejects the message if any is bad', () => {
    const a = encodeFrame({ t: 'end', id: 1 });
    const b = encodeWatchEvent(2, 'DELETED', { metadata: { name: 'x' } });
    expect(decodeServerFrames(Buffer.concat([a, b]))).toEqual([
      { t: 'end', id: 1 },
      { t: 'ev', id: 2, type: 'DELETED', object: { metadata: { name: 'x' } } },
    ]);
    const good = encodeFrame({ t: 'unwatch', id: 1 });
    expect(decodeClientFrames(Buffer.concat([good, good]))).toHaveLength(2);
    expect(() => decodeClientFrames(Buffer.concat([good, pack({ t: 'nope', id: 1 })]))).toThrow(FrameError);
    expect(() => decodeClientFrames(Buffer.concat([good, Buffer.from([0x92])]))).toThrow(FrameError);
    expect(() => decodeClientFrames(Buffer.alloc(0))).toThrow(FrameError);
  });

  it('FrameBatcher writes the frames of one tick as one message', async () => {
    const writes: Buffer[] = [];
    const batcher = new FrameBatcher((bytes) => writes.push(bytes));
    batcher.push(encodeFrame({ t: 'end', id: 1 }));
    batcher.push(encodeFrame({ t: 'end', id: 2 }));
    expect(batcher.pendingBytes()).toBeGreaterThan(0);
    expect(writes).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(decodeServerFrames(writes[0]).map((f) => f.id)).toEqual([1, 2]);
    expect(batcher.pendingBytes()).toBe(0);
  });

  it('FrameBatcher never builds a message bigger than its bound (or one frame): a burst becomes several', async () => {
    const writes: Buffer[] = [];
    const batcher = new FrameBatcher((bytes) => writes.push(bytes), 1000);
    const frame = (id: number, size: number): Buffer =>
      encodeFrame({ t: 'res', id, code: 200, body: 'x'.repeat(size) });
    for (let id = 1; id <= 10; id++) batcher.push(frame(id, 300));
    batcher.push(frame(11, 5000)); // bigger than the bound by itself: a message of its own
    batcher.push(frame(12, 10));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.length).toBeGreaterThan(3);
    for (const w of writes) {
      const frames = decodeServerFrames(w);
      if (frames.length > 1) expect(w.length).toBeLessThanOrEqual(1000);
    }
    expect(writes.flatMap((w) => decodeServerFrames(w).map((f) => f.id))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('streams a list answer: a res without items, then items frames of bounded size, the last one done', () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      metadata: { name: `cm-${i}`, resourceVersion: String(i + 1) },
      data: { blob: 'y'.repeat(100 + i * 10) },
    }));
    const list = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '40' }, items };
    const frames = [...encodeAnswer(9, { code: 200, body: list, warnings: ['w'] }, true, 1000)];
    const decoded = frames.map((f) => decodeServerFrame(f));
    expect(decoded[0]).toEqual({
      t: 'res',
      id: 9,
      code: 200,
      body: { ...list, items: [] },
      warnings: ['w'],
      streamed: true,
    });
    const pieces = decoded.slice(1);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.map((f) => [f.t, f.id, (f as { done?: true }).done ?? false])).toEqual(
      pieces.map((_, i) => ['items', 9, i === pieces.length - 1]),
    );
    // each piece holds at most the bound of items (plus its small header), or a single item
    for (const [i, bytes] of frames.slice(1).entries()) {
      const piece = pieces[i] as { items: unknown[] };
      if (piece.items.length > 1) expect(bytes.length).toBeLessThanOrEqual(1000 + 32);
    }
    expect(pieces.flatMap((f) => (f as { items: unknown[] }).items)).toEqual(items);
    // the list handed in is not changed
    expect(list.items).toHaveLength(40);
  });

  it('streams an empty list as a res and one empty done piece; anything else is one res frame', () => {
    const empty = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '3' }, items: [] };
    expect([...encodeAnswer(1, { code: 200, body: empty }, true)].map((f) => decodeServerFrame(f))).toEqual([
      { t: 'res', id: 1, code: 200, body: empty, streamed: true },
      { t: 'items', id: 1, items: [], done: true },
    ]);
    // a get of an object that happens to have an items field is not a list
    const obj = { kind: 'Thing', items: [1, 2, 3] };
    expect([...encodeAnswer(2, { code: 200, body: obj }, false)].map((f) => decodeServerFrame(f))).toEqual([
      { t: 'res', id: 2, code: 200, body: obj },
    ]);
    // a list of more than 65,535 small items still has a valid array header
    const many = { kind: 'PodList', metadata: {}, items: Array.from({ length: 70_000 }, (_, i) => i) };
    const got = [...encodeAnswer(3, { code: 200, body: many }, true, 16 * MAX_BATCH_BYTES)].map((f) =>
      decodeServerFrame(f),
    );
    expect(got.slice(1).flatMap((f) => (f as { items: unknown[] }).items)).toEqual(many.items);
  });

  it('rejects malformed server frames', () => {
    expect(() => decodeServerFrame(pack({ t: 'ev', id: 1, type: 'EXPLODED', object: {} }))).toThrow(
      FrameError,
    );
    expect(() => decodeServerFrame(pack({ t: 'res', id: 1, code: '200' }))).toThrow(FrameError);
    expect(() => decodeServerFrame(pack({ t: 'err', id: 1, status: 'nope' }))).toThrow(FrameError);
    expect(() => decodeServerFrame(pack({ t: 'items', id: 1, items: 'nope' }))).toThrow(FrameError);
    expect(() => decodeServerFrame(pack({ t: 'res', id: 1, code: 200, body: {}, streamed: true }))).toThrow(
      FrameError,
    );
  });
});
