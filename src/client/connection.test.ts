import { describe, it, expect, afterEach } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError } from '../api/errors.js';
import { errors } from '../api/errors.js';
import { decodeClientFrames, encodeAnswer, encodeFrame } from '../api/wire.js';
import { FakeClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { ApiConnection, apiErrorFromStatus } from './connection.js';

// The client side alone, against a bare ws server that misbehaves on purpose.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function bareServer(opts: { autoPong: boolean }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: opts.autoPong });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => sockets.push(ws));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, sockets, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/kubemu/v1/ws` };
}

function connection(url: string, pingIntervalMs = 5000): ApiConnection {
  const conn = new ApiConnection({
    url,
    pingIntervalMs,
    backoff: { initialMs: 10, maxMs: 50 },
    logger: silentLogger(),
  });
  cleanups.push(() => conn.close());
  return conn;
}

describe('ApiConnection', () => {
  it('reconnects when the server stops answering pings', async () => {
    const s = await bareServer({ autoPong: false });
    const conn = connection(s.url, 40);
    await conn.ready();
    await expect.poll(() => s.sockets.length, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
  });

  it('stays on one socket while pongs come back', async () => {
    const s = await bareServer({ autoPong: true });
    const conn = connection(s.url, 20);
    await conn.ready();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(s.sockets).toHaveLength(1);
    expect(conn.isConnected()).toBe(true);
  });

  it('drops a garbage server frame by reconnecting, failing the request in flight', async () => {
    const s = await bareServer({ autoPong: true });
    s.wss.on('connection', (ws) =>
      ws.on('message', (data: Buffer) => {
        for (const frame of decodeClientFrames(data)) {
          if (s.sockets.length === 1) ws.send(Buffer.from([0xc1, 0x00]));
          else ws.send(encodeFrame({ t: 'res', id: frame.id, code: 200, body: { ok: 1 } }));
        }
      }),
    );
    const conn = connection(s.url);
    const first = conn.request({ verb: 'list', group: '', version: 'v1', resource: 'pods' });
    await expect(first).rejects.toMatchObject({ reason: 'ServiceUnavailable' });
    await expect(conn.request({ verb: 'list', group: '', version: 'v1', resource: 'pods' })).resolves.toEqual(
      {
        code: 200,
        body: { ok: 1 },
      },
    );
  });

  it('rejects everything after close()', async () => {
    const s = await bareServer({ autoPong: true });
    const conn = connection(s.url);
    await conn.ready();
    await conn.close();
    await expect(
      conn.request({ verb: 'get', group: '', version: 'v1', resource: 'pods', name: 'x' }),
    ).rejects.toBeInstanceOf(ApiError);
  });

  it('rebuilds ApiErrors from Status, keeping reason, code and details', () => {
    const err = apiErrorFromStatus({
      kind: 'Status',
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      message: 'Pod "p" is invalid: spec.containers: Required value',
      details: {
        name: 'p',
        kind: 'Pod',
        causes: [{ reason: 'FieldValueRequired', field: 'spec.containers' }],
      },
    });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.toStatus()).toMatchObject({
      reason: 'Invalid',
      code: 422,
      details: { causes: [{ field: 'spec.containers' }] },
    });
    expect(apiErrorFromStatus({ code: 502, message: 'bad gateway' })).toMatchObject({
      reason: 'InternalError',
      code: 502,
    });
  });

  it('puts a streamed list back together from its pieces', async () => {
    const s = await bareServer({ autoPong: true });
    const items = Array.from({ length: 30 }, (_, i) => ({
      metadata: { name: `cm-${i}` },
      data: { v: 'q'.repeat(500) },
    }));
    const list = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items };
    s.wss.on('connection', (ws) =>
      ws.on('message', (data: Buffer) => {
        for (const frame of decodeClientFrames(data))
          for (const piece of encodeAnswer(frame.id, { code: 200, body: list }, true, 2_000)) ws.send(piece);
      }),
    );
    const conn = connection(s.url);
    const got = await conn.request({ verb: 'list', group: '', version: 'v1', resource: 'configmaps' });
    expect(got).toEqual({ code: 200, body: list });
  });

  it('retries a request answered 429 after its Retry-After, as client-go does', async () => {
    const s = await bareServer({ autoPong: true });
    let seen = 0;
    s.wss.on('connection', (ws) =>
      ws.on('message', (data: Buffer) => {
        for (const frame of decodeClientFrames(data)) {
          seen++;
          ws.send(
            seen < 3
              ? encodeFrame({ t: 'err', id: frame.id, status: errors.tooManyRequests(2).toStatus() })
              : encodeFrame({ t: 'res', id: frame.id, code: 201, body: { created: true } }),
          );
        }
      }),
    );
    const clock = new FakeClock();
    const conn = new ApiConnection({ url: s.url, clock, logger: silentLogger() });
    cleanups.push(() => conn.close());
    const created = conn.request({ verb: 'create', group: '', version: 'v1', resource: 'pods', body: {} });
    await expect.poll(() => seen).toBe(1);
    clock.advance(1_999);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toBe(1); // not before the server said
    clock.advance(1);
    await expect.poll(() => seen).toBe(2);
    clock.advance(2_000);
    await expect(created).resolves.toEqual({ code: 201, body: { created: true } });
    expect(seen).toBe(3);
  });

  it('retries its first connection at the initial backoff (started before its apiserver), doubling only after', async () => {
    // the port of a server that is not listening yet
    const probe = await bareServer({ autoPong: true });
    const url = probe.url;
    await new Promise<void>((r) => probe.wss.close(() => r()));
    // every reconnect delay asked for is recorded; the timers run at once so the test does not wait them out
    const delays: number[] = [];
    const clock = {
      now: () => Date.now(),
      setTimeout(fn: () => void, ms: number, opts?: { keepAlive?: boolean }) {
        if (ms >= 1_000) delays.push(ms);
        const t = setTimeout(fn, ms >= 1_000 ? 1 : ms);
        if (!opts?.keepAlive) t.unref();
        return { cancel: () => clearTimeout(t) };
      },
    };
    const conn = new ApiConnection({
      url,
      clock,
      backoff: { initialMs: 1_000, maxMs: 60_000 },
      pingIntervalMs: 500,
      logger: silentLogger(),
    });
    cleanups.push(() => conn.close());
    while (delays.length < 10) await new Promise((r) => setTimeout(r, 5));
    expect(new Set(delays)).toEqual(new Set([1_000]));
    // the apiserver comes up: the connection opens; then it goes away and comes back, and the backoff doubles
    const port = Number(new URL(url).port);
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    await conn.ready();
    delays.length = 0;
    await new Promise<void>((r) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => r());
    });
    while (delays.length < 4) await new Promise((r) => setTimeout(r, 5));
    expect(delays.slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
  });
});
