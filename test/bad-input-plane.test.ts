// Integration, issue #17's data-plane items: clients that hold connections and never finish, against the real
// ingress gateway and cluster DNS processes (a real apiserver behind them). Idle sockets must be closed as nginx and
// CoreDNS close them, a connection cap or the open-file limit must refuse (with a log line) instead of crashing, and
// a DNS client that sends and never reads must be stopped rather than buffered for.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordType, encodeQuery, tcpFramed } from '../src/dns/wire.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { tcpDnsQuery } from './helpers/dns.js';
import { waitForLogLine } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

const HOST = '127.0.0.1';
let server: ApiServerProcess;
const started: Proc[] = [];

interface Proc {
  child: ChildProcess;
  logs(): string;
}

/** a component from dist/, optionally under a wrapper (prlimit); its JSON log lines on stderr */
function start(component: string, args: string[], wrapper: string[] = []): Proc {
  let logs = '';
  const argv = [
    process.execPath,
    join(DIST, 'cmd', `${component}.js`),
    '--kubeconfig',
    server.kubeconfig,
    ...args,
  ];
  const [cmd, ...rest] = [...wrapper, ...argv];
  const child = spawn(cmd, rest, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
  });
  child.stderr.on('data', (c: Buffer) => {
    logs += c.toString();
    if (logs.length > 400_000) logs = logs.slice(-200_000);
  });
  const proc = { child, logs: () => logs };
  started.push(proc);
  return proc;
}

const alive = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null;

async function startIngress(
  args: string[],
  wrapper: string[] = [],
): Promise<{ proc: Proc; http: number; https: number }> {
  const proc = start(
    'ingress',
    ['--http', `${HOST}:0`, '--https', `${HOST}:0`, '--metrics-port', 'off', ...args],
    wrapper,
  );
  const ready = await waitForLogLine<{ http: { port: number }; https: { port: number } }>(
    proc,
    'ingress gateway ready',
    30_000,
  );
  return { proc, http: ready.http.port, https: ready.https.port };
}

/** GET / on the gateway: with no Ingress at all, its default backend answers 404 */
function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: HOST, port, path: '/', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('GET timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** a TCP connection that is open once connected, and records when it is closed */
interface Held {
  socket: Socket;
  closed: boolean;
}
function hold(port: number, send?: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: HOST, port });
    const held: Held = { socket, closed: false };
    socket.on('error', () => {});
    socket.once('close', () => (held.closed = true));
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve(held);
    });
    socket.once('error', reject);
  });
}

async function holdMany(port: number, n: number, send?: string): Promise<Held[]> {
  const out: Held[] = [];
  // in batches: the accept queue is finite, and a connection refused is not what is tested here
  for (let i = 0; i < n; i += 200)
    out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => hold(port, send)))));
  return out;
}

/** an HTTP/1.1 keep-alive connection that made one request and then stays idle */
function keptAlive(port: number, tls: boolean): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = tls
      ? tlsConnect({
          host: HOST,
          port,
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
          servername: 'a.example',
        })
      : netConnect({ host: HOST, port });
    const held: Held = { socket, closed: false };
    socket.on('error', () => {});
    socket.once('close', () => (held.closed = true));
    let got = '';
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      // the 404 page came whole: the connection is now idle, kept alive
      if (got.includes('</html>')) resolve(held);
    });
    socket.once(tls ? 'secureConnect' : 'connect', () =>
      socket.write('GET / HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n'),
    );
    socket.once('error', reject);
  });
}

/** an HTTP/2 session, after one request (or none), left idle */
async function h2Session(
  port: number,
  request: boolean,
): Promise<{ session: ClientHttp2Session; closed: boolean }> {
  const session = http2Connect(`https://${HOST}:${port}`, {
    rejectUnauthorized: false,
    servername: 'a.example',
  });
  const held = { session, closed: false };
  session.on('error', () => {});
  session.once('close', () => (held.closed = true));
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  if (request) {
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':path': '/', ':authority': 'a.example' });
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', reject);
      stream.resume();
      stream.end();
    });
    expect(status).toBe(404);
  }
  return held;
}

beforeAll(async () => {
  server = await startApiServer();
}, 60_000);

afterAll(async () => {
  for (const p of started) if (alive(p)) p.child.kill('SIGKILL');
  await server?.cleanup();
});

