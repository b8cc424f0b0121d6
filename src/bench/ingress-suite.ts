// Benchmark of the ingress gateway: requests/s and p99 through TLS termination, against Debian's nginx doing the
// same job (1 worker, TLS, keep-alive proxy_pass to the same backend), measured by the same load generator.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectKubeClient } from '../client/index.js';
import { createCertificateAuthority, issueCertificate } from '../util/pki.js';
import { writeKubeconfig } from '../util/kubeconfig.js';
import { percentile, startBenchApiServer } from './apiserver-process.js';
import { closedLoop, type LoadStats } from './load.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { stopChild } from '../util/stop-child.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = 'bench.example';
const BACKEND_IP = '127.244.9.41';
const BACKEND_PORT = 8080;
const GATEWAY_IP = '127.0.3.41';
const NGINX_IP = '127.0.3.42';
const CONNECTIONS = 32;
const WARMUP_MS = 1_000;
/** rounds of gateway-then-nginx (order alternating): this machine's throughput drifts by ±15 % between runs */
const ROUNDS = 5;
const ROUND_MS = 2_000;

const BACKEND_SCRIPT = `
const http = require('node:http');
const body = Buffer.from('hello from the bench backend\\n');
http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body)); })
  .listen(${BACKEND_PORT}, '${BACKEND_IP}', () => process.send && process.send('ready'));
`;

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  return child ? stopChild(child) : Promise.resolve();
}

/**
 * CONNECTIONS closed-loop keep-alive HTTPS clients for `ms`, after a warm-up of WARMUP_MS unless `warm`.
 */
async function load(port: number, ip: string, ca: string, ms: number, warm: boolean): Promise<LoadStats> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, ca, servername: HOST });
  const send = (): ClientRequest =>
    request({ host: ip, port, path: '/', agent, headers: { host: HOST }, servername: HOST, ca }).end();
  try {
    if (!warm) await closedLoop(CONNECTIONS, WARMUP_MS, send);
    return await closedLoop(CONNECTIONS, ms, send);
  } finally {
    agent.destroy();
  }
}

