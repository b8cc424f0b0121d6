// Integration: a real apiserver process and a real kubelet process running pods as real processes on 127.244.7.0/24.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeKubeletScratch } from '../src/kubelet/scratch.js';
import { ApiError } from '../src/api/errors.js';
import { ensureNodeToken } from '../src/apiserver/auth/token-file.js';
import { KubeletClient } from '../src/apiserver/kubelet-client.js';
import { kubeletLogsRoute } from '../src/apiserver/kubelet-proxy.js';
import { sendError } from '../src/apiserver/rest/server.js';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../src/client/index.js';
import { writeKubeconfig } from '../src/util/kubeconfig.js';
import { silentLogger } from '../src/util/logger.js';
import { ensureKubeletServingCertificate, PKI_FILES, readCertificateAuthority } from '../src/util/pki.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { waitFor as poll } from './helpers/wait.js';
import { kubectlBin } from './helpers/kubectl.js';

const NODE = 'node-7';
const NODE_IP = '127.0.1.7';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the shared poll, at this file's pace: 20 s at most, every 150 ms */
function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  return poll(what, check, ms, 150);
}

let api: ApiServerProcess;
let client: KubeClient;
let connection: ApiConnection;
let rootDir: string;
let kubeconfig: string;
let kubelet: ChildProcess;
let kubeletLog = '';
let proxy: http.Server;
let proxyUrl = '';
let kubelets: KubeletClient;
/** the apiserver's PKI dir (its CA and kubelet client certificate) and the kubelet's cert dir */
const pkiDir = () => path.join(api.stateDir, 'pki');
const certDir = () => path.join(rootDir, 'pki');

function startKubelet(): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      path.join(DIST, 'cmd/kubelet.js'),
      '--kubeconfig',
      kubeconfig,
      '--node-name',
      NODE,
      '--node-ip',
      NODE_IP,
      '--pod-cidr',
      '127.244.7.0/24',
      '--root-dir',
      rootDir,
      '--port',
      '0',
      '--cpu',
      '2',
      '--memory',
      '4Gi',
      ...['--tls-cert-file', path.join(certDir(), 'kubelet.crt')],
      ...['--tls-private-key-file', path.join(certDir(), 'kubelet.key')],
      ...['--client-ca-file', path.join(pkiDir(), PKI_FILES.caCert)],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' } },
  );
  child.stderr.on('data', (c: Buffer) => (kubeletLog += c.toString()));
  return child;
}

/** http GET (pod IPs), resolves undefined when the connection is refused. */
function get(url: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

function refuses(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const pods: Pod[] = [];
async function createPod(
  name: string,
  spec: Omit<Pod['spec'] & object, 'nodeName'>,
  extra: Partial<Pod['metadata']> = {},
): Promise<Pod> {
  const pod = await client.pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...extra },
    spec: { ...spec, nodeName: NODE },
  });
  pods.push(pod);
  return pod;
}
const getPod = (name: string) => client.pods.get(name, 'default');
const cs = (p: Pod, i = 0) => p.status?.containerStatuses?.[i];

async function events(name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = await client.events.list({
    namespace: 'default',
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '' }));
}

