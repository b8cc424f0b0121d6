// Integration: a real apiserver and the cluster DNS process, queried with node:dns (c-ares) and raw TCP packets.
import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordType, type DnsMessage } from '../src/dns/wire.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { tcpDnsQuery } from './helpers/dns.js';
import { apiClient, type Api } from './helpers/http.js';

let server: ApiServerProcess;
let api: Api;
let dns: ChildProcess | undefined;
let dnsLogs = '';
let port = 0;
let resolver: Resolver;

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what} (${String(lastErr)}); dns logs:\n${dnsLogs.slice(-3000)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

const errorCode = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err.code,
  );

async function create(path: string, body: unknown): Promise<any> {
  const res = await api('POST', path, body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

function tcpQuery(name: string, type: number): Promise<DnsMessage> {
  return tcpDnsQuery('127.0.0.1', port, name, type, 3000);
}

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  await create('/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  });
  await create('/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] },
  });
  await create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-x1', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['127.244.1.7'], hostname: 'db-0', nodeName: 'node-1', conditions: { ready: true } },
      { addresses: ['127.244.2.8'], nodeName: 'node-2', conditions: { ready: true } },
      { addresses: ['127.244.2.9'], nodeName: 'node-2', conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  });
  await create('/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'upstream' },
    spec: { type: 'ExternalName', externalName: 'db.default.svc.cluster.local' },
  });

  dns = spawn(
    process.execPath,
    [join(DIST, 'cmd/dns.js'), '--kubeconfig', server.kubeconfig, '--listen', '127.0.0.1:0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
    },
  );
  dns.stderr!.on('data', (c: Buffer) => (dnsLogs += c.toString()));
  port = await eventually('the DNS server to listen', () => {
    const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(dnsLogs);
    return Promise.resolve(m ? Number(m[1]) : undefined);
  });
  resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${port}`]);
});

afterAll(async () => {
  if (dns && dns.exitCode === null && dns.signalCode === null) {
    const exited = new Promise<void>((r) => dns!.once('exit', () => r()));
    process.kill(dns.pid!, 'SIGTERM');
    await exited;
  }
  await server?.cleanup();
});

describe('cluster DNS', () => {
  it('answers a Service name with its ClusterIP, TTL 5', async () => {
    const web = (await api('GET', '/api/v1/namespaces/default/services/web')).body;
    expect(await resolver.resolve4('web.default.svc.cluster.local', { ttl: true })).toEqual([
      { address: web.spec.clusterIP, ttl: 5 },
    ]);
    // names are case-insensitive
    expect(await resolver.resolve4('WEB.Default.svc.cluster.local')).toEqual([web.spec.clusterIP]);
    // the name exists without IPv6 records: NODATA, not NXDOMAIN
    expect(await errorCode(resolver.resolve6('web.default.svc.cluster.local'))).toBe('ENODATA');
  });

  it('answers SRV for named ports', async () => {
    expect(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local')).toEqual([
      { name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 },
    ]);
    expect(await resolver.resolveSrv('_dns._udp.web.default.svc.cluster.local')).toEqual([
      { name: 'web.default.svc.cluster.local', port: 53, priority: 0, weight: 100 },
    ]);
    expect(await errorCode(resolver.resolveSrv('_http._udp.web.default.svc.cluster.local'))).toBe(
      'ENOTFOUND',
    );
  });

  it('answers a headless Service with its ready endpoints, and each endpoint by hostname or dashed IP', async () => {
    expect((await resolver.resolve4('db.default.svc.cluster.local')).sort()).toEqual([
      '127.244.1.7',
      '127.244.2.8',
    ]);
    expect(await resolver.resolve4('db-0.db.default.svc.cluster.local')).toEqual(['127.244.1.7']);
    expect(await resolver.resolve4('127-244-2-8.db.default.svc.cluster.local')).toEqual(['127.244.2.8']);
    expect(await errorCode(resolver.resolve4('127-244-2-9.db.default.svc.cluster.local'))).toBe('ENOTFOUND');
    const srv = await resolver.resolveSrv('_pg._tcp.db.default.svc.cluster.local');
    expect(srv.map((r) => `${r.name}:${r.port}`).sort()).toEqual([
      '127-244-2-8.db.default.svc.cluster.local:5432',
      'db-0.db.default.svc.cluster.local:5432',
    ]);
  });

  it('answers pod A records and ExternalName CNAMEs', async () => {
    expect(await resolver.resolve4('127-244-1-5.default.pod.cluster.local')).toEqual(['127.244.1.5']);
    expect(await errorCode(resolver.resolve4('127-244-1-5.no-such-ns.pod.cluster.local'))).toBe('ENOTFOUND');
    expect(await resolver.resolveCname('upstream.default.svc.cluster.local')).toEqual([
      'db.default.svc.cluster.local',
    ]);
  });

  it('says NXDOMAIN for missing cluster names and REFUSED for the outside world', async () => {
    expect(await errorCode(resolver.resolve4('nope.default.svc.cluster.local'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolve4('web.nope.svc.cluster.local'))).toBe('ENOTFOUND');
    expect(await errorCode(resolver.resolve4('example.com'))).toBe('EREFUSED');
    const raw = await tcpQuery('nope.default.svc.cluster.local', RecordType.A);
    expect(raw.rcode).toBe(3);
    expect(raw.aa).toBe(true);
    expect(raw.authority[0]?.type).toBe(RecordType.SOA);
  });

  it('serves TCP too', async () => {
    const web = (await api('GET', '/api/v1/namespaces/default/services/web')).body;
    const reply = await tcpQuery('web.default.svc.cluster.local', RecordType.A);
    expect(reply.id).toBe(0x4242);
    expect(reply.rcode).toBe(0);
    expect(reply.answers.map((a) => a.data)).toEqual([{ kind: 'A', address: web.spec.clusterIP }]);
  });

  it('follows the cluster: a new Service resolves, a deleted one stops resolving', async () => {
    const created = await create('/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'late' },
      spec: { selector: { app: 'late' }, ports: [{ port: 80 }] },
    });
    await eventually('late to resolve', async () => {
      const ips = await resolver.resolve4('late.default.svc.cluster.local');
      return ips[0] === created.spec.clusterIP ? true : undefined;
    });
    expect((await api('DELETE', '/api/v1/namespaces/default/services/late')).status).toBe(200);
    await eventually('late to be NXDOMAIN', async () =>
      (await errorCode(resolver.resolve4('late.default.svc.cluster.local'))) === 'ENOTFOUND'
        ? true
        : undefined,
    );
  });
});
