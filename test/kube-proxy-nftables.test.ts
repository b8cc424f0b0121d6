// Integration: kube-proxy's nftables mode with real traffic. The test makes its own network namespaces — a node
// with a cni0 bridge (10.244.1.0/24) and an uplink (172.31.19.1), three pods on the bridge (two serving HTTP on
// :8080, one client) and an "outside" namespace on the uplink — and runs kube-proxy --proxy-mode=nftables in the
// node's namespace against a real apiserver (reached through a unix socket, as namespaces share no loopback).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeIntoNetns, type NetnsBridge } from '../src/bench/netns-bridge.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';
import { NetnsLab, type LabProcess } from './helpers/netns-lab.js';
import { ensureCommands } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const lab = new NetnsLab(`h19nft-${process.pid}`);
const NODE_IP = '172.31.19.1';
const EXT_IP = '172.31.19.2';
const LB_IP = '172.31.20.10';
const PODS = [
  { short: 'pa', name: 'pod-a', ip: '10.244.1.2' },
  { short: 'pb', name: 'pod-b', ip: '10.244.1.3' },
  { short: 'pc', name: 'pod-c', ip: '10.244.1.4' },
];
const BRIDGE_IP = '10.244.1.1';

let server: ApiServerProcess;
let api: Api;
let bridge: NetnsBridge | undefined;
let proxy: LabProcess;
const clusterIPs: Record<string, string> = {};
const nodePorts: Record<string, number> = {};

/** curl from inside a namespace: the exit code (0 ok, 7 refused, 28 timed out) and the body */
function curl(ns: string, url: string, maxTime = 4): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', lab.ns(ns), 'curl', '-s', '-m', String(maxTime), url], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let body = '';
    child.stdout.on('data', (c: Buffer) => (body += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, body }));
  });
}

/** `n` requests; the answering pods' names and the client addresses they saw */
async function answers(ns: string, url: string, n: number): Promise<{ pods: string[]; clients: string[] }> {
  const pods: string[] = [];
  const clients: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await curl(ns, url);
    if (r.code !== 0) throw new Error(`curl ${url} from ${ns} exited ${r.code}`);
    const [pod = '', client = ''] = r.body.trim().split(' ');
    pods.push(pod);
    clients.push(client);
  }
  return { pods, clients };
}

