import { describe, expect, it } from 'vitest';
import { IpPool } from './ip-pool.js';

describe('IpPool', () => {
  it('hands out the lowest free address, skipping network and broadcast, and is stable per owner', () => {
    const pool = new IpPool('127.0.2.0/24');
    expect(pool.allocate('default/a')).toEqual({ ok: true, ip: '127.0.2.1' });
    expect(pool.allocate('default/b')).toEqual({ ok: true, ip: '127.0.2.2' });
    expect(pool.allocate('default/a')).toEqual({ ok: true, ip: '127.0.2.1' });
    pool.release('default/a');
    expect(pool.allocate('default/c')).toEqual({ ok: true, ip: '127.0.2.1' });
  });

  it('honours a requested address once, and explains a taken or foreign one', () => {
    const pool = new IpPool('127.0.2.0/24');
    expect(pool.allocate('default/a', '127.0.2.50')).toEqual({ ok: true, ip: '127.0.2.50' });
    expect(pool.allocate('default/b', '127.0.2.50')).toEqual({
      ok: false,
      reason: 'requested IP 127.0.2.50 is already allocated to service default/a',
    });
    expect(pool.allocate('default/b', '10.0.0.1')).toEqual({
      ok: false,
      reason: 'requested IP 10.0.0.1 is not in the load balancer pool 127.0.2.0/24',
    });
    expect(pool.allocate('default/b', '127.0.2.255')).toMatchObject({ ok: false });
    expect(pool.allocate('default/b', 'nonsense')).toMatchObject({ ok: false });
    // a changed request moves the owner and frees the old address
    expect(pool.allocate('default/a', '127.0.2.60')).toEqual({ ok: true, ip: '127.0.2.60' });
    expect(pool.ownerOf('127.0.2.50')).toBeUndefined();
    expect(pool.allocate('default/b', '127.0.2.50')).toEqual({ ok: true, ip: '127.0.2.50' });
  });

  it('re-adopts addresses from statuses and never gives one address to two owners', () => {
    const pool = new IpPool('127.0.2.0/30');
    expect(pool.adopt('default/old', '127.0.2.1')).toBe(true);
    expect(pool.adopt('default/dup', '127.0.2.1')).toBe(false);
    expect(pool.adopt('default/out', '127.0.3.1')).toBe(false);
    expect(pool.allocate('default/new')).toEqual({ ok: true, ip: '127.0.2.2' });
    expect(pool.allocate('default/more')).toEqual({
      ok: false,
      reason: 'no addresses left in the load balancer pool 127.0.2.0/30',
    });
  });

  it('normalises the pool CIDR and rejects nonsense', () => {
    expect(new IpPool('127.0.2.9/24').cidrText).toBe('127.0.2.0/24');
    expect(() => new IpPool('127.0.2.0')).toThrow(/invalid pool/);
    expect(() => new IpPool('300.0.0.0/8')).toThrow(/invalid pool/);
    // a /32 pool has its one address usable
    expect(new IpPool('127.0.2.7/32').allocate('x')).toEqual({ ok: true, ip: '127.0.2.7' });
  });
});
