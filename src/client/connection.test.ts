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
});
