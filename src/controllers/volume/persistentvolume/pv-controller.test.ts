import { afterEach, describe, expect, it } from 'vitest';
import type { Event, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { fakeCluster, until, type FakeCluster } from '../../../testing/fake-cluster.js';
import { ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER } from '../../../api/storage/volume-helpers.js';
import { PersistentVolumeController } from './pv-controller.js';

// task-pv-volume / task-pv-claim of kubernetes.io/docs/tasks/configure-pod-container/configure-persistent-volume-storage/
const taskPv = (over: Partial<PersistentVolume['spec']> = {}, name = 'task-pv-volume'): PersistentVolume => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name, labels: { type: 'local' } },
  spec: {
    storageClassName: 'manual',
    capacity: { storage: '10Gi' },
    accessModes: ['ReadWriteOnce'],
    hostPath: { path: '/mnt/data' },
    ...over,
  },
});
const taskClaim = (
  over: Partial<PersistentVolumeClaim['spec']> = {},
  name = 'task-pv-claim',
): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default' },
  spec: {
    storageClassName: 'manual',
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '3Gi' } },
    ...over,
  },
});

const pvs = (c: FakeCluster) => c.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
const pvcs = (c: FakeCluster) => c.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
const classes = (c: FakeCluster) => c.client.resource<StorageClass>('storage.k8s.io', 'v1', 'storageclasses');
const pv = (c: FakeCluster, name: string) =>
  c.objects<PersistentVolume>('persistentvolumes').find((p) => p.metadata?.name === name);
const pvc = (c: FakeCluster, name: string) =>
  c.objects<PersistentVolumeClaim>('persistentvolumeclaims').find((p) => p.metadata?.name === name);
const events = (c: FakeCluster, name: string) =>
  c
    .objects<Event>('events')
    .filter((e) => e.involvedObject.name === name)
    .map((e) => `${e.reason}: ${e.message}`);

