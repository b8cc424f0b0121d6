import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff (CrashLoopBackOff math)', () => {
  it('first retry at once, then initial doubling to max', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 1000, maxMs: 10_000, now: () => now });
    expect(b.isInBackOffSince('c', now)).toBe(false);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push(b.next('c'));
      now += 100;
    }
    expect(seen).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('is in backoff until the backoff has passed since the container finished', () => {
    let now = 50_000;
    const b = new Backoff({ initialMs: 1000, maxMs: 10_000, now: () => now });
    b.next('c');
    b.next('c'); // 2 s
    const finishedAt = now;
    now += 1999;
    expect(b.isInBackOffSince('c', finishedAt)).toBe(true);
    now += 1;
    expect(b.isInBackOffSince('c', finishedAt)).toBe(false);
  });

  it('forgets a key that was quiet for more than twice the max (a container that ran fine)', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 1000, maxMs: 10_000, now: () => now });
    for (let i = 0; i < 5; i++) b.next('c');
    expect(b.get('c')).toBe(10_000);
    now += 20_001;
    expect(b.isInBackOffSince('c', now)).toBe(false);
    expect(b.next('c')).toBe(1000);
  });

  it('upstream values: 10 s doubling to 300 s', () => {
    const b = new Backoff({ initialMs: 10_000, maxMs: 300_000, now: () => 0 });
    const seen = Array.from({ length: 7 }, () => b.next('c') / 1000);
    expect(seen).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });
});
