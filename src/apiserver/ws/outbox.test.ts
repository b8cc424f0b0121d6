import { describe, expect, it } from 'vitest';
import { decodeServerFrames, encodeFrame } from '../../api/wire.js';
import { Outbox, type OutboxSocket } from './outbox.js';

/** A socket whose writes complete only when the test says so, like a peer that reads when it likes. */
class SlowSocket implements OutboxSocket {
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  private readonly pending: { bytes: Buffer; done: () => void }[] = [];
  maxBuffered = 0;

  send(bytes: Buffer, done: () => void): void {
    this.sent.push(bytes);
    this.bufferedAmount += bytes.length;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
    this.pending.push({ bytes, done });
  }

  /** the peer reads everything written so far */
  drain(): void {
    for (const { bytes, done } of this.pending.splice(0)) {
      this.bufferedAmount -= bytes.length;
      done();
    }
  }

  ids(): number[] {
    return this.sent.flatMap((b) => decodeServerFrames(b).map((f) => f.id));
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const frame = (id: number, size: number): Buffer =>
  encodeFrame({ t: 'res', id, code: 200, body: 'z'.repeat(size) });

describe('Outbox', () => {
  it('writes a stream only while the socket has room, and resumes when it drains', async () => {
    const socket = new SlowSocket();
    const outbox = new Outbox(socket, { highWaterBytes: 10_000, maxBatchBytes: 4_000 });
    let pulled = 0;
    function* frames(): Generator<Buffer, void, undefined> {
      for (let i = 1; i <= 100; i++) {
        pulled++;
        yield frame(i, 1_000);
      }
    }
    let finished = false;
    const done = outbox.stream(frames()).then(() => (finished = true));
    await tick();
    // about ten frames fit under the high-water mark; the rest are not even encoded yet
    expect(pulled).toBeGreaterThanOrEqual(9);
    expect(pulled).toBeLessThanOrEqual(12);
    expect(finished).toBe(false);
    for (let i = 0; i < 30 && !finished; i++) {
      socket.drain();
      await tick();
    }
    await done;
    expect(socket.ids()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(socket.maxBuffered).toBeLessThanOrEqual(10_000 + 1_100);
  });

  it('takes turns between streams, and bounds what is buffered however many wait', async () => {
    const socket = new SlowSocket();
    const outbox = new Outbox(socket, { highWaterBytes: 50_000, maxBatchBytes: 20_000 });
    outbox.push(frame(9_999, 60_000)); // the socket is backed up when the answers arrive
    const streams = Array.from({ length: 200 }, (_, s) =>
      outbox.stream(Array.from({ length: 5 }, (_, i) => frame(s * 10 + i, 9_000))),
    );
    let settled = 0;
    for (const p of streams) void p.then(() => settled++);
    for (let i = 0; i < 500 && settled < streams.length; i++) {
      socket.drain();
      await tick();
    }
    expect(settled).toBe(200);
    // 200 × 5 × 9 KB = 9 MB went through; never more than the mark and a frame was waiting in the socket
    expect(socket.maxBuffered).toBeLessThanOrEqual(60_100);
    const ids = socket.ids().slice(1);
    expect(ids).toHaveLength(1_000);
    // round-robin: every stream's first frame goes before any stream's last
    const firstLast = Math.max(...Array.from({ length: 200 }, (_, s) => ids.indexOf(s * 10)));
    const lastFirst = Math.min(...Array.from({ length: 200 }, (_, s) => ids.indexOf(s * 10 + 4)));
    expect(firstLast).toBeLessThan(lastFirst);
  });

  it('push queues at once whatever is buffered (watch events have their own cut-off)', async () => {
    const socket = new SlowSocket();
    const outbox = new Outbox(socket, { highWaterBytes: 1_000 });
    for (let i = 1; i <= 5; i++) outbox.push(frame(i, 2_000));
    expect(outbox.buffered()).toBeGreaterThan(10_000);
    await tick();
    expect(socket.ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it('ends every stream when closed, and a stream that throws rejects alone', async () => {
    const socket = new SlowSocket();
    const outbox = new Outbox(socket, { highWaterBytes: 1_000 });
    const waiting = outbox.stream([frame(1, 2_000), frame(2, 2_000)]);
    function* broken(): Generator<Buffer, void, undefined> {
      yield frame(3, 10);
      throw new Error('cannot encode');
    }
    await tick();
    let failure: unknown;
    const failing = outbox.stream(broken()).catch((err: unknown) => (failure = err));
    for (let i = 0; i < 10 && !failure; i++) {
      socket.drain();
      await tick();
    }
    await failing;
    expect(failure).toEqual(new Error('cannot encode'));
    outbox.close();
    await waiting;
    expect(outbox.waiting()).toBe(0);
    await expect(outbox.stream([frame(4, 1)])).resolves.toBeUndefined();
  });

  it('hands the event loop back when a socket takes every write at once (callbacks on the next tick)', async () => {
    let written = 0;
    const eager: OutboxSocket = {
      bufferedAmount: 0,
      send(bytes, done) {
        written += bytes.length;
        process.nextTick(done);
      },
    };
    const outbox = new Outbox(eager, { highWaterBytes: 64 * 1024, maxBatchBytes: 32 * 1024 });
    let turns = 0;
    let streaming = true;
    const count = (): void => {
      turns++;
      if (streaming) setImmediate(count);
    };
    setImmediate(count);
    // 40,000 frames of 2 KB: 80 MB, each write "completed" at once
    function* frames(): Generator<Buffer, void, undefined> {
      for (let i = 1; i <= 40_000; i++) yield frame(i, 2_000);
    }
    await outbox.stream(frames());
    streaming = false;
    expect(written).toBeGreaterThan(80_000_000);
    // write callbacks chained through next ticks once wrote all of it in one turn of the event loop
    expect(turns).toBeGreaterThan(2);
  });
});
