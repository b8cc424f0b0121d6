// Issue #19, Show 1: `kubemu up --network=netns` gives every pod a network of its own. A program that binds
// 0.0.0.0:8080 (and one binding [::]:8080) runs in 6 replicas on 3 nodes, each answering on its pod IP with its pod
// name; two containers of a pod talk over localhost; pods reach Services by ClusterIP, DNS name and headless, and the
// `kubernetes` Service; the host reaches NodePorts on every node, a LoadBalancer IP and the ingress. The same as root
// and as an unprivileged user (rootless: a user + network namespace), and with two clusters at once; `down` leaves
// nothing behind. Real kubectl and curl; every pod-side request is made from inside a pod (kubectl exec), never from
// this namespace to a 10.x address. Run inside `unshare -n` like every e2e file.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, descendants, freePort, run, upCluster, type TestCluster } from '../helpers/cluster.js';
import { DIST } from '../helpers/apiserver.js';
import { createTestUser, type TestUser } from '../helpers/test-user.js';
import { ensureCommands } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

// a tiny server as a user writes one: `node -e` binding every address on :8080, answering its hostname
const server = (host: string): string =>
  `require('http').createServer((req, res) => res.end(require('os').hostname() + '\\\\n')).listen(8080, '${host}')`;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 6
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: busybox
        command: ["node", "-e", "${server('0.0.0.0')}"]
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet:
            path: /
            port: 8080
          periodSeconds: 1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web6
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web6
  template:
    metadata:
      labels:
        app: web6
    spec:
      containers:
      - name: web
        image: busybox
        command: ["node", "-e", "${server('::')}"]
        readinessProbe:
          tcpSocket:
            port: 8080
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-np
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-lb
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - port: 8081
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: udp-echo
spec:
  replicas: 2
  selector:
    matchLabels:
      app: udp-echo
  template:
    metadata:
      labels:
        app: udp-echo
    spec:
      containers:
      - name: echo
        image: busybox
        command: ["node", "-e", "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(require('os').hostname() + ' ' + m, r.port, r.address)); s.bind(5005)"]
---
apiVersion: v1
kind: Service
metadata:
  name: udp-echo
spec:
  type: LoadBalancer
  selector:
    app: udp-echo
  ports:
  - port: 5005
    protocol: UDP
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: web.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: sh
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  containers:
  - name: server
    image: busybox
    command: ["node", "-e", "require('http').createServer((q, s) => s.end('from server\\\\n')).listen(9000, 'localhost')"]
  - name: client
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: dns-default
spec:
  dnsPolicy: Default
  containers:
  - name: sh
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: dns-none
spec:
  dnsPolicy: "None"
  dnsConfig:
    nameservers:
    - 192.0.2.1
    searches:
    - ns1.svc.cluster-domain.example
    - my.dns.search.suffix
    options:
    - name: ndots
      value: "2"
    - name: edns0
  containers:
  - name: sh
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: dns-hostnet
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  containers:
  - name: sh
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: hostnet-default
spec:
  hostNetwork: true
  containers:
  - name: sh
    image: busybox
    command: ["sleep", "3600"]
`;

interface PodInfo {
  name: string;
  ip: string;
  node: string;
  ready: boolean;
}

async function pods(c: TestCluster, app: string): Promise<PodInfo[]> {
  const list = await c.getJson(['get', 'pods', '-l', `app=${app}`]);
  return (list.items as any[]).map((p) => ({
    name: p.metadata.name,
    ip: p.status.podIP ?? '',
    node: p.spec.nodeName ?? '',
    ready: (p.status.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True'),
  }));
}

/** `kubectl exec POD -- argv`, its stdout trimmed; throws with stderr when it fails */
async function exec(c: TestCluster, pod: string, argv: string[], container?: string): Promise<string> {
  const r = await c.kubectl(['exec', pod, ...(container ? ['-c', container] : []), '--', ...argv], {
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`kubectl exec ${pod} -- ${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

const curlIn = (c: TestCluster, pod: string, url: string, extra: string[] = []): Promise<string> =>
  exec(c, pod, ['curl', '-sS', '--max-time', '5', ...extra, url]);

/** curl from this (the host's) namespace, to a 127.x address only */
function hostCurl(url: string, extra: string[] = []): Promise<string> {
  if (!/^https?:\/\/(127\.|\[?web\.example)/.test(url)) throw new Error(`not a host address: ${url}`);
  return run('curl', ['-sS', '--max-time', '5', ...extra, url], process.env).then((r) => {
    if (r.code !== 0) throw new Error(`curl ${url}: ${r.stderr}`);
    return r.stdout.trim();
  });
}

/** One datagram from this (the host's) namespace to a 127.x address; the reply's text, or undefined after 2 s. */
function hostUdp(host: string, port: number, text: string): Promise<string | undefined> {
  if (!host.startsWith('127.')) throw new Error(`not a host address: ${host}`);
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (reply?: string): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), 2_000);
    socket.on('message', (m) => done(String(m)));
    socket.on('error', () => done(undefined));
    socket.send(text, port, host);
  });
}

