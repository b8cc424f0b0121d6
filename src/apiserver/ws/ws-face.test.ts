import { describe, it, expect, afterEach } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { pack } from 'msgpackr';
import { attachWebSocketFace, type WebSocketFace, type WebSocketFaceOptions } from './ws-face.js';
import { FakeApiHandler } from '../../testing/fake-api-handler.js';
import { decodeServerFrames, encodeFrame, type ServerFrame, type ClientFrame } from '../../api/wire.js';
import { silentLogger } from '../../util/logger.js';

const PATH = '/kubemu/v1/ws';
const TOKEN = 'good-token';
const pods = { group: '', version: 'v1', resource: 'pods' };

interface Harness {
  server: http.Server;
  face: WebSocketFace;
  handler: FakeApiHandler;
  url: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(
  opts: Pick<
    WebSocketFaceOptions,
    'maxBufferedBytes' | 'pingIntervalMs' | 'limits' | 'highWaterBytes' | 'maxWatches' | 'authenticateToken'
  > = {},
): Promise<Harness> {
  const handler = new FakeApiHandler();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const face = attachWebSocketFace(server, {
    path: PATH,
    handler,
    logger: silentLogger(),
    authenticate: (req) =>
      req.headers.authorization === `Bearer ${TOKEN}`
        ? { username: 'kubelet', groups: ['system:nodes'] }
        : undefined,
    ...opts,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
  cleanups.push(async () => {
    await face.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { server, face, handler, url };
}

/** a raw client: frames in, frames out */
async function rawClient(url: string, token = TOKEN, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...options });
  const frames: ServerFrame[] = [];
  let notify = (): void => undefined;
  ws.on('message', (data: Buffer) => {
    frames.push(...decodeServerFrames(data));
    notify();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (pred: (f: ServerFrame) => boolean, timeoutMs = 3000): Promise<ServerFrame> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = frames.findIndex(pred);
      if (i >= 0) return frames.splice(i, 1)[0];
      if (Date.now() > deadline)
        throw new Error(`no matching frame; have ${JSON.stringify(frames).slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        notify = resolve;
        setTimeout(resolve, 20);
      });
    }
  };
  cleanups.push(() => Promise.resolve(ws.terminate()));
  return { ws, frames, next, closed, send: (f: ClientFrame) => ws.send(encodeFrame(f)) };
}

function upgradeStatus(url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (err) => (err.message.includes('closed before') ? undefined : reject(err)));
  });
}

describe('WebSocket face', () => {
  it('refuses unauthenticated upgrades with 401 and other paths with 404', async () => {
    const h = await start();
    expect(await upgradeStatus(h.url)).toBe(401);
    expect(await upgradeStatus(h.url, 'wrong')).toBe(401);
    expect(await upgradeStatus(h.url.replace(PATH, '/other'), TOKEN)).toBe(404);
    expect(await upgradeStatus(h.url, TOKEN)).toBe(101);
  });

  it("authenticates each request naming a credential with that credential's token, not the connection's", async () => {
    const tokens: string[] = [];
    const h = await start({
      authenticateToken: (token) => {
        tokens.push(token);
        return token === 'sa-token'
          ? { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: [] }
          : undefined;
      },
    });
    const c = await rawClient(h.url);
    c.send({ t: 'cred', id: 1, token: 'sa-token' });
    c.send({ t: 'cred', id: 2, token: 'stolen' });
    c.send({ t: 'req', id: 10, req: { ...pods, verb: 'list', namespace: 'ns' }, cred: 1 });
    c.send({ t: 'req', id: 11, req: { ...pods, verb: 'list', namespace: 'ns' }, cred: 2 });
    c.send({ t: 'req', id: 12, req: { ...pods, verb: 'list', namespace: 'ns' }, cred: 3 });
    c.send({ t: 'req', id: 13, req: { ...pods, verb: 'list', namespace: 'ns' } });
    c.send({ t: 'req', id: 14, req: { ...pods, verb: 'list', namespace: 'ns' }, cred: 1 });
    expect(await c.next((f) => f.id === 10)).toMatchObject({ t: 'res', code: 200 });
    for (const id of [11, 12])
      expect(await c.next((f) => f.id === id)).toMatchObject({
        t: 'err',
        status: { reason: 'Unauthorized', code: 401 },
      });
    await c.next((f) => f.id === 13);
    await c.next((f) => f.id === 14);
    expect(h.handler.requests.map((r) => r.user.username)).toEqual([
      'system:serviceaccount:kube-system:replicaset-controller',
      'kubelet',
      'system:serviceaccount:kube-system:replicaset-controller',
    ]);
    // authenticated once per credential within the cache's 10 s, as upstream's token cache
    expect(tokens).toEqual(['sa-token', 'stolen']);
    // a watch names its credential too; a malformed credential frame closes the connection
    c.send({ t: 'watch', id: 20, req: { ...pods, verb: 'watch', namespace: 'ns' }, cred: 2 });
    expect(await c.next((f) => f.id === 20)).toMatchObject({ t: 'end', status: { code: 401 } });
    c.ws.send(pack({ t: 'cred', id: 3, token: 42 }));
    expect((await c.closed).code).toBe(1007);
  });

  it('answers requests by id and sends failures as Status', async () => {
    const h = await start();
    const c = await rawClient(h.url);
    c.send({
      t: 'req',
      id: 1,
      req: { ...pods, verb: 'create', namespace: 'ns', body: { metadata: { name: 'a' } } },
    });
    c.send({ t: 'req', id: 2, req: { ...pods, verb: 'get', namespace: 'ns', name: 'missing' } });
    const res = await c.next((f) => f.id === 1);
    expect(res).toMatchObject({ t: 'res', code: 201, body: { metadata: { name: 'a', namespace: 'ns' } } });
    const err = await c.next((f) => f.id === 2);
    expect(err).toMatchObject({
      t: 'err',
      status: { reason: 'NotFound', code: 404, message: 'pods "missing" not found' },
    });
    // the user comes from authentication, not from the frame
    expect(h.handler.requests[0].user.username).toBe('kubelet');
  });

  it('streams watch events and stops the handler watch on unwatch', async () => {
    const h = await start();
    const c = await rawClient(h.url);
    c.send({
      t: 'watch',
      id: 5,
      req: { ...pods, verb: 'watch', namespace: 'ns', options: { resourceVersion: '0' } },
    });
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'x' } });
    expect(await c.next((f) => f.t === 'ev')).toMatchObject({
      id: 5,
      type: 'ADDED',
      object: { metadata: { name: 'x' } },
    });
    c.send({ t: 'unwatch', id: 5 });
    expect(await c.next((f) => f.t === 'end')).toEqual({ t: 'end', id: 5 });
    expect(h.handler.watcherCount()).toBe(0);
  });

  it('ends a watch with 410 when the handler says the resourceVersion is too old', async () => {
    const h = await start();
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'x' } });
    h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: 'y' } });
    h.handler.compact();
    const c = await rawClient(h.url);
    c.send({ t: 'watch', id: 1, req: { ...pods, verb: 'watch', options: { resourceVersion: '1' } } });
    expect(await c.next((f) => f.t === 'end')).toMatchObject({
      id: 1,
      status: { code: 410, reason: 'Expired' },
    });
  });

  it('closes only the connection that sent garbage, with a clear code', async () => {
    const h = await start();
    const good = await rawClient(h.url);
    const bad1 = await rawClient(h.url);
    const bad2 = await rawClient(h.url);
    const bad3 = await rawClient(h.url);
    expect(h.face.connections()).toBe(4);
    bad1.ws.send(Buffer.from([0xc1, 0xff, 0x00, 0x13]));
    bad2.ws.send(pack({ t: 'req', id: 1, req: { verb: 'explode' } }));
    bad3.ws.send('a text frame');
    expect(await bad1.closed).toMatchObject({ code: 1007 });
    expect((await bad2.closed).reason).toMatch(/malformed frame: req.verb/);
    expect(await bad3.closed).toMatchObject({ code: 1003 });
    good.send({ t: 'req', id: 9, req: { ...pods, verb: 'list', namespace: 'ns' } });
    expect(await good.next((f) => f.id === 9)).toMatchObject({ t: 'res', code: 200 });
    await expect.poll(() => h.face.connections()).toBe(1);
  });

  it('closes a connection sending a frame above the size limit', async () => {
    const handler = new FakeApiHandler();
    const server = http.createServer();
    const face = attachWebSocketFace(server, {
      path: PATH,
      handler,
      logger: silentLogger(),
      authenticate: () => ({ username: 'u', groups: [] }),
    });
    // a second face with a tiny limit on its own server would be the same code path; use maxFrameBytes
    await face.close();
    const small = attachWebSocketFace(server, {
      path: PATH,
      handler,
      logger: silentLogger(),
      authenticate: () => ({ username: 'u', groups: [] }),
      maxFrameBytes: 1024,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await small.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const c = await rawClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`);
    c.send({ t: 'req', id: 1, req: { ...pods, verb: 'create', body: { data: 'x'.repeat(5000) } } });
    expect((await c.closed).code).toBe(1009);
    expect(handler.requests).toHaveLength(0);
  });

  it('cuts off a watcher that does not read, with a 410 Expired watch end', async () => {
    const h = await start({ maxBufferedBytes: 1024 * 1024 });
    const c = await rawClient(h.url);
    c.send({
      t: 'watch',
      id: 3,
      req: { ...pods, verb: 'watch', namespace: 'ns', options: { resourceVersion: '0' } },
    });
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    c.ws.pause();
    const big = 'x'.repeat(256 * 1024);
    // one event per tick, so each is flushed to the socket and piles up in its send buffer
    for (let i = 0; i < 400 && h.handler.watcherCount() > 0; i++) {
      h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: `p${i}` }, data: big });
      await new Promise((resolve) => setImmediate(resolve));
    }
    // the sink said no: the handler dropped the watcher well before 400 × 256 KiB were queued
    expect(h.handler.watcherCount()).toBe(0);
    c.ws.resume();
    const end = await c.next((f) => f.t === 'end', 10_000);
    expect(end).toMatchObject({
      id: 3,
      status: { code: 410, reason: 'Expired', message: 'watch cut off: client too slow' },
    });
    // the connection itself survives
    c.send({ t: 'req', id: 4, req: { ...pods, verb: 'get', namespace: 'ns', name: 'p0' } });
    expect(await c.next((f) => f.id === 4)).toMatchObject({ t: 'res' });
  });

