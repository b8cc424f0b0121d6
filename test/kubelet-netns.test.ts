// Integration: a real kubelet with `--pod-network=netns`, living in a node's network namespace inside a cluster
// sandbox (src/netns), runs pods each in its own network namespace: the same port in two pods, the pod IP from the
// node's podCIDR in status.podIP, the pod name as hostname, containers of one pod on localhost, and nothing left
// when the kubelet is SIGKILLed. The apiserver stays on the host; the test brings it into the node at 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNodeToken } from '../src/apiserver/auth/token-file.js';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../src/client/index.js';
import { runCommand, isAlive } from '../src/netns/holder.js';
import { NodeNet } from '../src/netns/node-net.js';
import { Publisher } from '../src/netns/publisher.js';
import { Sandbox } from '../src/netns/sandbox.js';
import { writeKubeconfig } from '../src/util/kubeconfig.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { descendants } from './helpers/cluster.js';
import { stopChild } from './helpers/process.js';
import { createTestUser, type TestUser } from './helpers/test-user.js';
import { ensureCommands } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const NODE = 'node-1';
const NODE_IP = '127.0.1.1';
const POD_CIDR = '10.244.1.0/24';
// answers with its hostname (and its second argument), on the address its first argument names
const SERVER =
  "const http=require('http'),os=require('os');const [host,port]=process.argv.slice(1);" +
  "http.createServer((q,s)=>s.end(os.hostname()+'\\n')).listen({host,port:+port})";
// the pod's second container: asks its neighbour on localhost:9000 and serves what it heard on :8081
const SIDECAR =
  "const http=require('http');http.createServer((q,s)=>http.get('http://localhost:9000/',r=>{let b='';" +
  "r.on('data',c=>b+=c);r.on('end',()=>s.end('neighbour says '+b))}).on('error',e=>s.end(String(e)))).listen(8081)";

/** Hands the kubelet's root dir (and the kubeconfig in it) to the test user. */
function chownTree(dir: string, user: TestUser): void {
  fs.chownSync(dir, user.uid, user.gid);
  for (const entry of fs.readdirSync(dir)) fs.chownSync(path.join(dir, entry), user.uid, user.gid);
}

/** The network namespaces (by inode) of a process's descendants, apart from its own: its pods'. */
function podNamespaces(rootPid: number): Set<string> {
  const own = fs.readlinkSync(`/proc/${rootPid}/ns/net`);
  const nets = new Set<string>();
  for (const pid of descendants([rootPid])) {
    try {
      const net = fs.readlinkSync(`/proc/${pid}/ns/net`);
      if (net !== own) nets.add(net);
    } catch {
      // gone meanwhile
    }
  }
  return nets;
}

