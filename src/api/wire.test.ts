import { describe, it, expect } from 'vitest';
import { pack } from 'msgpackr';
import {
  FrameBatcher,
  FrameError,
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

  it('rejects malformed server frames', () => {
    expect(() => decodeServerFrame(pack({ t: 'ev', id: 1, type: 'EXPLODED', object: {} }))).toThrow(
      FrameError,
    );
    expect(() => decodeServerFrame(pack({ t: 'res', id: 1, code: '200' }))).toThrow(FrameError);
    expect(() => decodeServerFrame(pack({ t: 'err', id: 1, status: 'nope' }))).toThrow(FrameError);
  });
});