  it('terminates a connection that stops answering pings and stops its watches', async () => {
    const h = await start({ pingIntervalMs: 50 });
    const c = await rawClient(h.url, TOKEN, { autoPong: false });
    c.send({ t: 'watch', id: 1, req: { ...pods, verb: 'watch', options: {} } });
    await expect.poll(() => h.handler.watcherCount()).toBe(1);
    expect((await c.closed).code).toBe(1006);
    await expect.poll(() => h.face.connections()).toBe(0);
    await expect.poll(() => h.handler.watcherCount()).toBe(0);
  });

  it('keeps a connection that answers pings', async () => {
    const h = await start({ pingIntervalMs: 30 });
    const c = await rawClient(h.url);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(h.face.connections()).toBe(1);
  });

  it('streams a list in pieces, and a client that does not read holds back its own answers', async () => {
    const h = await start({ limits: { maxInflight: 4 }, highWaterBytes: 64 * 1024 });
    const big = 'x'.repeat(200 * 1024);
    for (let i = 0; i < 3; i++)
      h.handler.put({ ...pods, namespace: 'ns' }, { metadata: { name: `p${i}` }, data: big });
    const c = await rawClient(h.url);
    c.ws.pause();
    // one message of 300 lists of 600 KB each: 180 MB of answers
    c.ws.send(
      Buffer.concat(
        Array.from({ length: 300 }, (_, i) =>
          encodeFrame({ t: 'req', id: i + 1, req: { ...pods, verb: 'list', namespace: 'ns' } }),
        ),
      ),
    );
    await expect.poll(() => h.handler.requests.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // only what fits in the kernel's socket buffers was answered; the rest waits unhandled
    const handledWhilePaused = h.handler.requests.length;
    expect(handledWhilePaused).toBeLessThan(100);
    c.ws.resume();
    const items = new Map<number, number>();
    const done = new Set<number>();
    await expect
      .poll(
        () => {
          for (const f of c.frames.splice(0)) {
            if (f.t === 'res') expect(f).toMatchObject({ code: 200, streamed: true, body: { items: [] } });
            else if (f.t === 'items') {
              items.set(f.id, (items.get(f.id) ?? 0) + f.items.length);
              if (f.done) done.add(f.id);
            } else throw new Error(`unexpected ${JSON.stringify(f)}`);
          }
          return done.size;
        },
        { timeout: 20_000 },
      )
      .toBe(300);
    expect(new Set(items.values())).toEqual(new Set([3]));
  });

  it('queues requests past the in-flight bound and answers 429 with Retry-After past the queue', async () => {
    const h = await start({ limits: { maxInflight: 1, maxQueued: 2 } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    h.handler.hook = () => gate;
    const c = await rawClient(h.url);
    c.ws.send(
      Buffer.concat(
        Array.from({ length: 5 }, (_, i) =>
          encodeFrame({ t: 'req', id: i + 1, req: { ...pods, verb: 'get', namespace: 'ns', name: 'a' } }),
        ),
      ),
    );
    for (const id of [4, 5]) {
      expect(await c.next((f) => f.id === id)).toMatchObject({
        t: 'err',
        status: {
          code: 429,
          reason: 'TooManyRequests',
          message: 'Too many requests, please try again later.',
          details: { retryAfterSeconds: 1 },
        },
      });
    }
    expect(h.handler.requests).toHaveLength(1);
    release();
    for (const id of [1, 2, 3])
      expect(await c.next((f) => f.id === id)).toMatchObject({ t: 'err', status: { code: 404 } });
    expect(h.handler.requests).toHaveLength(3);
  });

  it('ends watches past the per-connection bound with 429', async () => {
    const h = await start({ maxWatches: 2 });
    const c = await rawClient(h.url);
    for (const id of [1, 2, 3]) c.send({ t: 'watch', id, req: { ...pods, verb: 'watch', options: {} } });
    expect(await c.next((f) => f.t === 'end')).toMatchObject({
      id: 3,
      status: { code: 429, details: { retryAfterSeconds: 1 } },
    });
    expect(h.handler.watcherCount()).toBe(2);
  });
});