describe('PersistentVolumeController (persistentvolume-binder)', () => {
  let ctrl: PersistentVolumeController | undefined;
  afterEach(() => ctrl?.stop());

  async function start(c: FakeCluster): Promise<void> {
    ctrl = new PersistentVolumeController({
      client: c.client,
      informers: c.informers,
      resyncPeriodMs: 3_600_000,
    });
    await ctrl.run();
  }

  it('binds the docs task claim to the static hostPath volume: both Bound, capacity and modes in the claim status', async () => {
    const c = await fakeCluster();
    await start(c);
    await pvs(c).create(taskPv());
    await until(() => pv(c, 'task-pv-volume')?.status?.phase === 'Available', 'PV Available');
    await pvcs(c).create(taskClaim(), { namespace: 'default' });
    await until(
      () =>
        pvc(c, 'task-pv-claim')?.status?.phase === 'Bound' &&
        pv(c, 'task-pv-volume')?.status?.phase === 'Bound',
      'bound',
    );
    const claim = pvc(c, 'task-pv-claim')!;
    expect(claim.spec?.volumeName).toBe('task-pv-volume');
    expect(claim.status?.capacity).toEqual({ storage: '10Gi' });
    expect(claim.status?.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.metadata?.annotations).toMatchObject({
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    });
    const volume = pv(c, 'task-pv-volume')!;
    expect(volume.spec?.claimRef).toMatchObject({
      name: 'task-pv-claim',
      namespace: 'default',
      uid: claim.metadata?.uid,
    });
    expect(volume.status?.lastPhaseTransitionTime).toBeTruthy();
  });

  it('picks the smallest volume that fits, and matches class, access modes and selector', async () => {
    const c = await fakeCluster();
    await start(c);
    await pvs(c).create(taskPv({ capacity: { storage: '1Gi' } }, 'small'));
    await pvs(c).create(taskPv({ capacity: { storage: '5Gi' } }, 'medium'));
    await pvs(c).create(taskPv({ capacity: { storage: '50Gi' } }, 'large'));
    await pvs(c).create(taskPv({ capacity: { storage: '4Gi' }, storageClassName: 'other' }, 'other-class'));
    await pvs(c).create(taskPv({ capacity: { storage: '4Gi' }, accessModes: ['ReadOnlyMany'] }, 'rox'));
    await until(
      () => c.objects<PersistentVolume>('persistentvolumes').every((p) => p.status?.phase === 'Available'),
      'Available',
    );
    await pvcs(c).create(taskClaim(), { namespace: 'default' });
    await until(() => pvc(c, 'task-pv-claim')?.status?.phase === 'Bound', 'bound');
    expect(pvc(c, 'task-pv-claim')?.spec?.volumeName).toBe('medium');
    await pvcs(c).create(taskClaim({ selector: { matchLabels: { type: 'nothing-has-this' } } }, 'picky'), {
      namespace: 'default',
    });
    await until(() => events(c, 'picky').length > 0, 'event');
    expect(pvc(c, 'picky')?.status?.phase).toBe('Pending');
    // no StorageClass "manual" exists: the controller says so, as upstream's provisionClaim does
    expect(events(c, 'picky')).toContain(
      'ProvisioningFailed: storageclass.storage.k8s.io "manual" not found',
    );
  });

  it('binds a claim that names its volume, and a volume pre-bound to a claim; refuses a requested volume too small', async () => {
    const c = await fakeCluster();
    await start(c);
    await pvs(c).create(taskPv({ claimRef: { name: 'reserved', namespace: 'default' } }, 'prebound'));
    await pvs(c).create(taskPv({ capacity: { storage: '1Gi' } }, 'tiny'));
    await pvs(c).create(taskPv({}, 'named'));
    await pvcs(c).create(taskClaim({}, 'reserved'), { namespace: 'default' });
    await pvcs(c).create(taskClaim({ volumeName: 'named' }, 'by-name'), { namespace: 'default' });
    await pvcs(c).create(taskClaim({ volumeName: 'tiny' }, 'too-big'), { namespace: 'default' });
    await until(
      () => pvc(c, 'reserved')?.status?.phase === 'Bound' && pvc(c, 'by-name')?.status?.phase === 'Bound',
      'bound',
    );
    expect(pvc(c, 'reserved')?.spec?.volumeName).toBe('prebound');
    // pre-bound by the user: no bound-by-controller annotation on the volume
    expect(
      pv(c, 'prebound')?.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'],
    ).toBeUndefined();
    expect(pvc(c, 'by-name')?.spec?.volumeName).toBe('named');
    await until(() => events(c, 'too-big').length > 0, 'event');
    expect(events(c, 'too-big')).toContain(
      'VolumeMismatch: Cannot bind to requested volume "tiny": requested PV is too small',
    );
    expect(pvc(c, 'too-big')?.status?.phase).toBe('Pending');
  });

  it('releases the volume of a deleted claim: Retain keeps it Released, Delete without a deleter is Failed', async () => {
    const c = await fakeCluster();
    await start(c);
    await pvs(c).create(taskPv({ persistentVolumeReclaimPolicy: 'Retain' }, 'keep'));
    await pvcs(c).create(taskClaim({ volumeName: 'keep' }, 'a'), { namespace: 'default' });
    await pvs(c).create(taskPv({ persistentVolumeReclaimPolicy: 'Delete' }, 'drop'));
    await pvcs(c).create(taskClaim({ volumeName: 'drop' }, 'b'), { namespace: 'default' });
    await until(
      () => pvc(c, 'a')?.status?.phase === 'Bound' && pvc(c, 'b')?.status?.phase === 'Bound',
      'bound',
    );
    await pvcs(c).delete('a', { namespace: 'default' });
    await pvcs(c).delete('b', { namespace: 'default' });
    await until(
      () => pv(c, 'keep')?.status?.phase === 'Released' && pv(c, 'drop')?.status?.phase === 'Failed',
      'reclaimed',
    );
    const failed =
      'VolumeFailedDelete: error getting deleter volume plugin for volume "drop": no deletable volume plugin matched';
    await until(() => events(c, 'drop').includes(failed), failed);
    // a Released volume is not bound again (its claimRef stays until an admin clears it)
    await pvcs(c).create(taskClaim({}, 'again'), { namespace: 'default' });
    await until(() => events(c, 'again').length > 0, 'event');
    expect(pvc(c, 'again')?.status?.phase).toBe('Pending');
  });

  it('a bound claim whose volume is deleted is Lost', async () => {
    const c = await fakeCluster();
    await start(c);
    await pvs(c).create(taskPv());
    await pvcs(c).create(taskClaim(), { namespace: 'default' });
    await until(() => pvc(c, 'task-pv-claim')?.status?.phase === 'Bound', 'bound');
    await pvs(c).delete('task-pv-volume');
    await until(() => pvc(c, 'task-pv-claim')?.status?.phase === 'Lost', 'lost');
    const lost = 'ClaimLost: Bound claim has lost its PersistentVolume. Data on the volume is lost!';
    await until(() => events(c, 'task-pv-claim').includes(lost), lost);
  });

  it('WaitForFirstConsumer: waits for the scheduler, then hands the claim to the class provisioner', async () => {
    const c = await fakeCluster();
    await classes(c).create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard' },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    });
    await start(c);
    await pvcs(c).create(taskClaim({ storageClassName: 'standard' }, 'data'), { namespace: 'default' });
    await until(() => events(c, 'data').length > 0, 'event');
    expect(events(c, 'data')).toEqual([
      'WaitForFirstConsumer: waiting for first consumer to be created before binding',
    ]);
    expect(pvc(c, 'data')?.metadata?.annotations?.[ANN_STORAGE_PROVISIONER]).toBeUndefined();
    const claim = await pvcs(c).get('data', 'default');
    await pvcs(c).update(
      { ...claim, metadata: { ...claim.metadata, annotations: { [ANN_SELECTED_NODE]: 'node-2' } } },
      { namespace: 'default' },
    );
    await until(
      () => pvc(c, 'data')?.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] === 'rancher.io/local-path',
      'annotated',
    );
    await until(() => events(c, 'data').some((e) => e.startsWith('ExternalProvisioning')), 'event');
    expect(events(c, 'data')).toContain(
      "ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'rancher.io/local-path' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
    // the provisioner saves its volume pre-bound to the claim; the controller completes the binding
    const claimNow = pvc(c, 'data')!;
    await pvs(c).create(
      taskPv(
        {
          storageClassName: 'standard',
          persistentVolumeReclaimPolicy: 'Delete',
          claimRef: {
            name: 'data',
            namespace: 'default',
            uid: claimNow.metadata!.uid!,
            kind: 'PersistentVolumeClaim',
            apiVersion: 'v1',
          },
        },
        `pvc-${claimNow.metadata!.uid!}`,
      ),
    );
    await until(() => pvc(c, 'data')?.status?.phase === 'Bound', 'bound');
    expect(pvc(c, 'data')?.spec?.volumeName).toBe(`pvc-${claimNow.metadata!.uid!}`);
  });
});