/** A pod that adds a Service's ClusterIP and another pod's IP to its own eth0 and listens on them (Show 3). */
const thiefManifest = (node: string, addresses: string[]): string => `apiVersion: v1
kind: Pod
metadata:
  name: thief
spec:
  nodeName: ${node}
  containers:
  - name: thief
    image: busybox
    command:
    - sh
    - -c
    - |
${addresses.map((a) => `      ip addr add ${a}/32 dev eth0 && echo "took ${a}"`).join('\n')}
      exec node -e "for (const p of [80, 8080]) require('http').createServer((q, s) => s.end('stolen\\n')).listen(p)"
`;

/** the namespaces (net, mnt) every process is in, by inode: what a cluster's holders leave behind if anything */
function namespacesInUse(): Set<string> {
  const out = new Set<string>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    for (const kind of ['net', 'mnt']) {
      try {
        out.add(readlinkSync(`/proc/${pid}/ns/${kind}`));
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

const nsOf = (pid: number): string[] =>
  ['net', 'mnt'].map((kind) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/${kind}`);
    } catch {
      return '';
    }
  });

/** Everything Show 1 checks, on one running cluster; the results hold no names or addresses that differ per run. */
async function exercise(c: TestCluster): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const apply = await c.kubectl(['apply', '-f', '-'], { input: MANIFESTS });
  expect(apply.stderr).toBe('');
  const status = await c.status();
  const nodeIps = status.nodes.map((n) => n.internalIP!);
  out.nodeInternalIps = nodeIps.map((ip) => ip.replace(/^127\.\d+\./, '127.S.'));

  // all 9 replicas Ready on their own IPs, spread over the 3 nodes, although each binds :8080
  const web = await waitFor(
    'web: 6 pods Ready',
    async () => {
      const p = await pods(c, 'web');
      return p.length === 6 && p.every((x) => x.ready) && p;
    },
    // on a machine loaded far beyond its 2 cores a node can miss its heartbeats and have its pods evicted once
    300_000,
    1000,
  );
  const web6 = await waitFor(
    'web6: 3 pods Ready',
    async () => {
      const p = await pods(c, 'web6');
      return p.length === 3 && p.every((x) => x.ready) && p;
    },
    120_000,
    1000,
  );
  out.webNodes = new Set(web.map((p) => p.node)).size;
  out.podIpsInPodCidrs = [...web, ...web6].every((p) => /^10\.244\.\d+\.\d+$/.test(p.ip));
  out.distinctPodIps = new Set([...web, ...web6].map((p) => p.ip)).size;
  const restarts = (await c.getJson(['get', 'pods', '-l', 'app in (web,web6)'])).items.flatMap((p: any) =>
    p.status.containerStatuses.map((s: any) => s.restartCount),
  );
  out.restarts = Math.max(...restarts);
  await waitFor(
    'client, duo and the DNS pods Running',
    async () => {
      const list = await c.getJson(['get', 'pods']);
      return (list.items as any[]).every((p) => p.status.phase === 'Running');
    },
    120_000,
    1000,
  );

  // each replica on its pod IP, from another pod: its pod name (hostname)
  const answers = await Promise.all(
    [...web, ...web6].map(async (p) => ({
      pod: p.name,
      said: await curlIn(c, 'client', `http://${p.ip}:8080/`),
    })),
  );
  out.everyPodAnswersWithItsName = answers.every((a) => a.pod === a.said);
  out.hostnameIsPodName = (await exec(c, web[0].name, ['hostname'])) === web[0].name;
  out.duoOverLocalhost = await exec(c, 'duo', ['curl', '-sS', 'http://localhost:9000/'], 'client');

  // Services from a pod: ClusterIP, DNS names, headless, the kubernetes Service
  const svc = await c.getJson(['get', 'service', 'web']);
  const names = new Set(web.map((p) => p.name));
  const byClusterIp = await curlIn(c, 'client', `http://${svc.spec.clusterIP}/`);
  out.serviceCidr = /^10\.(9[6-9]|10\d|11[01])\./.test(svc.spec.clusterIP);
  out.byClusterIp = names.has(byClusterIp);
  out.byShortName = names.has(await curlIn(c, 'client', 'http://web/'));
  out.byFqdn = names.has(await curlIn(c, 'client', 'http://web.default.svc.cluster.local/'));
  const headless = (await exec(c, 'client', ['getent', 'ahostsv4', 'web-headless.default.svc.cluster.local']))
    .split('\n')
    .map((l) => l.split(/\s+/)[0]);
  out.headlessIsEveryPodIp =
    [...new Set(headless)].sort().join() ===
    web
      .map((p) => p.ip)
      .sort()
      .join();
  const version = JSON.parse(await curlIn(c, 'client', 'https://kubernetes.default.svc/version', ['-k']));
  out.kubernetesService = typeof version.gitVersion === 'string';
  out.kubernetesServiceIp = await exec(c, 'client', ['sh', '-c', 'getent hosts kubernetes | cut -d" " -f1']);

  // DNS as upstream's kubelet writes it, per dnsPolicy
  out.resolvClusterFirst = await exec(c, 'client', ['cat', '/etc/resolv.conf']);
  out.resolvClusterFirstWithHostNet = await exec(c, 'dns-hostnet', ['cat', '/etc/resolv.conf']);
  out.resolvNone = await exec(c, 'dns-none', ['cat', '/etc/resolv.conf']);
  const host = readFileSync('/etc/resolv.conf', 'utf8');
  out.resolvDefaultIsNodes = (await exec(c, 'dns-default', ['cat', '/etc/resolv.conf'])) === host.trim();
  out.resolvHostNetClusterFirstIsNodes =
    (await exec(c, 'hostnet-default', ['cat', '/etc/resolv.conf'])) === host.trim();

  // Show 3: a pod on the victim's node adds the web Service's ClusterIP and a web pod's IP to its eth0 and listens
  // there; without NET_ADMIN it cannot, and every request still reaches the right pods
  const victim = web[0];
  const applied = await c.kubectl(['apply', '-f', '-'], {
    input: thiefManifest(victim.node, [svc.spec.clusterIP, victim.ip]),
  });
  expect(applied.stderr).toBe('');
  await waitFor(
    'the thief pod Running',
    async () => (await c.getJson(['get', 'pod', 'thief'])).status?.phase === 'Running',
    120_000,
    1000,
  );
  // each add refused by the kernel (root: "Operation not permitted"; the wording may differ in a user namespace), no
  // address added (thiefAddresses) and nothing taken (thiefTookNothing). Running comes as the container starts, before
  // its shell has tried: read the log until both tries are in it (or it has started listening) or a minute has passed
  const refusals = (log: string): number => (log.match(/^(ip: .+|RTNETLINK answers: .+)$/gm) ?? []).length;
  let thiefLog = '';
  await waitFor(
    "the thief's two tries in its log",
    async () => {
      thiefLog = (await c.kubectl(['logs', 'thief'])).stdout;
      return refusals(thiefLog) + (thiefLog.match(/^took /gm) ?? []).length >= 2;
    },
    60_000,
    500,
  ).catch(() => undefined);
  out.thiefAddAddress = refusals(thiefLog);
  out.thiefTookNothing = !/took/.test(thiefLog);
  out.thiefAddresses = (await exec(c, 'thief', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).split(
    '\n',
  ).length;
  out.thiefCapNetAdmin = (
    await exec(c, 'thief', ['sh', '-c', 'ip link set eth0 mtu 1400 2>&1 || true'])
  ).includes('Operation not permitted');
  const toVictim = await Promise.all(
    Array.from({ length: 6 }, () => curlIn(c, 'client', `http://${victim.ip}:8080/`)),
  );
  out.victimPodKeepsItsTraffic = toVictim.every((said) => said === victim.name);
  const toService = await Promise.all(
    Array.from({ length: 6 }, () => curlIn(c, 'client', `http://${svc.spec.clusterIP}/`)),
  );
  out.serviceKeepsItsTraffic = toService.every((said) => names.has(said));
  await c.kubectl(['delete', 'pod', 'thief', '--wait=false']);

  // from the host: NodePort on every node's InternalIP, the LoadBalancer IP, the ingress
  const np = await c.getJson(['get', 'service', 'web-np']);
  const nodePort = np.spec.ports[0].nodePort;
  const viaNodePort = await Promise.all(
    nodeIps.map((ip) =>
      waitFor(`NodePort ${ip}:${nodePort} from the host`, () => hostCurl(`http://${ip}:${nodePort}/`)),
    ),
  );
  out.nodePortOnEveryNode = viaNodePort.every((said) => names.has(said));
  const lbIp = await waitFor(
    'web-lb gets an external IP',
    async () => (await c.getJson(['get', 'service', 'web-lb'])).status?.loadBalancer?.ingress?.[0]?.ip,
    60_000,
  );
  out.lbIp = String(lbIp).replace(/^127\.\d+\./, '127.S.');
  out.loadBalancer = names.has(
    await waitFor('the LoadBalancer from the host', () => hostCurl(`http://${lbIp}:8081/`), 30_000),
  );
  // UDP: the host reaches a UDP NodePort on every node and a UDP LoadBalancer IP
  const udp = await c.getJson(['get', 'service', 'udp-echo']);
  const udpNodePort = udp.spec.ports[0].nodePort;
  const echoes = new Set((await pods(c, 'udp-echo')).map((p) => p.name));
  const udpAnswer = (host: string, port: number) =>
    waitFor(
      `UDP ${host}:${port} from the host`,
      async () => {
        const reply = await hostUdp(host, port, 'ping');
        return reply !== undefined && reply;
      },
      60_000,
    );
  const viaUdpNodePort = await Promise.all(nodeIps.map((ip) => udpAnswer(ip, udpNodePort)));
  out.udpNodePortOnEveryNode = viaUdpNodePort.every(
    (said) => said.endsWith(' ping') && echoes.has(said.split(' ')[0]),
  );
  const udpLbIp = await waitFor(
    'udp-echo gets an external IP',
    async () => (await c.getJson(['get', 'service', 'udp-echo'])).status?.loadBalancer?.ingress?.[0]?.ip,
    60_000,
  );
  const viaUdpLb = await udpAnswer(String(udpLbIp), 5005);
  out.udpLoadBalancer = viaUdpLb.endsWith(' ping') && echoes.has(viaUdpLb.split(' ')[0]);
  const ingress = new URL(status.ingress.http!);
  const port = ingress.port || '80';
  out.ingress = names.has(
    await waitFor(
      'the ingress from the host',
      () =>
        hostCurl(`http://web.example:${port}/`, [
          '--fail',
          '--resolve',
          `web.example:${port}:${ingress.hostname}`,
        ]),
      30_000,
    ),
  );
  return out;
}

