// `docker compose up --build` end to end, on an engine of the test's own (docker-engine.ts): a locally built
// base image (no registry), the cluster Ready for the real kubectl, HTTP through a NodePort, a node killed with
// `kubemu chaos` (docker mode) and its pods replaced, and `down -v` leaving nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUENTD } from '../helpers/docs-manifests.js';
import { waitFor as waitUntil } from '../helpers/wait.js';
import { DockerEngine, run, type Run } from './docker-engine.js';
import { kubectlBin } from '../helpers/kubectl.js';

const REPO = resolve(import.meta.dirname, '../..');
const PROJECT = 'kubemutest';
const CLUSTER = 'kubemu';
const BASE_IMAGE = 'kubemu-base:local';

let engine: DockerEngine;
let work: string;
let compose: (args: string[], timeoutMs?: number) => Promise<Run>;
let kubeconfig: string;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};
const kubectl = (args: string[], input?: string): Promise<Run> =>
  engine.inNet(kubectlBin(), ['--kubeconfig', kubeconfig, ...args], {
    timeoutMs: 30_000,
    ...(input ? { input } : {}),
  });
const getJson = async <T>(args: string[]): Promise<T> =>
  JSON.parse(must(await kubectl([...args, '-o', 'json']), `kubectl ${args.join(' ')}`)) as T;
/** `kubemu ARGS` as a user of the compose cluster runs it: DOCKER_HOST set, no `kubemu up` cluster in their HOME */
const kubemu = (args: string[], timeoutMs = 60_000): Promise<Run> =>
  run(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], {
    env: { ...engine.env, HOME: work },
    timeoutMs,
  });
/** GET from inside the engine's network, where the node IPs are */
const httpGet = async (url: string): Promise<{ status: number; body: string }> => {
  const script = `fetch(${JSON.stringify(url)}).then(async r => console.log(JSON.stringify({status: r.status, body: await r.text()}))).catch(e => { console.error(String(e)); process.exit(1); })`;
  return JSON.parse(
    must(await engine.inNet(process.execPath, ['-e', script], { timeoutMs: 10_000 }), `GET ${url}`),
  ) as {
    status: number;
    body: string;
  };
};
/** the compose cluster is slower to converge: a minute, polled every 500 ms */
const waitFor = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> =>
  waitUntil(what, check, ms, 500);

interface NodeList {
  items: {
    metadata: { name: string };
    status: { conditions: { type: string; status: string; reason?: string }[] };
  }[];
}
interface PodList {
  items: {
    metadata: { name: string; uid: string; deletionTimestamp?: string };
    spec: { nodeName?: string };
    status: { phase: string; conditions?: { type: string; status: string }[] };
  }[];
}
const readyNodes = async (): Promise<string[]> =>
  (await getJson<NodeList>(['get', 'nodes'])).items
    .filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name);
const readyCartPods = async (): Promise<PodList['items']> =>
  (await getJson<PodList>(['get', 'pods', '-l', 'app=cart'])).items.filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

