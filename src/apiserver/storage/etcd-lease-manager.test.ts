// Upstream's lease reuse (etcd3 leaseManager): one lease for writes whose TTL ends within its reuse window.
import { describe, expect, it } from 'vitest';
import { EtcdLeaseManager } from './etcd-lease-manager.js';

function manager(opts: { maxObjectCount?: number } = {}) {
  let now = 1_000_000;
  const grants: number[] = [];
  let next = 1;
  const m = new EtcdLeaseManager(
    {
      grant: (ttl) => {
        grants.push(ttl);
        return Promise.resolve(String(next++));
      },
    },
    { now: () => now, ...opts },
  );
  return { m, grants, advance: (ms: number) => (now += ms) };
}

describe('EtcdLeaseManager', () => {
  it('grants ttl plus the reuse window (min 60 s, 5 % of ttl) and reuses it while it still covers a new ttl', async () => {
    const { m, grants, advance } = manager();
    // --event-ttl 1h: the window is 60 s (5 % would be 180 s)
    expect(await m.leaseFor(3600)).toBe('1');
    expect(grants).toEqual([3660]);
    advance(30_000);
    expect(await m.leaseFor(3600)).toBe('1');
    // 61 s later the lease would end before now + 3600 s: a new one
    advance(31_000);
    expect(await m.leaseFor(3600)).toBe('2');
    expect(grants).toEqual([3660, 3660]);
    // a short TTL: the window is 5 % of it, and a lease that outlives it by more than that is not reused
    expect(await m.leaseFor(20)).toBe('3');
    expect(grants).toEqual([3660, 3660, 21]);
  });

  it('attaches at most maxObjectCount objects to one lease, and concurrent writes share one grant', async () => {
    const { m, grants } = manager({ maxObjectCount: 3 });
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => m.leaseFor(3600)));
    expect(ids).toEqual(['1', '1', '1', '2', '2']);
    expect(grants).toEqual([3660, 3660]);
  });
});
