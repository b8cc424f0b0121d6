// Benchmark of what idle and never-reading clients cost the data plane (issue #17): the cluster DNS process's memory
// while one TCP client sends queries and never reads an answer, and the ingress gateway's memory while 2,000 idle
// connections are held, and how many are still open once its timeouts have passed. Reported, never asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordType, encodeQuery, tcpFramed } from '../dns/wire.js';
import { writeKubeconfig } from '../util/kubeconfig.js';
import { rssMb, startBenchApiServer } from './apiserver-process.js';
import { pollUntil } from './poll.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
/** how long the never-reading DNS client keeps sending, unless it is stopped first */
const DNS_CLIENT_MS = 10_000;
const IDLE_CONNECTIONS = 2_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** a component from dist/ and the first match of `ready` in its log */
async function startComponent(
  component: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  let logs = '';
  const child = spawn(process.execPath, [join(DIST, 'cmd', `${component}.js`), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
  });
  child.stderr.on('data', (c: Buffer) => {
    if (logs.length < 100_000) logs += c.toString();
  });
  const match = await pollUntil(
    `${component} to start`,
    20_000,
    () => {
      if (child.exitCode !== null) throw new Error(`${component} exited: ${logs.slice(-2000)}`);
      return Promise.resolve(ready.exec(logs) ?? undefined);
    },
    50,
  );
  return { child, match };
}

/** one client that writes batches of queries as fast as the server takes them and never reads */
async function neverReadingClient(port: number): Promise<{ sentMb: number; closedByServer: boolean }> {
  const query = encodeQuery(1, 'kubernetes.default.svc.cluster.local', RecordType.A);
  const frame = tcpFramed(query);
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  const sock = connect({ host: HOST, port });
  sock.pause();
  sock.on('error', () => {});
  let closed = false;
  sock.once('close', () => (closed = true));
  await new Promise((r) => sock.once('connect', r));
  const started = Date.now();
  let sent = 0;
  while (!closed && Date.now() - started < DNS_CLIENT_MS) {
    if (!sock.write(batch)) {
      const drained = new Promise((r) => sock.once('drain', r));
      await Promise.race([drained, sleep(250)]);
      sock.removeAllListeners('drain');
    }
    sent += batch.length;
  }
  sock.destroy();
  return { sentMb: sent / 1024 / 1024, closedByServer: closed };
}

registerSuite('data-plane', async (): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  const apiserver = await startBenchApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-plane-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, {
    name: 'bench',
    server: apiserver.url,
    caPem: apiserver.ca,
    token: apiserver.token,
    setCurrent: true,
  });
  const children: ChildProcess[] = [];
  try {
    const dns = await startComponent(
      'dns',
      ['--kubeconfig', kubeconfig, '--listen', `${HOST}:0`],
      /"listen":"127\.0\.0\.1:(\d+)"/,
    );
    children.push(dns.child);
    const before = rssMb(dns.child.pid!);
    const client = await neverReadingClient(Number(dns.match[1]));
    results.push(
      {
        name: `DNS RSS growth, a TCP client that sends for ${DNS_CLIENT_MS / 1000} s and never reads`,
        value: rssMb(dns.child.pid!) - before,
        unit: 'MB',
        target: { op: '<=', value: 32 },
        note: `queries taken before it was stopped: ${client.sentMb.toFixed(1)} MiB; closed by the server: ${client.closedByServer ? 'yes' : 'no'} (before the fix: 66 → 383 MB in 20 s, never closed)`,
      },
      { name: 'DNS: queries read from a client that never reads', value: client.sentMb, unit: 'MiB' },
    );

    const ingress = await startComponent(
      'ingress',
      [
        '--kubeconfig',
        kubeconfig,
        '--http',
        `${HOST}:0`,
        '--https',
        'off',
        '--metrics-port',
        'off',
        '--client-header-timeout',
        '2s',
      ],
      /"http":\{"host":"[^"]+","port":(\d+)\}/,
    );
    children.push(ingress.child);
    const port = Number(ingress.match[1]);
    const idleBefore = rssMb(ingress.child.pid!);
    const sockets: { socket: Socket; closed: boolean }[] = [];
    for (let i = 0; i < IDLE_CONNECTIONS; i++) {
      const socket = connect({ host: HOST, port });
      const held = { socket, closed: false };
      socket.on('error', () => {});
      socket.once('close', () => (held.closed = true));
      sockets.push(held);
      if (i % 200 === 199) await sleep(20);
    }
    await sleep(1_000);
    const idleRss = rssMb(ingress.child.pid!) - idleBefore;
    // the header timeout is 2 s here: give it that and a little more
    await sleep(3_000);
    const stillOpen = sockets.filter((s) => !s.closed).length;
    for (const s of sockets) s.socket.destroy();
    results.push(
      {
        name: `ingress RSS growth with ${IDLE_CONNECTIONS} idle connections`,
        value: idleRss,
        unit: 'MB',
      },
      {
        name: `ingress: idle connections still open 2 s after --client-header-timeout 2s`,
        value: stillOpen,
        unit: 'connections',
        target: { op: '<=', value: 0 },
        note: 'before the fix none was ever closed',
      },
    );
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await apiserver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
});