const nodeReady = async (c: TestCluster, node: string): Promise<string> =>
  (await c.getJson(['get', 'node', node])).status?.conditions?.find((x: any) => x.type === 'Ready')?.status ??
  'missing';

/**
 * `kubemu chaos partition`: node-3 cut from the control plane goes NotReady (Unknown) while its pods keep running,
 * the web Deployment's pods become Ready on the other nodes, and `heal` brings the node back Ready; node-1 cut from
 * node-2 no longer reaches node-2's pods while node-3's still answer.
 */
async function partitionScenario(c: TestCluster): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const chaos = (args: string[]) => c.kubemu(['chaos', ...args, '--name', c.name, '--state-dir', c.stateDir]);
  const before = await pods(c, 'web');
  const onNode3 = before.filter((p) => p.node === 'node-3');
  // first, one node from another (the web pods are on all three nodes yet): a pod on the client's node no longer
  // reaches a pod on the cut node, still reaches one on the third
  const now = before.filter((p) => p.ready);
  const onNode = (n: string) => now.find((p) => p.node === n);
  const client = (await c.getJson(['get', 'pod', 'client'])).spec.nodeName as string;
  const [a, b] =
    client === 'node-1' ? ['node-1', 'node-2'] : [client, client === 'node-2' ? 'node-3' : 'node-2'];
  const other = ['node-1', 'node-2', 'node-3'].find((n) => n !== a && n !== b)!;
  const target = onNode(b);
  const reachable = onNode(other);
  if (target && reachable) {
    const cutPair = await chaos(['partition', a, '--from', b]);
    expect(cutPair.code, cutPair.stderr).toBe(0);
    out.pairCutBlocks = await curlIn(c, 'client', `http://${target.ip}:8080/`, ['--max-time', '2']).then(
      () => false,
      () => true,
    );
    out.pairCutLeavesOthers = (await curlIn(c, 'client', `http://${reachable.ip}:8080/`)) === reachable.name;
    // healing the peer heals the cut made from it
    const healPeer = await chaos(['heal', b]);
    out.healPeerSays = healPeer.stdout.trim() === `healed ${a} (was partitioned from ${b})`;
    out.pairHealed = (await curlIn(c, 'client', `http://${target.ip}:8080/`)) === target.name;
  } else {
    out.pairCut = `no web pod on ${b} or ${other} to try`;
  }
  const cut = await chaos(['partition', 'node-3', '--from', 'control-plane']);
  expect(cut.code, cut.stderr).toBe(0);
  out.partitionSays = /^partitioned node-3 from the control plane/.test(cut.stdout);
  out.node3 = await waitFor(
    'node-3 NotReady (Unknown)',
    async () => (await nodeReady(c, 'node-3')) === 'Unknown' && 'Unknown',
    120_000,
    1000,
  );
  // the pods of a partitioned node keep running there: their container processes are still alive
  const status = (await c.status()) as any;
  const kubelet3 = (status.processes as { name: string; pid: number }[]).find(
    (p) => p.name === 'kubelet-node-3',
  )!;
  out.node3PodsStillRunning = descendants([kubelet3.pid]).length > 0;
  out.node3PodsReplaced = await waitFor(
    'web: 6 Ready pods, none on node-3',
    async () => {
      const p = await pods(c, 'web');
      const ready = p.filter((x) => x.ready);
      return ready.length === 6 && ready.every((x) => x.node !== 'node-3') && true;
    },
    180_000,
    1000,
  );
  out.replacedSomething = onNode3.length > 0;
  const healed = await chaos(['heal', 'node-3']);
  expect(healed.code, healed.stderr).toBe(0);
  out.healSays = healed.stdout.trim();
  out.node3AfterHeal = await waitFor(
    'node-3 Ready again',
    async () => (await nodeReady(c, 'node-3')) === 'True' && 'True',
    120_000,
    1000,
  );

  out.nothingLeft = (await chaos(['heal'])).stdout.trim();
  return out;
}

