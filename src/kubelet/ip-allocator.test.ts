import { describe, expect, it } from 'vitest';
import { PodIPAllocator } from './ip-allocator.js';

describe('PodIPAllocator', () => {
  it('hands out .2 upwards, reuses freed addresses later, keeps a wanted one', () => {
    const a = new PodIPAllocator('127.244.1.0/24');
    expect(a.allocate()).toBe('127.244.1.2');
    expect(a.allocate()).toBe('127.244.1.3');
    a.release('127.244.1.2');
    expect(a.allocate()).toBe('127.244.1.4');
    expect(a.allocate('127.244.1.2')).toBe('127.244.1.2');
    expect(a.allocate('127.244.1.3')).toBe('127.244.1.5');
    expect(a.contains('127.244.2.9')).toBe(false);
  });

  it('runs out after .2–.254 of a /24', () => {
    const a = new PodIPAllocator('127.244.7.0/24');
    const all = new Set(Array.from({ length: 253 }, () => a.allocate()));
    expect(all.size).toBe(253);
    expect(all.has('127.244.7.255')).toBe(false);
    expect(() => a.allocate()).toThrow(/no pod IPs left/);
    a.release('127.244.7.100');
    expect(a.allocate()).toBe('127.244.7.100');
  });
});
