// SPDY/3 framing as kubectl and upstream's kubelet speak it (moby/spdystream over Go's spdy framer): control and
// data frames, and name/value header blocks compressed with zlib and the SPDY/3 dictionary, one compression
// context per direction. There is no maintained SPDY library on npm (spdy-transport's last release is from 2018,
// and it enforces SPDY/3.1 flow-control windows that spdystream never opens), so the framing lives here and is
// tested against the real kubectl.
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes (SPDY/3 section 2.6.3) */
export const RstStatus = { ProtocolError: 1, InvalidStream: 2, RefusedStream: 3, Cancel: 5 } as const;

export type Headers = Map<string, string[]>;

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

/** the largest data frame we send: spdystream reads any size, smaller frames interleave streams fairly */
export const MAX_DATA_FRAME = 32 * 1024;
/** a peer's frame larger than this ends the session (the length field allows 16 MiB) */
const MAX_FRAME = 16 * 1024 * 1024;

/** Splits a byte stream into SPDY frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Frames completed by `chunk`; throws on a frame no peer may send. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUIntBE(5, 3);
      if (length > MAX_FRAME) throw new Error(`SPDY frame of ${length} bytes`);
      if (this.buf.length < 8 + length) break;
      const first = this.buf.readUInt32BE(0);
      const flags = this.buf[4];
      const payload = this.buf.subarray(8, 8 + length);
      if (first & 0x80000000) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ kind: 'control', type: first & 0xffff, flags, payload });
      } else {
        frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: payload });
      }
      this.buf = this.buf.subarray(8 + length);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags << 24) | data.length) >>> 0, 4);
  return Buffer.concat([head, data]);
}

/** The uncompressed name/value block: a count, then length-prefixed names and NUL-joined values. */
export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, values] of headers) {
    for (const s of [name.toLowerCase(), values.join('\0')]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Headers {
  const headers: Headers = new Map();
  let off = 0;
  const u32 = (): number => {
    if (off + 4 > block.length) throw new Error('truncated SPDY header block');
    const v = block.readUInt32BE(off);
    off += 4;
    return v;
  };
  const str = (): string => {
    const len = u32();
    if (off + len > block.length) throw new Error('truncated SPDY header block');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  const n = u32();
  for (let i = 0; i < n; i++) {
    const name = str().toLowerCase();
    const values = str().split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const DICTIONARY_ID = adler32(SPDY3_DICTIONARY);

/**
 * Compresses header blocks into one zlib stream (with the SPDY dictionary) as stored deflate blocks: valid for any
 * zlib reader, byte-aligned per frame as Go's sync flush is, and synchronous, so a reply is never reordered
 * behind a data frame. Header blocks here are a few bytes; compressing them would save nothing.
 */
export class HeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32K window), FLG 0x20 (FDICT, level 0, FCHECK 0: 0x7820 % 31 === 0), then the DICTID
      const zhead = Buffer.from([0x78, 0x20, 0, 0, 0, 0]);
      zhead.writeUInt32BE(DICTIONARY_ID, 2);
      parts.push(zhead);
    }
    for (let off = 0; off < block.length; off += 0xffff) {
      const piece = block.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h[0] = 0; // BFINAL 0, BTYPE 00 (stored)
      h.writeUInt16LE(piece.length, 1);
      h.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(h, piece);
    }
    // the sync-flush marker, an empty stored block, as Go's Flush writes: Go's inflater hands out a stored block's
    // bytes only when it reaches the next block header, which must be inside this frame
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

/** Decompresses the peer's header blocks, in order, through one inflate context with the SPDY dictionary. */
export class HeaderDecompressor {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  private chain: Promise<unknown> = Promise.resolve();
  private out: Buffer[] = [];
  private failed: Error | undefined;

  constructor() {
    this.inflate.on('data', (c: Buffer) => this.out.push(c));
    this.inflate.on('error', (err) => (this.failed = err));
  }

  /** The header block of one frame; blocks resolve in the order they were given. */
  decompress(compressed: Buffer): Promise<Headers> {
    const next = this.chain.then(
      () =>
        new Promise<Headers>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          this.out = [];
          this.inflate.write(compressed);
          this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            if (this.failed) return reject(this.failed);
            try {
              resolve(decodeHeaderBlock(Buffer.concat(this.out)));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.inflate.destroy();
  }
}