/** Streams pod logs through kubeletLogsRoute (what the apiserver serves at pods/log). */
function routeLogs(pod: string, query = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${proxyUrl}/api/v1/namespaces/default/pods/${pod}/log${query}`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function kubectl(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      kubectlBin(),
      ['--server', proxyUrl, '--token', api.token, ...args],
      { timeout: timeoutMs, env: { ...process.env, KUBECONFIG: '/dev/null' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  api = await startApiServer();
  rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-kubelet-'));
  kubeconfig = path.join(rootDir, 'kubelet.kubeconfig');
  writeKubeconfig(kubeconfig, {
    name: NODE,
    server: api.url,
    caPem: api.ca,
    token: ensureNodeToken(api.stateDir, NODE),
    setCurrent: true,
  });
  ({ client, connection } = connectKubeClient({ server: api.url, token: api.token, ca: api.ca }));
  // what `kubemu up` does for each node: a serving certificate of the cluster CA for the node's address
  await ensureKubeletServingCertificate(readCertificateAuthority(pkiDir())!, certDir(), {
    name: NODE,
    ip: NODE_IP,
  });
  kubelets = new KubeletClient({
    caPem: api.ca,
    certPem: fs.readFileSync(path.join(pkiDir(), PKI_FILES.kubeletClientCert), 'utf8'),
    keyPem: fs.readFileSync(path.join(pkiDir(), PKI_FILES.kubeletClientKey), 'utf8'),
  });
  kubelet = startKubelet();

  // A stand-in for the apiserver's REST face: pods/log through kubeletLogsRoute, everything else proxied as is.
  const route = kubeletLogsRoute({
    handler: {
      handle: async (req) => ({
        code: 200,
        body:
          req.resource === 'pods'
            ? await client.pods.get(req.name!, req.namespace)
            : await client.nodes.get(req.name!),
      }),
      watch: () => Promise.reject(new Error('not used')),
    },
    kubelets,
    logger: silentLogger(),
  });
  proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const user = { username: 'kubemu-admin', groups: ['system:masters'] };
    Promise.resolve(route(req, res, { url, user, body: () => Promise.resolve(undefined) }))
      .then((handled) => {
        if (handled) return;
        const up = https.request(
          `${api.url}${req.url}`,
          {
            method: req.method,
            headers: { ...req.headers, host: `127.0.0.1:${api.port}`, authorization: `Bearer ${api.token}` },
            ca: api.ca,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        req.pipe(up);
      })
      .catch((err: unknown) => sendError(res, err, silentLogger()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  // SIGTERM: the kubelet stops its containers and removes its run dir and CPU cgroups (SIGKILL would leave them)
  if (kubelet?.pid && kubelet.exitCode === null) {
    const k = kubelet;
    const exited = new Promise<void>((resolve) => k.once('exit', () => resolve()));
    k.kill('SIGTERM');
    const timer = setTimeout(() => k.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (rootDir) removeKubeletScratch(rootDir);
  proxy?.close();
  kubelets?.close();
  await connection?.close();
  await api?.cleanup();
  if (rootDir) fs.rmSync(rootDir, { recursive: true, force: true });
  if (process.env['KUBELET_TEST_LOG']) fs.writeFileSync(process.env['KUBELET_TEST_LOG'], kubeletLog);
});

describe('kubelet', () => {
  it('registers its Node Ready with capacity, addresses, nodeInfo and renews its Lease', async () => {
    const node = await waitFor('node Ready', async () => {
      const n = await client.nodes.get(NODE);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && n;
    });
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': NODE,
      'kubernetes.io/os': 'linux',
      'node.kubernetes.io/instance-type': 'kubemu',
    });
    expect(node.spec?.podCIDR).toBe('127.244.7.0/24');
    expect(node.status?.capacity).toMatchObject({ cpu: '2', memory: '4Gi', pods: '110' });
    expect(node.status?.allocatable?.['cpu']).toBe('2');
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: NODE_IP },
      { type: 'Hostname', address: NODE },
    ]);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    });
    expect(node.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('False');
    expect(node.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.33.0+kubemu',
      containerRuntimeVersion: 'kubemu://0.1.0',
      operatingSystem: 'linux',
    });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBeGreaterThan(0);
    // the Lease is the kubelet's own loop, not part of its status: it may come a moment after Ready
    const first = await waitFor('node Lease', () => client.leases.get(NODE, 'kube-node-lease'));
    expect(first.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 2 });
    await sleep(1200);
    const later = await client.leases.get(NODE, 'kube-node-lease');
    expect(Date.parse(later.spec!.renewTime!)).toBeGreaterThan(Date.parse(first.spec!.renewTime!));
  });

  it('runs kubemu/hello: Running and Ready, answers on its pod IP, with events', async () => {
    await createPod('hello', {
      containers: [
        {
          name: 'hello',
          image: 'kubemu/hello:v1',
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        },
      ],
    });
    const pod = await waitFor('hello ready', async () => {
      const p = await getPod('hello');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p;
    });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.podIP).toMatch(/^127\.244\.7\.\d+$/);
    expect(pod.status?.hostIP).toBe(NODE_IP);
    expect(pod.status?.startTime).toBeTruthy();
    expect(cs(pod)).toMatchObject({
      name: 'hello',
      ready: true,
      started: true,
      restartCount: 0,
      image: 'docker.io/kubemu/hello:v1',
    });
    expect(cs(pod)?.containerID).toMatch(/^kubemu:\/\/[0-9a-f]{64}$/);
    expect(cs(pod)?.state?.running?.startedAt).toBeTruthy();
    expect(pod.status?.conditions?.map((c) => c.type)).toEqual(
      expect.arrayContaining([
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ]),
    );
    const res = await get(`http://${pod.status!.podIP}:8080/`);
    expect(res?.body).toContain('Hello from hello (v1)');
    const ev = await waitFor('events', async () => {
      const e = await events('hello');
      return e.some((x) => x.reason === 'Started') && e;
    });
    expect(ev).toEqual(
      expect.arrayContaining([
        {
          type: 'Normal',
          reason: 'Pulled',
          message: 'Container image "kubemu/hello:v1" already present on machine',
        },
        { type: 'Normal', reason: 'Created', message: 'Created container hello' },
        { type: 'Normal', reason: 'Started', message: 'Started container hello' },
      ]),
    );
  });

  it('env ($(VAR), fieldRef, configMap, service links) and configMap volumes; logs through the pods/log route and kubectl', async () => {
    await client.configMaps.create({
      metadata: { name: 'cfg', namespace: 'default' },
      data: { greeting: 'hi there', color: 'blue' },
    });
    await createPod('envy', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: [
            'sh',
            '-c',
            'echo "A=$A B=$B POD=$POD COLOR=$COLOR K=$KUBERNETES_SERVICE_HOST"; cat /etc/cfg/greeting; echo; echo "$(MSG)"; sleep 30',
          ],
          env: [
            { name: 'A', value: 'x' },
            { name: 'B', value: '$(A)-y' },
            { name: 'MSG', value: 'expanded' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
          ],
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
        },
        { name: 'side', image: 'busybox', command: ['sh', '-c', 'echo side; sleep 30'] },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
    });
    await waitFor('envy running', async () => (await getPod('envy')).status?.phase === 'Running');
    const logs = await waitFor('logs', async () => {
      const r = await routeLogs('envy', '?container=main');
      return r.status === 200 && r.body.includes('expanded') && r.body;
    });
    expect(logs).toContain('A=x B=x-y POD=envy COLOR=blue K=127.96.0.1');
    expect(logs).toContain('hi there');
    const noContainer = await routeLogs('envy');
    expect(noContainer.status).toBe(400);
    expect(JSON.parse(noContainer.body).message).toBe(
      'a container name must be specified for pod envy, choose one of: [main side]',
    );
    const tail = await routeLogs('envy', '?container=main&tailLines=1');
    expect(tail.body).toBe('expanded\n');
    const out = await kubectl(['logs', 'envy', '-c', 'side']);
    expect(out.stdout).toBe('side\n');
    const ts = await kubectl(['logs', 'envy', '-c', 'main', '--timestamps', '--tail', '1']);
    expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z expanded\n$/);
  });

  it('writer and reader share an emptyDir', async () => {
    await createPod('shared', {
      containers: [
        {
          name: 'writer',
          image: 'kubemu/writer:v1',
          env: [{ name: 'INTERVAL_MS', value: '200' }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
        { name: 'reader', image: 'kubemu/reader:v1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    const pod = await waitFor('shared running', async () => {
      const p = await getPod('shared');
      return p.status?.phase === 'Running' && p;
    });
    const body = await waitFor("reader serves the writer's file", async () => {
      const r = await get(`http://${pod.status!.podIP}:8080/`);
      return r?.status === 200 && r.body.includes('shared line') && r.body;
    });
    expect(body).toMatch(/shared line \d+/);
  });

  it('a crashing container goes into CrashLoopBackOff with a growing restartCount', async () => {
    await createPod('crash', {
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo dying; exit 3'] }],
    });
    const pod = await waitFor('CrashLoopBackOff', async () => {
      const p = await getPod('crash');
      return (
        p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' &&
        (cs(p)?.restartCount ?? 0) >= 2 &&
        p
      );
    });
    expect(pod.status?.phase).toBe('Running');
    expect(cs(pod)?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(cs(pod)?.state?.waiting?.message).toMatch(
      /^back-off \d+s restarting failed container=c pod=crash_default\(/,
    );
    const later = await waitFor('more restarts', async () => {
      const p = await getPod('crash');
      return (cs(p)?.restartCount ?? 0) > cs(pod)!.restartCount && p;
    });
    expect(cs(later)!.restartCount).toBeGreaterThan(cs(pod)!.restartCount);
    expect(
      (await events('crash')).some(
        (e) =>
          e.reason === 'BackOff' &&
          e.message.startsWith('Back-off restarting failed container c in pod crash_default('),
      ),
    ).toBe(true);
    const prev = await kubectl(['logs', 'crash', '--previous']);
    expect(prev.stdout).toBe('dying\n');
  });

  it('a failing liveness probe restarts the container', async () => {
    await createPod('unlive', {
      containers: [
        {
          name: 'web',
          image: 'kubemu/hello:v1',
          livenessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
      terminationGracePeriodSeconds: 1,
    });
    await waitFor('restart', async () => (cs(await getPod('unlive'))?.restartCount ?? 0) >= 1, 30_000);
    const ev = await events('unlive');
    expect(
      ev.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed: dial tcp')),
    ).toBe(true);
    expect(ev).toContainEqual({
      type: 'Normal',
      reason: 'Killing',
      message: 'Container web failed liveness probe, will be restarted',
    });
  });

  it('a container over its memory limit is OOMKilled', async () => {
    await createPod('hog', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'hog',
          image: 'busybox',
          command: ['node', '-e', 'const a = []; setInterval(() => a.push(Buffer.alloc(20e6, 1)), 20)'],
          resources: { limits: { memory: '100Mi' } },
        },
      ],
    });
    const pod = await waitFor('OOMKilled', async () => {
      const p = await getPod('hog');
      return cs(p)?.state?.terminated && p;
    });
    expect(cs(pod)?.state?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    expect(pod.status?.phase).toBe('Failed');
  });

  it('an unknown image gives ErrImagePull, then ImagePullBackOff', async () => {
    await createPod('noimg', { containers: [{ name: 'c', image: 'nosuch/image:v9' }] });
    const first = await waitFor('ErrImagePull', async () => {
      const p = await getPod('noimg');
      return cs(p)?.state?.waiting?.reason === 'ErrImagePull' && p;
    });
    // upstream's status message is the runtime's error; kubemu's ends with the images it has
    expect(cs(first)?.state?.waiting?.message).toMatch(
      /^rpc error: code = NotFound desc = failed to pull and unpack image "docker.io\/nosuch\/image:v9": .*the images here are busybox, .*'kubemu image ls'/,
    );
    const later = await waitFor('ImagePullBackOff', async () => {
      const p = await getPod('noimg');
      return cs(p)?.state?.waiting?.reason === 'ImagePullBackOff' && p;
    });
    expect(cs(later)?.state?.waiting?.message).toBe(
      `Back-off pulling image "nosuch/image:v9": ErrImagePull: ${cs(first)?.state?.waiting?.message}`,
    );
    expect(later.status?.phase).toBe('Pending');
    const logs = await kubectl(['logs', 'noimg']);
    expect(logs.stderr).toMatch(
      /container "c" in pod "noimg" is waiting to start: (image can't be pulled|trying and failing to pull image)/,
    );
  });

  it('graceful delete: SIGTERM, containers stopped, then the pod is gone from the API', async () => {
    const pod = await getPod('hello');
    const ip = pod.status!.podIP!;
    await client.pods.delete('hello', { namespace: 'default' });
    await waitFor('pod gone', async () => {
      try {
        await getPod('hello');
        return false;
      } catch (err) {
        return err instanceof ApiError && err.code === 404;
      }
    });
    expect(await refuses(ip, 8080)).toBe(true);
  });

  it('stats/summary reports per-pod CPU and memory to callers authorized for nodes/stats', async () => {
    const node = await client.nodes.get(NODE);
    const port = node.status!.daemonEndpoints!.kubeletEndpoint!.Port;
    const token = ensureNodeToken(api.stateDir, NODE);
    const pki = (f: string) => fs.readFileSync(path.join(pkiDir(), f), 'utf8');
    const fetchSummary = (o: { auth?: string; cert?: boolean } = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        https
          .get(
            `https://${NODE_IP}:${port}/stats/summary`,
            {
              // the kubelet's serving certificate verifies against the cluster CA for the node's IP
              ca: api.ca,
              headers: o.auth ? { Authorization: `Bearer ${o.auth}` } : {},
              ...(o.cert
                ? { cert: pki(PKI_FILES.kubeletClientCert), key: pki(PKI_FILES.kubeletClientKey) }
                : {}),
            },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          )
          .on('error', reject);
      });
    expect((await fetchSummary()).status).toBe(401);
    // a bearer token is checked by a TokenReview and the caller by a SubjectAccessReview of nodes/stats, as upstream's
    // kubelet does in webhook mode: the node's own identity may not, the admin (system:masters) may
    expect((await fetchSummary({ auth: 'not-a-token' })).status).toBe(401);
    expect((await fetchSummary({ auth: token })).status).toBe(403);
    expect((await fetchSummary({ auth: api.token })).status).toBe(200);
    const summary = JSON.parse((await fetchSummary({ cert: true })).body);
    expect(summary.node.nodeName).toBe(NODE);
    const shared = summary.pods.find((p: any) => p.podRef.name === 'shared');
    expect(shared.containers.map((c: any) => c.name).sort()).toEqual(['reader', 'writer']);
    expect(shared.memory.workingSetBytes).toBeGreaterThan(1_000_000);
    expect(shared.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
  });

  it('SIGKILL of the kubelet takes its containers down within 1 s; a restarted kubelet starts them again', async () => {
    const pod = await getPod('shared');
    const ip = pod.status!.podIP!;
    expect(await refuses(ip, 8080)).toBe(false);
    const pids = fs
      .readFileSync(`/proc/${kubelet.pid}/task/${kubelet.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    kubelet.kill('SIGKILL');
    await sleep(1000);
    expect(await refuses(ip, 8080)).toBe(true);
    // The runtime's container processes and its watchdog: all gone.
    expect(pids.filter(alive)).toEqual([]);
    kubelet = startKubelet();
    const back = await waitFor('shared restarted', async () => {
      const p = await getPod('shared');
      return p.status?.phase === 'Running' && (cs(p)?.restartCount ?? 0) >= 1 && cs(p)?.state?.running && p;
    });
    expect(cs(back)?.lastState?.terminated).toBeTruthy();
    await waitFor(
      'reader answers again',
      async () => (await get(`http://${back.status!.podIP}:8080/`))?.status === 200,
    );
  });
});
