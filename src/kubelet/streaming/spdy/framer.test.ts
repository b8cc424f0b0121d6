import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from './dictionary.js';
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FrameReader,
  FrameType,
  HeaderCompressor,
  HeaderDecompressor,
} from './framer.js';

// The SYN_STREAM payloads kubectl 1.27 sent for `kubectl exec` (stream 1 `error`, stream 3 `stdout`), recorded from
// the real client: one zlib stream across frames, Go's sync flush (00 00 ff ff) ending each.
const KUBECTL_SYN_STREAMS = [
  '0000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff',
  '00000003000000000000c22ac5565c92925f5a02000000ffff',
];

describe('SPDY/3 framing', () => {
  it('decompresses the header blocks of the real kubectl, in order, with the SPDY dictionary', async () => {
    const d = new HeaderDecompressor();
    const blocks = KUBECTL_SYN_STREAMS.map((hex) => Buffer.from(hex, 'hex').subarray(10));
    const headers = await Promise.all(blocks.map((b) => d.decompress(b)));
    expect(headers.map((h) => [...h])).toEqual([[['streamtype', ['error']]], [['streamtype', ['stdout']]]]);
    d.close();
  });

  it('compresses header blocks into one zlib stream a standard inflater reads frame by frame', () => {
    const c = new HeaderCompressor();
    const first = c.compress(encodeHeaderBlock(new Map()));
    const second = c.compress(encodeHeaderBlock(new Map([['port', ['8080']]])));
    // the zlib header names the SPDY dictionary by its Adler-32, which is what kubectl's own frames carry
    expect(first.subarray(2, 6).toString('hex')).toBe('e3c6a7c2');
    // each frame ends with a sync-flush marker, so Go's inflater hands the block out within the frame
    for (const f of [first, second]) expect(f.subarray(-5).toString('hex')).toBe('000000ffff');
    const inflated = zlib.inflateSync(Buffer.concat([first, second]), {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    expect([...decodeHeaderBlock(inflated.subarray(0, 4))]).toEqual([]);
    expect([...decodeHeaderBlock(inflated.subarray(4))]).toEqual([['port', ['8080']]]);
  });

  it('splits frames however the bytes arrive', () => {
    const bytes = Buffer.concat([
      controlFrame(FrameType.Ping, 0, Buffer.from([0, 0, 0, 1])),
      dataFrame(3, 1, Buffer.from('hello')),
    ]);
    const r = new FrameReader();
    const frames = [...bytes].flatMap((b) => r.push(Buffer.from([b])));
    expect(frames).toEqual([
      { kind: 'control', type: FrameType.Ping, flags: 0, payload: Buffer.from([0, 0, 0, 1]) },
      { kind: 'data', streamId: 3, flags: 1, data: Buffer.from('hello') },
    ]);
  });

  it('refuses another SPDY version', () => {
    const frame = controlFrame(FrameType.Ping, 0, Buffer.from([0, 0, 0, 1]));
    frame.writeUInt16BE(0x8002, 0);
    expect(() => new FrameReader().push(frame)).toThrow('unsupported SPDY version 2');
  });
});
