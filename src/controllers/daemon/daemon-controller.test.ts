import { describe, it, expect, afterEach } from 'vitest';
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { ResourceClient } from '../../client/index.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { DaemonSetController } from './daemon-controller.js';
import { targetNodeName } from './util.js';

const ns = 'kube-system';

/** the docs' fluentd-elasticsearch DaemonSet (kubernetes.io/docs/concepts/workloads/controllers/daemonset/) */
function fluentd(extra: Partial<DaemonSet['spec']> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'fluentd-elasticsearch', namespace: ns, labels: { 'k8s-app': 'fluentd-logging' } },
    spec: {
      selector: { matchLabels: { name: 'fluentd-elasticsearch' } },
      template: {
        metadata: { labels: { name: 'fluentd-elasticsearch' } },
        spec: {
          tolerations: [
            { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          ],
          containers: [{ name: 'fluentd-elasticsearch', image: 'kubemu/hello:v1' }],
        },
      },
      ...extra,
    },
  };
}

async function addNode(c: FakeCluster, name: string, labels: Record<string, string> = {}, taints?: Taint[]) {
  await c.client.nodes.create({
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    ...(taints ? { spec: { taints } } : {}),
  });
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster): Promise<DaemonSetController> {
  const ctl = new DaemonSetController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const dsClient = (c: FakeCluster): ResourceClient<DaemonSet> => c.client.resource('apps', 'v1', 'daemonsets');
const livePods = (c: FakeCluster): Pod[] =>
  c.objects<Pod>('pods', ns).filter((p) => !p.metadata?.deletionTimestamp);
const dsOf = (c: FakeCluster): DaemonSet => c.objects<DaemonSet>('daemonsets', ns)[0];
const revisions = (c: FakeCluster): ControllerRevision[] =>
  c.objects<ControllerRevision>('controllerrevisions', ns);
const nodesOf = (pods: Pod[]): string[] => pods.map((p) => targetNodeName(p) ?? '?').sort();

/** the scheduler and kubelets: bind each pod to the node its affinity names and report it ready */
async function runPods(c: FakeCluster): Promise<void> {
  for (const pod of livePods(c)) {
    if (pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) continue;
    await markPodReady(c, pod, targetNodeName(pod));
  }
}

async function updateDs(c: FakeCluster, change: (ds: DaemonSet) => void): Promise<void> {
  for (;;) {
    const ds = await dsClient(c).get('fluentd-elasticsearch', ns);
    change(ds);
    try {
      await dsClient(c).update(ds);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

describe('DaemonSetController', () => {
  it('puts one pod on every node, pinned by a metadata.name affinity term, with the daemon tolerations', async () => {
    const c = await fakeCluster();
    for (const n of ['node-1', 'node-2', 'node-3']) await addNode(c, n);
    await start(c);
    await dsClient(c).create(fluentd());
    await until(() => livePods(c).length === 3, '3 pods');
    const pods = livePods(c);
    expect(nodesOf(pods)).toEqual(['node-1', 'node-2', 'node-3']);
    const pod = pods[0];
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.metadata?.generateName).toBe('fluentd-elasticsearch-');
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', controller: true });
    expect(pod.metadata?.labels?.['pod-template-generation']).toBe('1');
    expect(pod.metadata?.labels?.['controller-revision-hash']).toMatch(/^[a-z0-9]+$/);
    const terms =
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    expect(terms).toHaveLength(1);
    expect(terms?.[0].matchFields?.[0]).toMatchObject({ key: 'metadata.name', operator: 'In' });
    const tolerations = (pod.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}`);
    expect(tolerations).toEqual(
      expect.arrayContaining([
        'node-role.kubernetes.io/control-plane:NoSchedule',
        'node.kubernetes.io/not-ready:NoExecute',
        'node.kubernetes.io/unreachable:NoExecute',
        'node.kubernetes.io/disk-pressure:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule',
        'node.kubernetes.io/pid-pressure:NoSchedule',
        'node.kubernetes.io/unschedulable:NoSchedule',
      ]),
    );
    // a not-hostNetwork pod does not tolerate an unset-up network
    expect(tolerations).not.toContain('node.kubernetes.io/network-unavailable:NoSchedule');
    // the unreachable toleration has no tolerationSeconds: the taint never evicts a daemon pod
    expect(
      pod.spec?.tolerations?.find((t) => t.key === 'node.kubernetes.io/unreachable')?.tolerationSeconds,
    ).toBeUndefined();
    expect(revisions(c)).toHaveLength(1);
    expect(revisions(c)[0].revision).toBe(1);

    await runPods(c);
    await until(() => dsOf(c).status?.numberReady === 3, 'status');
    expect(dsOf(c).status).toMatchObject({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      numberReady: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
      observedGeneration: 1,
    });
  });

  it('follows nodeSelector and taints; a new node gets a pod; an untolerated NoSchedule node gets none', async () => {
    const c = await fakeCluster();
    await addNode(c, 'node-1', { disk: 'ssd' });
    await addNode(c, 'node-2');
    await addNode(c, 'node-3', { disk: 'ssd' }, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
    await start(c);
    const ds = fluentd();
    ds.spec!.template.spec!.nodeSelector = { disk: 'ssd' };
    await dsClient(c).create(ds);
    await until(() => livePods(c).length === 1, 'one pod');
    expect(nodesOf(livePods(c))).toEqual(['node-1']);

    await addNode(c, 'node-4', { disk: 'ssd' });
    await until(() => livePods(c).length === 2, 'a pod on the new node');
    expect(nodesOf(livePods(c))).toEqual(['node-1', 'node-4']);

    // a hostNetwork daemon tolerates network-unavailable, which a plain one does not
    await addNode(c, 'node-5', { disk: 'ssd' }, [
      { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' },
    ]);
    await until(
      () => dsOf(c).status?.desiredNumberScheduled === 2 && c.objects<Node>('nodes').length === 5,
      'status',
    );
    expect(nodesOf(livePods(c))).toEqual(['node-1', 'node-4']);

    // a node whose label goes away loses its pod; the status counts it as misscheduled until then
    const n4 = await c.client.nodes.get('node-4');
    await c.client.nodes.update({ ...n4, metadata: { ...n4.metadata, labels: {} } });
    await until(() => livePods(c).length === 1, 'the pod leaves node-4');
  });

  it('keeps a pod on a node tainted unreachable:NoExecute but removes it for an untolerated NoExecute taint', async () => {
    const c = await fakeCluster();
    await addNode(c, 'node-1');
    await addNode(c, 'node-2');
    await start(c);
    await dsClient(c).create(fluentd());
    await until(() => livePods(c).length === 2, '2 pods');
    await runPods(c);
    const taint = async (name: string, taints: Taint[]) => {
      const n = await c.client.nodes.get(name);
      await c.client.nodes.update({ ...n, spec: { ...n.spec, taints } });
    };
    await taint('node-1', [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ]);
    await taint('node-2', [{ key: 'evict', value: 'me', effect: 'NoExecute' }]);
    await until(() => livePods(c).length === 1, 'node-2 pod deleted');
    expect(nodesOf(livePods(c))).toEqual(['node-1']);
    await finishTerminatingPods(c, ns);
    await until(() => dsOf(c).status?.numberMisscheduled === 1, 'status');
    // node-1 should not get a new pod (NoSchedule) but keeps its own (NoExecute tolerated): misscheduled
    expect(dsOf(c).status).toMatchObject({ desiredNumberScheduled: 0, numberMisscheduled: 1 });
  });

  it('rolls out a new template one node at a time (maxUnavailable 1), records revisions, and rolls back', async () => {
    const c = await fakeCluster();
    for (const n of ['node-1', 'node-2', 'node-3']) await addNode(c, n);
    await start(c);
    await dsClient(c).create(fluentd());
    await until(() => livePods(c).length === 3, '3 pods');
    await runPods(c);
    await until(() => dsOf(c).status?.numberAvailable === 3, 'available');
    const v1Hash = livePods(c)[0].metadata?.labels?.['controller-revision-hash'];

    await updateDs(c, (ds) => {
      ds.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2';
    });
    await until(
      () => revisions(c).length === 2 && dsOf(c).status?.observedGeneration === 2,
      'second revision',
    );
    // never more than one node without an available pod
    for (let round = 0; round < 10; round++) {
      await until(
        () =>
          c.objects<Pod>('pods', ns).some((p) => p.metadata?.deletionTimestamp) ||
          dsOf(c).status?.updatedNumberScheduled === 3,
        'a step',
      );
      const terminating = c.objects<Pod>('pods', ns).filter((p) => p.metadata?.deletionTimestamp);
      expect(terminating.length).toBeLessThanOrEqual(1);
      await finishTerminatingPods(c, ns);
      await until(() => livePods(c).length === 3, 'replacement');
      await runPods(c);
      if (livePods(c).every((p) => p.spec?.containers[0].image === 'kubemu/hello:v2')) break;
    }
    expect(livePods(c).map((p) => p.spec?.containers[0].image)).toEqual(Array(3).fill('kubemu/hello:v2'));
    await until(
      () => dsOf(c).status?.updatedNumberScheduled === 3 && dsOf(c).status?.numberAvailable === 3,
      'rolled out',
    );
    expect(livePods(c)[0].metadata?.labels?.['pod-template-generation']).toBe('2');
    expect(
      revisions(c)
        .map((r) => r.revision)
        .sort(),
    ).toEqual([1, 2]);

    // what `kubectl rollout undo` does: the old revision's data as a strategic merge patch
    const old = revisions(c).find((r) => r.metadata?.labels?.['controller-revision-hash'] === v1Hash)!;
    expect((old.data as { spec: { template: Record<string, unknown> } }).spec.template['$patch']).toBe(
      'replace',
    );
    await dsClient(c).patch('fluentd-elasticsearch', old.data, 'strategic', { namespace: ns });
    await until(
      () => revisions(c).find((r) => r.metadata?.name === old.metadata?.name)?.revision === 3,
      'revision 1 becomes 3',
    );
    expect(revisions(c)).toHaveLength(2);
  });

  it('OnDelete replaces a pod only when it is deleted', async () => {
    const c = await fakeCluster();
    await addNode(c, 'node-1');
    await addNode(c, 'node-2');
    await start(c);
    await dsClient(c).create(fluentd({ updateStrategy: { type: 'OnDelete' } }));
    await until(() => livePods(c).length === 2, '2 pods');
    await runPods(c);
    await updateDs(c, (ds) => {
      ds.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2';
    });
    await until(() => revisions(c).length === 2 && dsOf(c).status?.observedGeneration === 2, 'observed');
    expect(livePods(c).map((p) => p.spec?.containers[0].image)).toEqual([
      'kubemu/hello:v1',
      'kubemu/hello:v1',
    ]);
    expect(dsOf(c).status?.updatedNumberScheduled ?? 0).toBe(0);
    const victim = livePods(c)[0];
    await c.client.pods.delete(victim.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0 });
    await until(
      () =>
        livePods(c).length === 2 &&
        livePods(c).some((p) => p.spec?.containers[0].image === 'kubemu/hello:v2'),
      'replaced',
    );
  });

  it('surges with maxSurge: the new pod runs beside the old until it is available', async () => {
    const c = await fakeCluster();
    await addNode(c, 'node-1');
    await start(c);
    await dsClient(c).create(
      fluentd({
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await until(() => livePods(c).length === 1, 'pod');
    await runPods(c);
    await until(() => dsOf(c).status?.numberAvailable === 1, 'available');
    await updateDs(c, (ds) => {
      ds.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2';
    });
    await until(() => livePods(c).length === 2, 'surge pod');
    expect(
      livePods(c)
        .map((p) => p.spec?.containers[0].image)
        .sort(),
    ).toEqual(['kubemu/hello:v1', 'kubemu/hello:v2']);
    await runPods(c);
    await until(() => livePods(c).length === 1, 'old pod deleted');
    expect(livePods(c)[0].spec?.containers[0].image).toBe('kubemu/hello:v2');
  });
});
