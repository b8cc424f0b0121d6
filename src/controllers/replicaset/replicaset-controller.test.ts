import { describe, it, expect, afterEach } from 'vitest';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { errors } from '../../api/errors.js';
import {
  fakeCluster,
  markPodReady,
  setPodStatus,
  settle,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { ReplicaSetController } from './replicaset-controller.js';

const ns = 'default';

function replicaSet(name: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: { containers: [{ name: 'c', image: 'hello' }] },
      },
      ...extra,
    },
  };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(cluster: FakeCluster, run = true): Promise<ReplicaSetController> {
  const ctl = new ReplicaSetController({
    client: cluster.client,
    informers: cluster.informers,
    clock: cluster.clock,
  });
  stops.push(() => {
    ctl.stop();
    cluster.informers.stop();
  });
  if (run) await ctl.run();
  else {
    cluster.informers.start();
    await cluster.informers.waitForSync();
  }
  return ctl;
}

const pods = (c: FakeCluster): Pod[] => c.objects<Pod>('pods', ns);
const rsOf = (c: FakeCluster, name: string): ReplicaSet =>
  c.objects<ReplicaSet>('replicasets', ns).find((r) => r.metadata?.name === name)!;
const events = (c: FakeCluster): Event[] => c.objects<Event>('events', ns);