describe('docker compose cluster', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kubemu-docker-'));
    kubeconfig = join(work, 'out', 'kubeconfig');
    // a short path: dockerd's sockets live under it
    engine = await DockerEngine.start(join('/tmp', `kd${process.pid}`));
    must(
      await run('sh', [join(REPO, 'docker/base-image.sh'), BASE_IMAGE], { env: engine.env }),
      'base image',
    );
    const context = join(work, 'context');
    must(
      await run(process.execPath, [join(REPO, 'docker/stage-context.mjs'), context], { timeoutMs: 120_000 }),
      'stage context',
    );
    const v2 = (await engine.docker(['compose', 'version'])).code === 0;
    const env = {
      ...engine.env,
      BASE_IMAGE,
      PREBUILT: '1',
      KUBEMU_BUILD_CONTEXT: context,
      KUBEMU_KUBECONFIG_DIR: join(work, 'out'),
      KUBEMU_CLUSTER_NAME: CLUSTER,
    };
    const file = join(REPO, 'compose.yaml');
    compose = (args, timeoutMs = 300_000) =>
      v2
        ? run('docker', ['compose', '-p', PROJECT, '-f', file, ...args], { env, timeoutMs })
        : run('docker-compose', ['-p', PROJECT, '-f', file, ...args], { env, timeoutMs });
  }, 900_000);

  afterAll(async () => {
    // --remove-orphans: a node container `kubemu node add` made, if a test failed before removing it
    if (compose) await compose(['down', '-v', '--remove-orphans', '--timeout', '5']);
    await engine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('comes up with `up -d --build` and its nodes get Ready for kubectl', async () => {
    must(await compose(['up', '-d', '--build']), 'compose up');
    const nodes = await waitFor(
      '3 Ready nodes',
      async () => {
        const ready = await readyNodes();
        return ready.length === 3 ? ready : undefined;
      },
      120_000,
    );
    expect(nodes.sort()).toEqual(['node-1', 'node-2', 'node-3']);
    // the base image has every tool the kubelet's isolation probe needs (true, echo, kill were missing): isolation,
    // DNS and ports are whole. Docker mounts /sys/fs/cgroup read-only in a container that is not privileged, so the
    // one degraded mode is CPU weight by nice instead of cgroups, and every kubelet says so
    const conditions = (await getJson<NodeList>(['get', 'nodes'])).items.flatMap((n) =>
      n.status.conditions
        .filter((c) => c.type.endsWith('Degraded'))
        .map((c) => `${n.metadata.name} ${c.type} ${c.status} ${c.reason ?? ''}`),
    );
    expect(conditions.sort()).toEqual(
      ['node-1', 'node-2', 'node-3'].flatMap((n) => [
        `${n} CPUCgroupsDegraded True NoCPUCgroups`,
        `${n} ClusterDNSDegraded False PodsHaveClusterDNS`,
        `${n} IsolationDegraded False KubeletHasNamespaces`,
        `${n} PrivilegedPortsDegraded False KubeletMayBindPrivilegedPorts`,
        `${n} RunAsUserDegraded False KubeletIsRoot`,
      ]),
    );
    const warnings = must(
      await kubectl([
        'get',
        'events',
        '-A',
        '--field-selector',
        'type=Warning',
        '-o',
        'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
      ]),
      'get events',
    );
    const degradedWarnings = warnings.split('\n').filter((r) => r.endsWith('Degraded'));
    expect([...new Set(degradedWarnings)]).toEqual(['CPUCgroupsDegraded']);
    // the apiserver's healthcheck (/readyz) reports healthy
    const health = must(
      await engine.docker([
        'inspect',
        '-f',
        '{{.State.Health.Status}}',
        `${PROJECT}${await sep()}apiserver${await sep()}1`,
      ]),
      'inspect',
    );
    expect(health.trim()).toBe('healthy');
  }, 300_000);

  it('serves the shopping-cart example through a NodePort on every node', async () => {
    must(await kubectl(['apply', '-f', join(REPO, 'examples/shopping-cart/cart.yaml')]), 'apply');
    await waitFor(
      '2 Ready cart pods',
      async () => ((await readyCartPods()).length === 2 ? true : undefined),
      90_000,
    );
    for (const ip of ['127.0.1.1', '127.0.1.2', '127.0.1.3']) {
      const res = await waitFor(
        `cart via ${ip}:30080`,
        async () => {
          const r = await httpGet(`http://${ip}:30080/cart/alice/items`);
          return r.status === 200 ? r : undefined;
        },
        30_000,
      );
      expect(JSON.parse(res.body)).toMatchObject({ user: 'alice', items: [] });
    }
    // the ingress container serves HTTP on its address: an Ingress for the cart routes through it
    const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: cart }
spec:
  defaultBackend: { service: { name: cart, port: { number: 80 } } }
`;
    must(await kubectl(['apply', '-f', '-'], ingress), 'apply ingress');
    const viaIngress = await waitFor(
      'cart via the ingress',
      async () => {
        const r = await httpGet('http://127.0.3.1/cart/bob/items');
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    expect(JSON.parse(viaIngress.body)).toMatchObject({ user: 'bob', items: [] });
  }, 180_000);

  it("a pod cannot read the cluster's state volume (/var/lib/kubemu in its node container): CA key, kubeconfigs", async () => {
    const node1 = `${PROJECT}${await sep()}node-1${await sep()}1`;
    const targets = ['/var/lib/kubemu/pki/ca.key', '/var/lib/kubemu/kubeconfigs/kubelet-node-1.kubeconfig'];
    // they are there, in the node container the kubelet runs in
    for (const t of targets) must(await engine.docker(['exec', node1, 'test', '-s', t]), `${t} in ${node1}`);
    const script = [
      'ls /var/lib/kubemu/pki && echo LISTED || echo "DENIED /var/lib/kubemu/pki"',
      ...targets.map((t) => `cat ${t} && echo "READ ${t}" || echo "DENIED ${t}"`),
      'echo DONE; sleep 3600',
    ].join('; ');
    must(
      await kubectl(
        ['apply', '-f', '-'],
        `apiVersion: v1
kind: Pod
metadata: { name: thief }
spec:
  nodeName: node-1
  containers:
  - name: thief
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(script)}]
`,
      ),
      'apply thief',
    );
    const logs = await waitFor(
      'the thief to finish',
      async () => {
        const r = await kubectl(['logs', 'thief']);
        return r.stdout.includes('DONE') ? r.stdout : undefined;
      },
      90_000,
    );
    expect(logs).not.toContain('PRIVATE KEY');
    expect(logs).not.toMatch(/^(READ|LISTED)/m);
    for (const t of ['/var/lib/kubemu/pki', ...targets]) expect(logs).toContain(`DENIED ${t}`);
    must(await kubectl(['delete', 'pod', 'thief', '--grace-period=0', '--force']), 'delete thief');
  }, 180_000);

  it('kubemu chaos kill-node (docker mode) kills the node container and its pods are replaced elsewhere', async () => {
    const before = await readyCartPods();
    const victim = before[0].spec.nodeName!;
    const r = await kubemu(['chaos', 'kill-node', victim, '--mode', 'docker', '--name', CLUSTER]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        // the hint names the command as it runs from here (npx kubemu in the clone); CLUSTER is the default name
        `killed ${victim} \\(container .*\\); it stays down until ` +
          `'(npx kubemu|kubemu|node \\S+) chaos restart-node ${victim}'`,
      ),
    );
    const running = must(
      await engine.docker(['ps', '-q', '--filter', `label=io.kubemu.node=${victim}`]),
      'ps',
    );
    expect(running.trim()).toBe('');
    await waitFor(`${victim} NotReady`, async () => !(await readyNodes()).includes(victim), 60_000);
    const after = await waitFor(
      '2 Ready cart pods off the dead node',
      async () => {
        const pods = await readyCartPods();
        return pods.length === 2 && pods.every((p) => p.spec.nodeName !== victim) ? pods : undefined;
      },
      90_000,
    );
    expect(after.map((p) => p.spec.nodeName)).not.toContain(victim);
    // still down (restart: unless-stopped does not bring a killed container back) until restart-node
    expect(
      (await engine.docker(['ps', '-q', '--filter', `label=io.kubemu.node=${victim}`])).stdout.trim(),
    ).toBe('');
    const back = await kubemu(['chaos', 'restart-node', victim, '--mode', 'docker', '--name', CLUSTER]);
    expect(back.code, back.stderr).toBe(0);
    await waitFor(`${victim} Ready again`, async () => (await readyNodes()).includes(victim), 60_000);
  }, 300_000);

  it('kubemu chaos kill COMPONENT crashes it and pm2-runtime restarts it', async () => {
    const r = await kubemu(['chaos', 'kill', 'controller-manager', '--name', CLUSTER]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /killed controller-manager \(pid \d+ in container .*\) with SIGKILL; pm2-runtime restarted it as pid \d+/,
    );
  }, 60_000);

  it('`kubemu node add node-4` starts a node container; the docs fluentd DaemonSet gets a pod on it', async () => {
    must(await kubectl(['apply', '-f', '-'], FLUENTD), 'apply the DaemonSet');
    await waitFor('a Ready fluentd pod on each of the 3 nodes', async () =>
      Object.keys(await daemonPodsByNode()).length === 3 ? true : undefined,
    );
    // as docker/README.md says: the cluster found by its containers' label, its name the default one
    const added = await kubemu(['node', 'add', 'node-4', '--timeout', '240'], 300_000);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(
      new RegExp(
        `^node/node-4 started \\(container ${PROJECT}[-_]node-4[-_]1, kubelet and kube-proxy at 127\\.0\\.1\\.4\\)\\n` +
          'node/node-4 Ready \\([\\d.]+ s\\)\\n$',
      ),
    );
    const container = must(
      await engine.docker([
        'ps',
        '--format',
        '{{.Names}} {{.Label "com.docker.compose.project"}}',
        '--filter',
        'label=io.kubemu.node=node-4',
      ]),
      'docker ps',
    );
    expect(container.trim()).toMatch(new RegExp(`^${PROJECT}[-_]node-4[-_]1 ${PROJECT}$`));
    const node = await getJson<{ status: { addresses: { type: string; address: string }[] } }>([
      'get',
      'node',
      'node-4',
    ]);
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.1.4' });
    expect((await readyNodes()).sort()).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    // the DaemonSet controller sees the new node and the pod runs in the new container
    const byNode = await waitFor('a Ready fluentd pod on node-4', async () => {
      const pods = await daemonPodsByNode();
      return Object.keys(pods).length === 4 ? pods : undefined;
    });
    expect(Object.keys(byNode).sort()).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    expect(Object.values(byNode).every((names) => names.length === 1)).toBe(true);

    const dup = await kubemu(['node', 'add', 'node-2']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/node "node-2" already exists in compose cluster "kubemu"/);
    const unknown = await kubemu(['node', 'remove', 'node-9']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(
      /compose cluster "kubemu" has no node "node-9" \(nodes: node-1, node-2, node-3, node-4\)/,
    );
  }, 420_000);

  it('`kubectl drain` and `kubemu node remove node-4`: its container and Node go, the DaemonSet is back to 3', async () => {
    // what the docs tell a user before taking a node away: drain it (DaemonSet pods stay, as upstream)
    const drained = must(
      await kubectl(['drain', 'node-4', '--ignore-daemonsets', '--timeout=90s']),
      'kubectl drain',
    );
    expect(drained).toMatch(/node\/node-4 cordoned[\s\S]*node\/node-4 drained/);
    const removed = await kubemu(['node', 'remove', 'node-4']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(
      new RegExp(`^node/node-4: container ${PROJECT}[-_]node-4[-_]1 removed\\nnode/node-4 deleted\\n$`),
    );
    expect((await kubectl(['get', 'node', 'node-4'])).stderr).toMatch(/NotFound/);
    expect(
      (await engine.docker(['ps', '-aq', '--filter', 'label=io.kubemu.node=node-4'])).stdout.trim(),
    ).toBe('');
    // the pod GC deletes the pod bound to the deleted node; the DaemonSet wants 3 again
    await waitFor('no fluentd pod on node-4 and 3 desired', async () => {
      const pods = await getJson<PodList>([
        'get',
        'pods',
        '-n',
        'kube-system',
        '-l',
        'name=fluentd-elasticsearch',
      ]);
      const ds = await getJson<{ status: { desiredNumberScheduled: number; numberReady: number } }>([
        'get',
        '-n',
        'kube-system',
        'daemonset/fluentd-elasticsearch',
      ]);
      return !pods.items.some((p) => p.spec.nodeName === 'node-4') &&
        ds.status.desiredNumberScheduled === 3 &&
        ds.status.numberReady === 3
        ? true
        : undefined;
    });
    expect((await readyNodes()).sort()).toEqual(['node-1', 'node-2', 'node-3']);
  }, 240_000);

  it('`down -v` leaves no container or volume', async () => {
    must(await compose(['down', '-v', '--timeout', '5']), 'compose down');
    expect(
      (await engine.docker(['ps', '-aq', '--filter', `label=io.kubemu.cluster=${CLUSTER}`])).stdout.trim(),
    ).toBe('');
    expect((await engine.docker(['volume', 'ls', '-q'])).stdout).not.toContain(`${PROJECT}_state`);
  }, 120_000);
});

/** node name → the Ready, not terminating fluentd pods there */
async function daemonPodsByNode(): Promise<Record<string, string[]>> {
  const pods = await getJson<PodList>([
    'get',
    'pods',
    '-n',
    'kube-system',
    '-l',
    'name=fluentd-elasticsearch',
  ]);
  const out: Record<string, string[]> = {};
  for (const p of pods.items) {
    const ready = p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready && !p.metadata.deletionTimestamp && p.spec.nodeName)
      (out[p.spec.nodeName] ??= []).push(p.metadata.name);
  }
  return out;
}

/** v1 names containers project_service_1, v2 project-service-1 */
async function sep(): Promise<string> {
  const names = must(await engine.docker(['ps', '--format', '{{.Names}}']), 'ps');
  return names.includes(`${PROJECT}-`) ? '-' : '_';
}
