import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  fakeCluster,
  markPodReady,
  setPodStatus,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { rfc3339 } from '../../util/objects.js';
import { DisruptionController } from './disruption-controller.js';

const ns = 'default';
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster): Promise<DisruptionController> {
  const ctl = new DisruptionController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const pdbClient = (c: FakeCluster) =>
  c.client.resource<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets');
const pdbOf = (c: FakeCluster, name = 'zk-pdb'): PodDisruptionBudget | undefined =>
  c.objects<PodDisruptionBudget>('poddisruptionbudgets', ns).find((p) => p.metadata?.name === name);

async function pod(c: FakeCluster, name: string, owner?: OwnerReference, ready = true): Promise<Pod> {
  const created = await c.client.pods.create({
    metadata: {
      name,
      namespace: ns,
      labels: { app: 'zookeeper' },
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'kubemu/hello' }] },
  });
  if (ready) await markPodReady(c, created);
  return created;
}

async function replicaSet(c: FakeCluster, name: string, replicas: number, owner?: OwnerReference) {
  const rs = await c.client.replicaSets.create({
    metadata: { name, namespace: ns, ...(owner ? { ownerReferences: [owner] } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'zookeeper' } },
      template: {
        metadata: { labels: { app: 'zookeeper' } },
        spec: { containers: [{ name: 'app', image: 'kubemu/hello' }] },
      },
    },
  });
  return rs;
}

const ownedBy = (obj: ReplicaSet | Deployment, kind: string): OwnerReference => ({
  apiVersion: 'apps/v1',
  kind,
  name: obj.metadata!.name!,
  uid: obj.metadata!.uid!,
  controller: true,
});

function budget(c: FakeCluster, spec: PodDisruptionBudget['spec']): Promise<PodDisruptionBudget> {
  return pdbClient(c).create({
    metadata: { name: 'zk-pdb', namespace: ns },
    spec: { selector: { matchLabels: { app: 'zookeeper' } }, ...spec },
  });
}

const statusOf = (c: FakeCluster) => {
  const s = pdbOf(c)?.status;
  return (
    s && {
      currentHealthy: s.currentHealthy,
      desiredHealthy: s.desiredHealthy,
      disruptionsAllowed: s.disruptionsAllowed,
      expectedPods: s.expectedPods,
    }
  );
};

const condition = (c: FakeCluster) =>
  pdbOf(c)?.status?.conditions?.find((x) => x.type === 'DisruptionAllowed');

