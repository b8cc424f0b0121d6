// upstream pv_protection_controller_test.go's cases on the real registry, and the whole release path with the binder.
import { describe, expect, it } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { PV_PROTECTION_FINALIZER } from '../../../api/storage/volume-helpers.js';
import {
  fakeCluster,
  until,
  type FakeCluster,
  type FakeClusterOptions,
} from '../../../testing/fake-cluster.js';
import { PersistentVolumeController, storageInformers } from '../persistentvolume/pv-controller.js';
import { PVCProtectionController } from '../pvcprotection/pvc-protection-controller.js';
import { PVProtectionController } from './pv-protection-controller.js';

const pvsApi = (c: FakeCluster) => c.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
const volume = (c: FakeCluster, name = 'default-pv') =>
  c.objects<PersistentVolume>('persistentvolumes').find((p) => p.metadata?.name === name);
const pvSpec = (): PersistentVolume['spec'] => ({
  storageClassName: 'manual',
  capacity: { storage: '1Gi' },
  accessModes: ['ReadWriteOnce'],
  hostPath: { path: '/mnt/data' },
});

async function setup(opts: FakeClusterOptions = {}) {
  const c = await fakeCluster(opts);
  const ctl = new PVProtectionController({ client: c.client, informers: c.informers });
  const volumes = storageInformers(c.informers).volumes;
  c.informers.start();
  await volumes.waitForSync();
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
  const createPv = async (phase?: string): Promise<void> => {
    let pv = await pvsApi(c).create({ metadata: { name: 'default-pv' }, spec: pvSpec() });
    if (phase) pv = await pvsApi(c).updateStatus({ ...pv, status: { phase } });
    await until(
      () => volumes.store.get('default-pv')?.metadata?.resourceVersion === pv.metadata?.resourceVersion,
    );
  };
  const deletePv = async (): Promise<void> => {
    await pvsApi(c).delete('default-pv');
    await until(() => !!volumes.store.get('default-pv')?.metadata?.deletionTimestamp, 'volume terminating');
  };
  const updates = () =>
    c.requests.filter((r) => r.verb === 'update' && r.resource === 'persistentvolumes').length;
  return { c, ctl, drain, createPv, deletePv, updates };
}

describe('PVProtectionController (pv-protection)', () => {
  it('PV without finalizer -> finalizer is added', async () => {
    const t = await setup({ admission: { disable: ['StorageObjectInUseProtection'] } });
    await t.createPv();
    expect(volume(t.c)?.metadata?.finalizers).toBeUndefined();
    await t.drain();
    expect(volume(t.c)?.metadata?.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
  });

  it('PV with finalizer (from admission) -> no action', async () => {
    const t = await setup();
    await t.createPv();
    expect(volume(t.c)?.metadata?.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
    expect(t.ctl.queue.len()).toBe(0);
    const before = t.updates();
    await t.drain();
    expect(t.updates()).toBe(before);
  });

  it('saving PV finalizer fails -> controller retries', async () => {
    const t = await setup({ admission: { disable: ['StorageObjectInUseProtection'] } });
    await t.createPv();
    let failures = 2;
    t.c.onRequest = (req) => {
      if (req.verb === 'update' && req.resource === 'persistentvolumes' && failures-- > 0)
        throw new ApiError('Forbidden', 'Mock error');
    };
    await expect(t.ctl.sync('default-pv')).rejects.toThrow('Mock error');
    await expect(t.ctl.sync('default-pv')).rejects.toThrow('Mock error');
    await t.ctl.sync('default-pv');
    expect(volume(t.c)?.metadata?.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
  });

  it('deleted PV with finalizer -> finalizer is removed, and the PV is gone', async () => {
    const t = await setup();
    await t.createPv();
    await t.deletePv();
    await t.drain();
    expect(volume(t.c)).toBeUndefined();
  });

  it('finalizer removal fails -> controller retries', async () => {
    const t = await setup();
    await t.createPv();
    await t.deletePv();
    let failures = 2;
    t.c.onRequest = (req) => {
      if (req.verb === 'update' && req.resource === 'persistentvolumes' && failures-- > 0)
        throw new ApiError('Forbidden', 'Mock error');
    };
    await expect(t.ctl.sync('default-pv')).rejects.toThrow('Mock error');
    await expect(t.ctl.sync('default-pv')).rejects.toThrow('Mock error');
    await t.ctl.sync('default-pv');
    expect(volume(t.c)).toBeUndefined();
  });

  it('deleted PV with finalizer + PV is bound -> finalizer is not removed', async () => {
    const t = await setup();
    await t.createPv('Bound');
    await t.deletePv();
    await t.drain();
    expect(volume(t.c)?.metadata?.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
  });

  it('with the binder and pvc-protection: a bound volume deleted by its admin stays until its claim is deleted and it is Released', async () => {
    const c = await fakeCluster();
    const ctls = [
      new PersistentVolumeController({ client: c.client, informers: c.informers, resyncPeriodMs: 3_600_000 }),
      new PVCProtectionController({ client: c.client, informers: c.informers }),
      new PVProtectionController({ client: c.client, informers: c.informers }),
    ];
    try {
      await Promise.all(ctls.map((x) => x.run()));
      await pvsApi(c).create({
        metadata: { name: 'default-pv' },
        spec: { ...pvSpec(), persistentVolumeReclaimPolicy: 'Retain' },
      });
      const claims = c.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
      await claims.create({
        metadata: { name: 'pvc1', namespace: 'default' },
        spec: {
          storageClassName: 'manual',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      });
      await until(() => volume(c)?.status?.phase === 'Bound', 'bound');
      await pvsApi(c).delete('default-pv');
      for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
      expect(volume(c)?.metadata?.deletionTimestamp).toBeDefined();
      expect(volume(c)?.status?.phase).toBe('Bound');
      await claims.delete('pvc1', { namespace: 'default' });
      await until(() => volume(c) === undefined, 'volume gone once released');
    } finally {
      for (const x of ctls) x.stop();
    }
  });
});
