import { describe, it, expect, afterEach } from 'vitest';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Event, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  setPodStatus,
  settle,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { StatefulSetController, statefulSetsClient } from './statefulset-controller.js';

const ns = 'default';

function statefulSet(name: string, replicas: number, spec: Partial<StatefulSet['spec']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      serviceName: 'nginx',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'nginx', image: 'kubemu/hello:v1' }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
      ...spec,
    },
  };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster): Promise<StatefulSetController> {
  const ctl = new StatefulSetController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const pods = (c: FakeCluster): Pod[] =>
  c.objects<Pod>('pods', ns).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
const names = (c: FakeCluster): string[] => pods(c).map((p) => p.metadata!.name!);
const live = (c: FakeCluster): string[] =>
  pods(c)
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata!.name!);
const pod = (c: FakeCluster, name: string): Pod | undefined => pods(c).find((p) => p.metadata?.name === name);
const claims = (c: FakeCluster): PersistentVolumeClaim[] =>
  c.objects<PersistentVolumeClaim>('persistentvolumeclaims', ns);
const revisions = (c: FakeCluster): ControllerRevision[] =>
  c.objects<ControllerRevision>('controllerrevisions', ns).sort((a, b) => a.revision - b.revision);
const stsOf = (c: FakeCluster, name = 'web'): StatefulSet =>
  c.objects<StatefulSet>('statefulsets', ns).find((s) => s.metadata?.name === name)!;
const events = (c: FakeCluster): Event[] => c.objects<Event>('events', ns);

