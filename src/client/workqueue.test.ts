import { describe, it, expect } from 'vitest';
import { FakeClock } from '../util/clock.js';
import { ItemExponentialRateLimiter, WorkQueue } from './workqueue.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  it('collapses duplicate keys and keeps FIFO order', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker; a re-add is queued after done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const first = await q.get();
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flush();
    expect(second).toBeUndefined();
    q.done(first!);
    await flush();
    expect(second).toBe('a');
    expect(q.len()).toBe(0);
  });

  it('addRateLimited backs off exponentially per key from 5 ms, and forget resets', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addRateLimited('a');
    expect(q.len()).toBe(0);
    clock.advance(4);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues('a')).toBe(1);
    q.addRateLimited('b');
    q.addRateLimited('b');
    expect(q.numRequeues('b')).toBe(2);
    q.forget('b');
    expect(q.numRequeues('b')).toBe(0);
  });

  it('caps the backoff at 1000 s', () => {
    const rl = new ItemExponentialRateLimiter<string>();
    const delays = Array.from({ length: 40 }, () => rl.when('k'));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...delays)).toBe(1_000_000);
    expect(delays.at(-1)).toBe(1_000_000);
  });

  it('addAfter keeps the earliest of several delays', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 100);
    q.addAfter('a', 5000);
    clock.advance(100);
    expect(q.len()).toBe(1);
    clock.advance(10_000);
    expect(q.len()).toBe(1);
  });

  it('shutDown drains queued keys, then get resolves undefined; delayed adds are dropped', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('a');
    q.addAfter('b', 10);
    q.shutDown();
    q.add('c');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBeUndefined();
    clock.advance(100);
    expect(q.len()).toBe(0);
  });

  it('runWorkers retries failures with backoff, forgets on success, and stops on shutDown', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const calls: string[] = [];
    let failures = 2;
    const done = q.runWorkers(2, async (key) => {
      await Promise.resolve();
      calls.push(key);
      if (key === 'flaky' && failures-- > 0) throw new Error('boom');
    });
    q.add('flaky');
    q.add('ok');
    await flush();
    expect(calls).toEqual(['flaky', 'ok']);
    expect(q.numRequeues('flaky')).toBe(1);
    clock.advance(5);
    await flush();
    expect(calls).toEqual(['flaky', 'ok', 'flaky']);
    clock.advance(9);
    await flush();
    expect(calls.length).toBe(3);
    clock.advance(1);
    await flush();
    expect(calls).toEqual(['flaky', 'ok', 'flaky', 'flaky']);
    expect(q.numRequeues('flaky')).toBe(0);
    q.shutDown();
    await done;
  });

  it('runWorkers never runs one key on two workers at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const done = q.runWorkers(4, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await flush();
      running--;
    });
    for (let i = 0; i < 5; i++) {
      q.add('same');
      await flush();
    }
    await flush();
    q.shutDown();
    await done;
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
  });
});
