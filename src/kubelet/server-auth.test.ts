import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../api/request.js';
import { FakeClock } from '../util/clock.js';
import type { AuthReviewer, KubeletAccessAttributes } from './auth-webhook.js';
import { KubeletAuth, kubeletRequestAttributes } from './server-auth.js';

/** a request without a client certificate, with this Authorization header */
const request = (method: string, authorization?: string): IncomingMessage =>
  ({
    method,
    headers: authorization ? { authorization } : {},
    socket: { authorized: false },
  }) as unknown as IncomingMessage;

/** the apiserver's answers: tokens it knows, and who may do what; counts the reviews it was asked */
function fakeApiserver(
  tokens: Record<string, UserInfo>,
  allow: (u: UserInfo, a: KubeletAccessAttributes) => boolean,
) {
  const asked = { tokens: 0, access: [] as KubeletAccessAttributes[], fail: false };
  const reviewer: AuthReviewer = {
    reviewToken: (token) => {
      asked.tokens++;
      return asked.fail ? Promise.reject(new Error('down')) : Promise.resolve(tokens[token]);
    },
    reviewAccess: (user, attrs) => {
      asked.access.push(attrs);
      return asked.fail
        ? Promise.reject(new Error('down'))
        : Promise.resolve({ allowed: allow(user, attrs) });
    },
  };
  return { reviewer, asked };
}

describe("the kubelet's authentication and authorization", () => {
  it("maps paths to nodes subresources and methods to verbs, as upstream's kubelet does", () => {
    expect(kubeletRequestAttributes('GET', '/stats/summary', 'node-1')).toEqual({
      verb: 'get',
      resource: 'nodes',
      subresource: 'stats',
      name: 'node-1',
    });
    expect(kubeletRequestAttributes('GET', '/containerLogs/default/web/nginx').subresource).toBe('proxy');
    expect(kubeletRequestAttributes('GET', '/logs/syslog').subresource).toBe('log');
    expect(kubeletRequestAttributes('GET', '/metrics/cadvisor').subresource).toBe('metrics');
    expect(kubeletRequestAttributes('GET', '/statsx').subresource).toBe('proxy');
    expect(kubeletRequestAttributes('POST', '/exec/a/b/c').verb).toBe('create');
  });

  it('takes a bearer token the apiserver reviews, asks it who may, and answers upstream’s 401 and 403', async () => {
    const alice = { username: 'alice', groups: ['dev', 'system:authenticated'] };
    const { reviewer, asked } = fakeApiserver(
      { 'alice-token': alice },
      (u, a) => u.username === 'alice' && a.subresource === 'stats',
    );
    const auth = new KubeletAuth({ nodeName: 'node-1', reviewer, clock: new FakeClock(0) });
    expect(await auth.check(request('GET'), '/stats/summary')).toEqual({
      status: 401,
      message: 'Unauthorized',
    });
    expect(await auth.check(request('GET', 'Bearer nope'), '/stats/summary')).toEqual({
      status: 401,
      message: 'Unauthorized',
    });
    expect(await auth.check(request('GET', 'Bearer alice-token'), '/stats/summary')).toBeUndefined();
    expect(await auth.check(request('POST', 'Bearer alice-token'), '/exec/default/web/app')).toEqual({
      status: 403,
      message: 'Forbidden (user=alice, verb=create, resource=nodes, subresource=proxy)',
    });
    expect(asked.access).toEqual([
      { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'node-1' },
      { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'node-1' },
    ]);
  });

  it('caches token reviews for the token TTL and decisions for 5m allowed / 30s denied, not errors', async () => {
    const clock = new FakeClock(0);
    let allowed = true;
    const { reviewer, asked } = fakeApiserver({ t: { username: 'bob', groups: [] } }, () => allowed);
    const auth = new KubeletAuth({ nodeName: 'n', reviewer, clock });
    const get = () => auth.check(request('GET', 'Bearer t'), '/stats/summary');
    // concurrent first calls share one review of each kind
    await Promise.all([get(), get(), get()]);
    expect([asked.tokens, asked.access.length]).toEqual([1, 1]);
    allowed = false;
    clock.advance(119_000);
    expect(await get()).toBeUndefined();
    expect([asked.tokens, asked.access.length]).toEqual([1, 1]);
    clock.advance(2_000); // the token's 2m are over, the decision's 5m not
    expect(await get()).toBeUndefined();
    expect([asked.tokens, asked.access.length]).toEqual([2, 1]);
    clock.advance(300_000); // the decision is asked again: now denied, cached 30 s
    expect((await get())?.status).toBe(403);
    allowed = true;
    clock.advance(29_000);
    expect((await get())?.status).toBe(403);
    clock.advance(2_000);
    expect(await get()).toBeUndefined();
    // an apiserver error is a 500 for authorization, a 401 for authentication, and is not cached
    asked.fail = true;
    const other = () => auth.check(request('GET', 'Bearer t'), '/logs/');
    expect(await other()).toEqual({
      status: 500,
      message: 'Authorization error (user=bob, verb=get, resource=nodes, subresource=log)',
    });
    expect(await auth.check(request('GET', 'Bearer fresh'), '/stats/summary')).toEqual({
      status: 401,
      message: 'Unauthorized',
    });
    asked.fail = false;
    expect(await other()).toBeUndefined();
  });

  it('without a reviewer takes certificates only and allows system:masters only', async () => {
    const auth = new KubeletAuth({ nodeName: 'n' });
    expect(
      await auth.authorize(
        { username: 'admin', groups: ['system:masters'] },
        kubeletRequestAttributes('GET', '/'),
      ),
    ).toEqual({ allowed: true });
    expect(
      await auth.authorize(
        { username: 'system:node:n2', groups: ['system:nodes'] },
        kubeletRequestAttributes('GET', '/'),
      ),
    ).toEqual({ allowed: false });
    expect((await auth.check(request('GET', 'Bearer anything'), '/stats/summary'))?.status).toBe(401);
  });
});