const PARTITION_EXPECTED = {
  partitionSays: true,
  node3: 'Unknown',
  node3PodsStillRunning: true,
  node3PodsReplaced: true,
  replacedSomething: true,
  healSays: 'healed node-3 (was partitioned from the control plane)',
  node3AfterHeal: 'True',
  pairCutBlocks: true,
  pairCutLeavesOthers: true,
  healPeerSays: true,
  pairHealed: true,
  nothingLeft: 'no node is partitioned',
};

const EXPECTED = {
  nodeInternalIps: ['127.S.1.1', '127.S.1.2', '127.S.1.3'],
  webNodes: 3,
  podIpsInPodCidrs: true,
  distinctPodIps: 9,
  restarts: 0,
  everyPodAnswersWithItsName: true,
  hostnameIsPodName: true,
  duoOverLocalhost: 'from server',
  serviceCidr: true,
  byClusterIp: true,
  byShortName: true,
  byFqdn: true,
  headlessIsEveryPodIp: true,
  kubernetesService: true,
  kubernetesServiceIp: '10.96.0.1',
  resolvClusterFirst:
    'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5',
  resolvClusterFirstWithHostNet:
    'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5',
  resolvNone:
    'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.1\noptions ndots:2 edns0',
  resolvDefaultIsNodes: true,
  resolvHostNetClusterFirstIsNodes: true,
  nodePortOnEveryNode: true,
  lbIp: expect.stringMatching(/^127\.S\.2\.\d+$/),
  loadBalancer: true,
  ingress: true,
  thiefAddAddress: 2,
  thiefTookNothing: true,
  thiefAddresses: 1,
  thiefCapNetAdmin: true,
  victimPodKeepsItsTraffic: true,
  serviceKeepsItsTraffic: true,
  udpNodePortOnEveryNode: true,
  udpLoadBalancer: true,
};