describe('DisruptionController', () => {
  it('minAvailable as an integer: the docs example with three ready pods allows one disruption, then none', async () => {
    const c = await fakeCluster();
    await start(c);
    for (const n of ['zk-0', 'zk-1', 'zk-2']) await pod(c, n);
    const created = await budget(c, { minAvailable: 2 });
    await until(() => statusOf(c)?.disruptionsAllowed === 1, 'status');
    expect(statusOf(c)).toEqual({
      currentHealthy: 3,
      desiredHealthy: 2,
      disruptionsAllowed: 1,
      expectedPods: 3,
    });
    expect(pdbOf(c)?.status?.observedGeneration).toBe(created.metadata?.generation);
    expect(condition(c)).toMatchObject({ status: 'True', reason: 'SufficientPods', observedGeneration: 1 });
    await setPodStatus(c, 'zk-2', ns, { conditions: [{ type: 'Ready', status: 'False' }] });
    await until(() => statusOf(c)?.currentHealthy === 2, 'zk-2 unready');
    expect(statusOf(c)?.disruptionsAllowed).toBe(0);
    expect(condition(c)).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('maxUnavailable as a percentage scales with the ReplicaSet, not with the pods that exist', async () => {
    const c = await fakeCluster();
    await start(c);
    const rs = await replicaSet(c, 'zk', 4);
    for (const n of ['zk-a', 'zk-b', 'zk-c']) await pod(c, n, ownedBy(rs, 'ReplicaSet'));
    await budget(c, { maxUnavailable: '50%' });
    await until(() => statusOf(c)?.expectedPods === 4, 'status');
    expect(statusOf(c)).toEqual({
      currentHealthy: 3,
      desiredHealthy: 2,
      disruptionsAllowed: 1,
      expectedPods: 4,
    });
  });

  it('minAvailable as a percentage takes the scale of the Deployment owning the ReplicaSet', async () => {
    const c = await fakeCluster();
    await start(c);
    const d = await c.client.deployments.create({
      metadata: { name: 'zk', namespace: ns },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: 'zookeeper' } },
        template: {
          metadata: { labels: { app: 'zookeeper' } },
          spec: { containers: [{ name: 'app', image: 'kubemu/hello' }] },
        },
      },
    });
    const rs = await replicaSet(c, 'zk-7d9', 2, ownedBy(d, 'Deployment'));
    for (const n of ['zk-7d9-a', 'zk-7d9-b']) await pod(c, n, ownedBy(rs, 'ReplicaSet'));
    await budget(c, { minAvailable: '50%' });
    await until(() => statusOf(c)?.expectedPods === 5, 'status');
    // ceil(50% of 5) = 3 wanted, 2 healthy
    expect(statusOf(c)).toEqual({
      currentHealthy: 2,
      desiredHealthy: 3,
      disruptionsAllowed: 0,
      expectedPods: 5,
    });
  });

  it('a pod the eviction API noted in disruptedPods is not healthy until DeletionTimeout passes', async () => {
    const c = await fakeCluster();
    await start(c);
    for (const n of ['zk-0', 'zk-1', 'zk-2']) await pod(c, n);
    await budget(c, { minAvailable: 2 });
    await until(() => statusOf(c)?.disruptionsAllowed === 1, 'status');
    const current = pdbOf(c)!;
    await pdbClient(c).updateStatus({
      ...current,
      status: {
        ...current.status!,
        disruptionsAllowed: 0,
        disruptedPods: { 'zk-0': rfc3339(c.clock.now()) },
      },
    });
    await until(() => statusOf(c)?.currentHealthy === 2, 'zk-0 counted as disrupted');
    expect(pdbOf(c)?.status?.disruptedPods).toHaveProperty('zk-0');
    // the pod was never deleted: after two minutes it counts again and the NotDeleted event says so
    c.clock.advance(2 * 60_000 + 1_000);
    await until(() => statusOf(c)?.currentHealthy === 3, 'zk-0 healthy again');
    expect(pdbOf(c)?.status?.disruptedPods).toBeUndefined();
    await until(
      () => c.objects<Event>('events', ns).some((e) => e.reason === 'NotDeleted'),
      'NotDeleted event',
    );
  });

  it('unmanaged pods under a percentage: nothing expected, no disruption, an UnmanagedPods warning', async () => {
    const c = await fakeCluster();
    await start(c);
    for (const n of ['zk-0', 'zk-1']) await pod(c, n);
    await budget(c, { maxUnavailable: 1 });
    await until(() => statusOf(c) !== undefined && pdbOf(c)?.status?.observedGeneration === 1, 'status');
    expect(statusOf(c)).toEqual({
      currentHealthy: 2,
      desiredHealthy: 0,
      disruptionsAllowed: 0,
      expectedPods: 0,
    });
    await until(
      () => c.objects<Event>('events', ns).some((e) => e.reason === 'UnmanagedPods'),
      'UnmanagedPods event',
    );
  });

  it('fails safe when a pod has a controller it cannot find: no disruption, SyncFailed with the reason', async () => {
    const c = await fakeCluster();
    await start(c);
    await pod(c, 'zk-0', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'gone',
      uid: 'u-1',
      controller: true,
    });
    await budget(c, { maxUnavailable: 1 });
    await until(() => condition(c)?.reason === 'SyncFailed', 'SyncFailed');
    expect(condition(c)).toMatchObject({ status: 'False', message: 'found no controllers for pod "zk-0"' });
    expect(pdbOf(c)?.status?.disruptionsAllowed).toBe(0);
  });
});

describe('DisruptionController, stale DisruptionTarget conditions', () => {
  it('resets DisruptionTarget=True to False on a pod that was never deleted, after two minutes', async () => {
    const c = await fakeCluster();
    await start(c);
    await pod(c, 'zk-0');
    await setPodStatus(c, 'zk-0', ns, {
      conditions: [
        { type: 'Ready', status: 'True' },
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'EvictionByEvictionAPI',
          message: 'Eviction API: evicting',
          lastTransitionTime: rfc3339(c.clock.now()),
        },
      ],
    });
    const target = (): string | undefined =>
      c
        .objects<Pod>('pods', ns)
        .find((p) => p.metadata?.name === 'zk-0')
        ?.status?.conditions?.find((x) => x.type === 'DisruptionTarget')?.status;
    c.clock.advance(60_000);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(target()).toBe('True');
    c.clock.advance(61_000);
    await until(() => target() === 'False', 'condition reset');
  });
});