async function scale(c: FakeCluster, name: string, replicas: number): Promise<void> {
  for (;;) {
    const rs = await c.client.replicaSets.get(name, ns);
    try {
      await c.client.replicaSets.update({ ...rs, spec: { ...rs.spec!, replicas } });
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

describe('ReplicaSetController', () => {
  it('creates pods from the template with generateName, labels and a controller ownerReference', async () => {
    const c = await fakeCluster();
    const ctl = await start(c);
    const rs = await c.client.replicaSets.create(replicaSet('web', 3));
    await until(() => pods(c).length === 3 && rsOf(c, 'web').status?.replicas === 3, '3 pods');
    for (const pod of pods(c)) {
      expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(pod.metadata?.generateName).toBe('web-');
      expect(pod.metadata?.labels).toEqual({ app: 'web', tier: 'web' });
      expect(pod.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web',
          uid: rs.metadata?.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(pod.spec?.containers[0].image).toBe('hello');
    }
    await ctl.flushEvents();
    const created = events(c).filter((e) => e.reason === 'SuccessfulCreate');
    expect(created.map((e) => e.message).sort()).toEqual(
      pods(c)
        .map((p) => `Created pod: ${p.metadata?.name}`)
        .sort(),
    );
    expect(created[0].involvedObject).toMatchObject({
      kind: 'ReplicaSet',
      name: 'web',
      uid: rs.metadata?.uid,
    });
    expect(created[0].source?.component).toBe('replicaset-controller');
    const st = rsOf(c, 'web').status!;
    expect(st).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 1,
    });
  });

  it('replaces a pod that is deleted and deletes the surplus on scale-down, with events', async () => {
    const c = await fakeCluster();
    const ctl = await start(c);
    await c.client.replicaSets.create(replicaSet('web', 2));
    await until(() => pods(c).length === 2);
    const victim = pods(c)[0].metadata!.name!;
    await c.client.pods.delete(victim, { namespace: ns });
    await until(
      () => pods(c).length === 2 && !pods(c).some((p) => p.metadata?.name === victim),
      'replacement',
    );
    await scale(c, 'web', 0);
    await until(() => pods(c).length === 0 && rsOf(c, 'web').status?.replicas === 0, 'scaled to 0');
    await ctl.flushEvents();
    expect(events(c).filter((e) => e.reason === 'SuccessfulDelete')).toHaveLength(2);
    expect(events(c).find((e) => e.reason === 'SuccessfulDelete')?.message).toMatch(/^Deleted pod: web-/);
  });

  it('deletes the least valuable pods first (unassigned, pending, not ready, then newest)', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.replicaSets.create(replicaSet('web', 5));
    await until(() => pods(c).length === 5);
    await settle();
    const [, p1, p2, p3, p4] = pods(c).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    // p0 stays unassigned; p1 assigned but Pending; p2 running not ready; p3 and p4 ready (p3 ready first)
    const setPod = async (pod: Pod, nodeName: string, status: Pod['status']): Promise<void> => {
      const name = pod.metadata!.name!;
      await c.client.pods.bind({
        metadata: { name, namespace: ns },
        target: { kind: 'Node', name: nodeName },
      });
      await setPodStatus(c, name, ns, status);
    };
    await setPod(p1, 'n1', { phase: 'Pending' });
    await setPod(p2, 'n1', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] });
    await markPodReady(c, p3, 'n2');
    c.clock.advance(600_000);
    await markPodReady(c, p4, 'n3');
    await settle();
    // bound pods are deleted gracefully and stay, terminating, until their kubelet is done: count the others
    const live = (): Pod[] => pods(c).filter((p) => !p.metadata?.deletionTimestamp);
    const remaining = async (n: number): Promise<string[]> => {
      await scale(c, 'web', n);
      await until(() => live().length === n, `${n} pods`);
      return live()
        .map((p) => p.metadata!.name!)
        .sort();
    };
    expect(await remaining(4)).toEqual([p1, p2, p3, p4].map((p) => p.metadata!.name!).sort());
    expect(await remaining(3)).toEqual([p2, p3, p4].map((p) => p.metadata!.name!).sort());
    expect(await remaining(2)).toEqual([p3, p4].map((p) => p.metadata!.name!).sort());
    // both ready: the one ready more recently goes first
    expect(await remaining(1)).toEqual([p3.metadata!.name!]);
  });

  it('does not double-create when syncs run before the watch reports the new pods (expectations)', async () => {
    const c = await fakeCluster();
    const ctl = await start(c, false);
    await c.client.replicaSets.create(replicaSet('web', 3));
    await until(() => c.informers.replicaSets().store.size() === 1);
    c.pauseWatches();
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(3);
    expect(ctl.expectations.satisfied('default/web')).toBe(false);
    // the cache still shows no pods: without expectations this would create 3 more
    await ctl.syncReplicaSet('default/web');
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(3);
    c.resumeWatches();
    await settle();
    expect(ctl.expectations.satisfied('default/web')).toBe(true);
    expect(ctl.expectations.get('default/web')).toEqual({ add: 0, del: 0 });
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(3);
    // same for deletes: a pod deleted once is counted once
    await scale(c, 'web', 1);
    await settle();
    c.pauseWatches();
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(1);
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(1);
    c.resumeWatches();
    await settle();
    expect(ctl.expectations.get('default/web')).toEqual({ add: 0, del: 0 });
  });

  it('creates in slow-start batches and stops at the first failing batch', async () => {
    const c = await fakeCluster();
    const ctl = await start(c, false);
    await c.client.replicaSets.create(replicaSet('web', 10));
    await until(() => c.informers.replicaSets().store.size() === 1);
    let creates = 0;
    c.onRequest = (req) => {
      if (req.verb === 'create' && req.resource === 'pods' && ++creates > 4)
        throw errors.forbidden(
          { group: '', kind: 'Pod', resource: 'pods' },
          'system:rs',
          'create',
          'exceeded quota: pods',
        );
    };
    await expect(ctl.syncReplicaSet('default/web')).rejects.toThrow(/exceeded quota/);
    // batches 1, 2 succeed (3 pods), the batch of 4 has one success then failures: nothing more is tried
    expect(creates).toBe(7);
    expect(pods(c)).toHaveLength(4);
    await settle();
    const cond = rsOf(c, 'web').status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    expect(cond).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(cond?.message).toMatch(/exceeded quota/);
    c.onRequest = undefined;
    await ctl.syncReplicaSet('default/web');
    expect(pods(c)).toHaveLength(10);
    await settle();
    await ctl.syncReplicaSet('default/web');
    expect(rsOf(c, 'web').status?.conditions ?? []).toEqual([]);
  });

  it('adopts matching orphans and releases pods whose labels stop matching', async () => {
    const c = await fakeCluster();
    await start(c);
    const orphan = await c.client.pods.create({
      metadata: { name: 'orphan', namespace: ns, labels: { app: 'web', tier: 'web' } },
      spec: { containers: [{ name: 'c', image: 'hello' }] },
    });
    const rs = await c.client.replicaSets.create(replicaSet('web', 2));
    await until(() => pods(c).length === 2 && rsOf(c, 'web').status?.replicas === 2, 'adopted + 1 created');
    const adopted = pods(c).find((p) => p.metadata?.name === 'orphan')!;
    expect(adopted.metadata?.ownerReferences?.[0]).toMatchObject({ uid: rs.metadata?.uid, controller: true });
    expect(adopted.metadata?.uid).toBe(orphan.metadata?.uid);
    // relabel the adopted pod: it is released and replaced
    const cur = await c.client.pods.get('orphan', ns);
    await c.client.pods.update({ ...cur, metadata: { ...cur.metadata, labels: { app: 'other' } } });
    await until(() => pods(c).length === 3, 'replacement for the released pod');
    await until(
      () => !pods(c).find((p) => p.metadata?.name === 'orphan')?.metadata?.ownerReferences,
      'released',
    );
    expect(pods(c).filter((p) => p.metadata?.labels?.['app'] === 'web')).toHaveLength(2);
  });

  it('does not adopt pods owned by another controller', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.pods.create({
      metadata: {
        name: 'theirs',
        namespace: ns,
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Other', name: 'x', uid: 'other-uid', controller: true }],
      },
      spec: { containers: [{ name: 'c', image: 'hello' }] },
    });
    await c.client.replicaSets.create(replicaSet('web', 1));
    await until(() => pods(c).length === 2);
    await settle();
    expect(pods(c).find((p) => p.metadata?.name === 'theirs')?.metadata?.ownerReferences?.[0].uid).toBe(
      'other-uid',
    );
  });

  it('does not count pods being deleted or finished, and replaces them', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.replicaSets.create(replicaSet('web', 2));
    await until(() => pods(c).length === 2);
    const [a, b] = pods(c);
    // a bound pod is deleted gracefully: it stays, terminating, until its kubelet has stopped it
    await markPodReady(c, a);
    await c.client.pods.delete(a.metadata!.name!, { namespace: ns });
    expect(
      pods(c).find((p) => p.metadata?.name === a.metadata!.name)?.metadata?.deletionTimestamp,
    ).toBeDefined();
    await setPodStatus(c, b.metadata!.name!, ns, { phase: 'Failed' });
    await until(() => pods(c).length === 4 && rsOf(c, 'web').status?.replicas === 2, 'two replacements');
  });

  it('counts ready and available replicas, honouring minReadySeconds with the clock', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.replicaSets.create(replicaSet('web', 2, { minReadySeconds: 10 }));
    await until(() => pods(c).length === 2);
    for (const p of pods(c)) await markPodReady(c, p);
    await until(() => rsOf(c, 'web').status?.readyReplicas === 2, 'ready');
    expect(rsOf(c, 'web').status?.availableReplicas).toBe(0);
    c.clock.advance(5_000);
    await settle();
    expect(rsOf(c, 'web').status?.availableReplicas).toBe(0);
    c.clock.advance(7_000);
    await until(() => rsOf(c, 'web').status?.availableReplicas === 2, 'available after minReadySeconds');
  });

  it('counts fullyLabeledReplicas only for pods carrying every template label', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.pods.create({
      metadata: { name: 'partial', namespace: ns, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'hello' }] },
    });
    await c.client.replicaSets.create(replicaSet('web', 2));
    await until(() => rsOf(c, 'web').status?.replicas === 2, 'status');
    expect(rsOf(c, 'web').status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1 });
  });
});
