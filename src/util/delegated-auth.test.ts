import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../client/index.js';
import { delegatedAuthorizer, refusalStatus } from './delegated-auth.js';

/** an apiserver that knows one token (alice's) and lets only the `monitoring` group get /metrics */
function reviewingClient(opts: { fail?: boolean } = {}) {
  const calls: { resource: string; body: any }[] = [];
  const client = {
    resource: (_group: string, _version: string, resource: string) => ({
      create: (body: any) => {
        calls.push({ resource, body });
        if (opts.fail) return Promise.reject(new Error('connection refused'));
        if (resource === 'tokenreviews') {
          const known = body.spec.token === 'alice-token' || body.spec.token === 'bob-token';
          const name = body.spec.token.split('-')[0];
          return Promise.resolve({
            ...body,
            status: known
              ? {
                  authenticated: true,
                  user: { username: name, groups: name === 'alice' ? ['monitoring'] : [] },
                }
              : { authenticated: false },
          });
        }
        const allowed =
          (body.spec.groups ?? []).includes('monitoring') &&
          body.spec.nonResourceAttributes.path === '/metrics';
        return Promise.resolve({ ...body, status: { allowed } });
      },
    }),
  } as unknown as KubeClient;
  return { client, calls };
}

const request = (authorization?: string, method = 'GET') =>
  ({ method, headers: authorization ? { authorization } : {} }) as IncomingMessage;

describe('delegatedAuthorizer', () => {
  it('asks for a bearer token, reviews it, then reviews `get <path>` for its user', async () => {
    const { client, calls } = reviewingClient();
    const authorize = delegatedAuthorizer(client);
    expect(await authorize(request(), '/metrics')).toEqual({ code: 401, message: 'Unauthorized' });
    expect(await authorize(request('Basic YWxpY2U6eA=='), '/metrics')).toMatchObject({ code: 401 });
    expect(await authorize(request('Bearer nobody-token'), '/metrics')).toMatchObject({ code: 401 });
    expect(await authorize(request('Bearer alice-token'), '/metrics')).toEqual({ code: 200 });
    expect(await authorize(request('Bearer bob-token'), '/metrics')).toEqual({
      code: 403,
      message: 'forbidden: User "bob" cannot get path "/metrics"',
    });
    const sar = calls.find((c) => c.resource === 'subjectaccessreviews')!;
    expect(sar.body.spec).toEqual({
      user: 'alice',
      groups: ['monitoring'],
      nonResourceAttributes: { path: '/metrics', verb: 'get' },
    });
  });

  it('lets anyone read health, with no review', async () => {
    const { client, calls } = reviewingClient();
    const authorize = delegatedAuthorizer(client);
    for (const p of ['/healthz', '/readyz', '/livez'])
      expect(await authorize(request(), p)).toEqual({ code: 200 });
    expect(calls).toEqual([]);
  });

  it('keeps answers for 10 s, as upstream’s caches, then asks again', async () => {
    const { client, calls } = reviewingClient();
    let now = 1_000_000;
    const authorize = delegatedAuthorizer(client, () => now);
    await authorize(request('Bearer alice-token'), '/metrics');
    await authorize(request('Bearer alice-token'), '/metrics');
    await authorize(request('Bearer nobody-token'), '/metrics');
    await authorize(request('Bearer nobody-token'), '/metrics');
    expect(calls.map((c) => c.resource)).toEqual(['tokenreviews', 'subjectaccessreviews', 'tokenreviews']);
    now += 10_001;
    await authorize(request('Bearer alice-token'), '/metrics');
    expect(calls.length).toBe(5);
  });

  it('answers 500 when the apiserver cannot be asked, and refusals as a v1 Status', async () => {
    const { client } = reviewingClient({ fail: true });
    const result = await delegatedAuthorizer(client)(request('Bearer alice-token'), '/metrics');
    expect(result).toEqual({ code: 500, message: 'Internal error occurred: connection refused' });
    expect(JSON.parse(refusalStatus({ code: 401 }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      details: {},
      code: 401,
    });
  });
});
