// The controller-manager process against a real apiserver process: garbage collection cascades, namespace
// deletion, node lifecycle with taint-based eviction and pod GC. Needs `npx tsc -p tsconfig.build.json` first.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../src/client/index.js';
import { rfc3339, rfc3339Micro } from '../src/util/objects.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { stopChild } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

let api: ApiServerProcess;
let cm: ChildProcess;
let cmLogs = '';
let client: KubeClient;
let connection: ApiConnection;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls as waitFor does, every 100 ms; a timeout's message carries the controller-manager's last log lines */
function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  return waitFor(what, fn, timeoutMs, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${cmLogs.slice(-3000)}`);
  });
}

const exists = async (get: () => Promise<unknown>): Promise<boolean> =>
  get().then(
    () => true,
    (err: { code?: number }) => {
      if (err.code === 404) return false;
      throw err;
    },
  );

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'hello' }] },
};

/** Deployment → ReplicaSet → 2 pods, linked by hand with ownerReferences as the controllers would */
async function chain(ns: string, name: string): Promise<{ d: Deployment; rs: ReplicaSet; pods: Pod[] }> {
  const d = await client.deployments.create({
    metadata: { name, namespace: ns },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
  });
  const ref = (o: { metadata?: { name?: string; uid?: string } }, kind: string, apiVersion: string) => ({
    apiVersion,
    kind,
    name: o.metadata!.name!,
    uid: o.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  });
  const rs = await client.replicaSets.create({
    metadata: { name: `${name}-rs`, namespace: ns, ownerReferences: [ref(d, 'Deployment', 'apps/v1')] },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
  });
  const pods: Pod[] = [];
  for (const i of [1, 2]) {
    pods.push(
      await client.pods.create({
        metadata: {
          name: `${name}-rs-${i}`,
          namespace: ns,
          labels: { app: 'web' },
          ownerReferences: [ref(rs, 'ReplicaSet', 'apps/v1')],
        },
        spec: template.spec,
      }),
    );
  }
  return { d, rs, pods };
}

beforeAll(async () => {
  api = await startApiServer();
  cm = spawn(
    process.execPath,
    [
      join(DIST, 'cmd/controller-manager.js'),
      '--kubeconfig',
      api.kubeconfig,
      '--node-monitor-grace-period',
      '2s',
      '--node-monitor-period',
      '250ms',
      // the hand-made chains below must not be reconciled by the ReplicaSet/Deployment controllers
      '--controllers',
      '*,-replicaset,-deployment',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' } },
  );
  cm.stderr!.on('data', (c: Buffer) => (cmLogs += c.toString()));
  ({ client, connection } = connectKubeClient({ server: api.url, token: api.token, ca: api.ca }));
  await eventually(
    'controllers started',
    () => Promise.resolve(cmLogs.includes('controllers started')),
    20_000,
  );
});

afterAll(async () => {
  await connection?.close();
  if (cm) await stopChild(cm);
  await api?.cleanup();
});

describe('controller-manager: garbage collector', () => {
  it('background: deleting a Deployment cascades to its ReplicaSet and pods', async () => {
    await chain('default', 'bg');
    await sleep(500);
    expect(await exists(() => client.replicaSets.get('bg-rs', 'default'))).toBe(true);
    await client.deployments.delete('bg', { namespace: 'default' });
    await eventually('ReplicaSet and pods collected', async () => {
      const rs = await exists(() => client.replicaSets.get('bg-rs', 'default'));
      const pods = (await client.pods.list({ namespace: 'default', labelSelector: 'app=web' })).items.filter(
        (p) => p.metadata?.name?.startsWith('bg-'),
      );
      return !rs && pods.length === 0;
    });
  });

  it('orphan: the dependents stay, without the ownerReference', async () => {
    await chain('default', 'orph');
    await client.deployments.delete('orph', { namespace: 'default', propagationPolicy: 'Orphan' });
    await eventually(
      'deployment gone',
      async () => !(await exists(() => client.deployments.get('orph', 'default'))),
    );
    const rs = await client.replicaSets.get('orph-rs', 'default');
    expect(rs.metadata?.ownerReferences ?? []).toEqual([]);
    await sleep(1_000);
    const pods = await Promise.all([1, 2].map((i) => client.pods.get(`orph-rs-${i}`, 'default')));
    expect(pods.map((p) => p.metadata?.ownerReferences?.[0]?.uid)).toEqual([
      rs.metadata?.uid,
      rs.metadata?.uid,
    ]);
  });

  it('foreground: the owner waits (with its finalizer) until the dependents are gone, pods first', async () => {
    const order: string[] = [];
    const subs = [client.pods, client.replicaSets, client.deployments].map((rc) =>
      (rc as typeof client.pods).watch(
        { namespace: 'default' },
        (ev) => {
          if (ev.type === 'DELETED' && ev.object.metadata?.name?.startsWith('fg'))
            order.push(ev.object.metadata.name);
        },
        () => undefined,
      ),
    );
    try {
      await chain('default', 'fg');
      await sleep(300);
      await client.deployments.delete('fg', { namespace: 'default', propagationPolicy: 'Foreground' });
      const d = await client.deployments.get('fg', 'default');
      expect(d.metadata?.deletionTimestamp).toBeTruthy();
      await eventually('everything deleted', () => Promise.resolve(order.length === 4));
      expect(order.indexOf('fg-rs-1')).toBeLessThan(order.indexOf('fg-rs'));
      expect(order.indexOf('fg-rs-2')).toBeLessThan(order.indexOf('fg-rs'));
      expect(order[3]).toBe('fg');
    } finally {
      for (const s of subs) s.stop();
    }
  });
});

describe('controller-manager: namespace controller', () => {
  it('a deleted namespace is emptied and then removed', async () => {
    await client.namespaces.create({ metadata: { name: 'doomed' } });
    await chain('doomed', 'app');
    await client.configMaps.create({ metadata: { name: 'cfg', namespace: 'doomed' }, data: { a: 'b' } });
    await client.services.create({
      metadata: { name: 'svc', namespace: 'doomed' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    await client.namespaces.delete('doomed');
    const ns = await client.namespaces.get('doomed').catch(() => undefined);
    if (ns) expect(ns.status?.phase).toBe('Terminating');
    await eventually('namespace gone', async () => !(await exists(() => client.namespaces.get('doomed'))));
    expect((await client.configMaps.list({ namespace: 'doomed' })).items).toEqual([]);
    expect((await client.pods.list({ namespace: 'doomed' })).items).toEqual([]);
  });
});

describe('controller-manager: node lifecycle and taint eviction', () => {
  it('a node whose lease stops being renewed goes Unknown, is tainted, and its pods are evicted after tolerationSeconds', async () => {
    const now = () => rfc3339(Date.now());
    const created = await client.nodes.create({ metadata: { name: 'int-node' } });
    await client.nodes.updateStatus({
      ...created,
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            lastHeartbeatTime: now(),
            lastTransitionTime: now(),
          },
        ],
      },
    });
    let lease = await client.leases.create({
      metadata: { name: 'int-node', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'int-node', leaseDurationSeconds: 2, renewTime: rfc3339Micro(Date.now()) },
    });
    const pod = await client.pods.create({
      metadata: { name: 'on-int-node', namespace: 'default' },
      spec: { nodeName: 'int-node', containers: [{ name: 'c', image: 'hello' }] },
    });
    // the apiserver's DefaultTolerationSeconds admission gave it 2 s of unreachable tolerance
    expect(pod.spec?.tolerations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: 'node.kubernetes.io/unreachable',
          effect: 'NoExecute',
          tolerationSeconds: 2,
        }),
      ]),
    );
    // a live kubelet: renew for 3 s (longer than the grace period), the node stays Ready
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      lease = await client.leases.update({
        ...lease,
        spec: { ...lease.spec, renewTime: rfc3339Micro(Date.now()) },
      });
    }
    let node: Node = await client.nodes.get('int-node');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const stoppedAt = Date.now();

    node = await eventually('node Unknown and tainted', async () => {
      const n = await client.nodes.get('int-node');
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && n.spec?.taints?.some((t) => t.effect === 'NoExecute')
        ? n
        : undefined;
    });
    const unknownAfter = Date.now() - stoppedAt;
    expect(unknownAfter).toBeGreaterThanOrEqual(1_500);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect((node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort()).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    const taintedAt = Date.now();

    // evicted after its 2 s toleration: marked, then Terminating (no kubelet to finish the graceful delete)
    const evicted = await eventually('pod evicted', async () => {
      const p = await client.pods.get('on-int-node', 'default');
      return p.metadata?.deletionTimestamp ? p : undefined;
    });
    expect(Date.now() - taintedAt).toBeGreaterThanOrEqual(1_000);
    expect(evicted.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'DisruptionTarget', reason: 'DeletionByTaintManager' }),
      ]),
    );
    const events = (await client.events.list({ namespace: 'default' })).items;
    expect(events.map((e) => e.message)).toContain('Marking for deletion Pod default/on-int-node');

    // the node is removed for good: pod GC force-deletes what was left on it
    await client.nodes.delete('int-node');
    await eventually(
      'orphaned pod force-deleted',
      async () => !(await exists(() => client.pods.get('on-int-node', 'default'))),
    );
  });
});

describe('controller-manager: with the ReplicaSet and Deployment controllers', () => {
  it('a Deployment made by the controllers is cascaded away on delete', async () => {
    // a second process running only L1's controllers: the two sets are disjoint, so it must not wait for the
    // first one's Lease (upstream: --leader-elect=false, or a Lease of its own with --leader-elect-resource-name)
    const cm2 = spawn(
      process.execPath,
      [
        join(DIST, 'cmd/controller-manager.js'),
        '--kubeconfig',
        api.kubeconfig,
        '--controllers',
        'replicaset,deployment',
        '--leader-elect=false',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' } },
    );
    let logs2 = '';
    cm2.stderr.on('data', (c: Buffer) => (logs2 += c.toString()));
    try {
      await client.namespaces.create({ metadata: { name: 'apps' } });
      await client.deployments.create({
        metadata: { name: 'hello', namespace: 'apps' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'hello' } },
          template: { metadata: { labels: { app: 'hello' } }, spec: template.spec },
        },
      });
      await eventually(
        'ReplicaSet and 2 pods created',
        async () => (await client.pods.list({ namespace: 'apps' })).items.length === 2,
        20_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs2.slice(-2000)}`);
      });
      const rs = (await client.replicaSets.list({ namespace: 'apps' })).items;
      expect(rs).toHaveLength(1);
      await client.deployments.delete('hello', { namespace: 'apps' });
      await eventually('everything collected', async () => {
        const left =
          (await client.replicaSets.list({ namespace: 'apps' })).items.length +
          (await client.pods.list({ namespace: 'apps' })).items.length;
        return left === 0;
      });
    } finally {
      await stopChild(cm2);
    }
  });
});
