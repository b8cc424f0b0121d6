// Bad input gets an upstream-style Status (never a 5xx or a crash), and nothing invalid is stored.
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateObject } from '../src/api/validation/index.js';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';

let server: ApiServerProcess;
let api: Api;

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
});

afterAll(async () => {
  await server?.cleanup();
});

const validDeployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'bad-input' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'x' } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'c', image: 'kubemu/hello:v1' }] },
    },
  },
});

describe('malformed requests', () => {
  it('malformed JSON → 400 BadRequest Status', async () => {
    const r = await api('POST', '/api/v1/namespaces/default/pods', undefined, {
      raw: '{"metadata": {"name": "x"',
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
  });

  it('a wrong type in a field → 400 naming the field path', async () => {
    const body = validDeployment();
    (body.spec as any).replicas = 'three';
    const r = await api('POST', '/apis/apps/v1/namespaces/default/deployments', body);
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    expect(r.body.message).toContain('spec.replicas');
  });

  it('a missing required field → 422 Invalid with the field in causes', async () => {
    const body = validDeployment();
    delete (body.spec.template.spec.containers[0] as any).image;
    const r = await api('POST', '/apis/apps/v1/namespaces/default/deployments', body);
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details.causes).toContainEqual(
      expect.objectContaining({
        reason: 'FieldValueRequired',
        field: 'spec.template.spec.containers[0].image',
      }),
    );
  });

  it('an invalid name (DNS-1123) → 422 with metadata.name', async () => {
    const body = { metadata: { name: 'Not_A_Name' }, data: {} };
    const r = await api('POST', '/api/v1/namespaces/default/configmaps', body);
    expect(r.status).toBe(422);
    expect(r.body.details.causes[0].field).toBe('metadata.name');
    expect(r.body.message).toContain('RFC 1123');
  });

  it('an unknown field: Strict → 400, Warn → Warning header, Ignore → dropped silently', async () => {
    const body = { metadata: { name: 'unknown-field' }, data: {}, bogus: 1, spec: { nope: true } };
    const strict = await api('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('unknown field "bogus"');
    const warn = await api('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', body);
    expect(warn.status).toBe(201);
    expect(String(warn.headers['warning'])).toContain('unknown field');
    expect(warn.body.bogus).toBeUndefined();
    const stored = await api('GET', '/api/v1/namespaces/default/configmaps/unknown-field');
    expect(stored.body.bogus).toBeUndefined();
  });

  it('a body over 3 MiB → 413', async () => {
    const big = { metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } };
    const r = await api('POST', '/api/v1/namespaces/default/configmaps', big);
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe('RequestEntityTooLarge');
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/big')).status).toBe(404);
  });

  it('garbage WebSocket frames close that connection only; the server keeps serving', async () => {
    const wsUrl = `${server.url.replace('https', 'wss')}/kubemu/v1/ws`;
    const closed = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, {
        ca: server.ca,
        headers: { Authorization: `Bearer ${server.token}` },
      });
      ws.on('open', () => {
        ws.send(Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37]));
      });
      ws.on('close', (code) => resolve(code));
      ws.on('error', reject);
      setTimeout(() => reject(new Error('connection not closed')), 5000);
    });
    expect(closed).toBeGreaterThanOrEqual(1002);
    const unauth = await new Promise<string>((resolve) => {
      const ws = new WebSocket(wsUrl, { ca: server.ca });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', (e) => resolve(e.message));
    });
    expect(unauth).toContain('401');
    expect((await api('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});

describe('property: generated bodies never cause a 5xx, and nothing invalid is stored', () => {
  it('survives 1,000+ generated create bodies', async () => {
    const endpoints = [
      {
        path: '/api/v1/namespaces/default/pods',
        list: '/api/v1/namespaces/default/pods',
        gvk: { group: '', version: 'v1', kind: 'Pod' },
      },
      {
        path: '/apis/apps/v1/namespaces/default/deployments',
        list: '/apis/apps/v1/namespaces/default/deployments',
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
      },
      {
        path: '/api/v1/namespaces/default/services',
        list: '/api/v1/namespaces/default/services',
        gvk: { group: '', version: 'v1', kind: 'Service' },
      },
      {
        path: '/api/v1/namespaces/default/configmaps',
        list: '/api/v1/namespaces/default/configmaps',
        gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
      },
    ];
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    // structured: mutate a valid object at a random place with a random JSON value
    const mutated = fc
      .tuple(
        name,
        fc.constantFrom(
          'spec',
          'spec.replicas',
          'spec.template',
          'spec.template.spec.containers',
          'metadata.labels',
          'spec.selector',
          'spec.ports',
          'data',
          'metadata',
        ),
        anyJson,
      )
      .map(([n, path, value]) => {
        const body: any = validDeployment();
        body.metadata.name = n;
        const parts = path.split('.');
        let cur = body;
        for (const p of parts.slice(0, -1)) cur = cur[p] ??= {};
        cur[parts[parts.length - 1]] = value;
        return body;
      });
    const arbitraryBody = fc.oneof(
      anyJson,
      mutated,
      fc.record({ metadata: fc.record({ name }), spec: anyJson }),
      fc.record({
        metadata: fc.record({ name, labels: fc.dictionary(fc.string(), fc.string()) }),
        data: anyJson,
      }),
    );
    let count = 0;
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), arbitraryBody, async (ep, body) => {
        const r = await api('POST', ep.path, undefined, { raw: JSON.stringify(body) });
        count++;
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(r.body.kind).toBe('Status');
      }),
      { numRuns: 1100 },
    );
    expect(count).toBeGreaterThanOrEqual(1000);
    // some generated bodies must have been accepted, or the property tested nothing
    expect(codes.get(201) ?? 0).toBeGreaterThan(0);
    for (const ep of endpoints) {
      const list = await api('GET', ep.list);
      for (const obj of list.body.items) {
        expect(validateObject(ep.gvk, obj), `${ep.gvk.kind} ${obj.metadata.name}`).toEqual([]);
      }
    }
    expect((await api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
  }, 120_000);
});
