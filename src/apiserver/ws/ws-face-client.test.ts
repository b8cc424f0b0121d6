// The client library against the real WebSocket face: requests, errors, reconnect, watch resume, informer relist.
import { describe, it, expect, afterEach } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApiError } from '../../api/errors.js';
import type { WatchEvent } from '../../api/request.js';
import { attachWebSocketFace } from './ws-face.js';
import { silentLogger } from '../../util/logger.js';
import { ApiConnection } from '../../client/connection.js';
import { FakeApiHandler } from '../../testing/fake-api-handler.js';
import { KubeClient } from '../../client/typed-client.js';
import { Informer } from '../../client/informer.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

// Connection tests run over a real ws server on port 0 with a map-backed fake ApiHandler.
const PATH = '/kubemu/v1/ws';
const pods = { group: '', version: 'v1', resource: 'pods' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start() {
  const handler = new FakeApiHandler();
  const server = http.createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const face = attachWebSocketFace(server, {
    path: PATH,
    handler,
    logger: silentLogger(),
    authenticate: (req) =>
      req.headers.authorization === 'Bearer t0k' ? { username: 'u', groups: [] } : undefined,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
  const conns: ApiConnection[] = [];
  const connect = (token = 't0k', initialMs = 20): ApiConnection => {
    const c = new ApiConnection({ url, token, backoff: { initialMs, maxMs: 100 }, logger: silentLogger() });
    conns.push(c);
    return c;
  };
  cleanups.push(async () => {
    for (const c of conns) await c.close();
    await face.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  /** drop every TCP connection, as a network blip or apiserver restart would */
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return { handler, face, connect, dropAll };
}

describe('ApiConnection', () => {
  it('sends requests made before the socket opened, and resolves them by id', async () => {
    const h = await start();
    const conn = h.connect();
    const created = conn.request({
      ...pods,
      verb: 'create',
      namespace: 'ns',
      body: { metadata: { name: 'a' } },
    });
    const listed = conn.request({ ...pods, verb: 'list', namespace: 'ns' });
    expect(await created).toMatchObject({
      code: 201,
      body: { metadata: { name: 'a', resourceVersion: '1' } },
    });
    expect(await listed).toMatchObject({ code: 200, body: { items: [{ metadata: { name: 'a' } }] } });
  });

  it('rejects with the ApiError rebuilt from the Status', async () => {
    const h = await start();
    const client = new KubeClient(h.connect());
    const err = await client.pods.get('nope', 'ns').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      reason: 'NotFound',
      code: 404,
      message: 'pods "nope" not found',
      details: { name: 'nope' },
    });
  });

  it('fails requests with 401 when the token is refused', async () => {
    const h = await start();
    const conn = h.connect('bad');
    await expect(conn.request({ ...pods, verb: 'list' })).rejects.toMatchObject({
      reason: 'Unauthorized',
      code: 401,
    });
  });

  it('fails in-flight requests clearly when the connection drops, then reconnects', async () => {
    const h = await start();
    let release = (): void => undefined;
    h.handler.hook = (req) =>
      req.name === 'slow' ? new Promise<void>((resolve) => (release = resolve)) : undefined;
    const conn = h.connect();
    await conn.ready();
    const inflight = conn.request({ ...pods, verb: 'get', namespace: 'ns', name: 'slow' });
    await expect.poll(() => h.handler.requests.length).toBe(1);
    h.dropAll();
    await expect(inflight).rejects.toMatchObject({
      reason: 'ServiceUnavailable',
      message: expect.stringMatching(/connection to the apiserver lost/),
    });
    release();
    // the next request waits for the reconnect and succeeds
    await expect(conn.request({ ...pods, verb: 'list', namespace: 'ns' })).resolves.toMatchObject({
      code: 200,
    });
  });

  it('resumes a live watch after a reconnect from the last resourceVersion it saw', async () => {
    const h = await start();
    const conn = h.connect('t0k', 200);
    const events: WatchEvent[] = [];
    const ends: unknown[] = [];
    conn.watch(
      { ...pods, verb: 'watch', namespace: 'ns', options: { resourceVersion: '0' } },
      (e) => events.push(e),
      (e) => ends.push(e),
    );
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'a' } });
    await expect.poll(() => events.length).toBe(1);
    h.dropAll();
    // written while the component was disconnected (the first may still go to the dead socket: lost)
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'b' } });
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'a' }, spec: { x: 1 } });
    await expect.poll(() => events.length).toBe(3);
    expect(events.map((e) => [e.type, e.object.metadata?.name, e.object.metadata?.resourceVersion])).toEqual([
      ['ADDED', 'a', '1'],
      ['ADDED', 'b', '2'],
      ['MODIFIED', 'a', '3'],
    ]);
    expect(ends).toEqual([]);
    expect(h.handler.requests).toHaveLength(0);
  });

  it('reports 410 through onEnd when the watch cannot be resumed', async () => {
    const h = await start();
    const conn = h.connect('t0k', 200);
    const ends: (ApiError | undefined)[] = [];
    let events = 0;
    conn.watch(
      { ...pods, verb: 'watch', options: { resourceVersion: '0' } },
      () => events++,
      (e) => ends.push(e),
    );
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'a' } });
    await expect.poll(() => events).toBe(1);
    h.dropAll();
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'b' } });
    h.handler.compact();
    await expect.poll(() => ends.length).toBe(1);
    expect(ends[0]).toBeInstanceOf(ApiError);
    expect(ends[0]).toMatchObject({
      code: 410,
      reason: 'Expired',
      message: 'too old resource version: 1 (2)',
    });
  });

  it('an informer over the connection relists after 410 on resume and converges', async () => {
    const h = await start();
    const client = new KubeClient(h.connect('t0k', 200));
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'keep' } });
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'gone' } });
    const informer = new Informer<Pod>({ source: client.pods, backoff: { initialMs: 10, maxMs: 50 } });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (p) => seen.push(`add ${p.metadata?.name}`),
      onUpdate: (o, n) =>
        seen.push(
          `update ${n.metadata?.name} ${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`,
        ),
      onDelete: (p) => seen.push(`delete ${p.metadata?.name}`),
    });
    informer.start();
    cleanups.push(() => Promise.resolve(informer.stop()));
    await informer.waitForSync();
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    h.dropAll();
    // while disconnected: one object changes, one vanishes, one appears, and the history is compacted
    await h.handler.handle({
      ...pods,
      verb: 'delete',
      namespace: 'ns',
      name: 'gone',
      options: {},
      user: { username: 'x', groups: [] },
    });
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'keep' }, spec: { v: 2 } });
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'new' } });
    h.handler.compact();
    await expect.poll(() => informer.store.keys().sort()).toEqual(['ns/keep', 'ns/new']);
    expect(seen).toEqual(['add gone', 'add keep', 'update keep 1->4', 'add new', 'delete gone']);
    expect(informer.lastSyncResourceVersion()).toBe('5');
  });
});
