// Integration: a real apiserver, the EndpointSlice controller in-process, two kube-proxy processes (node-1, node-2)
// and plain Node servers as pod backends: ClusterIP, NodePort, spreading, affinity, refusal, retry, UDP, failover.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../src/client/index.js';
import { EndpointSliceController } from '../src/controllers/endpointslice/endpointslice-controller.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';

interface ProxyProcess {
  node: string;
  ip: string;
  child: ChildProcess;
  logs: string;
}

let server: ApiServerProcess;
let client: KubeClient;
let connection: ApiConnection;
let controller: EndpointSliceController;
const proxies: ProxyProcess[] = [];
const httpBackends: Server[] = [];
const netBackends: NetServer[] = [];
let udpBackend: UdpSocket | undefined;

// addresses of our own, away from what other suites allocate
const NODES = [
  { node: 'node-1', ip: '127.0.1.1' },
  { node: 'node-2', ip: '127.0.1.2' },
];
const WEB_PODS = [
  { name: 'web-a', ip: '127.244.1.201', node: 'node-1' },
  { name: 'web-b', ip: '127.244.1.202', node: 'node-1' },
  { name: 'web-c', ip: '127.244.2.201', node: 'node-2' },
];
const BACKEND_PORT = 18080;
const WEB_IP = '127.96.77.10';
const WEB_NODEPORT = 31770;

function startProxy(node: string, ip: string): ProxyProcess {
  const child = spawn(
    process.execPath,
    [
      join(DIST, 'cmd/kube-proxy.js'),
      '--kubeconfig',
      server.kubeconfig,
      '--node-name',
      node,
      '--node-ip',
      ip,
      '--bind-retry-ms',
      '200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' } },
  );
  const p: ProxyProcess = { node, ip, child, logs: '' };
  child.stderr?.on('data', (c: Buffer) => (p.logs += c.toString()));
  return p;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(
    () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
    3000,
  );
  await exited;
  clearTimeout(t);
}

function httpBackend(name: string, ip: string): Promise<Server> {
  const s = createServer((_req, res) => res.end(name));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(BACKEND_PORT, ip, () => resolve(s));
  });
}