/** The host's resolv.conf search domains go after the cluster's, as upstream appends them. */
function expectedFor(): Record<string, unknown> {
  const hostSearch = readFileSync('/etc/resolv.conf', 'utf8')
    .split('\n')
    .filter((l) => /^(search|domain)\s/.test(l))
    .pop()
    ?.split(/\s+/)
    .slice(1)
    .filter((d) => d && d !== '.');
  if (!hostSearch?.length) return EXPECTED;
  const withHost = (text: string): string =>
    text.replace('cluster.local\n', `cluster.local ${hostSearch.join(' ')}\n`);
  return {
    ...EXPECTED,
    resolvClusterFirst: withHost(EXPECTED.resolvClusterFirst),
    resolvClusterFirstWithHostNet: withHost(EXPECTED.resolvClusterFirstWithHostNet),
  };
}

interface Leftovers {
  holders: number[];
  namespaces: string[];
  mounts: string[];
}

/** What a cluster holds besides its components: its holders' PIDs and namespaces, read before `down`. */
async function holdings(c: TestCluster): Promise<{ pids: number[]; namespaces: string[] }> {
  const s = (await c.status()) as any;
  const holders: number[] = [s.network.sandboxPid, ...Object.values<number>(s.network.nodePids)];
  // with every pod's pause and container (the kubelets' descendants) and their namespaces
  const components = (s.processes as { pid: number }[]).map((p) => p.pid);
  const pids = [...holders, ...descendants([...components, ...holders])];
  const ours = new Set(nsOf(process.pid));
  const namespaces = new Set<string>();
  for (const pid of pids) for (const ns of nsOf(pid)) if (ns && !ours.has(ns)) namespaces.add(ns);
  return { pids, namespaces: [...namespaces] };
}

