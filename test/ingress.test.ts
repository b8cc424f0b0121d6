// Integration: a real apiserver and the ingress gateway process; backends are small HTTP/WebSocket servers the test
// runs on pod-like IPs (127.244.9.x), published through Services and EndpointSlices the test writes itself.
import {
  createServer,
  request as httpRequest,
  Agent,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../src/util/pki.js';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { waitFor } from './helpers/wait.js';
import { apiClient, type Api } from './helpers/http.js';
import { startComponent, waitForLogLine, type ComponentProcess } from './helpers/process.js';

const GATEWAY_IP = '127.0.3.1';
const NS = 'default';
/** service name → backend IP; 127.244.9.x is this file's own corner of the pod range */
const BACKENDS: Record<string, string> = {
  sales: '127.244.9.11',
  users: '127.244.9.12',
  catchall: '127.244.9.13',
  api: '127.244.9.14',
  secure: '127.244.9.15',
  other: '127.244.9.16',
  echo: '127.244.9.17',
  alt: '127.244.9.18',
};
const BACKEND_PORT = 8080;
const DEAD_IP = '127.244.9.19';

let server: ApiServerProcess;
let api: Api;
let ingress: ComponentProcess;
let ports: { http: number; https: number; metrics: number };
let ca: CertificateAuthority;
const backends: Server[] = [];

interface Echo {
  backend: string;
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
}

async function startBackend(name: string, ip: string): Promise<void> {
  const srv = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body: Echo = {
        backend: name,
        path: req.url ?? '',
        method: req.method ?? '',
        headers: req.headers,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...body, bytes }));
    });
  });
  if (name === 'echo') {
    const wss = new WebSocketServer({ server: srv });
    wss.on('connection', (ws) =>
      ws.on('message', (m, isBinary) => ws.send(isBinary ? m : `echo:${(m as Buffer).toString()}`)),
    );
  }
  await new Promise<void>((resolve) => srv.listen(BACKEND_PORT, ip, resolve));
  backends.push(srv);
}

async function publish(name: string, ips: string[], port = BACKEND_PORT): Promise<void> {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { ports: [{ name: 'web', port: 80, targetPort: port }] },
  };
  const r = await api('POST', `/api/v1/namespaces/${NS}/services`, svc);
  if (r.status !== 201 && r.status !== 409) throw new Error(`service ${name}: ${r.text}`);
  await putSlice(name, ips, port);
}

async function putSlice(name: string, ips: string[], port = BACKEND_PORT): Promise<void> {
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-slice`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'web', port, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
  const path = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;
  const r = await api('POST', path, slice);
  if (r.status === 409) {
    const cur = await api('GET', `${path}/${name}-slice`);
    const u = await api('PUT', `${path}/${name}-slice`, { ...slice, metadata: cur.body.metadata });
    if (u.status !== 200) throw new Error(`slice ${name}: ${u.text}`);
  } else if (r.status !== 201) throw new Error(`slice ${name}: ${r.text}`);
}

const backendRef = (service: string) => ({ service: { name: service, port: { number: 80 } } });
const prefix = (path: string, service: string) => ({
  path,
  pathType: 'Prefix',
  backend: backendRef(service),
});

async function applyIngress(
  name: string,
  spec: object,
  annotations: Record<string, string> = {},
): Promise<void> {
  const path = `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`;
  const obj = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations },
    spec,
  };
  const r = await api('POST', path, obj);
  if (r.status === 409) {
    const cur = await api('GET', `${path}/${name}`);
    const u = await api('PUT', `${path}/${name}`, {
      ...obj,
      metadata: { ...cur.body.metadata, annotations },
    });
    if (u.status !== 200) throw new Error(`ingress ${name}: ${u.text}`);
  } else if (r.status !== 201) throw new Error(`ingress ${name}: ${r.text}`);
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: (Echo & { bytes: number }) | undefined;
}

function get(
  host: string,
  path: string,
  opts: { method?: string; body?: Buffer; agent?: Agent; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: GATEWAY_IP,
        port: ports.http,
        path,
        method: opts.method ?? 'GET',
        headers: { host, ...opts.headers },
        agent: opts.agent ?? false,
        timeout: 10_000,
      },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path}: timeout`)));
    req.end(opts.body);
  });
}

function collect(res: import('node:http').IncomingMessage, resolve: (r: Reply) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    let json: Reply['json'];
    try {
      json = JSON.parse(text) as Reply['json'];
    } catch {
      json = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
  });
}