const slice = (name: string, endpoints: object[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${name}-nft`, labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints,
});
const ep = (pod: { ip: string }, node = 'node-1', ready = true) => ({
  addresses: [pod.ip],
  nodeName: node,
  conditions: { ready, serving: ready, terminating: false },
});

async function createService(name: string, spec: object): Promise<void> {
  const r = await api('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  });
  expect(r.status, r.text).toBe(201);
  clusterIPs[name] = r.body.spec.clusterIP;
  const np = r.body.spec.ports[0].nodePort as number | undefined;
  if (np) nodePorts[name] = np;
}

async function putSlice(name: string, endpoints: object[]): Promise<void> {
  const path = `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices`;
  const got = await api('GET', `${path}/${name}-nft`);
  const body = slice(name, endpoints);
  const r =
    got.status === 200
      ? await api('PUT', `${path}/${name}-nft`, {
          ...body,
          metadata: { ...body.metadata, resourceVersion: got.body.metadata.resourceVersion },
        })
      : await api('POST', path, body);
  expect([200, 201], r.text).toContain(r.status);
}

beforeAll(async () => {
  ensureCommands([
    ['nft', 'nftables'],
    ['ip', 'iproute2'],
    ['curl', 'curl'],
  ]);
  // the node: lo, a bridge for its pods, an uplink to the outside, forwarding on (in its namespace only)
  lab.add('node');
  lab.ip('node', 'link', 'add', 'cni0', 'type', 'bridge');
  lab.ip('node', 'addr', 'add', `${BRIDGE_IP}/24`, 'dev', 'cni0');
  lab.ip('node', 'link', 'set', 'cni0', 'up');
  lab.exec('node', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  for (const [i, pod] of PODS.entries()) {
    lab.add(pod.short);
    lab.veth('node', `veth${i}`, pod.short, 'eth0');
    lab.ip('node', 'link', 'set', `veth${i}`, 'master', 'cni0', 'up');
    // as the CNI bridge plugin's hairpinMode: a pod's packet DNATed back to itself leaves by the port it came in
    lab.ip('node', 'link', 'set', `veth${i}`, 'type', 'bridge_slave', 'hairpin', 'on');
    lab.ip(pod.short, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
    lab.ip(pod.short, 'link', 'set', 'eth0', 'up');
    lab.ip(pod.short, 'route', 'add', 'default', 'via', BRIDGE_IP);
  }
  lab.add('ext');
  lab.veth('node', 'eth0', 'ext', 'eth0');
  lab.ip('node', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
  lab.ip('node', 'link', 'set', 'eth0', 'up');
  lab.ip('ext', 'addr', 'add', `${EXT_IP}/24`, 'dev', 'eth0');
  lab.ip('ext', 'link', 'set', 'eth0', 'up');
  // the cloud's load balancer: LB IPs are routed to the node
  lab.ip('ext', 'route', 'add', '172.31.20.0/24', 'via', NODE_IP);

  // two pods serve HTTP on :8080, answering with their name and the client address they see
  const serve = `require('http').createServer((q,r)=>r.end(process.argv[1]+' '+q.socket.remoteAddress)).listen(8080,'0.0.0.0',()=>console.log('listening'))`;
  const servers = PODS.slice(0, 2).map((p) => lab.spawn(p.short, process.execPath, ['-e', serve, p.name]));

  server = await startApiServer({ extraArgs: ['--service-cluster-ip-range', '10.96.0.0/16'] });
  api = apiClient(server);
  // the node reaches the apiserver on its own 127.0.0.1:PORT, through a unix socket to the host's
  bridge = await bridgeIntoNetns(lab.ns('node'), server.port, join(DIST, 'cmd/netns-forwarder.js'));
  for (const p of servers)
    await waitFor('a pod to listen', () => Promise.resolve(p.output().includes('listening')), 15_000, 50);

  await createService('web', { type: 'ClusterIP' });
  await putSlice('web', [ep(PODS[0]), ep(PODS[1])]);
  await createService('sticky', { type: 'ClusterIP', sessionAffinity: 'ClientIP' });
  await putSlice('sticky', [ep(PODS[0]), ep(PODS[1])]);
  await createService('lb', { type: 'LoadBalancer' });
  await putSlice('lb', [ep(PODS[0]), ep(PODS[1])]);
  const st = await api('GET', '/api/v1/namespaces/default/services/lb');
  const put = await api('PUT', '/api/v1/namespaces/default/services/lb/status', {
    ...st.body,
    status: { loadBalancer: { ingress: [{ ip: LB_IP }] } },
  });
  expect(put.status, put.text).toBe(200);
  // externalTrafficPolicy Local: one endpoint here, one on another node
  await createService('local', { type: 'NodePort', externalTrafficPolicy: 'Local' });
  await putSlice('local', [ep(PODS[0]), ep({ ip: '10.244.2.9' }, 'node-2')]);
  await createService('empty', { type: 'NodePort' });
  await putSlice('empty', [ep(PODS[0], 'node-1', false)]);

  proxy = lab.spawn(
    'node',
    process.execPath,
    [
      join(DIST, 'cmd/kube-proxy.js'),
      '--kubeconfig',
      server.kubeconfig,
      '--node-name',
      'node-1',
      '--node-ip',
      NODE_IP,
      '--proxy-mode',
      'nftables',
      '--cluster-cidr',
      '10.244.0.0/16',
    ],
    { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
  );
  await waitFor(
    'kube-proxy to program its rules',
    () => {
      if (proxy.child.exitCode !== null) throw new Error(`kube-proxy exited: ${proxy.output()}`);
      return Promise.resolve(proxy.output().includes('nftables rules programmed'));
    },
    30_000,
    100,
  );
}, 120_000);

afterAll(async () => {
  await bridge?.close();
  await lab.cleanup();
  await server?.cleanup();
});

describe('kube-proxy --proxy-mode=nftables', () => {
  it('programs table ip kube-proxy in the node namespace, with upstream names', () => {
    const table = lab.exec('node', 'nft', ['list', 'table', 'ip', 'kube-proxy']);
    expect(table).toContain('map service-ips');
    expect(table).toMatch(/chain service-[A-Z2-7]{8}-default\/web\/tcp\/http/);
    expect(table).toMatch(/numgen random mod 2 vmap/);
  });

  it('DNATs a ClusterIP from a pod to both endpoints, keeping the pod address', async () => {
    const { pods, clients } = await answers('pc', `http://${clusterIPs['web']}/`, 20);
    expect(new Set(pods)).toEqual(new Set(['pod-a', 'pod-b']));
    expect(new Set(clients)).toEqual(new Set([PODS[2].ip]));
  });

  it('masquerades hairpin traffic: a pod reaching itself through its Service sees the node', async () => {
    const { pods, clients } = await answers('pa', `http://${clusterIPs['web']}/`, 12);
    const self = clients.filter((_, i) => pods[i] === 'pod-a');
    expect(self.length).toBeGreaterThan(0);
    expect(new Set(self)).toEqual(new Set([BRIDGE_IP]));
  });

  it('serves a NodePort from outside the node (masqueraded, externalTrafficPolicy Cluster)', async () => {
    const { pods, clients } = await answers('ext', `http://${NODE_IP}:${nodePorts['lb']}/`, 12);
    expect(new Set(pods)).toEqual(new Set(['pod-a', 'pod-b']));
    expect(new Set(clients)).toEqual(new Set([BRIDGE_IP]));
  });

  it('serves the LoadBalancer IP from outside', async () => {
    const { pods } = await answers('ext', `http://${LB_IP}/`, 12);
    expect(new Set(pods)).toEqual(new Set(['pod-a', 'pod-b']));
  });

  it('sticks a client to one endpoint with sessionAffinity ClientIP', async () => {
    const { pods } = await answers('pc', `http://${clusterIPs['sticky']}/`, 12);
    expect(new Set(pods).size).toBe(1);
  });

  it('refuses at once (not a timeout) a Service whose endpoints are not ready, from a pod and from outside', async () => {
    const fromPod = await curl('pc', `http://${clusterIPs['empty']}/`, 8);
    expect(fromPod.code).toBe(7); // curl: couldn't connect (ECONNREFUSED); 28 would be a timeout
    const fromOutside = await curl('ext', `http://${NODE_IP}:${nodePorts['empty']}/`, 8);
    expect(fromOutside.code).toBe(7);
    const table = lab.exec('node', 'nft', ['list', 'map', 'ip', 'kube-proxy', 'no-endpoint-services']);
    expect(table).toContain(
      `${clusterIPs['empty']} . tcp . 80 comment "default/empty:http" : goto reject-chain`,
    );
  });

  it("externalTrafficPolicy Local: only this node's endpoint answers, and it sees the client address", async () => {
    const { pods, clients } = await answers('ext', `http://${NODE_IP}:${nodePorts['local']}/`, 12);
    expect(new Set(pods)).toEqual(new Set(['pod-a']));
    expect(new Set(clients)).toEqual(new Set([EXT_IP]));
  });

  it('follows an EndpointSlice change: the removed endpoint gets no more traffic, the new one does', async () => {
    await putSlice('web', [ep(PODS[1])]);
    await waitFor(
      'web to be served by pod-b only',
      async () => {
        const { pods } = await answers('pc', `http://${clusterIPs['web']}/`, 8);
        return pods.every((p) => p === 'pod-b');
      },
      20_000,
      100,
    );
    await putSlice('web', [ep(PODS[0])]);
    await waitFor(
      'web to be served by pod-a only',
      async () => {
        const { pods } = await answers('pc', `http://${clusterIPs['web']}/`, 8);
        return pods.every((p) => p === 'pod-a');
      },
      20_000,
      100,
    );
    // the endpoint that left has no chain any more (flushed, then deleted a second later)
    await waitFor(
      "pod-b's endpoint chain to be deleted",
      () =>
        Promise.resolve(
          !lab
            .exec('node', 'nft', ['list', 'chains', 'ip'])
            .includes('default/web/tcp/http__10.244.1.3/8080'),
        ),
      10_000,
      200,
    );
  });

  it('refuses to start in the host network namespace, saying why', async () => {
    const child = spawn(
      process.execPath,
      [
        join(DIST, 'cmd/kube-proxy.js'),
        '--kubeconfig',
        server.kubeconfig,
        '--node-name',
        'node-1',
        '--proxy-mode',
        'nftables',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toContain("refusing to program nftables in the host's network namespace");
  });
});
