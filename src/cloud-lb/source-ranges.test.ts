import type { Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { parseIPv4, socketIPv4 } from './cidr.js';
import {
  SOURCE_RANGES_ANNOTATION,
  sourceAllowed,
  sourceRangesOf,
  type SourceRanges,
} from './source-ranges.js';

const svc = (ranges?: string[], annotation?: string): Service => ({
  metadata: {
    name: 's',
    namespace: 'default',
    ...(annotation ? { annotations: { [SOURCE_RANGES_ANNOTATION]: annotation } } : {}),
  },
  spec: { type: 'LoadBalancer', ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) },
});

const rangesOf = (s: Service): SourceRanges => {
  const r = sourceRangesOf(s);
  if ('error' in r) throw new Error(r.error);
  return r.ranges;
};

describe('loadBalancerSourceRanges', () => {
  it('lets everyone in when no range is given', () => {
    expect(sourceAllowed(rangesOf(svc()), '203.0.113.9')).toBe(true);
  });

  it('matches client addresses against the ranges, IPv4-mapped ones included', () => {
    const r = rangesOf(svc(['10.0.0.0/8', '127.0.0.1/32']));
    expect(sourceAllowed(r, '10.200.3.4')).toBe(true);
    expect(sourceAllowed(r, '127.0.0.1')).toBe(true);
    expect(sourceAllowed(r, '::ffff:127.0.0.1')).toBe(true);
    expect(sourceAllowed(r, '127.0.0.2')).toBe(false);
    expect(sourceAllowed(r, '11.0.0.1')).toBe(false);
    expect(sourceAllowed(r, undefined)).toBe(false);
  });

  it('falls back to the annotation, ignores IPv6 ranges, and reports bad ones', () => {
    const r = rangesOf(svc(undefined, '192.168.0.0/16, ::/0'));
    expect(sourceAllowed(r, '192.168.1.1')).toBe(true);
    expect(sourceAllowed(r, '127.0.0.1')).toBe(false);
    expect(sourceRangesOf(svc(['10.0.0.0/33']))).toEqual({
      error: 'loadBalancerSourceRanges: "10.0.0.0/33" is not a valid CIDR',
    });
  });

  it('parses only dotted quads', () => {
    expect(parseIPv4('127.0.2.1')).toBe(0x7f000201);
    for (const bad of ['127.0.2', '127.0.2.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', ''])
      expect(parseIPv4(bad)).toBeUndefined();
    expect(socketIPv4('::1')).toBeUndefined();
  });
});
