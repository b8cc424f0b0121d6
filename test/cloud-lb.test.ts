// Integration: a real apiserver and the cloud-lb process; the test plays kube-proxy by listening on each node's
// NodePort itself, and checks what a user sees: EXTERNAL-IP in kubectl, traffic through the LB IP, its events.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, get as httpGet, type Server as HttpServer } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../src/util/pki.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';
import { kubectlBin } from './helpers/kubectl.js';

// A corner of the pool of its own, so a cluster running on this machine is not disturbed.
const POOL = '127.0.2.240/28';
const NODES = [
  { name: 'node-1', ip: '127.0.1.1' },
  { name: 'node-2', ip: '127.0.1.2' },
];

let server: ApiServerProcess;
let api: Api;
let lb: ChildProcess | undefined;
let lbLogs = '';
const closers: (() => Promise<void> | void)[] = [];

function startCloudLb(): void {
  lbLogs = '';
  const child = spawn(
    process.execPath,
    [join(DIST, 'cmd/cloud-lb.js'), '--kubeconfig', server.kubeconfig, '--pool', POOL],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBEMU_LOG_LEVEL: 'debug' },
    },
  );
  child.stderr.on('data', (c: Buffer) => (lbLogs += c.toString()));
  lb = child;
}

async function stopCloudLb(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const child = lb;
  lb = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, signal);
  await exited;
}

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
        `timed out waiting for ${what} (${String(lastErr)}); cloud-lb logs:\n${lbLogs.slice(-3000)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createNode(name: string, ip: string): Promise<void> {
  const created = await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  expect(created.status).toBe(201);
  await setNodeReady(name, ip, 'True');
}

async function setNodeReady(name: string, ip: string, ready: 'True' | 'False'): Promise<void> {
  const current = await api('GET', `/api/v1/nodes/${name}`);
  const status = {
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    conditions: [
      { type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady' },
    ],
  };
  const updated = await api('PUT', `/api/v1/nodes/${name}/status`, { ...current.body, status });
  expect(updated.status).toBe(200);
}

interface ServicePort {
  name: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

async function createLbService(
  name: string,
  ports: ServicePort[],
  spec: Record<string, unknown> = {},
): Promise<any> {
  const res = await api('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports, ...spec },
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const getService = async (name: string): Promise<any> =>
  (await api('GET', `/api/v1/namespaces/default/services/${name}`)).body;

const externalIP = (name: string): Promise<string> =>
  eventually(
    `an external IP for ${name}`,
    async () => (await getService(name)).status?.loadBalancer?.ingress?.[0]?.ip,
  );

const nodePortOf = (svc: any, port: number): number =>
  svc.spec.ports.find((p: any) => p.port === port).nodePort;

const eventsOf = async (name: string): Promise<any[]> =>
  (await api('GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${name}`)).body
    .items ?? [];

/** the test's stand-in for kube-proxy: an HTTP server on one node's NodePort that names the node */
async function nodeHttpServer(ip: string, port: number, node: string): Promise<HttpServer> {
  const srv = createHttpServer((_req, res) => res.end(node));
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, ip, () => resolve());
  });
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  return srv;
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** what happens to a raw TCP connection: the bytes it got before closing, or how it failed */
function rawConnect(ip: string, port: number): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    const sock = netConnect({ host: ip, port });
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString()));
    sock.on('connect', () => sock.write('GET / HTTP/1.0\r\n\r\n'));
    sock.on('error', (err: NodeJS.ErrnoException) => resolve({ data, error: err.code ?? err.message }));
    sock.on('close', () => resolve({ data }));
    sock.setTimeout(3000, () => sock.destroy(new Error('timeout')));
  });
}

function kubectl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      kubectlBin(),
      ['--kubeconfig', server.kubeconfig, ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  for (const n of NODES) await createNode(n.name, n.ip);
  startCloudLb();
});

afterAll(async () => {
  await stopCloudLb();
  for (const close of closers.reverse()) await close();
  await server?.cleanup();
});

