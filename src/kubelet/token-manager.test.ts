import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { describe, expect, it } from 'vitest';
import { ServiceAccountTokenManager } from './token-manager.js';

describe('the kubelet token manager', () => {
  it('keeps a token until 80 % of its requested life, then asks again', async () => {
    let now = 1_700_000_000_000;
    const asked: TokenRequest[] = [];
    const m = new ServiceAccountTokenManager({
      now: () => now,
      random: () => 0,
      request: (_ns, _sa, tr) => {
        asked.push(tr);
        return Promise.resolve({
          ...tr,
          status: { token: `t${asked.length}`, expirationTimestamp: new Date(now + 3607_000).toISOString() },
        });
      },
    });
    const target = {
      namespace: 'ns',
      serviceAccountName: 'default',
      podName: 'p',
      podUid: 'u',
      expirationSeconds: 3607,
    };
    expect(await m.token(target)).toBe('t1');
    expect(asked[0].spec).toEqual({
      audiences: [],
      expirationSeconds: 3607,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' },
    });
    now += 0.79 * 3607_000;
    expect(await m.token(target)).toBe('t1');
    now += 0.02 * 3607_000;
    expect(await m.token(target)).toBe('t2');
    m.forgetPod('u');
    expect(await m.token(target)).toBe('t3');
  });
});
