import { describe, expect, it } from 'vitest';
import { FakeClock } from '../util/clock.js';
import { EndpointPicker } from './endpoint-picker.js';
import type { ProxyEndpoint } from './rules.js';

const ep = (n: number): ProxyEndpoint => ({
  ip: `127.244.1.${n}`,
  port: 8080,
  ready: true,
  serving: true,
  terminating: false,
});
const three = [ep(1), ep(2), ep(3)];

/** a deterministic sequence of [0, 1) values */
function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('EndpointPicker', () => {
  it('spreads connections uniformly without affinity', () => {
    const picker = new EndpointPicker();
    picker.setEndpoints(three, undefined);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const ip = picker.pick('127.0.0.1')!.ip;
      counts.set(ip, (counts.get(ip) ?? 0) + 1);
    }
    expect(counts.size).toBe(3);
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });

  it('keeps a client on its endpoint with ClientIP affinity until the timeout passes without use', () => {
    const clock = new FakeClock();
    const picker = new EndpointPicker({ clock, random: seq([0.1, 0.5, 0.9]) });
    picker.setEndpoints(three, 10_000);
    const first = picker.pick('127.0.0.5')!;
    expect(first.ip).toBe('127.244.1.1');
    for (let i = 0; i < 5; i++) {
      clock.advance(9_000); // each use refreshes the timer
      expect(picker.pick('127.0.0.5')).toBe(first);
    }
    expect(picker.pick('127.0.0.6')!.ip).toBe('127.244.1.2'); // another client chooses afresh
    clock.advance(10_001);
    expect(picker.pick('127.0.0.5')!.ip).toBe('127.244.1.3');
  });

  it('moves a sticky client whose endpoint left, and skips excluded endpoints', () => {
    const picker = new EndpointPicker({ random: seq([0]) });
    picker.setEndpoints(three, 10_000);
    expect(picker.pick('c')!.ip).toBe('127.244.1.1');
    picker.setEndpoints([ep(2), ep(3)], 10_000);
    expect(picker.pick('c')!.ip).toBe('127.244.1.2');
    // a refused endpoint is excluded from the retry, even the sticky one; the retry becomes sticky
    expect(picker.pick('c', new Set(['127.244.1.2:8080']))!.ip).toBe('127.244.1.3');
    expect(picker.pick('c')!.ip).toBe('127.244.1.3');
    expect(picker.pick('c', new Set(['127.244.1.2:8080', '127.244.1.3:8080']))).toBeUndefined();
  });
});
