// upstream pvc_protection_controller_test.go's cases, on the real registry: each test makes the objects, lets the
// controller's handlers enqueue what they would, then runs the queued syncs and looks at what became of the claim.
import { describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { PVC_PROTECTION_FINALIZER } from '../../../api/storage/volume-helpers.js';
import {
  fakeCluster,
  setPodStatus,
  until,
  type FakeCluster,
  type FakeClusterOptions,
} from '../../../testing/fake-cluster.js';
import { storageInformers } from '../persistentvolume/pv-controller.js';
import { PVCProtectionController, podUsesClaim } from './pvc-protection-controller.js';

const NS = 'default';
const claimsApi = (c: FakeCluster) =>
  c.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
const claim = (c: FakeCluster, name = 'pvc1') =>
  c.objects<PersistentVolumeClaim>('persistentvolumeclaims', NS).find((p) => p.metadata?.name === name);

const pvcVolume = (claimName: string): Volume => ({
  name: claimName,
  persistentVolumeClaim: { claimName },
});
const pod = (volumes: Volume[], over: { nodeName?: string; name?: string } = {}): Pod => ({
  metadata: { name: over.name ?? 'pod1', namespace: NS },
  spec: {
    ...(over.nodeName === '' ? {} : { nodeName: over.nodeName ?? 'node1' }),
    containers: [{ name: 'c', image: 'busybox' }],
    volumes,
  },
});

async function setup(opts: FakeClusterOptions = {}) {
  const c = await fakeCluster(opts);
  const ctl = new PVCProtectionController({ client: c.client, informers: c.informers });
  const claims = storageInformers(c.informers).claims;
  c.informers.start();
  await Promise.all([c.informers.pods().waitForSync(), claims.waitForSync()]);
  c.requests.length = 0; // the informers' own lists are not the controller's
  /** what the workers would do: run every queued sync (a failure propagates, as it would re-queue the key) */
  const drain = async (): Promise<void> => {
    while (ctl.queue.len() > 0) {
      const key = (await ctl.queue.get())!;
      try {
        await ctl.sync(key);
      } finally {
        ctl.queue.done(key);
      }
    }
  };
  const createClaim = async (name = 'pvc1'): Promise<void> => {
    await claimsApi(c).create({
      metadata: { name, namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await until(() => !!claims.store.getByName(NS, name), 'claim in cache');
  };
  /** `kubectl delete pvc`: Terminating while the finalizer is there */
  const deleteClaim = async (name = 'pvc1'): Promise<void> => {
    await claimsApi(c).delete(name, { namespace: NS });
    await until(() => !!claims.store.getByName(NS, name)?.metadata?.deletionTimestamp, 'claim terminating');
  };
  const createPod = async (p: Pod): Promise<Pod> => {
    const made = await c.client.pods.create(p);
    await until(() => !!c.informers.pods().store.getByName(NS, p.metadata!.name!), 'pod in cache');
    return made;
  };
  const updates = () =>
    c.requests.filter((r) => r.verb === 'update' && r.resource === 'persistentvolumeclaims').length;
  const podLists = () => c.requests.filter((r) => r.verb === 'list' && r.resource === 'pods').length;
  return { c, ctl, claims, drain, createClaim, deleteClaim, createPod, updates, podLists };
}

describe('PVCProtectionController (pvc-protection)', () => {
  // ---- PVC events ----

  it('PVC without finalizer -> finalizer is added', async () => {
    const t = await setup({ admission: { disable: ['StorageObjectInUseProtection'] } });
    await t.createClaim();
    expect(claim(t.c)?.metadata?.finalizers).toBeUndefined();
    await t.drain();
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });

  it('PVC with finalizer (from admission) -> no action', async () => {
    const t = await setup();
    await t.createClaim();
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    expect(t.ctl.queue.len()).toBe(0);
    await t.drain();
    expect(t.updates()).toBe(0);
  });

  it('saving PVC finalizer fails -> controller retries', async () => {
    const t = await setup({ admission: { disable: ['StorageObjectInUseProtection'] } });
    await t.createClaim();
    let failures = 2;
    t.c.onRequest = (req) => {
      if (req.verb === 'update' && req.resource === 'persistentvolumeclaims' && failures-- > 0)
        throw new ApiError('Forbidden', 'Mock error');
    };
    await expect(t.ctl.sync(`${NS}/pvc1`)).rejects.toThrow('Mock error');
    await expect(t.ctl.sync(`${NS}/pvc1`)).rejects.toThrow('Mock error');
    await t.ctl.sync(`${NS}/pvc1`);
    expect(t.updates()).toBe(3);
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });

  it('deleted PVC with finalizer -> finalizer is removed (after a live list of pods), and the claim is gone', async () => {
    const t = await setup();
    await t.createClaim();
    await t.deleteClaim();
    await t.drain();
    expect(t.podLists()).toBe(1);
    expect(claim(t.c)).toBeUndefined();
  });

  it('finalizer removal fails -> controller retries', async () => {
    const t = await setup();
    await t.createClaim();
    await t.deleteClaim();
    let failures = 2;
    t.c.onRequest = (req) => {
      if (req.verb === 'update' && req.resource === 'persistentvolumeclaims' && failures-- > 0)
        throw new ApiError('Forbidden', 'Mock error');
    };
    await expect(t.ctl.sync(`${NS}/pvc1`)).rejects.toThrow('Mock error');
    await expect(t.ctl.sync(`${NS}/pvc1`)).rejects.toThrow('Mock error');
    await t.ctl.sync(`${NS}/pvc1`);
    expect(t.podLists()).toBe(3);
    expect(claim(t.c)).toBeUndefined();
  });

  it('deleted PVC with finalizer + pod with the PVC exists -> finalizer is not removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('pvc1')]));
    await t.deleteClaim();
    await t.drain();
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    // the informer's cache answered: no live list was needed
    expect(t.podLists()).toBe(0);
  });

  it('deleted PVC with finalizer + pod with unrelated PVC and EmptyDir exists -> finalizer is removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('unrelated-pvc'), { name: 'empty-dir', emptyDir: {} }]));
    await t.deleteClaim();
    await t.drain();
    expect(claim(t.c)).toBeUndefined();
  });

  it('deleted PVC with finalizer + pod with the PVC finished but is not deleted -> finalizer is not removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('pvc1')]));
    await setPodStatus(t.c, 'pod1', NS, { phase: 'Failed' });
    await t.deleteClaim();
    await t.drain();
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });

  it("deleted PVC with finalizer + pod with the PVC exists but is not in the Informer's cache yet -> finalizer is not removed", async () => {
    const t = await setup();
    await t.createClaim();
    await t.deleteClaim();
    t.c.pauseWatches();
    await t.c.client.pods.create(pod([pvcVolume('pvc1')]));
    expect(t.c.informers.pods().store.size()).toBe(0);
    await t.ctl.sync(`${NS}/pvc1`);
    expect(t.podLists()).toBe(1);
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    t.c.resumeWatches();
  });

  // ---- Pod events ----

  it('updated running Pod -> no action', async () => {
    const t = await setup();
    await t.createClaim();
    await t.deleteClaim();
    await t.createPod(pod([pvcVolume('pvc1')]));
    await t.drain();
    await setPodStatus(t.c, 'pod1', NS, { phase: 'Running' });
    await until(() => t.c.informers.pods().store.getByName(NS, 'pod1')?.status?.phase === 'Running');
    expect(t.ctl.queue.len()).toBe(0);
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });

  it('updated finished Pod -> finalizer is not removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('pvc1')]));
    await t.deleteClaim();
    await t.drain();
    await setPodStatus(t.c, 'pod1', NS, { phase: 'Succeeded' });
    await until(() => t.ctl.queue.len() > 0, 'the finished pod enqueues its claim');
    await t.drain();
    expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });

  it('unscheduled Pod -> finalizer is removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('pvc1')], { nodeName: '' }));
    await t.deleteClaim();
    await t.drain();
    expect(claim(t.c)).toBeUndefined();
  });

  it('deleted running Pod -> finalizer is removed', async () => {
    const t = await setup();
    await t.createClaim();
    await t.createPod(pod([pvcVolume('pvc1')]));
    await setPodStatus(t.c, 'pod1', NS, { phase: 'Running' });
    await t.deleteClaim();
    await t.drain();
    expect(claim(t.c)?.metadata?.deletionTimestamp).toBeDefined();
    await t.c.client.pods.delete('pod1', { namespace: NS, gracePeriodSeconds: 0 });
    await until(() => !t.c.informers.pods().store.getByName(NS, 'pod1'), 'pod gone');
    expect(t.ctl.queue.len()).toBe(1);
    await t.drain();
    expect(claim(t.c)).toBeUndefined();
  });

  // ---- generic ephemeral volumes (upstream's later cases) ----

  it("a generic ephemeral volume's claim is used only by its own pod, and not once that pod is shut down", () => {
    const made = pod([{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } }]);
    const p: Pod = { ...made, metadata: { ...made.metadata, uid: 'uid1' } };
    const owned: PersistentVolumeClaim = {
      metadata: {
        name: 'pod1-scratch',
        namespace: NS,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'pod1', uid: 'uid1', controller: true }],
      },
    };
    const foreign: PersistentVolumeClaim = { metadata: { name: 'pod1-scratch', namespace: NS } };
    expect(podUsesClaim(p, owned)).toBe(true);
    expect(podUsesClaim(p, foreign)).toBe(false);
    const gone = { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 };
    const shutDown: Pod = { ...p, metadata: { ...p.metadata, ...gone } };
    expect(podUsesClaim(shutDown, owned)).toBe(false);
    // a persistentVolumeClaim volume is in use until the pod object is gone, shut down or not
    const claimPod = pod([pvcVolume('pvc1')]);
    const withClaim: Pod = { ...claimPod, metadata: { ...claimPod.metadata, ...gone } };
    expect(podUsesClaim(withClaim, { metadata: { name: 'pvc1', namespace: NS } })).toBe(true);
  });

  it('run(): a claim in use stays Terminating until its pod is deleted', async () => {
    const t = await setup();
    await t.ctl.run();
    try {
      await t.createClaim();
      await t.createPod(pod([pvcVolume('pvc1')]));
      await t.deleteClaim();
      // nothing frees it while the pod exists
      for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
      expect(claim(t.c)?.metadata?.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
      await t.c.client.pods.delete('pod1', { namespace: NS, gracePeriodSeconds: 0 });
      await until(() => claim(t.c) === undefined, 'claim gone after its pod');
    } finally {
      t.ctl.stop();
    }
  });
});
