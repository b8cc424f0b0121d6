import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipFamily } from './ip-family.js';

describe('ipFamily', () => {
  it('agrees with node:net isIP', () => {
    const samples = [
      '127.0.0.1',
      '10.96.0.1',
      '256.1.1.1',
      '1.2.3',
      'localhost',
      'kubernetes.default.svc.cluster.local',
      '',
      '::1',
      '::',
      '2001:db8::ffff',
      'fe80::1%eth0',
      '::ffff:127.0.0.1',
      '2001:db8:::1',
      ':',
      'a:b',
      '[::1]',
    ];
    for (const s of samples) expect(ipFamily(s), s).toBe(isIP(s));
  });
});