describe('cloud-lb', () => {
  it('gives a LoadBalancer Service an external IP from the pool that kubectl shows, with events', async () => {
    await createLbService('web', [{ name: 'http', port: 8080 }]);
    const ip = await externalIP('web');
    expect(ip).toMatch(/^127\.0\.2\.(24[1-9]|25[0-4])$/);
    const svc = await getService('web');
    expect(svc.status.loadBalancer.ingress).toEqual([{ ip, ipMode: 'VIP' }]);
    expect(svc.metadata.finalizers).toContain('service.kubernetes.io/load-balancer-cleanup');

    const table = await kubectl(['get', 'svc', 'web']);
    const [header, row] = table.trim().split('\n');
    expect(header.split(/\s+/)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    const cols = row.split(/\s+/);
    expect(cols[1]).toBe('LoadBalancer');
    expect(cols[3]).toBe(ip);
    expect(cols[4]).toBe(`8080:${nodePortOf(svc, 8080)}/TCP`);

    const reasons = await eventually('Ensured events', async () => {
      const r = (await eventsOf('web')).map((e) => e.reason);
      return r.includes('EnsuredLoadBalancer') ? r : undefined;
    });
    expect(reasons).toContain('EnsuringLoadBalancer');
  });

  it('forwards HTTP through the LB IP to the NodePort of every node, skipping a node that refuses', async () => {
    const svc = await createLbService('spread', [{ name: 'http', port: 8081 }]);
    const ip = await externalIP('spread');
    const nodePort = nodePortOf(svc, 8081);
    const servers = await Promise.all(NODES.map((n) => nodeHttpServer(n.ip, nodePort, n.name)));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await fetchText(`http://${ip}:8081/`));
    expect([...seen].sort()).toEqual(['node-1', 'node-2']);

    // node-2's "kube-proxy" stops listening: its port refuses, and the LB moves on to node-1 every time.
    await new Promise<void>((r) => servers[1].close(() => r()));
    for (let i = 0; i < 6; i++) expect(await fetchText(`http://${ip}:8081/`)).toBe('node-1');
  });

  it('passes TLS through untouched: the client sees and verifies the backend certificate', async () => {
    const ca = await createCertificateAuthority('lb-test-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'secure.example.test',
      hosts: ['secure.example.test'],
    });
    const svc = await createLbService('secure', [{ name: 'https', port: 8443 }]);
    const ip = await externalIP('secure');
    const nodePort = nodePortOf(svc, 8443);
    for (const n of NODES) {
      const srv: TlsServer = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) =>
        s.end(`tls hello from ${n.name}`),
      );
      await new Promise<void>((r) => srv.listen(nodePort, n.ip, () => r()));
      closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    }
    const result = await new Promise<{ text: string; cn: unknown; authorized: boolean }>(
      (resolve, reject) => {
        const sock = tlsConnect(
          { host: ip, port: 8443, servername: 'secure.example.test', ca: ca.certPem },
          () => {
            const cn = sock.getPeerCertificate().subject.CN;
            let text = '';
            sock.on('data', (c: Buffer) => (text += c.toString()));
            sock.on('end', () => resolve({ text, cn, authorized: sock.authorized }));
          },
        );
        sock.on('error', reject);
      },
    );
    expect(result.authorized).toBe(true);
    expect(result.cn).toBe('secure.example.test');
    expect(result.text).toMatch(/^tls hello from node-[12]$/);
  });

  it('relays UDP both ways', async () => {
    const svc = await createLbService('dns-like', [{ name: 'udp', port: 5300, protocol: 'UDP' }]);
    const ip = await externalIP('dns-like');
    const nodePort = nodePortOf(svc, 5300);
    for (const n of NODES) {
      const sock: UdpSocket = createSocket('udp4');
      sock.on('message', (msg, rinfo) => sock.send(`${n.name}:${msg.toString()}`, rinfo.port, rinfo.address));
      await new Promise<void>((r) => sock.bind(nodePort, n.ip, () => r()));
      closers.push(() => new Promise<void>((r) => sock.close(() => r())));
    }
    const client = createSocket('udp4');
    closers.push(() => new Promise<void>((r) => client.close(() => r())));
    const reply = await eventually('a UDP reply', async () => {
      const got = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
      client.send('ping', 5300, ip);
      return Promise.race([got, new Promise<undefined>((r) => setTimeout(() => r(undefined), 300))]);
    });
    expect(reply).toMatch(/^node-[12]:ping$/);
  });

  it('enforces loadBalancerSourceRanges', async () => {
    const svc = await createLbService('ranged', [{ name: 'http', port: 8082 }], {
      loadBalancerSourceRanges: ['10.0.0.0/8'],
    });
    const ip = await externalIP('ranged');
    const nodePort = nodePortOf(svc, 8082);
    for (const n of NODES) await nodeHttpServer(n.ip, nodePort, n.name);
    // loopback clients come from 127.x, outside 10.0.0.0/8: closed at once, not one byte of the backend's
    const denied = await rawConnect(ip, 8082);
    expect(denied.data).toBe('');

    const current = await getService('ranged');
    const patched = await api(
      'PATCH',
      '/api/v1/namespaces/default/services/ranged',
      {
        spec: { loadBalancerSourceRanges: ['10.0.0.0/8', '127.0.0.0/8'] },
        metadata: { resourceVersion: current.metadata.resourceVersion },
      },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patched.status, patched.text).toBe(200);
    await eventually('the widened range to apply', async () => {
      const r = await rawConnect(ip, 8082);
      return r.data.includes('node-') ? r : undefined;
    });
  });

  it('honours loadBalancerIP, refuses a second claim with an event, and hands the address over on delete', async () => {
    const wanted = '127.0.2.246';
    await createLbService('first', [{ name: 'http', port: 8083 }], { loadBalancerIP: wanted });
    expect(await externalIP('first')).toBe(wanted);
    await createLbService('second', [{ name: 'http', port: 8083 }], { loadBalancerIP: wanted });
    const warning = await eventually('SyncLoadBalancerFailed', async () =>
      (await eventsOf('second')).find((e) => e.reason === 'SyncLoadBalancerFailed'),
    );
    expect(warning.type).toBe('Warning');
    expect(warning.message).toBe(
      `Error syncing load balancer: requested IP ${wanted} is already allocated to service default/first`,
    );
    expect((await getService('second')).status.loadBalancer).toEqual({});
    const outside = await createLbService('outside', [{ name: 'http', port: 8083 }], {
      loadBalancerIP: '127.0.3.9',
    });
    expect(outside.metadata.name).toBe('outside');
    const outsideWarning = await eventually('SyncLoadBalancerFailed for outside', async () =>
      (await eventsOf('outside')).find((e) => e.reason === 'SyncLoadBalancerFailed'),
    );
    expect(outsideWarning.message).toContain(`not in the load balancer pool ${POOL}`);

    // Deleting `first` waits for its load balancer to go (the finalizer), then `second` gets the address.
    const del = await api('DELETE', '/api/v1/namespaces/default/services/first');
    expect(del.status).toBe(200);
    await eventually('first to be gone (finalizer removed)', async () =>
      (await api('GET', '/api/v1/namespaces/default/services/first')).status === 404 ? true : undefined,
    );
    expect(await externalIP('second')).toBe(wanted);
  });

  it('releases the address and listener when the type changes, and re-adopts addresses after a restart', async () => {
    await createLbService('flip', [{ name: 'http', port: 8084 }]);
    const ip = await externalIP('flip');
    const before = await rawConnect(ip, 8084);
    // listening: accepted, then closed because no node serves this NodePort
    expect(before.error).not.toBe('ECONNREFUSED');
    // (upstream's apiserver drops the type-dependent fields itself; kubemu's wants them cleared explicitly)
    const patched = await api(
      'PATCH',
      '/api/v1/namespaces/default/services/flip',
      {
        spec: {
          type: 'ClusterIP',
          externalTrafficPolicy: null,
          allocateLoadBalancerNodePorts: null,
          ports: [{ name: 'http', port: 8084, nodePort: null }],
        },
      },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patched.status, patched.text).toBe(200);
    await eventually('status cleared', async () => {
      const svc = await getService('flip');
      return svc.status?.loadBalancer?.ingress === undefined && !svc.metadata.finalizers?.length
        ? svc
        : undefined;
    });
    expect((await rawConnect(ip, 8084)).error).toBe('ECONNREFUSED');

    const web = await externalIP('web');
    const spread = await externalIP('spread');
    await stopCloudLb();
    startCloudLb();
    // same addresses after the restart, and traffic flows again (node-1 still serves `spread`)
    await eventually('forwarding after restart', async () =>
      (await fetchText(`http://${spread}:8081/`).catch(() => undefined)) === 'node-1' ? true : undefined,
    );
    expect(await externalIP('web')).toBe(web);
    expect(await externalIP('spread')).toBe(spread);
  });

  it('sends externalTrafficPolicy Local traffic only to nodes with a ready endpoint, and skips NotReady nodes', async () => {
    const svc = await createLbService('local', [{ name: 'http', port: 8085 }], {
      externalTrafficPolicy: 'Local',
    });
    const ip = await externalIP('local');
    const nodePort = nodePortOf(svc, 8085);
    for (const n of NODES) await nodeHttpServer(n.ip, nodePort, n.name);
    const slice = await api('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'local-abc', labels: { 'kubernetes.io/service-name': 'local' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['127.244.2.5'], nodeName: 'node-2', conditions: { ready: true } },
        { addresses: ['127.244.1.5'], nodeName: 'node-1', conditions: { ready: false } },
      ],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    expect(slice.status, slice.text).toBe(201);
    await eventually('traffic only to node-2', async () => {
      const got = new Set<string>();
      for (let i = 0; i < 4; i++) got.add(await fetchText(`http://${ip}:8085/`));
      return got.size === 1 && got.has('node-2') ? true : undefined;
    });

    // Cluster policy again, with node-2 NotReady: only node-1 is left.
    const current = await getService('local');
    const patched = await api(
      'PATCH',
      '/api/v1/namespaces/default/services/local',
      {
        spec: { externalTrafficPolicy: 'Cluster' },
        metadata: { resourceVersion: current.metadata.resourceVersion },
      },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patched.status, patched.text).toBe(200);
    await setNodeReady('node-2', '127.0.1.2', 'False');
    await eventually('traffic only to node-1', async () => {
      const got = new Set<string>();
      for (let i = 0; i < 4; i++) got.add(await fetchText(`http://${ip}:8085/`));
      return got.size === 1 && got.has('node-1') ? true : undefined;
    });
    await setNodeReady('node-2', '127.0.1.2', 'True');
  });
});