async function downAndCheck(
  c: TestCluster,
  mountsBefore: string[],
  held: { pids: number[]; namespaces: string[] },
): Promise<Leftovers> {
  const stateDir = c.stateDir;
  await c.down();
  // the kernel frees a namespace once its last process is gone: give it the moment it takes
  const inUse = await waitFor(
    'the namespaces of the cluster to be gone',
    () => {
      const now = namespacesInUse();
      return Promise.resolve(held.namespaces.every((ns) => !now.has(ns)) && now);
    },
    10_000,
  ).catch(() => namespacesInUse());
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(stateDir) && !mountsBefore.includes(l));
  return {
    holders: held.pids.filter(alive),
    namespaces: held.namespaces.filter((ns) => inUse.has(ns)),
    mounts,
  };
}

// a loaded machine (2 cores shared) can take minutes to bring 13 processes up
const UP_ARGS = ['--network=netns', '--timeout', '180'];

const NOTHING_LEFT: Leftovers = { holders: [], namespaces: [], mounts: [] };

describe('every pod its own network (kubemu up --network=netns)', () => {
  let user: TestUser | undefined;
  const clusters: TestCluster[] = [];
  let linksBefore = '';
  let mountsBefore: string[] = [];
  const results: Record<string, Record<string, unknown>> = {};

  beforeAll(() => {
    ensureCommands([
      ['unshare', 'util-linux'],
      ['nsenter', 'util-linux'],
      ['setpriv', 'util-linux'],
      ['runuser', 'util-linux'],
      ['ip', 'iproute2'],
      ['nft', 'nftables'],
      ['curl', 'curl'],
      ['getent', 'libc-bin'],
    ]);
    user = createTestUser('kubemu-e2e-podnet');
    linksBefore = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  });

  afterAll(async () => {
    for (const c of clusters.splice(0)) await c.down().catch(() => undefined);
    user?.remove();
  });

  it('as root, two clusters at once (alpha, beta): both fully working, then both down with nothing left', async () => {
    const alpha = await upCluster({ name: 'alpha', extraArgs: UP_ARGS, upTimeoutMs: 200_000 });
    clusters.push(alpha);
    const beta = await upCluster({ name: 'beta', extraArgs: UP_ARGS, upTimeoutMs: 200_000 });
    clusters.push(beta);
    const [sa, sb] = [(await alpha.status()) as any, (await beta.status()) as any];
    // different host addresses, the same ones inside
    expect(sa.network.slot).not.toBe(sb.network.slot);
    expect(new URL(sa.apiServer.url).hostname).not.toBe(new URL(sb.apiServer.url).hostname);
    results.alpha = await exercise(alpha);
    expect(results.alpha).toEqual(expectedFor());
    expect(await partitionScenario(alpha)).toEqual(PARTITION_EXPECTED);
    results.beta = await exercise(beta);
    expect(results.beta).toEqual(results.alpha);
    // alpha still serves while beta runs beside it
    expect(results.alpha.nodePortOnEveryNode).toBe(true);

    clusters.splice(0);
    const leftA = await downAndCheck(alpha, mountsBefore, await holdings(alpha));
    const leftB = await downAndCheck(beta, mountsBefore, await holdings(beta));
    expect(leftA).toEqual(NOTHING_LEFT);
    expect(leftB).toEqual(NOTHING_LEFT);
    // no link, address or route of this namespace was touched
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).toBe(linksBefore);
  }, 900_000);

  it('as an unprivileged user (rootless: user + network namespace): the same results, and nothing left', async () => {
    const c = await upCluster({
      name: 'gamma',
      user,
      extraArgs: UP_ARGS,
      upTimeoutMs: 200_000,
    });
    clusters.push(c);
    const s = (await c.status()) as any;
    expect(s.network.rootless).toBe(true);
    // every component runs as the user, none as root
    for (const p of s.processes as { pid: number }[]) {
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).toBe(user!.uid);
    }
    results.gamma = await exercise(c);
    expect(results.gamma).toEqual(results.alpha ?? expectedFor());
    // the hard way: pm2's daemon and every component SIGKILLed (pods and holders are left to `down`)
    const held = await holdings(c);
    const daemon = s.pm2.daemonPid as number;
    for (const pid of [daemon, ...(s.processes as { pid: number }[]).map((p) => p.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    const after = (await c.status()) as any;
    expect(after.running).toBe(true);
    clusters.splice(0);
    expect(await downAndCheck(c, mountsBefore, held)).toEqual(NOTHING_LEFT);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).toBe(linksBefore);
  }, 600_000);
});