/** Debian's nginx, installing it when missing; undefined (with the reason) when it cannot be had */
function findNginx(): { bin?: string; note?: string } {
  const have = (): string | undefined => ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (have()) return { bin: have()! };
  const apt = (args: string[]): boolean =>
    spawnSync('apt-get', args, {
      stdio: 'ignore',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  for (const pkg of ['nginx-light', 'nginx']) {
    if (apt(['install', '-y', '--no-install-recommends', pkg]) && have()) return { bin: have()! };
  }
  apt(['update']);
  for (const pkg of ['nginx-light', 'nginx']) {
    if (apt(['install', '-y', '--no-install-recommends', pkg]) && have()) return { bin: have()! };
  }
  return { note: 'nginx is not installed and apt-get could not install it (not root, or no network)' };
}

/**
 * One worker, two identical servers but for the access log: on `port` buffered as the gateway's is (16 KiB or
 * 100 ms, the like-for-like comparison), on `stockPort` a write per request as Debian ships it.
 */
function nginxConfig(dir: string, port: number, stockPort: number): string {
  const server = (listen: number, accessLog: string): string => `
  server {
    listen ${NGINX_IP}:${listen} ssl http2;
    server_name ${HOST};
    ssl_certificate ${dir}/tls.crt;
    ssl_certificate_key ${dir}/tls.key;
    access_log ${accessLog};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Request-ID $request_id;
    }
  }`;
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend { server ${BACKEND_IP}:${BACKEND_PORT}; keepalive 64; }${server(port, `${dir}/access.log combined buffer=16k flush=100ms`)}${server(stockPort, `${dir}/access-stock.log`)}
}
`;
}

async function waitForTls(ip: string, port: number, ca: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(
        { host: ip, port, path: '/', headers: { host: HOST }, servername: HOST, ca, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${ip}:${port} did not serve ${HOST} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

registerSuite('ingress', async (): Promise<BenchResult[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-ingress-'));
  const children: (ChildProcess | undefined)[] = [];
  const apiserver = await startBenchApiServer();
  const { client, connection } = connectKubeClient({
    server: apiserver.url,
    token: apiserver.token,
    ca: apiserver.ca,
  });
  try {
    const backend = spawn(process.execPath, ['-e', BACKEND_SCRIPT], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(backend);
    await new Promise<void>((resolve, reject) => {
      backend.once('message', () => resolve());
      backend.once('exit', (code) => reject(new Error(`bench backend exited with ${code}`)));
    });

    const ca = await createCertificateAuthority('ingress-bench-ca');
    const pair = await issueCertificate(ca, { commonName: HOST, hosts: [HOST] });
    writeFileSync(join(dir, 'tls.crt'), pair.certPem);
    writeFileSync(join(dir, 'tls.key'), pair.keyPem, { mode: 0o600 });

    await client.services.create({
      metadata: { name: 'bench', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT }] },
    });
    await client.endpointSlices.create({
      metadata: { name: 'bench-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: BACKEND_PORT, protocol: 'TCP' }],
      endpoints: [{ addresses: [BACKEND_IP], conditions: { ready: true } }],
    });
    await client.secrets.create({
      metadata: { name: 'bench-tls', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(pair.certPem).toString('base64'),
        'tls.key': Buffer.from(pair.keyPem).toString('base64'),
      },
    });
    await client.ingresses.create({
      metadata: { name: 'bench', namespace: 'default' },
      spec: {
        tls: [{ hosts: [HOST], secretName: 'bench-tls' }],
        rules: [
          {
            host: HOST,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'bench', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });

    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, {
      name: 'bench',
      server: apiserver.url,
      caPem: apiserver.ca,
      token: apiserver.token,
      setCurrent: true,
    });
    const gatewayPort = await freePort(GATEWAY_IP);
    // access logs on, as nginx's: both write one line per request
    const gateway = spawn(
      process.execPath,
      [
        join(DIST, 'cmd/ingress.js'),
        '--kubeconfig',
        kubeconfig,
        '--http',
        'off',
        '--https',
        `${GATEWAY_IP}:${gatewayPort}`,
        '--metrics-port',
        'off',
      ],
      {
        stdio: ['ignore', 'ignore', openSync(join(dir, 'gateway.log'), 'w')],
        env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
      },
    );
    children.push(gateway);
    await waitForTls(GATEWAY_IP, gatewayPort, ca.certPem).catch((err: unknown) => {
      const log = readFileSync(join(dir, 'gateway.log'), 'utf8').slice(-2000);
      throw new Error(`${String(err)}; gateway log: ${log}`, { cause: err });
    });
    const nginx = findNginx();
    let nginxPort: number | undefined;
    let stockPort: number | undefined;
    if (nginx.bin) {
      nginxPort = await freePort(NGINX_IP);
      stockPort = await freePort(NGINX_IP);
      writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, stockPort));
      const nginxProc = spawn(nginx.bin, ['-c', join(dir, 'nginx.conf'), '-p', dir], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(nginxProc);
      await waitForTls(NGINX_IP, nginxPort, ca.certPem);
    }

    // Both serve side by side; each round loads one then the other, the order alternating, and the ratio is
    // taken per round: on this machine the same server's throughput drifts by ±15 % from one run to the next.
    const gatewayRuns: LoadStats[] = [];
    const nginxRuns: LoadStats[] = [];
    const stockRuns: LoadStats[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = ['gateway', 'nginx', 'stock'];
      if (round % 2 === 1) order.reverse();
      for (const which of order) {
        const warm = round > 0;
        if (which === 'gateway')
          gatewayRuns.push(await load(gatewayPort, GATEWAY_IP, ca.certPem, ROUND_MS, warm));
        else if (which === 'nginx' && nginxPort !== undefined)
          nginxRuns.push(await load(nginxPort, NGINX_IP, ca.certPem, ROUND_MS, warm));
        else if (which === 'stock' && stockPort !== undefined)
          stockRuns.push(await load(stockPort, NGINX_IP, ca.certPem, ROUND_MS, warm));
      }
    }
    const med = (xs: number[]): number =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const errors = (runs: LoadStats[]): number => runs.reduce((n, r) => n + r.errors, 0);
    const setup = `${CONNECTIONS} keep-alive connections; median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s`;
    const results: BenchResult[] = [
      {
        name: 'ingress gateway TLS requests/s',
        value: med(gatewayRuns.map((r) => r.rps)),
        unit: 'req/s',
        note: `${setup}, ${errors(gatewayRuns)} errors`,
      },
      { name: 'ingress gateway TLS p99', value: med(gatewayRuns.map((r) => r.p99Ms)), unit: 'ms' },
    ];
    if (!nginx.bin) {
      results.push({ name: 'nginx comparison', value: NaN, unit: '', note: `skipped: ${nginx.note}` });
      return results;
    }
    const ratios = gatewayRuns.map((g, i) => g.rps / nginxRuns[i].rps);
    const p99Ratios = gatewayRuns.map((g, i) => g.p99Ms / nginxRuns[i].p99Ms);
    const stockRatios = gatewayRuns.map((g, i) => g.rps / stockRuns[i].rps);
    const range = (xs: number[]): string =>
      `rounds ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    results.push(
      {
        name: 'nginx (1 worker) TLS requests/s',
        value: med(nginxRuns.map((r) => r.rps)),
        unit: 'req/s',
        note: `${setup}, ${errors(nginxRuns)} errors; access log buffered as the gateway's (16 KiB / 100 ms)`,
      },
      { name: 'nginx (1 worker) TLS p99', value: med(nginxRuns.map((r) => r.p99Ms)), unit: 'ms' },
      {
        name: 'gateway/nginx throughput ratio',
        value: med(ratios),
        unit: 'x',
        target: { op: '>=', value: 0.8 },
        note: `median of per-round ratios; ${range(ratios)}`,
      },
      {
        name: 'gateway/nginx p99 ratio',
        value: med(p99Ratios),
        unit: 'x',
        target: { op: '<=', value: 1.5 },
        note: `median of per-round ratios; ${range(p99Ratios)}`,
      },
      {
        name: 'nginx, stock access log: TLS requests/s',
        value: med(stockRuns.map((r) => r.rps)),
        unit: 'req/s',
        note: `one write per request, as Debian ships it; ${errors(stockRuns)} errors`,
      },
      {
        name: 'gateway/nginx-stock-log throughput ratio',
        value: med(stockRatios),
        unit: 'x',
        note: `for reference, not the target (its logging is not the gateway's); ${range(stockRatios)}`,
      },
    );
    return results;
  } finally {
    for (const c of children) await stop(c);
    await connection.close();
    await apiserver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
