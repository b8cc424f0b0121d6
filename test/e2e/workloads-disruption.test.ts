// #22, disruption: `kubectl drain` held back by the docs' PodDisruptionBudget (minAvailable) until the budget allows
// it, and the docs' PriorityClass preempting a low-priority pod on a cluster full of CPU requests — real kubectl,
// one two-node cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 2 });
}, 120_000);

afterAll(async () => {
  await c?.down();
});

// kubernetes.io/docs/tasks/run-application/configure-pdb/: "Example PDB Using minAvailable"
const ZK_PDB = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: zk-pdb
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: zookeeper
`;

// the application the budget guards: pods labelled app: zookeeper, one per node
const ZK = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: zk
spec:
  replicas: 2
  selector:
    matchLabels:
      app: zookeeper
  template:
    metadata:
      labels:
        app: zookeeper
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: kubernetes-zookeeper
        image: kubemu/hello:v1
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`;

// kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/: "Example PriorityClass"
const HIGH_PRIORITY = `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high-priority
value: 1000000
globalDefault: false
description: "This priority class should be used for XYZ service pods only."
`;

// the docs' pod using it, with the kubemu image and a CPU request (the cluster is full of CPU requests)
const NGINX = `apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels:
    env: test
spec:
  containers:
  - name: nginx
    image: kubemu/hello:v1
    imagePullPolicy: IfNotPresent
    resources:
      requests:
        cpu: "1"
  priorityClassName: high-priority
`;

// fills both 2-CPU nodes: each replica asks for 1.5 CPU, priority 0 (no class)
const FILLER = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: filler
spec:
  replicas: 2
  selector:
    matchLabels:
      app: filler
  template:
    metadata:
      labels:
        app: filler
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: kubemu/hello:v1
        resources:
          requests:
            cpu: 1500m
`;

async function apply(manifest: string): Promise<void> {
  const r = await c.kubectl(['apply', '-f', '-'], { input: manifest });
  expect(r.code, r.stderr).toBe(0);
}

async function pods(selector: string): Promise<Pod[]> {
  return (await c.getJson<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items;
}

const ready = (p: Pod): boolean =>
  !p.metadata?.deletionTimestamp &&
  !!p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');

function exitOf(child: ReturnType<typeof kubectlStream>['child']): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code ?? 1));
  });
}

describe('PodDisruptionBudget and kubectl drain', () => {
  it('drain cordons, is refused with 429 while minAvailable would break, and finishes once the budget allows', async () => {
    await apply(ZK);
    await apply(ZK_PDB);
    await c.waitFor('two ready zookeeper pods on two nodes', async () => {
      const zk = (await pods('app=zookeeper')).filter(ready);
      return zk.length === 2 && new Set(zk.map((p) => p.spec?.nodeName)).size === 2;
    });
    const pdb = await c.waitFor('the budget computed', async () => {
      const p = await c.getJson<PodDisruptionBudget>(['get', 'pdb', 'zk-pdb']);
      return p.status?.currentHealthy === 2 ? p : undefined;
    });
    expect(pdb.status).toMatchObject({
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 2,
    });
    expect(pdb.status?.conditions?.find((x) => x.type === 'DisruptionAllowed')).toMatchObject({
      status: 'False',
      reason: 'InsufficientPods',
    });
    const get = await c.kubectl(['get', 'pdb', 'zk-pdb']);
    expect(get.stdout).toMatch(/zk-pdb\s+2\s+N\/A\s+0\s+/);

    const target = (await pods('app=zookeeper'))[0];
    const nodeName = target.spec!.nodeName!;
    const drain = kubectlStream(c.kubeconfig, [
      'drain',
      nodeName,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=150s',
    ]);
    try {
      await c.waitFor(
        'drain refused by the budget',
        () =>
          Promise.resolve(
            drain.output().includes("Cannot evict pod as it would violate the pod's disruption budget."),
          ),
        60_000,
      );
      expect(drain.output()).toContain(
        `error when evicting pods/"${target.metadata!.name}" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
      );
      expect(drain.output()).toContain(`node/${nodeName} cordoned`);
      expect(drain.child.exitCode).toBeNull();
      const node = await c.getJson<{ spec?: { unschedulable?: boolean } }>(['get', 'node', nodeName]);
      expect(node.spec?.unschedulable).toBe(true);
      const still = (await pods('app=zookeeper')).find((p) => p.metadata?.name === target.metadata?.name);
      expect(still?.metadata?.deletionTimestamp).toBeUndefined();

      // a third replica (on the other node: this one is cordoned) gives the budget room for one disruption
      const scale = await c.kubectl(['scale', 'deployment/zk', '--replicas=3']);
      expect(scale.code, scale.stderr).toBe(0);
      const code = await exitOf(drain.child);
      expect(code, drain.output()).toBe(0);
      expect(drain.output()).toContain(`evicting pod default/${target.metadata!.name}`);
      expect(drain.output()).toContain(`pod/${target.metadata!.name} evicted`);
      expect(drain.output()).toContain(`node/${nodeName} drained`);
    } finally {
      drain.stop();
    }
    const left = (await pods('app=zookeeper')).filter(
      (p) => p.spec?.nodeName === nodeName && !p.metadata?.deletionTimestamp,
    );
    expect(left).toEqual([]);
    const zkReady = await c.waitFor('the replacement ready elsewhere', async () => {
      const zk = (await pods('app=zookeeper')).filter(ready);
      return zk.length === 3 ? zk : undefined;
    });
    expect(zkReady.every((p) => p.spec?.nodeName !== nodeName)).toBe(true);

    const uncordon = await c.kubectl(['uncordon', nodeName]);
    expect(uncordon.code, uncordon.stderr).toBe(0);
    const del = await c.kubectl(['delete', '-f', '-', '--wait=true'], { input: `${ZK}---\n${ZK_PDB}` });
    expect(del.code, del.stderr).toBe(0);
  }, 240_000);
});

