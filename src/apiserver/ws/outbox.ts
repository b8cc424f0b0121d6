// What the internal face writes to one WebSocket, with flow control: answers are written only while the socket
// has room, so a client that reads slowly (or not at all) holds back its own answers instead of filling memory.
import { FrameBatcher, MAX_BATCH_BYTES } from '../../api/wire.js';

/** The part of a `ws` WebSocket the outbox uses. */
export interface OutboxSocket {
  /** bytes handed to the socket and not yet written to the kernel */
  readonly bufferedAmount: number;
  /** `done` is called once the bytes are written out (or the socket failed) */
  send(bytes: Buffer, done: (err?: Error) => void): void;
}

export interface OutboxOptions {
  /** answers are written while less than this is buffered; default 1 MiB (small slices keep the event loop free) */
  highWaterBytes?: number;
  /** the largest message of several frames; default MAX_BATCH_BYTES */
  maxBatchBytes?: number;
}

interface Stream {
  frames: Iterator<Buffer, void, undefined>;
  resolve(): void;
  reject(err: unknown): void;
}

export const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;
/** write-completion callbacks pump straight on for this long, then from the next turn of the event loop */
const SLICE_MS = 20;

/**
 * One per connection. `push` queues a frame at once (watch events, which have their own cut-off when the socket
 * backs up); `stream` writes a sequence of frames only while less than the high-water mark is buffered, taking
 * turns with the other streams, and resumes each time the socket drains. What is buffered is thus bounded by the
 * high-water mark plus one frame, however many answers are waiting and however big they are.
 */
export class Outbox {
  private readonly batcher: FrameBatcher;
  private readonly highWater: number;
  private readonly streams: Stream[] = [];
  private closed = false;
  private pumping = false;
  /** when the pump last got a turn of the event loop of its own */
  private sliceStart = performance.now();
  private resuming = false;

  constructor(
    private readonly socket: OutboxSocket,
    opts: OutboxOptions = {},
  ) {
    this.highWater = opts.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.batcher = new FrameBatcher(
      (bytes) => this.socket.send(bytes, () => this.resume()),
      opts.maxBatchBytes ?? MAX_BATCH_BYTES,
    );
  }

  /**
   * A socket that takes every write at once has nothing buffered and calls back on the next tick, before any
   * I/O: pumping on from there chained 475 MB of answers into one second-long turn. After SLICE_MS the pump
   * goes on from setImmediate instead, so /healthz and lease renewals get their turn in between.
   */
  private resume(): void {
    if (performance.now() - this.sliceStart <= SLICE_MS) this.pump();
    else this.pumpNextTurn();
  }

  private pumpNextTurn(): void {
    if (this.resuming) return;
    this.resuming = true;
    setImmediate(() => {
      this.resuming = false;
      this.sliceStart = performance.now();
      this.pump();
    });
  }

  /** bytes waiting to be written: this outbox's batch and the socket's own buffer */
  buffered(): number {
    return this.socket.bufferedAmount + this.batcher.pendingBytes();
  }

  /** answers waiting for room in the socket */
  waiting(): number {
    return this.streams.length;
  }

  /** queue one frame now, whatever is buffered */
  push(bytes: Buffer): void {
    if (!this.closed) this.batcher.push(bytes);
  }

  /**
   * Write `frames` as the socket makes room; resolves once the last was queued, or the outbox closed. Frames are
   * pulled one at a time, so a lazy iterator encodes no further ahead than the socket drains.
   */
  stream(frames: Iterable<Buffer, void, undefined>): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.streams.push({ frames: frames[Symbol.iterator](), resolve, reject });
      this.pump();
    });
  }

  /** drop what is queued and end every stream (the connection is gone) */
  close(): void {
    this.closed = true;
    this.batcher.clear();
    for (const s of this.streams.splice(0)) s.resolve();
  }

  /** round-robin over the streams, one frame each, while there is room */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (this.streams.length && this.buffered() < this.highWater && !this.closed) {
        if (performance.now() - this.sliceStart > SLICE_MS) {
          this.pumpNextTurn();
          break;
        }
        const s = this.streams.shift()!;
        let next: IteratorResult<Buffer, void>;
        try {
          next = s.frames.next();
        } catch (err) {
          s.reject(err);
          continue;
        }
        if (next.done) {
          s.resolve();
          continue;
        }
        this.batcher.push(next.value);
        this.streams.push(s);
      }
    } finally {
      this.pumping = false;
    }
  }
}