async function edit(c: FakeCluster, name: string, change: (s: StatefulSet) => void): Promise<void> {
  const sets = statefulSetsClient(c.client);
  for (;;) {
    const s = await sets.get(name, ns);
    change(s);
    try {
      await sets.update(s);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

/** what the scheduler and kubelet do for every pod not yet ready */
async function readyAll(c: FakeCluster): Promise<void> {
  for (const p of pods(c))
    if (!p.metadata?.deletionTimestamp && p.status?.phase !== 'Running') await markPodReady(c, p);
}

/** bring pods up one at a time as an ordered StatefulSet makes them, until `n` are Running and Ready */
async function bringUp(c: FakeCluster, n: number, set = 'web'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await finishTerminatingPods(c, ns);
    await readyAll(c);
    await settle();
    const s = stsOf(c, set);
    if (live(c).length === n && s.status?.readyReplicas === n) return;
  }
  throw new Error(`pods never came up: ${names(c).join(',')}`);
}

describe('StatefulSetController', () => {
  it('creates pods one at a time in ordinal order, each after its predecessor is Running and Ready', async () => {
    const c = await fakeCluster();
    const ctl = await start(c);
    const set = await statefulSetsClient(c.client).create(statefulSet('web', 3));
    await until(() => names(c).length === 1, 'web-0');
    await settle();
    expect(names(c)).toEqual(['web-0']);
    const p0 = pod(c, 'web-0')!;
    expect(p0.spec?.hostname).toBe('web-0');
    expect(p0.spec?.subdomain).toBe('nginx');
    const rev = stsOf(c).status!.updateRevision!;
    expect(rev).toMatch(/^web-[a-z0-9]+$/);
    expect(p0.metadata?.labels).toEqual({
      app: 'web',
      'controller-revision-hash': rev,
      'statefulset.kubernetes.io/pod-name': 'web-0',
      'apps.kubernetes.io/pod-index': '0',
    });
    expect(p0.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'web',
        uid: set.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(p0.spec?.volumes?.[0]).toEqual({
      name: 'www',
      persistentVolumeClaim: { claimName: 'www-web-0', readOnly: false },
    });
    // the claim exists before the pod, labelled with the selector, owned by nothing (Retain/Retain)
    expect(claims(c).map((x) => x.metadata?.name)).toEqual(['www-web-0']);
    expect(claims(c)[0].metadata?.labels).toEqual({ app: 'web' });
    expect(claims(c)[0].metadata?.ownerReferences).toBeUndefined();

    // web-0 Running but not Ready: still no web-1
    await setPodStatus(c, 'web-0', ns, { phase: 'Running' });
    await settle();
    expect(names(c)).toEqual(['web-0']);
    await markPodReady(c, pod(c, 'web-0')!);
    await until(() => names(c).length === 2, 'web-1');
    expect(names(c)).toEqual(['web-0', 'web-1']);
    await markPodReady(c, pod(c, 'web-1')!);
    await until(() => names(c).length === 3, 'web-2');
    await markPodReady(c, pod(c, 'web-2')!);
    await until(() => stsOf(c).status?.readyReplicas === 3, 'status');
    expect(stsOf(c).status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: rev,
      updateRevision: rev,
      observedGeneration: 1,
      collisionCount: 0,
    });
    expect(
      claims(c)
        .map((x) => x.metadata?.name)
        .sort(),
    ).toEqual(['www-web-0', 'www-web-1', 'www-web-2']);
    // one ControllerRevision, named as the pods' hash, labelled as the template, with upstream's patch
    const [cr] = revisions(c);
    expect(revisions(c)).toHaveLength(1);
    expect(cr.metadata?.name).toBe(rev);
    expect(cr.revision).toBe(1);
    expect(cr.metadata?.labels?.['app']).toBe('web');
    expect(cr.metadata?.labels?.['controller.kubernetes.io/hash']).toBe(rev.slice('web-'.length));
    expect((cr.data as { spec: { template: Record<string, unknown> } }).spec.template['$patch']).toBe(
      'replace',
    );
    await ctl.flushEvents();
    const msgs = events(c).map((e) => e.message);
    expect(msgs).toContain('create Claim www-web-0 Pod web-0 in StatefulSet web success');
    expect(msgs).toContain('create Pod web-0 in StatefulSet web successful');
    expect(events(c).find((e) => e.reason === 'SuccessfulCreate')?.source?.component).toBe(
      'statefulset-controller',
    );
  });

  it('Parallel pod management creates every pod at once', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 4, { podManagementPolicy: 'Parallel' }));
    await until(() => names(c).length === 4, '4 pods');
    expect(names(c)).toEqual(['web-0', 'web-1', 'web-2', 'web-3']);
  });

  it('scales down from the highest ordinal, one at a time, keeping the claims (Retain)', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 3));
    await bringUp(c, 3);
    await edit(c, 'web', (s) => (s.spec!.replicas = 1));
    await until(() => pods(c).some((p) => p.metadata?.deletionTimestamp), 'a pod terminating');
    await settle();
    // web-2 goes first; web-1 waits until web-2 is gone
    expect(
      pods(c)
        .filter((p) => p.metadata?.deletionTimestamp)
        .map((p) => p.metadata?.name),
    ).toEqual(['web-2']);
    await finishTerminatingPods(c, ns);
    await until(() => !!pod(c, 'web-1')?.metadata?.deletionTimestamp, 'web-1 terminating');
    await finishTerminatingPods(c, ns);
    await until(() => stsOf(c).status?.replicas === 1, 'status 1');
    expect(names(c)).toEqual(['web-0']);
    expect(
      claims(c)
        .map((x) => x.metadata?.name)
        .sort(),
    ).toEqual(['www-web-0', 'www-web-1', 'www-web-2']);
    // scaling up again reuses the claims
    await edit(c, 'web', (s) => (s.spec!.replicas = 2));
    await bringUp(c, 2);
    expect(pod(c, 'web-1')?.spec?.volumes?.[0].persistentVolumeClaim?.claimName).toBe('www-web-1');
    expect(claims(c)).toHaveLength(3);
  });

  it('never replaces a pod that is still terminating (a dead node): at most one pod per ordinal', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 2));
    await bringUp(c, 2);
    const oldUid = pod(c, 'web-1')!.metadata!.uid;
    // a graceful delete whose kubelet never confirms (its node is down): the pod stays, terminating
    await c.client.pods.delete('web-1', { namespace: ns });
    await settle(100);
    expect(names(c)).toEqual(['web-0', 'web-1']);
    expect(pod(c, 'web-1')!.metadata!.uid).toBe(oldUid);
    expect(stsOf(c).status?.readyReplicas).toBe(2);
    // once it is gone (force-deleted, or the node removed), web-1 comes back with the same name and claim
    await finishTerminatingPods(c, ns);
    await until(() => !!pod(c, 'web-1') && pod(c, 'web-1')!.metadata!.uid !== oldUid, 'new web-1');
    expect(pod(c, 'web-1')!.spec?.volumes?.[0].persistentVolumeClaim?.claimName).toBe('www-web-1');
    expect(claims(c)).toHaveLength(2);
  });

  it('rolls an update from the highest ordinal down to the partition only', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(
      statefulSet('web', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }),
    );
    await bringUp(c, 3);
    const rev1 = stsOf(c).status!.currentRevision!;
    await edit(c, 'web', (s) => (s.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2'));
    await until(() => !!pod(c, 'web-2')?.metadata?.deletionTimestamp, 'web-2 terminating');
    await bringUp(c, 3);
    const st = stsOf(c).status!;
    const rev2 = st.updateRevision!;
    expect(rev2).not.toBe(rev1);
    expect(st.currentRevision).toBe(rev1);
    const image = (n: string): string | undefined => pod(c, n)?.spec?.containers[0].image;
    const hash = (n: string): string | undefined => pod(c, n)?.metadata?.labels?.['controller-revision-hash'];
    expect([image('web-0'), image('web-1'), image('web-2')]).toEqual([
      'kubemu/hello:v1',
      'kubemu/hello:v1',
      'kubemu/hello:v2',
    ]);
    expect([hash('web-0'), hash('web-1'), hash('web-2')]).toEqual([rev1, rev1, rev2]);
    expect(st).toMatchObject({ currentReplicas: 2, updatedReplicas: 1 });
    // a pod below the partition that is deleted comes back at the current revision
    await c.client.pods.delete('web-0', { namespace: ns });
    await bringUp(c, 3);
    expect(image('web-0')).toBe('kubemu/hello:v1');
    // partition 0 finishes the rollout: web-1 then web-0, and the update revision becomes current
    await edit(c, 'web', (s) => (s.spec!.updateStrategy!.rollingUpdate!.partition = 0));
    for (let i = 0; i < 50 && stsOf(c).status?.currentRevision !== rev2; i++) await bringUp(c, 3);
    expect([image('web-0'), image('web-1'), image('web-2')]).toEqual(Array(3).fill('kubemu/hello:v2'));
    expect(stsOf(c).status).toMatchObject({
      currentRevision: rev2,
      updateRevision: rev2,
      currentReplicas: 3,
    });
    expect(revisions(c).map((r) => [r.metadata?.name, r.revision])).toEqual([
      [rev1, 1],
      [rev2, 2],
    ]);
  });

  it('a rollback to an earlier template renumbers its revision instead of making a new one', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 1));
    await bringUp(c, 1);
    const rev1 = stsOf(c).status!.currentRevision!;
    await edit(c, 'web', (s) => (s.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2'));
    await until(() => stsOf(c).status?.updateRevision !== rev1, 'rev2');
    await bringUp(c, 1);
    await until(() => stsOf(c).status?.currentRevision !== rev1, 'rolled');
    await edit(c, 'web', (s) => (s.spec!.template.spec!.containers[0].image = 'kubemu/hello:v1'));
    await until(() => stsOf(c).status?.updateRevision === rev1, 'back to rev1');
    await bringUp(c, 1);
    await until(() => stsOf(c).status?.currentRevision === rev1, 'rev1 current');
    expect(revisions(c).map((r) => r.revision)).toEqual([2, 3]);
    expect(revisions(c).find((r) => r.metadata?.name === rev1)?.revision).toBe(3);
    expect(pod(c, 'web-0')?.spec?.containers[0].image).toBe('kubemu/hello:v1');
  });

  it('keeps revisionHistoryLimit old revisions besides the live ones', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 1, { revisionHistoryLimit: 1 }));
    await bringUp(c, 1);
    for (const tag of ['v2', 'v3', 'v4']) {
      await edit(c, 'web', (s) => (s.spec!.template.spec!.containers[0].image = `kubemu/hello:${tag}`));
      await until(
        () =>
          pod(c, 'web-0')?.spec?.containers[0].image === `kubemu/hello:${tag}` ||
          !!pod(c, 'web-0')?.metadata?.deletionTimestamp,
        tag,
      );
      for (let i = 0; i < 20 && pod(c, 'web-0')?.spec?.containers[0].image !== `kubemu/hello:${tag}`; i++)
        await bringUp(c, 1);
      await bringUp(c, 1);
    }
    await until(() => revisions(c).length === 2, 'two revisions');
    expect(revisions(c).map((r) => r.revision)).toEqual([3, 4]);
  });

  it('OnDelete updates a pod only when it is deleted', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(
      statefulSet('web', 2, { updateStrategy: { type: 'OnDelete' } }),
    );
    await bringUp(c, 2);
    await edit(c, 'web', (s) => (s.spec!.template.spec!.containers[0].image = 'kubemu/hello:v2'));
    await until(() => stsOf(c).status?.updateRevision !== stsOf(c).status?.currentRevision, 'new revision');
    await settle(100);
    expect(pods(c).some((p) => p.metadata?.deletionTimestamp)).toBe(false);
    expect(stsOf(c).status).toMatchObject({ currentReplicas: 2, updatedReplicas: 0 });
    await c.client.pods.delete('web-1', { namespace: ns });
    await bringUp(c, 2);
    expect(pod(c, 'web-1')?.spec?.containers[0].image).toBe('kubemu/hello:v2');
    expect(pod(c, 'web-0')?.spec?.containers[0].image).toBe('kubemu/hello:v1');
    expect(stsOf(c).status).toMatchObject({ currentReplicas: 1, updatedReplicas: 1 });
  });

  it('persistentVolumeClaimRetentionPolicy: whenDeleted Delete owns claims by the set, whenScaled Delete by the scaled-down pod', async () => {
    const c = await fakeCluster();
    await start(c);
    const set = await statefulSetsClient(c.client).create(
      statefulSet('web', 2, {
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      }),
    );
    await bringUp(c, 2);
    await until(() => claims(c).every((x) => x.metadata?.ownerReferences?.length === 1), 'claim refs');
    for (const claim of claims(c))
      expect(claim.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'StatefulSet',
          name: 'web',
          uid: set.metadata?.uid,
          controller: true,
        }),
      ]);
    const web1 = pod(c, 'web-1')!;
    await edit(c, 'web', (s) => (s.spec!.replicas = 1));
    await until(() => !!pod(c, 'web-1')?.metadata?.deletionTimestamp, 'web-1 terminating');
    const claim1 = claims(c).find((x) => x.metadata?.name === 'www-web-1')!;
    // before web-1 goes, its claim is handed to it, so the garbage collector deletes the claim with the pod
    expect(claim1.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Pod', name: 'web-1', uid: web1.metadata?.uid, controller: true }),
    ]);
    const claim0 = claims(c).find((x) => x.metadata?.name === 'www-web-0')!;
    expect(claim0.metadata?.ownerReferences?.[0].kind).toBe('StatefulSet');
  });

  it('Retain/Retain leaves claims without owners; a Failed pod is deleted and made again', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 1));
    await bringUp(c, 1);
    const uid = pod(c, 'web-0')!.metadata!.uid;
    await setPodStatus(c, 'web-0', ns, { phase: 'Failed' });
    await until(
      () => !!pod(c, 'web-0')?.metadata?.deletionTimestamp || pod(c, 'web-0')?.metadata?.uid !== uid,
      'deleted',
    );
    await bringUp(c, 1);
    expect(pod(c, 'web-0')!.metadata!.uid).not.toBe(uid);
    expect(claims(c)[0].metadata?.ownerReferences).toBeUndefined();
  });

  it('counts availableReplicas only after minReadySeconds', async () => {
    const c = await fakeCluster();
    await start(c);
    await statefulSetsClient(c.client).create(statefulSet('web', 1, { minReadySeconds: 10 }));
    await until(() => names(c).length === 1, 'web-0');
    await markPodReady(c, pod(c, 'web-0')!);
    await until(() => stsOf(c).status?.readyReplicas === 1, 'ready');
    expect(stsOf(c).status?.availableReplicas).toBe(0);
    c.clock.advance(12_000);
    await until(() => stsOf(c).status?.availableReplicas === 1, 'available');
  });
});
