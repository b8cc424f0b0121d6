// DaemonSets and ReplicationControllers end to end with the real kubectl, on one cluster: the docs' fluentd-elasticsearch
// DaemonSet (image replaced by a kubemu one) gets one pod per node, one on a node added with `kubemu node add`, none
// where a NoSchedule taint is not tolerated, a rolling update and `kubectl rollout undo`; its pod stays on a node
// that goes unreachable; `kubemu node remove` takes a node away; the docs' replication.yaml scales with `kubectl scale rc`.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
}, 120_000);

afterAll(async () => {
  await c?.down();
});

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/** kubernetes.io/docs/concepts/workloads/controllers/daemonset/ (controllers/daemonset.yaml), image replaced */
const FLUENTD = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      # these tolerations are to have the daemonset runnable on control plane nodes
      # remove them if your control plane nodes should not run pods
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: kubemu/hello:v1
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      # it may be desirable to set a high priority class to ensure that a DaemonSet Pod
      # preempts running Pods
      # priorityClassName: important
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
`;

/** kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/ (controllers/replication.yaml), image replaced */
const REPLICATION = `apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: kubemu/hello:v1
        ports:
        - containerPort: 80
`;

const DS = ['-n', 'kube-system', 'daemonset/fluentd-elasticsearch'];

const isReady = (p: Pod): boolean =>
  p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;

async function daemonPods(): Promise<Pod[]> {
  const list = await c.getJson<{ items: Pod[] }>([
    'get',
    'pods',
    '-n',
    'kube-system',
    '-l',
    'name=fluentd-elasticsearch',
  ]);
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** node name → the images of the daemon pods running Ready there */
async function readyByNode(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await daemonPods()) {
    if (!isReady(p) || !p.spec?.nodeName) continue;
    (out[p.spec.nodeName] ??= []).push(p.spec.containers[0].image ?? '');
  }
  return out;
}

async function rolloutStatus(): Promise<string> {
  return must(
    await c.kubectl(['rollout', 'status', ...DS, '--timeout=120s'], { timeoutMs: 130_000 }),
    'kubectl rollout status',
  );
}

describe('DaemonSet', () => {
  it('runs one fluentd pod per node, bound by the scheduler through node affinity', async () => {
    must(await c.kubectl(['apply', '-f', '-'], { input: FLUENTD }), 'kubectl apply');
    expect(await rolloutStatus()).toMatch(/daemon set "fluentd-elasticsearch" successfully rolled out/);
    const byNode = await c.waitFor('3 Ready daemon pods', async () => {
      const r = await readyByNode();
      return Object.keys(r).length === 3 ? r : undefined;
    });
    expect(Object.keys(byNode).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(Object.values(byNode).every((images) => images.length === 1)).toBe(true);
    const pod = (await daemonPods())[0];
    const term =
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0];
    expect(term?.matchFields?.[0]).toEqual({
      key: 'metadata.name',
      operator: 'In',
      values: [pod.spec?.nodeName],
    });
    // kubectl's own columns for the DaemonSet
    const get = must(await c.kubectl(['get', ...DS]), 'kubectl get ds');
    expect(get).toMatch(/NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE/);
    expect(get).toMatch(/fluentd-elasticsearch\s+3\s+3\s+3\s+3\s+3\s+<none>/);
  });

  it('gets a pod on a node added with `kubemu node add`; duplicate and unknown names are refused', async () => {
    const added = await c.kubemu(['node', 'add', 'node-4', '--name', c.name, '--state-dir', c.stateDir]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/node\/node-4 Ready/);
    const node = await c.getJson<{ status: { addresses: { type: string; address: string }[] } }>([
      'get',
      'node',
      'node-4',
    ]);
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.1.4' });
    await c.waitFor('a daemon pod Ready on node-4', async () =>
      (await readyByNode())['node-4']?.length === 1 ? true : undefined,
    );
    expect((await c.status()).nodes.map((n) => n.name)).toContain('node-4');

    const dup = await c.kubemu(['node', 'add', 'node-2', '--name', c.name, '--state-dir', c.stateDir]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/node "node-2" already exists/);
    const bad = await c.kubemu(['node', 'add', 'Node_5', '--name', c.name, '--state-dir', c.stateDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a valid node name/);
    const unknown = await c.kubemu(['node', 'remove', 'node-9', '--name', c.name, '--state-dir', c.stateDir]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/has no node "node-9"/);
  });

  it('puts no pod on a node tainted NoSchedule that it does not tolerate', async () => {
    must(await c.kubectl(['taint', 'nodes', 'node-3', 'dedicated=logging:NoSchedule']), 'kubectl taint');
    // NoSchedule does not evict the pod already there; deleted, it is not replaced on that node
    const victim = (await daemonPods()).find((p) => p.spec?.nodeName === 'node-3')!;
    must(
      await c.kubectl(['delete', 'pod', '-n', 'kube-system', victim.metadata!.name!, '--wait=true']),
      'kubectl delete pod',
    );
    await c.waitFor('desiredNumberScheduled 3', async () => {
      const ds = await c.getJson<{ status: { desiredNumberScheduled: number; numberReady: number } }>([
        'get',
        ...DS,
      ]);
      return ds.status.desiredNumberScheduled === 3 && ds.status.numberReady === 3 ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await daemonPods()).map((p) => p.spec?.nodeName).sort()).toEqual(['node-1', 'node-2', 'node-4']);
    must(await c.kubectl(['taint', 'nodes', 'node-3', 'dedicated=logging:NoSchedule-']), 'kubectl taint -');
    await c.waitFor('the pod back on node-3', async () =>
      (await readyByNode())['node-3'] ? true : undefined,
    );
  });

  it('rolls out a new image node by node, keeps ControllerRevisions, and `kubectl rollout undo` goes back', async () => {
    must(
      await c.kubectl(['set', 'image', ...DS, 'fluentd-elasticsearch=kubemu/hello:v2']),
      'kubectl set image',
    );
    expect(await rolloutStatus()).toMatch(/successfully rolled out/);
    const v2 = await readyByNode();
    expect(Object.keys(v2).sort()).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    expect(Object.values(v2).flat()).toEqual(Array(4).fill('kubemu/hello:v2'));
    const history = must(await c.kubectl(['rollout', 'history', ...DS]), 'kubectl rollout history');
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const revisions = must(
      await c.kubectl([
        'get',
        'controllerrevisions',
        '-n',
        'kube-system',
        '-l',
        'name=fluentd-elasticsearch',
        '-o',
        'name',
      ]),
      'kubectl get controllerrevisions',
    );
    expect(revisions.trim().split('\n')).toHaveLength(2);

    const undo = must(await c.kubectl(['rollout', 'undo', ...DS]), 'kubectl rollout undo');
    expect(undo).toMatch(/daemonset.apps\/fluentd-elasticsearch rolled back/);
    expect(await rolloutStatus()).toMatch(/successfully rolled out/);
    await c.waitFor('every pod back on v1', async () => {
      const images = Object.values(await readyByNode()).flat();
      return images.length === 4 && images.every((i) => i === 'kubemu/hello:v1') ? true : undefined;
    });
    const after = must(await c.kubectl(['rollout', 'history', ...DS]), 'kubectl rollout history');
    // the undone revision 1 becomes revision 3, as upstream renumbers it
    expect(after).toMatch(/\n2\s+<none>\n3\s+<none>/);
  });

  it('keeps its pod on a node that goes unreachable (the unreachable taint does not evict it)', async () => {
    const before = (await daemonPods()).find((p) => p.spec?.nodeName === 'node-2')!;
    must(
      await c.kubemu(['chaos', 'kill-node', 'node-2', '--name', c.name, '--state-dir', c.stateDir]),
      'kubemu chaos kill-node',
    );
    try {
      await c.waitFor('node-2 tainted unreachable:NoExecute', async () => {
        const node = await c.getJson<{ spec: { taints?: { key: string; effect: string }[] } }>([
          'get',
          'node',
          'node-2',
        ]);
        return node.spec.taints?.some(
          (t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
        )
          ? true
          : undefined;
      });
      // past the 2 s toleration every other pod gets: a daemon pod tolerates the taint for ever
      await new Promise((r) => setTimeout(r, 5000));
      const pod = await c.getJson<Pod>(['get', 'pod', '-n', 'kube-system', before.metadata!.name!]);
      expect(pod.metadata?.deletionTimestamp).toBeUndefined();
      expect(pod.metadata?.uid).toBe(before.metadata?.uid);
    } finally {
      must(
        await c.kubemu(['chaos', 'restart-node', 'node-2', '--name', c.name, '--state-dir', c.stateDir]),
        'kubemu chaos restart-node',
      );
    }
  });

  it('loses the pod of a node removed with `kubemu node remove`', async () => {
    const removed = await c.kubemu(['node', 'remove', 'node-4', '--name', c.name, '--state-dir', c.stateDir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/node\/node-4 deleted/);
    expect((await c.kubectl(['get', 'node', 'node-4'])).stderr).toMatch(/NotFound/);
    await c.waitFor('the node-4 pod gone and the status down to 3', async () => {
      const pods = await daemonPods();
      const ds = await c.getJson<{ status: { desiredNumberScheduled: number } }>(['get', ...DS]);
      return !pods.some((p) => p.spec?.nodeName === 'node-4') && ds.status.desiredNumberScheduled === 3
        ? true
        : undefined;
    });
    expect((await c.status()).nodes.map((n) => n.name)).not.toContain('node-4');
  });
});

describe('ReplicationController', () => {
  it('runs the docs replication.yaml and scales with `kubectl scale rc`', async () => {
    must(await c.kubectl(['apply', '-f', '-'], { input: REPLICATION }), 'kubectl apply');
    const ready = (n: number) =>
      c.waitFor(`${n} ready replicas`, async () => {
        const rc = await c.getJson<{ status: { replicas: number; readyReplicas?: number } }>([
          'get',
          'rc',
          'nginx',
        ]);
        return rc.status.replicas === n && (rc.status.readyReplicas ?? 0) === n ? true : undefined;
      });
    await ready(3);
    expect(must(await c.kubectl(['get', 'rc', 'nginx']), 'kubectl get rc')).toMatch(/nginx\s+3\s+3\s+3\s/);
    const described = must(await c.kubectl(['describe', 'rc', 'nginx']), 'kubectl describe rc');
    expect(described).toMatch(/Pods Status:\s+3 Running/);
    expect(described).toMatch(/SuccessfulCreate/);
    expect(must(await c.kubectl(['scale', 'rc', 'nginx', '--replicas=5']), 'kubectl scale')).toMatch(
      /replicationcontroller\/nginx scaled/,
    );
    await ready(5);
    must(await c.kubectl(['scale', 'rc', 'nginx', '--replicas=1']), 'kubectl scale');
    await ready(1);
    const pods = await c.getJson<{ items: Pod[] }>(['get', 'pods', '-l', 'app=nginx']);
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live).toHaveLength(1);
    expect(live[0].metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ReplicationController',
      name: 'nginx',
    });
  });
});