function getTls(
  host: string,
  path: string,
  trust: string | undefined,
): Promise<Reply & { peerCN: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: GATEWAY_IP,
        port: ports.https,
        servername: host,
        path,
        headers: { host },
        agent: false,
        ...(trust ? { ca: trust } : { rejectUnauthorized: false }),
        timeout: 10_000,
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const peerCN = String(sock.getPeerCertificate().subject?.CN ?? '');
        const authorized = sock.authorized;
        collect(res, (r) => resolve({ ...r, peerCN, authorized }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** polls as waitFor does, every 50 ms */
function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  return waitFor(what, async () => fn(), ms, 50);
}

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  ca = await createCertificateAuthority('ingress-test-ca');
  for (const [name, ip] of Object.entries(BACKENDS)) await startBackend(name, ip);
  for (const [name, ip] of Object.entries(BACKENDS)) await publish(name, [ip]);
  ingress = startComponent(
    'ingress',
    [
      '--kubeconfig',
      server.kubeconfig,
      '--http',
      `${GATEWAY_IP}:0`,
      '--https',
      `${GATEWAY_IP}:0`,
      '--metrics-port',
      '0',
    ],
    { KUBEMU_LOG_LEVEL: 'info' },
  );
  const ready = await waitForLogLine<{
    http: { port: number };
    https: { port: number };
    metricsPort: number;
  }>(ingress, 'ingress gateway ready');
  ports = { http: ready.http.port, https: ready.https.port, metrics: ready.metricsPort };
}, 60_000);

afterAll(async () => {
  await ingress?.stop();
  for (const b of backends) b.closeAllConnections();
  await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
  await server?.cleanup();
});

