import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthChecks, serveHealth } from './health.js';

describe('health endpoints, as upstream healthz', () => {
  let storageError: Error | undefined;
  let shuttingDown = false;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const checks = healthChecks({
      storage: () => (storageError ? Promise.reject(storageError) : Promise.resolve()),
      shuttingDown: () => shuttingDown,
    });
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      void serveHealth(res, url, checks).then((served) => {
        if (!served) res.writeHead(418).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const get = async (path: string): Promise<{ status: number; text: string; type: string | null }> => {
    const res = await fetch(base + path);
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  };

  it('answers ok, and lists every check with ?verbose', async () => {
    storageError = undefined;
    expect(await get('/readyz')).toEqual({ status: 200, text: 'ok', type: 'text/plain; charset=utf-8' });
    const verbose = (await get('/readyz?verbose')).text.split('\n');
    expect(verbose.slice(0, 6)).toEqual([
      '[+]ping ok',
      '[+]log ok',
      '[+]etcd ok',
      '[+]etcd-readiness ok',
      '[+]informer-sync ok',
      '[+]poststarthook/start-system-namespaces-controller ok',
    ]);
    expect(verbose).toContain('[+]poststarthook/rbac/bootstrap-roles ok');
    expect(verbose.slice(-3)).toEqual(['[+]shutdown ok', 'readyz check passed', '']);
    const livez = (await get('/livez?verbose')).text;
    expect(livez).toContain('[+]etcd ok\n');
    expect(livez).not.toContain('shutdown');
    expect(livez.endsWith('livez check passed\n')).toBe(true);
    expect(await get('/healthz')).toMatchObject({ status: 200, text: 'ok' });
  });

  it('fails with 500 and every check, the reason withheld; one check by its path shows the reason', async () => {
    storageError = new Error('error getting data from etcd: context deadline exceeded');
    const r = await get('/readyz');
    expect(r.status).toBe(500);
    expect(r.text).toContain('[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n');
    expect(r.text).toContain('[-]etcd-readiness failed: reason withheld\n');
    expect(r.text.endsWith('readyz check failed\n')).toBe(true);
    expect(await get('/readyz/etcd')).toMatchObject({
      status: 500,
      text: 'internal server error: error getting data from etcd: context deadline exceeded\n',
    });
    expect(await get('/livez/ping')).toMatchObject({ status: 200, text: 'ok' });
    expect((await get('/livez')).status).toBe(500);
  });

  it('skips excluded checks, says which names matched nothing, and 404s an unknown check', async () => {
    storageError = new Error('down');
    const r = await get('/readyz?verbose&exclude=etcd&exclude=etcd-readiness&exclude=nope');
    expect(r.status).toBe(200);
    expect(r.text).toContain('[+]etcd excluded: ok\n[+]etcd-readiness excluded: ok\n');
    expect(r.text).toContain('warn: some health checks cannot be excluded: no matches for "nope"\n');
    expect((await get('/readyz/nope')).status).toBe(404);
    expect(await get('/readyz/poststarthook/rbac/bootstrap-roles')).toMatchObject({
      status: 200,
      text: 'ok',
    });
    expect((await get('/version')).status).toBe(418);
  });

  it('fails readiness, not liveness, once shutting down', async () => {
    storageError = undefined;
    shuttingDown = true;
    expect(await get('/readyz/shutdown')).toMatchObject({
      status: 500,
      text: 'internal server error: process is shutting down\n',
    });
    expect((await get('/readyz')).status).toBe(500);
    expect((await get('/livez')).status).toBe(200);
    shuttingDown = false;
  });
});