/** Every process still in one of these network namespaces, and every nsfs mount of one, for a failure's message. */
function holders(nets: Set<string>): string {
  const lines: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const net = fs.readlinkSync(`/proc/${entry}/ns/net`);
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const mounts = fs.readFileSync(`/proc/${entry}/mountinfo`, 'utf8');
      for (const m of mounts.split('\n'))
        if (m.includes(' nsfs ') && [...nets].some((n) => m.includes(n.replace(/^net:/, ''))))
          lines.push(`mount seen by ${entry}: ${m}`);
      if (!nets.has(net)) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const field = (k: string): string => new RegExp(`^${k}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '?';
      lines.push(`pid ${entry} ppid ${field('PPid')} state ${field('State')} ${net}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return lines.join('\n') || '(no process and no mount: the kernel had not yet freed the namespaces)';
}

/** The whole suite, run by root and then by a test user (the kubelet and its namespaces then are that user's). */
function suite(asUser: boolean): void {
  let user: TestUser | undefined;
  let api: ApiServerProcess;
  let sandbox: Sandbox;
  let node: NodeNet;
  let publisher: Publisher;
  let kubelet: ChildProcess;
  let kubeletLog = '';
  let rootDir: string;
  let client: KubeClient;
  let connection: ApiConnection;

  function startKubelet(kubeconfig: string): ChildProcess {
    const argv = [
      ...node.prefix(),
      process.execPath,
      path.join(DIST, 'cmd/kubelet.js'),
      ...['--kubeconfig', kubeconfig, '--node-name', NODE, '--node-ip', NODE_IP, '--pod-cidr', POD_CIDR],
      ...['--root-dir', rootDir, '--port', '0', '--pod-network', 'netns'],
    ];
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
    });
    child.stderr.on('data', (c: Buffer) => (kubeletLog = (kubeletLog + c.toString()).slice(-200_000)));
    return child;
  }

  /** curl from the node's namespace (where a pod IP is reachable), body or "error: ..." */
  async function fromNode(url: string): Promise<string> {
    return runCommand([...node.prefix(), 'curl', '-sS', '-m', '3', url]).then(
      (body) => body.trim(),
      (e: Error) => `error: ${e.message}`,
    );
  }

  function podSpec(container: string, script: string, ...args: string[]): Pod['spec'] & object {
    return {
      nodeName: NODE,
      containers: [{ name: container, image: 'busybox:1.36', command: ['node', '-e', script, ...args] }],
    };
  }

  async function createPod(name: string, spec: Pod['spec'] & object): Promise<void> {
    await client.pods.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec,
    });
  }

  async function runningPod(name: string): Promise<Pod> {
    return waitFor(
      `pod ${name} running`,
      async () => {
        const p = await client.pods.get(name, 'default');
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nkubelet log tail:\n${kubeletLog.slice(-3000)}`);
    });
  }

  beforeAll(async () => {
    ensureCommands([
      ['unshare', 'util-linux'],
      ['nsenter', 'util-linux'],
      ['ip', 'iproute2'],
      ['curl', 'curl'],
    ]);
    if (asUser) user = createTestUser('kubemu-kubelet-ns');
    api = await startApiServer();
    sandbox = await Sandbox.create({
      name: 'kubelet-netns-test',
      bridgeAddress: '127.0.1.254/24',
      ...(user ? { runAs: { uid: user.uid, gid: user.gid } } : {}),
    });
    node = await NodeNet.create(sandbox, { name: NODE, address: NODE_IP, podCidr: POD_CIDR });
    // the host's apiserver, at the same address inside the node (so its certificate's 127.0.0.1 still fits)
    publisher = await Publisher.start({
      sandboxPrefix: node.prefix(),
      forwarderScript: path.join(DIST, 'cmd/netns-forwarder.js'),
    });
    await publisher.importFromHost(
      { host: '127.0.0.1', port: api.port },
      { host: '127.0.0.1', port: api.port },
    );
    rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-kubelet-netns-'));
    const kubeconfig = path.join(rootDir, 'kubelet.kubeconfig');
    writeKubeconfig(kubeconfig, {
      name: NODE,
      server: api.url,
      caPem: api.ca,
      token: ensureNodeToken(api.stateDir, NODE),
      setCurrent: true,
    });
    if (user) chownTree(rootDir, user);
    ({ client, connection } = connectKubeClient({ server: api.url, token: api.token, ca: api.ca }));
    kubelet = startKubelet(kubeconfig);
  }, 60_000);

  afterAll(async () => {
    await connection?.close();
    if (kubelet) await stopChild(kubelet, 'SIGKILL');
    await publisher?.close();
    await node?.destroy();
    await sandbox?.destroy();
    await api?.cleanup();
    if (rootDir) fs.rmSync(rootDir, { recursive: true, force: true });
    user?.remove();
  });

  describe(`kubelet --pod-network=netns, as ${user ? 'an unprivileged user (user + network namespace)' : 'root'}`, () => {
    it('gives two pods on one node the same port, each its own IP from the podCIDR and its name as hostname', async () => {
      await createPod('web-a', podSpec('web', SERVER, '0.0.0.0', '8080'));
      await createPod('web-b', podSpec('web', SERVER, '::', '8080'));
      const a = await runningPod('web-a');
      const b = await runningPod('web-b');
      expect(a.status?.podIP).toMatch(/^10\.244\.1\.\d+$/);
      expect(b.status?.podIP).toMatch(/^10\.244\.1\.\d+$/);
      expect(a.status?.podIP).not.toBe(b.status?.podIP);
      expect(a.status?.hostIP).toBe(NODE_IP);
      // whose kubelet it is: the test user's (uid 0 only inside its user namespace), or root's
      const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${kubelet.pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).toBe(user ? user.uid : 0);
      expect(
        await waitFor('web-a answers', async () => {
          const body = await fromNode(`http://${a.status!.podIP}:8080/`);
          // (what it answered instead is the timeout's message)
          if (body !== 'web-a') throw new Error(body);
          return body;
        }),
      ).toBe('web-a');
      // Running is not listening yet (the pods have no readiness probe): wait for each server as for web-a
      expect(
        await waitFor('web-b answers', async () => {
          const body = await fromNode(`http://${b.status!.podIP}:8080/`);
          // (what it answered instead is the timeout's message)
          if (body !== 'web-b') throw new Error(body);
          return body;
        }),
      ).toBe('web-b');
    }, 60_000);

    it('lets the containers of one pod talk over localhost', async () => {
      await createPod('pair', {
        nodeName: NODE,
        containers: [
          { name: 'server', image: 'busybox:1.36', command: ['node', '-e', SERVER, '127.0.0.1', '9000'] },
          { name: 'client', image: 'busybox:1.36', command: ['node', '-e', SIDECAR] },
        ],
      });
      const pair = await runningPod('pair');
      const body = await waitFor('pair answers', async () => {
        const r = await fromNode(`http://${pair.status!.podIP}:8081/`);
        return r.startsWith('neighbour says') && r;
      });
      expect(body).toBe('neighbour says pair');
      // the server listens on the pod's own loopback only: not reachable on the pod IP
      expect(await fromNode(`http://${pair.status!.podIP}:9000/`)).toMatch(/^error/);
    }, 60_000);

    it('writes /etc/hosts as upstream does and sets spec.hostname', async () => {
      const HOSTS =
        "const http=require('http'),os=require('os'),fs=require('fs');" +
        "http.createServer((q,s)=>s.end(os.hostname()+'\\n'+fs.readFileSync('/etc/hosts','utf8'))).listen(8080)";
      await createPod('db-0', {
        ...podSpec('db', HOSTS),
        hostname: 'db-0',
        subdomain: 'db',
        hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local'] }],
      });
      const db = await runningPod('db-0');
      const body = await waitFor('db-0 answers', async () => {
        const r = await fromNode(`http://${db.status!.podIP}:8080/`);
        return r.startsWith('db-0') && r;
      });
      expect(body).toBe(
        'db-0\n# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
          'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
          `${db.status!.podIP}\tdb-0.db.default.svc.cluster.local\tdb-0\n` +
          '\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local',
      );
    }, 60_000);

    it('leaves no pause, container or veth behind when the kubelet is SIGKILLed', async () => {
      // a pod's veth pair goes only with its namespace, and the namespace only with its last process (pause or
      // container): no veth left means nothing of the pods is left
      const vethsBefore = await runCommand([...node.prefix(), 'ip', '-o', 'link', 'show', 'master', 'cni0']);
      expect(vethsBefore.split('\n').filter(Boolean)).toHaveLength(4);
      const podNets = podNamespaces(kubelet.pid!);
      expect(podNets.size).toBe(4);
      await stopChild(kubelet, 'SIGKILL');
      const gone = await waitFor('veths gone', async () => {
        const now = await runCommand([...node.prefix(), 'ip', '-o', 'link', 'show', 'master', 'cni0']);
        return now.trim() === '' && 'gone';
      }).catch((err: Error) => {
        throw new Error(
          `${err.message}\nwhat still holds the pods' network namespaces:\n${holders(podNets)}`,
        );
      });
      expect(gone).toBe('gone');
      expect(isAlive(kubelet.pid!)).toBe(false);
    }, 60_000);
  });
}

suite(false);
suite(true);