/** one HTTP GET on a fresh connection; resolves the body */
function get(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function eventually<T>(what: string, fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const logs = proxies.map((p) => `--- ${p.node}:\n${p.logs.slice(-2000)}`).join('\n');
      throw new Error(`timed out waiting for ${what}: ${String(lastErr)}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** how a plain TCP connect to ip:port ends, and how long that took */
/** answered, hung (no answer in 2 s) or the connection's error code (ECONNREFUSED: refused at once) */
function connectOutcome(ip: string, port: number): Promise<{ outcome: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    s.setTimeout(2000);
    s.on('connect', () => {
      // accepted: see whether the proxy resets us, or a backend answers
      s.write('GET / HTTP/1.0\r\n\r\n');
    });
    s.on('data', () => {
      s.destroy();
      resolve({ outcome: 'answered' });
    });
    s.on('timeout', () => {
      s.destroy();
      resolve({ outcome: 'hung' });
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? 'error' }));
  });
}

async function createPod(name: string, app: string, ip: string, node: string, ready = true): Promise<void> {
  const pod = await client.pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app } },
    spec: {
      nodeName: node,
      containers: [
        {
          name: 'app',
          image: 'kubemu/hello:v1',
          ports: [
            { name: 'http', containerPort: BACKEND_PORT, protocol: 'TCP' },
            { name: 'dns', containerPort: 5353, protocol: 'UDP' },
          ],
        },
      ],
    },
  });
  await client.pods.updateStatus({
    ...pod,
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  });
}

async function setReady(name: string, ready: boolean): Promise<void> {
  const pod = await client.pods.get(name, 'default');
  await client.pods.updateStatus({
    ...pod,
    status: { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}

async function createService(name: string, spec: Record<string, unknown>): Promise<void> {
  await client.services.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec,
  });
}

beforeAll(async () => {
  server = await startApiServer();
  ({ client, connection } = connectKubeClient({ server: server.url, token: server.token, ca: server.ca }));
  controller = new EndpointSliceController({ client });
  await controller.run();
  for (const p of WEB_PODS) httpBackends.push(await httpBackend(p.name, p.ip));
  httpBackends.push(await httpBackend('flaky-ok', '127.244.1.211'));
  udpBackend = createSocket('udp4');
  udpBackend.on('message', (msg, rinfo) =>
    udpBackend!.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address),
  );
  await new Promise<void>((resolve) => udpBackend!.bind(5353, '127.244.1.221', resolve));

  for (const n of NODES) proxies.push(startProxy(n.node, n.ip));
  for (const p of WEB_PODS) await createPod(p.name, 'web', p.ip, p.node);
  await createService('web', {
    type: 'NodePort',
    clusterIP: WEB_IP,
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: WEB_NODEPORT }],
  });
});

afterAll(async () => {
  controller?.stop();
  await Promise.all(proxies.map((p) => stopProcess(p.child)));
  for (const s of [...httpBackends, ...netBackends]) s.close();
  udpBackend?.close();
  await connection?.close();
  await server?.cleanup();
});

describe('kube-proxy', () => {
  it('serves a ClusterIP from any node and each node IP on the NodePort', async () => {
    const names = WEB_PODS.map((p) => p.name);
    expect(names).toContain(await eventually('ClusterIP', () => get(WEB_IP, 80)));
    for (const n of NODES)
      expect(names).toContain(await eventually(`NodePort on ${n.ip}`, () => get(n.ip, WEB_NODEPORT)));
  });

  it('spreads connections over the three endpoints', async () => {
    await eventually('ClusterIP', () => get(WEB_IP, 80));
    const counts = new Map<string, number>();
    const total = 3000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        next++;
        const who = await get(WEB_IP, 80);
        counts.set(who, (counts.get(who) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect([...counts.keys()].sort()).toEqual(WEB_PODS.map((p) => p.name).sort());
    for (const n of counts.values()) {
      expect(n / total).toBeGreaterThan(0.2);
      expect(n / total).toBeLessThan(0.47);
    }
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', async () => {
    await createService('sticky', {
      clusterIP: '127.96.77.11',
      selector: { app: 'web' },
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    });
    const first = await eventually('sticky ClusterIP', () => get('127.96.77.11', 80));
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(await get('127.96.77.11', 80));
    expect([...seen]).toEqual([first]);
  });

  it('refuses connections to a Service without ready endpoints at once', async () => {
    await createService('empty', {
      clusterIP: '127.96.77.12',
      selector: { app: 'nothing' },
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    });
    const fresh = await connectOutcome('127.96.77.12', 80);
    expect(fresh.outcome).toBe('ECONNREFUSED');
    // a Service that had an endpoint and lost it (readiness gone) refuses again, fast
    await createPod('lonely', 'lonely', '127.244.1.231', 'node-1');
    const lonelyBackend = await httpBackend('lonely', '127.244.1.231');
    httpBackends.push(lonelyBackend);
    await createService('lonely', {
      clusterIP: '127.96.77.13',
      selector: { app: 'lonely' },
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    });
    expect(await eventually('lonely ClusterIP', () => get('127.96.77.13', 80))).toBe('lonely');
    await setReady('lonely', false);
    const gone = await eventually('refusal after readiness loss', async () => {
      const r = await connectOutcome('127.96.77.13', 80);
      if (r.outcome === 'answered') throw new Error('still answered');
      return r;
    });
    expect(gone.outcome).toMatch(/ECONNREFUSED|ECONNRESET/);
  });

  it('retries a connection refused by one endpoint on another, invisibly to the client', async () => {
    // flaky-dead has an IP and a Ready condition but nothing listens there
    await createPod('flaky-ok', 'flaky', '127.244.1.211', 'node-1');
    await createPod('flaky-dead', 'flaky', '127.244.1.212', 'node-2');
    await createService('flaky', {
      clusterIP: '127.96.77.14',
      selector: { app: 'flaky' },
      ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    });
    await eventually('flaky ClusterIP with both endpoints', async () => {
      const slices = await client.endpointSlices.list({
        namespace: 'default',
        labelSelector: 'kubernetes.io/service-name=flaky',
      });
      if (slices.items.flatMap((s) => s.endpoints).length !== 2) throw new Error('slice not complete');
      return get('127.96.77.14', 80);
    });
    // give both proxies time to see the second endpoint
    await new Promise((r) => setTimeout(r, 300));
    const answers = await Promise.all(Array.from({ length: 40 }, () => get('127.96.77.14', 80)));
    expect(new Set(answers)).toEqual(new Set(['flaky-ok']));
  });

  it('carries a half-close both ways: the client ends its side and still reads the answer', async () => {
    // the backend counts bytes until the client's FIN, then answers and ends
    const counter = createNetServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('end', () => s.end(String(n)));
    });
    await new Promise<void>((resolve) => counter.listen(BACKEND_PORT, '127.244.1.241', resolve));
    netBackends.push(counter);
    await createPod('halfclose', 'halfclose', '127.244.1.241', 'node-1');
    await createService('halfclose', {
      clusterIP: '127.96.77.16',
      selector: { app: 'halfclose' },
      ports: [{ name: 'tcp', port: 9000, targetPort: BACKEND_PORT, protocol: 'TCP' }],
    });
    const payload = Buffer.alloc(8 * 1024 * 1024, 7);
    const answer = await eventually('half-closed exchange', () => {
      return new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.96.77.16', port: 9000, allowHalfOpen: true });
        let body = '';
        s.on('connect', () => s.end(payload));
        s.on('data', (c: Buffer) => (body += c.toString()));
        s.on('end', () => {
          s.end();
          resolve(body);
        });
        s.on('error', reject);
      });
    });
    expect(answer).toBe(String(payload.length));
  });

  it('forwards UDP through a ClusterIP', async () => {
    await createPod('dns', 'dns', '127.244.1.221', 'node-1');
    await createService('dns', {
      clusterIP: '127.96.77.15',
      selector: { app: 'dns' },
      ports: [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }],
    });
    const sock = createSocket('udp4');
    try {
      const reply = await eventually('UDP echo', () => {
        return new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no UDP reply')), 200);
          sock.once('message', (msg) => {
            clearTimeout(t);
            resolve(msg.toString());
          });
          sock.send('ping', 53, '127.96.77.15');
        });
      });
      expect(reply).toBe('echo:ping');
    } finally {
      sock.close();
    }
  });

  it('moves a ClusterIP to the surviving kube-proxy within 2 s when its holder is SIGKILLed', async () => {
    await eventually('ClusterIP', () => get(WEB_IP, 80));
    const serving = (p: ProxyProcess): boolean =>
      p.logs
        .split('\n')
        .some(
          (l) => l.includes(`"address":"TCP/${WEB_IP}:80"`) && /"msg":"(serving|took over address)"/.test(l),
        );
    const holder = proxies.find(serving);
    expect(holder, 'one kube-proxy logs serving the ClusterIP').toBeDefined();
    const survivor = proxies.find((p) => p !== holder)!;
    expect(serving(survivor)).toBe(false);
    process.kill(holder!.child.pid!, 'SIGKILL');
    await eventually('ClusterIP after failover', () => get(WEB_IP, 80, 500), 5000);
    await eventually('the survivor to log the take-over', () =>
      serving(survivor) ? Promise.resolve() : Promise.reject(new Error('not logged yet')),
    );
  });
});