describe('ingress gateway', () => {
  it('creates the default IngressClass kubemu', async () => {
    const r = await api('GET', '/apis/networking.k8s.io/v1/ingressclasses/kubemu');
    expect(r.status).toBe(200);
    expect(r.body.spec.controller).toBe('kubemu.dev/ingress');
    expect(r.body.metadata.annotations['ingressclass.kubernetes.io/is-default-class']).toBe('true');
  });

  it('routes /sales, /users, a host rule, 404 without a catch-all, then the catch-all', async () => {
    await applyIngress('shop', {
      rules: [
        { http: { paths: [prefix('/sales', 'sales'), prefix('/users', 'users')] } },
        { host: 'api.shop.example', http: { paths: [prefix('/', 'api')] } },
      ],
    });
    await until('sales routed', async () =>
      (await get('shop.example', '/sales')).json?.backend === 'sales' ? true : undefined,
    );
    expect((await get('shop.example', '/users/7')).json?.backend).toBe('users');
    expect((await get('api.shop.example', '/sales')).json?.backend).toBe('api');
    const notFound = await get('shop.example', '/elsewhere');
    expect(notFound.status).toBe(404);
    expect(notFound.text).toContain('404 Not Found');
    expect((await get('shop.example', '/salesforce')).status).toBe(404);

    await applyIngress('shop', {
      defaultBackend: backendRef('catchall'),
      rules: [
        { http: { paths: [prefix('/sales', 'sales'), prefix('/users', 'users')] } },
        { host: 'api.shop.example', http: { paths: [prefix('/', 'api')] } },
      ],
    });
    await until(
      'catch-all',
      async () => ((await get('shop.example', '/elsewhere')).json?.backend === 'catchall' ? true : undefined),
      2_000,
    );
    expect((await get('unknown.example', '/')).json?.backend).toBe('catchall');
    expect((await get('shop.example', '/sales/q?x=1')).json?.path).toBe('/sales/q?x=1');
  });

  it('sets forwarding headers and writes the status address', async () => {
    const r = await get('shop.example', '/sales', { headers: { 'x-request-id': 'abc123' } });
    expect(r.json?.headers).toMatchObject({
      host: 'shop.example',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-port': String(ports.http),
      'x-forwarded-for': '127.0.0.1',
      'x-real-ip': '127.0.0.1',
      'x-request-id': 'abc123',
    });
    expect((await get('shop.example', '/sales')).json?.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const ing = await until('status', async () => {
      const g = await api('GET', `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/shop`);
      return g.body.status?.loadBalancer?.ingress?.length ? g.body : undefined;
    });
    expect(ing.status.loadBalancer.ingress).toEqual([{ ip: GATEWAY_IP }]);
  });

  it('ignores Ingresses of other classes', async () => {
    await applyIngress('foreign', {
      ingressClassName: 'nginx',
      rules: [{ host: 'foreign.example', http: { paths: [prefix('/', 'other')] } }],
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await get('foreign.example', '/')).json?.backend).toBe('catchall');
  });

  it('terminates TLS with certificates chosen by SNI, redirects HTTP with 308, speaks HTTP/2', async () => {
    const secret = async (name: string, host: string): Promise<void> => {
      const pair = await issueCertificate(ca, { commonName: host, hosts: [host] });
      const r = await api('POST', `/api/v1/namespaces/${NS}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: NS },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from(pair.certPem).toString('base64'),
          'tls.key': Buffer.from(pair.keyPem).toString('base64'),
        },
      });
      expect(r.status).toBe(201);
    };
    await secret('a-tls', 'a.shop.example');
    await secret('b-tls', 'b.shop.example');
    await applyIngress('secure', {
      tls: [
        { hosts: ['a.shop.example'], secretName: 'a-tls' },
        { hosts: ['b.shop.example'], secretName: 'b-tls' },
      ],
      rules: [
        { host: 'a.shop.example', http: { paths: [prefix('/', 'secure')] } },
        { host: 'b.shop.example', http: { paths: [prefix('/', 'other')] } },
      ],
    });
    const a = await until('a over TLS', async () => {
      const r = await getTls('a.shop.example', '/x', ca.certPem);
      return r.json?.backend === 'secure' ? r : undefined;
    });
    expect(a.peerCN).toBe('a.shop.example');
    expect(a.authorized).toBe(true);
    expect(a.json?.headers['x-forwarded-proto']).toBe('https');
    const b = await getTls('b.shop.example', '/', ca.certPem);
    expect(b.peerCN).toBe('b.shop.example');
    expect(b.json?.backend).toBe('other');
    // an unknown name gets the fake default certificate, which the test CA does not trust
    const unknown = await getTls('nobody.example', '/', undefined);
    expect(unknown.peerCN).toBe('Kubernetes Ingress Controller Fake Certificate');
    await expect(getTls('nobody.example', '/', ca.certPem)).rejects.toThrow();

    const redirect = await get('a.shop.example', '/cart?id=1');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://a.shop.example:${ports.https}/cart?id=1`);
    await applyIngress(
      'secure',
      {
        tls: [{ hosts: ['a.shop.example'], secretName: 'a-tls' }],
        rules: [{ host: 'a.shop.example', http: { paths: [prefix('/', 'secure')] } }],
      },
      { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
    );
    await until(
      'redirect off',
      async () => ((await get('a.shop.example', '/')).status === 200 ? true : undefined),
      2_000,
    );

    // HTTP/2 via ALPN on the SNI-selected certificate
    const session = http2Connect(`https://${GATEWAY_IP}:${ports.https}`, {
      ca: ca.certPem,
      servername: 'a.shop.example',
    });
    try {
      const h2 = await new Promise<{ status: number; body: string; alpn: string | false }>(
        (resolve, reject) => {
          const stream = session.request({ ':path': '/h2', ':authority': 'a.shop.example' });
          let status = 0;
          let body = '';
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (c: Buffer) => (body += c.toString()));
          stream.on('end', () => resolve({ status, body, alpn: session.alpnProtocol ?? false }));
          stream.on('error', reject);
          stream.end();
        },
      );
      expect(h2.alpn).toBe('h2');
      expect(h2.status).toBe(200);
      expect(JSON.parse(h2.body)).toMatchObject({ backend: 'secure', path: '/h2' });
    } finally {
      session.close();
    }
  });

  it('serves the default certificate and records a Warning Event for a missing Secret', async () => {
    await applyIngress(
      'broken',
      {
        tls: [{ hosts: ['broken.example'], secretName: 'no-such-secret' }],
        rules: [{ host: 'broken.example', http: { paths: [prefix('/', 'other')] } }],
      },
      { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
    );
    const ev = await until('warning event', async () => {
      const r = await api('GET', `/api/v1/namespaces/${NS}/events`);
      return (r.body.items as any[]).find((e) => e.involvedObject?.name === 'broken' && e.type === 'Warning');
    });
    expect(ev.message).toContain('no-such-secret');
    const r = await getTls('broken.example', '/', undefined);
    expect(r.peerCN).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect(r.json?.backend).toBe('other');
  });

  it('proxies a WebSocket echo', async () => {
    await applyIngress('ws', { rules: [{ host: 'ws.example', http: { paths: [prefix('/', 'echo')] } }] });
    await until('ws routed', async () =>
      (await get('ws.example', '/')).json?.backend === 'echo' ? true : undefined,
    );
    const ws = new WebSocket(`ws://${GATEWAY_IP}:${ports.http}/chat`, { headers: { host: 'ws.example' } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve((m as Buffer).toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toBe('echo:hello');
  });

  it('applies a route change under load with no failed request', async () => {
    await applyIngress('load', {
      rules: [{ host: 'load.example', http: { paths: [prefix('/load', 'sales')] } }],
    });
    await until('load routed', async () =>
      (await get('load.example', '/load')).json?.backend === 'sales' ? true : undefined,
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const seen = new Map<string, number>();
    let failed = 0;
    let done = 0;
    const TOTAL = 5_000;
    let switched = false;
    const worker = async (): Promise<void> => {
      while (done < TOTAL) {
        done++;
        try {
          const r = await get('load.example', '/load/item', { agent });
          if (r.status !== 200 || !r.json) failed++;
          else seen.set(r.json.backend, (seen.get(r.json.backend) ?? 0) + 1);
        } catch {
          failed++;
        }
        if (!switched && done > TOTAL / 4) {
          switched = true;
          void applyIngress('load', {
            rules: [{ host: 'load.example', http: { paths: [prefix('/load', 'users')] } }],
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    agent.destroy();
    expect(failed).toBe(0);
    expect(seen.get('sales')).toBeGreaterThan(0);
    expect(seen.get('users')).toBeGreaterThan(0);
    expect((seen.get('sales') ?? 0) + (seen.get('users') ?? 0)).toBeGreaterThanOrEqual(TOTAL);
  }, 60_000);

  it('answers 413 for a body over the limit, passes one under it', async () => {
    // 1 MiB + 1 is just over; the 16 MiB one is still being written when the 413 comes back, and the client must
    // read that 413, not a reset (nginx's lingering close)
    for (const size of [1024 * 1024 + 1, 16 * 1024 * 1024]) {
      const r = await get('shop.example', '/sales', {
        method: 'POST',
        body: Buffer.alloc(size, 'x'),
        headers: { 'content-type': 'text/plain' },
      });
      expect(r.status).toBe(413);
    }
    const big = Buffer.alloc(1024 * 1024 + 1, 'x');
    const r = await get('shop.example', '/sales', {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(413);
    const ok = await get('shop.example', '/sales', { method: 'POST', body: Buffer.alloc(1000, 'y') });
    expect(ok.json?.bytes).toBe(1000);
  });

  it('answers 503 without endpoints, 502 for a dead one, and retries a refused endpoint', async () => {
    await publish('empty', []);
    await publish('dead', [DEAD_IP]);
    await publish('half', [DEAD_IP, BACKENDS['alt']]);
    await applyIngress('errors', {
      rules: [
        {
          host: 'errors.example',
          http: { paths: [prefix('/empty', 'empty'), prefix('/dead', 'dead'), prefix('/half', 'half')] },
        },
      ],
    });
    await until('errors routed', async () =>
      (await get('errors.example', '/empty')).status === 503 ? true : undefined,
    );
    expect((await get('errors.example', '/empty')).text).toContain(
      '503 Service Temporarily Unavailable'.slice(0, 3),
    );
    expect((await get('errors.example', '/dead')).status).toBe(502);
    for (let i = 0; i < 6; i++) expect((await get('errors.example', '/half')).json?.backend).toBe('alt');
  });

  it('exports Prometheus metrics to a caller the apiserver authenticates and allows', async () => {
    const scrape = (token?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        httpRequest(
          {
            host: GATEWAY_IP,
            port: ports.metrics,
            path: '/metrics',
            headers: token ? { Authorization: `Bearer ${token}` } : {},
          },
          (res) => {
            let s = '';
            res.on('data', (c: Buffer) => (s += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: s }));
          },
        )
          .on('error', reject)
          .end();
      });
    expect((await scrape()).status).toBe(401);
    expect((await scrape('not-a-token')).status).toBe(401);
    const { status, text } = await scrape(server.token);
    expect(status).toBe(200);
    expect(text).toMatch(
      /ingress_requests_total\{ingress="default\/shop",service="default\/sales",status="200"\} \d+/,
    );
    expect(text).toContain('ingress_request_duration_seconds_bucket');
    expect(text).toMatch(/ingress_upstream_errors_total\{[^}]*service="default\/dead"[^}]*\} \d+/);
  });
});
