import { createServer, type Server } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { createCertificateAuthority, issueCertificate } from './pki.js';
import { TcpBalancer } from './tcp-balancer.js';

/** an HTTPS "apiserver" whose /readyz answers `ready`, counting the connections the balancer brings it */
interface Backend {
  server: Server;
  port: number;
  ready: boolean;
  connections: number;
}

describe('TcpBalancer: connections of an apiserver marked down', () => {
  const backends: Backend[] = [];
  let balancer: TcpBalancer;
  const clients: Socket[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority();
    const serving = await issueCertificate(ca, { commonName: 'apiserver', hosts: ['127.0.0.1'] });
    for (let i = 0; i < 2; i++) {
      const b = { ready: true, connections: 0 } as Backend;
      b.server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
        res.writeHead(req.url?.startsWith('/readyz?exclude=etcd&') && b.ready ? 200 : 500).end();
      });
      b.server.on('connection', () => b.connections++);
      await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
      b.port = (b.server.address() as AddressInfo).port;
      backends.push(b);
    }
    balancer = new TcpBalancer({
      host: '127.0.0.1',
      port: 0,
      backends: backends.map((b) => ({ host: '127.0.0.1', port: b.port })),
      caPem: ca.certPem,
      logger: silentLogger(),
      intervalMs: 25,
      timeoutMs: 500,
      fall: 2,
      rise: 2,
    });
    await balancer.listen();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await balancer.close();
    for (const b of backends) {
      b.server.closeAllConnections();
      await new Promise<void>((r) => b.server.close(() => r()));
    }
  });

  /** a client connection through the balancer, and the backend it reached */
  const client = async (): Promise<{ socket: Socket; backend: Backend; closed: () => boolean }> => {
    const before = backends.map((b) => b.connections);
    const socket = connect({ host: '127.0.0.1', port: balancer.port });
    clients.push(socket);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await expect.poll(() => backends.some((b, i) => b.connections > before[i])).toBe(true);
    const backend = backends.find((b, i) => b.connections > before[i])!;
    return { socket, backend, closed: () => closed };
  };
  const upStates = (): boolean[] => balancer.view().map((v) => v.up);

  it('cuts them while another apiserver is up to reconnect to', async () => {
    const c = await client();
    c.backend.ready = false;
    await expect.poll(c.closed).toBe(true);
    c.backend.ready = true;
    await expect.poll(upStates).toEqual([true, true]);
  });

  it('keeps them while no apiserver is ready (storage without quorum), and cuts them once another is', async () => {
    const c = await client();
    for (const b of backends) b.ready = false;
    await expect.poll(upStates).toEqual([false, false]);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.closed()).toBe(false);
    // the other apiserver comes back: the client can move now
    backends.find((b) => b !== c.backend)!.ready = true;
    await expect.poll(c.closed).toBe(true);
    c.backend.ready = true;
    await expect.poll(upStates).toEqual([true, true]);
  });
});
