import { describe, expect, it } from 'vitest';
import { isIpv4, parseCidr } from './cidr.js';

describe('parseCidr', () => {
  it('gives the network, prefix length and first host', () => {
    expect(parseCidr('10.244.3.0/24')).toEqual({
      network: '10.244.3.0',
      prefixLength: 24,
      gateway: '10.244.3.1',
    });
    expect(parseCidr('10.244.3.77/16')).toEqual({
      network: '10.244.0.0',
      prefixLength: 16,
      gateway: '10.244.0.1',
    });
  });

  it('refuses what is not an IPv4 CIDR, naming it', () => {
    expect(() => parseCidr('10.244.3.0')).toThrow('invalid CIDR "10.244.3.0"');
    expect(() => parseCidr('10.244.300.0/24')).toThrow(/invalid CIDR/);
    expect(() => parseCidr('10.0.0.0/31')).toThrow(/at most 30/);
  });

  it('knows an IPv4 address', () => {
    expect(isIpv4('127.0.1.2')).toBe(true);
    expect(isIpv4('127.0.1.256')).toBe(false);
    expect(isIpv4('::1')).toBe(false);
  });
});
