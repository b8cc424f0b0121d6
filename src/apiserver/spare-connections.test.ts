import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SpareConnections } from './spare-connections.js';

interface Listener {
  port: number;
  /** server-side sockets, in the order they were accepted */
  accepted: net.Socket[];
  close(): Promise<void>;
}

async function listen(): Promise<Listener> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    close: () =>
      new Promise((r) => {
        for (const s of accepted) s.destroy();
        server.close(() => r());
      }),
  };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('SpareConnections', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  const setUp = async (idleMs = 10_000) => {
    const server = await listen();
    const spares = new SpareConnections<net.Socket>(idleMs);
    let dials = 0;
    const connect = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        dials++;
        const s = net.connect(server.port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    cleanup.push(
      () => spares.close(),
      () => server.close(),
    );
    return { server, spares, connect, dials: () => dials };
  };

  it('makes a spare when a stream ends and hands it to the next caller, whose bytes reach the server', async () => {
    const { server, spares, connect, dials } = await setUp();
    const first = await spares.take('k', connect);
    expect(dials()).toBe(1);
    expect(spares.size).toBe(0); // nothing is made ahead while a stream is being set up
    first.destroy();
    await until(() => server.accepted.length === 2);
    const second = await spares.take('k', connect);
    expect(dials()).toBe(2); // the spare: no dial of its own
    const got = new Promise<string>((r) => server.accepted[1].once('data', (d: Buffer) => r(d.toString())));
    second.write('GET /exec');
    expect(await got).toBe('GET /exec');
    second.destroy();
  });

  it('never hands out a spare the server closed', async () => {
    const { server, spares, connect, dials } = await setUp();
    (await spares.take('k', connect)).destroy();
    await until(() => server.accepted.length === 2);
    server.accepted[1].destroy();
    await until(() => spares.size === 0);
    const s = await spares.take('k', connect);
    expect(dials()).toBe(3);
    expect(s.destroyed).toBe(false);
    s.destroy();
  });

  it('closes a spare nobody takes after the idle time, and makes no other', async () => {
    const { server, spares, connect } = await setUp(100);
    (await spares.take('k', connect)).destroy();
    await until(() => server.accepted.length === 2);
    const spareClosed = new Promise<void>((r) => server.accepted[1].once('close', () => r()));
    await spareClosed;
    expect(spares.size).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.accepted).toHaveLength(2);
  });

  it('falls back to a new connection when the spare could not be made', async () => {
    const { spares, dials } = await setUp();
    let fail = false;
    const server = await listen();
    cleanup.push(() => server.close());
    const connect = (): Promise<net.Socket> =>
      fail
        ? Promise.reject(new Error('refused'))
        : new Promise((resolve, reject) => {
            const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          });
    const first = await spares.take('k', connect);
    fail = true;
    first.destroy();
    await until(() => spares.size === 0);
    await expect(spares.take('k', connect)).rejects.toThrow('refused');
    fail = false;
    const s = await spares.take('k', connect);
    expect(s.destroyed).toBe(false);
    s.destroy();
    expect(dials()).toBe(0);
  });

  it('close() closes the spares and makes no more', async () => {
    const { server, spares, connect } = await setUp();
    const first = await spares.take('k', connect);
    first.destroy();
    await until(() => server.accepted.length === 2);
    const spareClosed = new Promise<void>((r) => server.accepted[1].once('close', () => r()));
    spares.close();
    await spareClosed;
    expect(spares.size).toBe(0);
  });
});
