// The server side of a SPDY/3 connection as upstream's kubelet runs it (spdystream): the client opens streams
// (SYN_STREAM with headers such as `streamtype: stdout`), the server replies to each (SYN_REPLY), both send data
// frames and half-close with FIN, RST_STREAM resets a stream, PINGs are echoed, GOAWAY or the transport's end closes
// everything. spdystream keeps no flow-control windows, so neither does this: backpressure is the transport's (a
// stream whose reader is behind pauses reading the connection, as spdystream's blocking pipes do).
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import {
  controlFrame,
  dataFrame,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderCompressor,
  HeaderDecompressor,
  MAX_DATA_FRAME,
  RstStatus,
  type Frame,
  type Headers,
} from './framer.js';

export class SpdyStream extends Duplex {
  /** the client's SYN_STREAM headers (lower-case names) */
  headers: Headers = new Map();
  private localFin = false;
  private remoteFin = false;

  constructor(
    readonly id: number,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** data from the peer */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteFin) return;
    if (data.length > 0 && !this.push(data)) this.session.pauseReading(this);
    if (fin) {
      this.remoteFin = true;
      this.push(null);
    }
  }

  override _read(): void {
    this.session.resumeReading(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localFin) return cb(new Error(`write on closed SPDY stream ${this.id}`));
    for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) {
      const piece = chunk.subarray(off, off + MAX_DATA_FRAME);
      const last = off + MAX_DATA_FRAME >= chunk.length;
      if (!this.session.send(dataFrame(this.id, 0, piece)) && last) {
        this.session.onDrain(() => cb());
        return;
      }
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish();
    cb();
  }

  /** half-close: an empty data frame with FIN */
  finish(): void {
    if (this.localFin) return;
    this.localFin = true;
    this.session.send(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    this.session.maybeForget(this);
  }

  get fullyClosed(): boolean {
    return this.localFin && this.remoteFin;
  }

  /** RST_STREAM from the peer, or the session ending: no more data either way */
  reset(): void {
    this.localFin = true;
    this.remoteFin = true;
    this.destroy();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.fullyClosed) {
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(this.id, 0);
      payload.writeUInt32BE(RstStatus.Cancel, 4);
      this.localFin = true;
      this.remoteFin = true;
      this.session.send(controlFrame(FrameType.RstStream, 0, payload));
    }
    this.session.forget(this);
    cb(err);
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  close: [];
}

/** One SPDY connection, server side, over any byte stream (a TLS socket, or a WebSocket tunnel). */
export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly paused = new Set<SpdyStream>();
  private closed = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.once('close', () => this.close());
    transport.once('end', () => this.close());
    transport.on('error', () => this.close());
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      this.close();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    if (f.kind === 'data') {
      this.streams.get(f.streamId)?.receive(f.data, (f.flags & FLAG_FIN) !== 0);
      return;
    }
    const p = f.payload;
    switch (f.type) {
      case FrameType.SynStream: {
        if (p.length < 10) return this.close();
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const stream = new SpdyStream(id, this);
        this.streams.set(id, stream);
        // the stream exists at once, so data frames that follow are kept while its headers decompress
        if (f.flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        this.decompressor.decompress(p.subarray(10)).then(
          (headers) => {
            if (this.closed) return;
            stream.headers = headers;
            this.reply(id);
            this.emit('stream', stream);
          },
          () => this.close(),
        );
        return;
      }
      case FrameType.RstStream: {
        if (p.length < 8) return;
        this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.reset();
        return;
      }
      case FrameType.Ping:
        // echo: the same id back
        this.send(controlFrame(FrameType.Ping, 0, Buffer.from(p)));
        return;
      case FrameType.GoAway:
        this.close();
        return;
      case FrameType.Headers:
      case FrameType.SynReply:
        // keep the compression context in step; nothing here needs these headers
        this.decompressor.decompress(p.subarray(4)).catch(() => this.close());
        return;
      default:
        // SETTINGS, WINDOW_UPDATE: spdystream sends none and ignores them, so do we
        return;
    }
  }

  private reply(id: number): void {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(id & 0x7fffffff);
    const block = this.compressor.compress(encodeHeaderBlock(new Map()));
    this.send(controlFrame(FrameType.SynReply, 0, Buffer.concat([head, block])));
  }

  /** Writes a frame; false when the transport's buffer is full (then wait for onDrain). */
  send(frame: Buffer): boolean {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return true;
    return this.transport.write(frame);
  }

  onDrain(cb: () => void): void {
    if (this.closed) return cb();
    const done = (): void => {
      this.transport.off('drain', done);
      this.off('close', done);
      cb();
    };
    this.transport.once('drain', done);
    this.once('close', done);
  }

  pauseReading(stream: SpdyStream): void {
    this.paused.add(stream);
    this.transport.pause();
  }

  resumeReading(stream: SpdyStream): void {
    if (!this.paused.delete(stream)) return;
    if (this.paused.size === 0 && !this.closed) this.transport.resume();
  }

  maybeForget(stream: SpdyStream): void {
    if (stream.fullyClosed) this.forget(stream);
  }

  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.resumeReading(stream);
  }

  /** GOAWAY, then end the transport once what is queued is written. */
  goAway(): void {
    if (this.closed) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(0, 0);
    payload.writeUInt32BE(0, 4);
    this.send(controlFrame(FrameType.GoAway, 0, payload));
    this.transport.end();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.reset();
    this.streams.clear();
    this.decompressor.close();
    if (!this.transport.writableEnded) this.transport.end();
    // a peer that never closes its side is not waited for
    setTimeout(() => this.transport.destroy(), 5000).unref();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