/** A Deployment of one replica pinned to `node`, answering its hostname on :8080, behind a NodePort Service. */
const pinnedWeb = (node: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
spec:
  replicas: 1
  selector:
    matchLabels:
      app: pinned
  template:
    metadata:
      labels:
        app: pinned
    spec:
      nodeSelector:
        kubernetes.io/hostname: ${node}
      containers:
      - name: web
        image: busybox
        command: ["node", "-e", "${server('0.0.0.0')}"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: pinned
spec:
  type: NodePort
  selector:
    app: pinned
  ports:
  - port: 80
    targetPort: 8080
`;

/** A PATH like ours without `program`: a directory of links to every other program on it (first one wins). */
function pathWithout(program: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-path-'));
  for (const from of (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === program || existsSync(join(dir, name))) continue;
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

describe('kubemu up --network=auto: netns where the machine can, else loopback, said loudly', () => {
  let mountsBefore: string[] = [];
  const clusters: TestCluster[] = [];
  beforeAll(() => {
    mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  });
  afterAll(async () => {
    for (const c of clusters.splice(0)) await c.down().catch(() => undefined);
  });

  // first: a loopback cluster needs the addresses a netns cluster's slot 0 publishes (one loopback cluster at a time)
  it('where nft is missing: --network=netns is refused, auto falls back to loopback and says so in up and status', async () => {
    const path = pathWithout('nft');
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-e2e-'));
    const home = mkdtempSync(join(tmpdir(), 'kubemu-home-'));
    const env = { ...process.env, PATH: path, HOME: home, KUBECONFIG: join(home, 'kubeconfig') };
    const kubemu = (args: string[], timeoutMs = 200_000) =>
      run(
        process.execPath,
        [join(DIST, 'cli/main.js'), ...args, '--name', 'epsilon', '--state-dir', stateDir],
        env,
        { timeoutMs },
      );
    try {
      const port = String(await freePort());
      const refused = await kubemu(['up', '--network=netns', '--port', port, '--nodes', '1']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^kubemu up: --network=netns cannot run on this machine: nft is not installed \(not in \$PATH\); install nftables/,
      );
      expect(existsSync(join(stateDir, 'cluster.json'))).toBe(false);

      const up = await kubemu(['up', '--network=auto', '--port', port, '--nodes', '1', '--timeout', '180']);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(
        /^WARNING: the loopback network instead of netns: nft is not installed .*install nftables/,
      );
      // and again in the summary, where the user looks last
      expect(up.stdout).toMatch(
        /WARNING: degraded mode[^\n]*\n {2}cluster: NetworkDegraded \(NoNetworkNamespaces\): the loopback network instead of netns/,
      );
      expect(up.stdout).toMatch(/ {2}network {9}loopback \(netns unavailable, see WARNING\)/);
      const status = JSON.parse((await kubemu(['status', '-o', 'json'])).stdout);
      expect(status.networkMode).toBe('loopback');
      expect(status.network).toBe(null);
      expect(status.networkFallback).toMatch(/^nft is not installed/);
      expect(status.degraded.map((d: any) => `${d.type}/${d.reason}`)).toContain(
        'NetworkDegraded/NoNetworkNamespaces',
      );
      expect(status.nodes).toEqual([
        expect.objectContaining({ name: 'node-1', internalIP: '127.0.1.1', ready: 'True' }),
      ]);
      const text = (await kubemu(['status'])).stdout;
      expect(text).toMatch(
        /\nDEGRADED [^\n]*\ncluster: NetworkDegraded \(NoNetworkNamespaces\): the loopback network instead of netns[^\n]*install nftables/,
      );
    } finally {
      const down = await kubemu(['down']);
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
      rmSync(path, { recursive: true, force: true });
      expect(down.code, down.stderr).toBe(0);
    }
  }, 400_000);

  it('kubemu node add/remove on it: the new node its own namespace, pods in its podCIDR and NodePorts on the host; remove takes it all away', async () => {
    const c = await upCluster({
      name: 'delta',
      nodes: 1,
      extraArgs: ['--network=auto', '--timeout', '180'],
      upTimeoutMs: 200_000,
    });
    clusters.push(c);
    const s = (await c.status()) as any;
    expect(s.networkMode).toBe('netns');
    expect(s.networkFallback).toBe(null);
    const slot = s.network.slot as number;

    const added = await c.kubemu([
      'node',
      'add',
      'node-2',
      '--name',
      c.name,
      '--state-dir',
      c.stateDir,
      '--timeout',
      '180',
    ]);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(
      new RegExp(
        `^node/node-2 started \\(kubelet and kube-proxy at 127\\.${slot}\\.1\\.2, pods 10\\.244\\.2\\.0/24\\)\\nnode/node-2 Ready`,
      ),
    );
    const after = (await c.status()) as any;
    const holder = after.network.nodePids['node-2'] as number;
    expect(alive(holder)).toBe(true);
    const node2 = await c.getJson(['get', 'node', 'node-2']);
    expect(node2.status.addresses.find((a: any) => a.type === 'InternalIP').address).toBe(`127.${slot}.1.2`);
    expect(node2.spec.podCIDR).toBe('10.244.2.0/24');

    const applied = await c.kubectl(['apply', '-f', '-'], { input: pinnedWeb('node-2') });
    expect(applied.code, applied.stderr).toBe(0);
    const pod = await waitFor(
      'the pinned pod to run on node-2',
      async () => (await pods(c, 'pinned')).find((p) => p.ip),
      120_000,
    );
    expect(pod.node).toBe('node-2');
    expect(pod.ip).toMatch(/^10\.244\.2\.\d+$/);
    // its own hostname, so its own UTS namespace on the new node
    expect(await exec(c, pod.name, ['hostname'])).toBe(pod.name);
    const svc = await c.getJson(['get', 'service', 'pinned']);
    const nodePort = svc.spec.ports[0].nodePort as number;
    // the host reaches the new node's NodePort at its InternalIP, as on a real cluster
    const url = `http://127.${slot}.1.2:${nodePort}/`;
    expect(await waitFor(`${url} to answer`, () => hostCurl(url), 60_000)).toBe(pod.name);
    const namespaces = nsOf(holder).filter((ns) => ns.startsWith('net:'));

    const removed = await c.kubemu(['node', 'remove', 'node-2', '--name', c.name, '--state-dir', c.stateDir]);
    expect(removed.stderr).toBe('');
    expect(removed.stdout).toBe(
      'node/node-2: kubelet and kube-proxy stopped, its network namespace removed\nnode/node-2 deleted\n',
    );
    expect(alive(holder)).toBe(false);
    expect((await c.kubectl(['get', 'node', 'node-2'])).stderr).toMatch(/nodes "node-2" not found/);
    const gone = await waitFor(
      'the node namespace to be gone',
      () => Promise.resolve(namespaces.every((ns) => !namespacesInUse().has(ns))),
      10_000,
    );
    expect(gone).toBe(true);
    // its NodePort is no longer published at its address
    await waitFor(
      `${url} to refuse`,
      () =>
        hostCurl(url).then(
          () => false,
          (err: Error) => /Failed to connect|Connection refused/.test(err.message),
        ),
      60_000,
    );
    expect(((await c.status()) as any).network.nodePids).not.toHaveProperty('node-2');

    clusters.splice(0);
    expect(await downAndCheck(c, mountsBefore, await holdings(c))).toEqual(NOTHING_LEFT);
  }, 600_000);
});