describe('ingress gateway: idle clients and the open-file limit', () => {
  it('closes 2,000 idle connections, slow headers, idle keep-alive and HTTP/2 sessions (short timeouts), and still serves', async () => {
    const { proc, http, https } = await startIngress(['--client-header-timeout', '1s', '--keep-alive', '1s']);
    const idle = await holdMany(http, 2000);
    // slowloris: a request header that never ends
    const slow = await holdMany(http, 50, 'GET / HTTP/1.1\r\nHost: a.example\r\n');
    // TLS done, then nothing: neither a request nor a preface
    const tlsIdle = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<Held>((resolve, reject) => {
            const socket = tlsConnect({
              host: HOST,
              port: https,
              rejectUnauthorized: false,
              ALPNProtocols: ['http/1.1'],
            });
            const held: Held = { socket, closed: false };
            socket.on('error', () => {});
            socket.once('close', () => (held.closed = true));
            socket.once('secureConnect', () => resolve(held));
            socket.once('error', reject);
          }),
      ),
    );
    const keptHttp = await Promise.all(Array.from({ length: 20 }, () => keptAlive(http, false)));
    const keptTls = await Promise.all(Array.from({ length: 20 }, () => keptAlive(https, true)));
    const h2 = await Promise.all(Array.from({ length: 30 }, (_, i) => h2Session(https, i % 3 !== 0)));

    const open = (): string[] => {
      const left: string[] = [];
      const count = (what: string, list: { closed: boolean }[]): void => {
        const n = list.filter((h) => !h.closed).length;
        if (n) left.push(`${n} ${what}`);
      };
      count('idle TCP', idle);
      count('slow-header', slow);
      count('idle TLS', tlsIdle);
      count('kept-alive HTTP/1', keptHttp);
      count('kept-alive HTTP/1 over TLS', keptTls);
      count('HTTP/2', h2);
      return left;
    };
    try {
      await waitFor(
        'the gateway to close every idle client',
        () => Promise.resolve(open().length === 0),
        45_000,
        250,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; still open: ${open().join(', ')}`);
    }
    expect(alive(proc)).toBe(true);
    expect(await get(http)).toBe(404);
  });

  it('past --max-connections it refuses new connections with a warning, and serves again once they go', async () => {
    // the default client-header-timeout (60 s): the gateway itself closes nothing in this test but what the cap refuses
    const { proc, http } = await startIngress(['--max-connections', '50']);
    const held = await holdMany(http, 200);
    await waitFor('150 of 200 connections to be refused', () =>
      Promise.resolve(held.filter((h) => h.closed).length >= 150),
    );
    expect(proc.logs()).toContain('connection limit reached: refusing new client connections');
    for (const h of held) h.socket.destroy();
    expect(await waitFor('the gateway to serve again', () => get(http).catch(() => undefined))).toBe(404);
    expect(alive(proc)).toBe(true);
  });

  it('under a low open-file limit the default cap stays below it: refuses with a warning, stays up, serves again', async () => {
    // 1,024 descriptors: 256 kept for the rest, half of what is left for clients (each may need one to a backend)
    const { proc, http } = await startIngress([], ['prlimit', '--nofile=1024:1024', '--']);
    expect(proc.logs()).toContain('"maxConnections":384');
    const held = await holdMany(http, 600);
    await waitFor('216 of 600 connections to be refused', () =>
      Promise.resolve(held.filter((h) => h.closed).length >= 216),
    );
    expect(proc.logs()).toContain('connection limit reached: refusing new client connections');
    expect(alive(proc)).toBe(true);
    for (const h of held) h.socket.destroy();
    expect(await waitFor('the gateway to serve again', () => get(http).catch(() => undefined))).toBe(404);
  });

  it('warns at start when --max-connections is above what the open-file limit allows', async () => {
    const { proc, http } = await startIngress(
      ['--max-connections', '100000'],
      ['prlimit', '--nofile=1024:1024', '--'],
    );
    expect(proc.logs()).toContain('the connection cap is above what the open-file limit leaves room for');
    expect(await get(http)).toBe(404);
  });
});

describe('cluster DNS over TCP: a client that never reads', () => {
  let dns: Proc;
  let port: number;

  beforeAll(async () => {
    dns = start('dns', [
      '--listen',
      `${HOST}:0`,
      '--read-timeout',
      '1s',
      '--write-timeout',
      '1s',
      '--idle-timeout',
      '2s',
    ]);
    port = await waitFor('the DNS server to listen', () => {
      if (!alive(dns)) throw new Error(`dns exited: ${dns.logs()}`);
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(dns.logs());
      return Promise.resolve(m ? Number(m[1]) : undefined);
    });
  });

  /** one query over TCP, answered */
  const answered = async (): Promise<number> =>
    (await tcpDnsQuery(HOST, port, 'kubernetes.default.svc.cluster.local', RecordType.A)).answers.length;

  it('is stopped by backpressure and closed after the write timeout, and the server keeps answering', async () => {
    const LIMIT = 32 * 1024 * 1024;
    const query = encodeQuery(0x4242, 'kubernetes.default.svc.cluster.local', RecordType.A);
    const frame = tcpFramed(query);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
    const sock = netConnect({ host: HOST, port });
    sock.pause(); // never reads a byte of the answers
    let closed = false;
    sock.on('error', () => {});
    const gone = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    void gone.then(() => (closed = true));
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    // send as fast as the server takes them, up to 32 MiB, or until the connection is closed
    let sent = 0;
    while (!closed && sent < LIMIT) {
      if (!sock.write(batch)) await Promise.race([new Promise((r) => sock.once('drain', r)), gone]);
      sent += batch.length;
    }
    // the server stopped reading long before 32 MiB of queries (its answers would be ~2.5x that in its memory) ...
    expect(sent).toBeLessThan(LIMIT);
    // ... and closed the connection
    await gone;
    expect(closed).toBe(true);
    expect(alive(dns)).toBe(true);
    expect(await answered()).toBe(1);
  });

  it('a connection that sends half a query and stops is closed after the read timeout', async () => {
    const held = await hold(port, '\x00');
    await waitFor('the half-query connection to be closed', () => Promise.resolve(held.closed), 20_000);
    expect(await answered()).toBe(1);
  });
});
