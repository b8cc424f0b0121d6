import { describe, expect, it } from 'vitest';
import { InflightLimiter } from './inflight.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('InflightLimiter', () => {
  it('runs at most maxInflight tasks at once, starts queued ones in order, refuses past the queue', async () => {
    const limiter = new InflightLimiter({ maxInflight: 2, maxQueued: 3 });
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, () => deferred());
    const accepted = gates.map((g, i) =>
      limiter.submit(() => {
        started.push(i);
        return g.promise;
      }),
    );
    expect(accepted).toEqual([true, true, true, true, true, false]);
    expect(started).toEqual([0, 1]);
    expect([limiter.inflight(), limiter.queued()]).toEqual([2, 3]);
    gates[1].resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    gates[2].resolve();
    await flush();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.submit(() => Promise.resolve())).toBe(true); // room in the queue again
    gates[3].resolve();
    gates[4].resolve();
    await flush();
    expect([limiter.inflight(), limiter.queued()]).toEqual([0, 0]);
  });

  it('frees the slot of a task that rejects', async () => {
    const limiter = new InflightLimiter({ maxInflight: 1, maxQueued: 1 });
    limiter.submit(() => Promise.reject(new Error('boom')));
    let ran = false;
    limiter.submit(() => {
      ran = true;
      return Promise.resolve();
    });
    await flush();
    expect(ran).toBe(true);
  });

  it('drops the queue when closed', async () => {
    const limiter = new InflightLimiter({ maxInflight: 1, maxQueued: 10 });
    const gate = deferred();
    limiter.submit(() => gate.promise);
    let ran = false;
    limiter.submit(() => {
      ran = true;
      return Promise.resolve();
    });
    limiter.close();
    gate.resolve();
    await flush();
    expect(ran).toBe(false);
    expect(limiter.submit(() => Promise.resolve())).toBe(false);
  });

  it('keeps order through a long queue', async () => {
    const limiter = new InflightLimiter({ maxInflight: 3, maxQueued: 5_000 });
    const order: number[] = [];
    for (let i = 0; i < 5_000; i++)
      limiter.submit(async () => {
        order.push(i);
        await Promise.resolve();
      });
    for (let i = 0; i < 50 && order.length < 5_000; i++) await flush();
    expect(order).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });
});
