import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { legacyClaims } from '../../../api/serviceaccount-claims.js';
import { TokenIssuer } from './issuer.js';
import { decodeJwt, signJwt } from '../../../util/jwt.js';
import { ServiceAccountTokenAuthenticator, type LiveObject, type LiveSecret } from './token-authenticator.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const NOW = 1_700_000_000_000;

function world() {
  const sas = new Map<string, LiveObject>([['default/bot', { uid: 'sa-uid' }]]);
  const pods = new Map<string, LiveObject>([['default/web', { uid: 'pod-uid' }]]);
  const secrets = new Map<string, LiveSecret>();
  return {
    sas,
    pods,
    secrets,
    objects: {
      serviceAccount: (ns: string, n: string) => sas.get(`${ns}/${n}`),
      pod: (ns: string, n: string) => pods.get(`${ns}/${n}`),
      secret: (ns: string, n: string) => secrets.get(`${ns}/${n}`),
      node: () => undefined,
    },
  };
}

function setup(keyPem = rsa) {
  const issuer = new TokenIssuer({ signingKeyPem: keyPem });
  const w = world();
  let now = NOW;
  const auth = new ServiceAccountTokenAuthenticator({
    issuers: issuer.issuers,
    apiAudiences: issuer.apiAudiences,
    publicKeys: issuer.publicKeys,
    objects: w.objects,
    now: () => now,
  });
  const issue = (extra: Partial<Parameters<TokenIssuer['issue']>[0]> = {}) =>
    issuer.issue({
      namespace: 'default',
      serviceAccount: { name: 'bot', uid: 'sa-uid' },
      audiences: [...issuer.apiAudiences],
      expirationSeconds: 600,
      now: NOW,
      ...extra,
    }).token;
  return { issuer, w, auth, issue, setNow: (t: number) => (now = t) };
}

describe('ServiceAccount token signing and verification', () => {
  it.each([
    ['RSA', rsa, 'RS256'],
    ['ECDSA P-256', ec, 'ES256'],
  ])('signs with %s and authenticates the ServiceAccount', (_name, key, alg) => {
    const { auth, issue } = setup(key);
    const token = issue();
    expect(decodeJwt(token)!.header.alg).toBe(alg);
    const result = auth.authenticate(token);
    expect(result).toMatchObject({
      user: {
        username: 'system:serviceaccount:default:bot',
        uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default'],
      },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
  });

  it('refuses an expired token (after a minute of leeway), a foreign audience, a forged signature', () => {
    const { auth, issue, setNow } = setup();
    const token = issue();
    setNow(NOW + 600_000 + 59_000);
    expect(auth.authenticate(token)).toHaveProperty('user');
    setNow(NOW + 600_000 + 61_000);
    expect(auth.authenticate(token)).toEqual({ error: 'service account token has expired' });
    setNow(NOW);
    expect(auth.authenticate(issue({ audiences: ['vault'] }))).toHaveProperty('error');
    expect(auth.authenticate(token, ['vault'])).toHaveProperty('error');
    const [h, p] = token.split('.');
    const other = new TokenIssuer({ signingKeyPem: ec });
    const forged = signJwt(JSON.parse(Buffer.from(p, 'base64url').toString()), other.signingKey);
    expect(auth.authenticate(forged)).toEqual({ error: 'invalid signature' });
    // alg none is never accepted
    expect(auth.authenticate(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`)).toEqual({
      error: 'invalid signature',
    });
    expect(h).toBeTruthy();
    // not a JWT, or not ours: another authenticator's business
    expect(auth.authenticate('abc')).toBeUndefined();
  });

  it('a bound token dies with its pod, or when the ServiceAccount is recreated', () => {
    const { auth, issue, w } = setup();
    const token = issue({ pod: { name: 'web', uid: 'pod-uid' } });
    const ok = auth.authenticate(token);
    expect(ok).toMatchObject({ user: { extra: { 'authentication.kubernetes.io/pod-name': ['web'] } } });
    w.pods.set('default/web', { uid: 'another-pod' });
    expect(auth.authenticate(token)).toEqual({ error: 'service account token has been invalidated' });
    w.pods.set('default/web', { uid: 'pod-uid' });
    w.sas.set('default/bot', { uid: 'new-sa' });
    expect(auth.authenticate(token)).toEqual({ error: 'service account token has been invalidated' });
    w.sas.delete('default/bot');
    expect(auth.authenticate(issue())).toEqual({ error: 'service account token has been invalidated' });
  });

  it('a legacy Secret token is valid while the Secret holds it', () => {
    const { auth, issuer, w } = setup();
    const token = signJwt(
      legacyClaims('default', { name: 'bot', uid: 'sa-uid' }, 'bot-token'),
      issuer.signingKey,
    );
    expect(auth.authenticate(token)).toEqual({ error: expect.stringContaining('bot-token') });
    w.secrets.set('default/bot-token', { uid: 's', token });
    expect(auth.authenticate(token)).toMatchObject({
      user: { username: 'system:serviceaccount:default:bot' },
    });
    w.secrets.set('default/bot-token', { uid: 's', token: 'rotated' });
    expect(auth.authenticate(token)).toHaveProperty('error');
  });
});
