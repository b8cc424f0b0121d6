import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TokenAuthenticator,
  bearerSubprotocol,
  isPublicPath,
  stripBearerSubprotocol,
  tokenFromHeaders,
} from './authenticator.js';
import { selfSubjectReview } from './self-subject-review.js';
import { ensureNodeToken, ensureTokenFile } from './token-file.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'kubemu-authn-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

describe('tokenFromHeaders', () => {
  it('reads Authorization: Bearer, scheme case-insensitive', () => {
    expect(tokenFromHeaders({ authorization: 'Bearer abc' })).toBe('abc');
    expect(tokenFromHeaders({ authorization: 'bearer abc' })).toBe('abc');
    expect(tokenFromHeaders({ authorization: 'Basic abc' })).toBeUndefined();
    expect(tokenFromHeaders({ authorization: 'Bearer' })).toBeUndefined();
    expect(tokenFromHeaders({})).toBeUndefined();
  });

  it('reads the base64url bearer WebSocket subprotocol', () => {
    const headers = { 'sec-websocket-protocol': `v4.channel.k8s.io, ${bearerSubprotocol('s3cret-token')}` };
    expect(tokenFromHeaders(headers)).toBe('s3cret-token');
    expect(
      tokenFromHeaders({ 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.!!' }),
    ).toBeUndefined();
    expect(stripBearerSubprotocol(['v4.channel.k8s.io', bearerSubprotocol('x')])).toEqual([
      'v4.channel.k8s.io',
    ]);
  });
});

describe('TokenAuthenticator', () => {
  it('authenticates valid tokens, rejects invalid and missing ones, and parses groups', () => {
    const { file, adminToken } = ensureTokenFile(stateDir);
    const authn = TokenAuthenticator.fromFile(file);
    const admin = authn.authenticate({ authorization: `Bearer ${adminToken}` });
    expect(admin?.username).toBe('kubemu-admin');
    expect(admin?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(admin?.groups).toEqual(['system:masters', 'system:authenticated']);
    expect(authn.authenticate({ authorization: `Bearer ${adminToken}x` })).toBeUndefined();
    expect(authn.authenticate({ authorization: 'Bearer ' })).toBeUndefined();
    expect(authn.authenticate({})).toBeUndefined();
    expect(authn.authenticate({ 'sec-websocket-protocol': bearerSubprotocol(adminToken) })?.username).toBe(
      'kubemu-admin',
    );
  });

  it('sees node tokens added after it loaded the file', () => {
    const { file } = ensureTokenFile(stateDir);
    const authn = TokenAuthenticator.fromFile(file);
    const nodeToken = ensureNodeToken(stateDir, 'node-1');
    expect(authn.authenticateToken(nodeToken)).toEqual({
      username: 'system:node:node-1',
      uid: expect.any(String),
      groups: ['system:nodes', 'system:authenticated'],
    });
  });

  it('keeps its tokens when the file is broken later, and fails loudly on a broken file at start', () => {
    const { file, adminToken } = ensureTokenFile(stateDir);
    const authn = TokenAuthenticator.fromFile(file);
    writeFileSync(file, 'only,two\n');
    expect(authn.authenticateToken('unknown')).toBeUndefined();
    expect(authn.authenticateToken(adminToken)?.username).toBe('kubemu-admin');
    expect(() => TokenAuthenticator.fromFile(file)).toThrow(/at least 3 columns/);
  });

  it('returns copies, so callers cannot change the stored identity', () => {
    const authn = TokenAuthenticator.fromEntries([{ token: 't', user: 'u', uid: '', groups: ['g'] }]);
    const user = authn.authenticateToken('t')!;
    expect(user).toEqual({ username: 'u', groups: ['g', 'system:authenticated'] });
    user.groups.push('system:masters');
    expect(authn.authenticateToken('t')!.groups).toEqual(['g', 'system:authenticated']);
  });
});

describe('public paths', () => {
  it('lists health and version endpoints only', () => {
    for (const p of ['/healthz', '/livez', '/readyz', '/version', '/readyz/ping', '/livez?verbose']) {
      expect(isPublicPath(p)).toBe(true);
    }
    for (const p of ['/api', '/apis', '/healthzz', '/api/v1/namespaces', '/metrics'])
      expect(isPublicPath(p)).toBe(false);
  });
});

describe('selfSubjectReview', () => {
  it('produces the body kubectl auth whoami reads', () => {
    expect(selfSubjectReview({ username: 'kubemu-admin', uid: 'u-1', groups: ['system:masters'] })).toEqual({
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      status: { userInfo: { username: 'kubemu-admin', uid: 'u-1', groups: ['system:masters'] } },
    });
    expect(selfSubjectReview({ username: 'x', groups: [] }).status).toEqual({ userInfo: { username: 'x' } });
  });
});