describe('PriorityClass and preemption', () => {
  it('the built-in system classes exist and an unknown class is refused by Priority admission', async () => {
    const list = await c.kubectl(['get', 'priorityclasses']);
    expect(list.stdout).toMatch(/system-cluster-critical\s+2000000000\s+false/);
    expect(list.stdout).toMatch(/system-node-critical\s+2000001000\s+false/);
    const bad = await c.kubectl(['apply', '-f', '-'], {
      input: NGINX.replace('high-priority', 'no-such-class'),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      'pods "nginx" is forbidden: no PriorityClass with name no-such-class was found',
    );
  });

  it('a high-priority pod preempts a low-priority one on a full cluster and runs in its place', async () => {
    await apply(FILLER);
    const fillers = await c.waitFor('the cluster full of low-priority pods', async () => {
      const f = (await pods('app=filler')).filter((p) => p.status?.phase === 'Running');
      return f.length === 2 ? f : undefined;
    });
    await apply(HIGH_PRIORITY);
    await apply(NGINX);
    const nginx = await c.waitFor(
      'nginx running',
      async () => {
        const p = await c.getJson<Pod>(['get', 'pod', 'nginx']);
        return p.status?.phase === 'Running' ? p : undefined;
      },
      90_000,
    );
    expect(nginx.spec?.priority).toBe(1000000);
    expect(nginx.spec?.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(nginx.status?.nominatedNodeName).toBe(nginx.spec?.nodeName);
    const victim = fillers.find((p) => p.spec?.nodeName === nginx.spec?.nodeName)!;
    expect(victim).toBeDefined();

    const events = await c.getJson<{
      items: { reason?: string; message?: string; involvedObject: { name?: string } }[];
    }>(['get', 'events', '--field-selector', `involvedObject.name=${victim.metadata!.name}`]);
    expect(events.items.find((e) => e.reason === 'Preempted')?.message).toBe(
      `Preempted by pod ${nginx.metadata!.uid} on node ${nginx.spec!.nodeName}`,
    );
    // the victim's replacement waits: the other node is still full
    const pending = await c.waitFor('the replacement filler pending with the reason', async () => {
      const p = (await pods('app=filler')).find((x) => !x.spec?.nodeName);
      const cond = p?.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return cond?.reason === 'Unschedulable' ? cond : undefined;
    });
    expect(pending.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..',
    );
    const describe = await c.kubectl(['get', 'pods', '-l', 'app=filler']);
    expect(describe.stdout).toMatch(/Pending/);
  }, 180_000);
});
