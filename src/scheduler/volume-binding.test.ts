// The scheduler's VolumeBinding plugin against the real registry (src/testing/), with the PV binder running beside it
// as the controller-manager would.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { fakeCluster, type FakeCluster } from '../testing/fake-cluster.js';
import { PersistentVolumeController } from '../testing/pv-binder.js';
import { Scheduler } from './scheduler.js';

const node = (name: string): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: {
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
});

const podWith = (name: string, claimName: string): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [
      { name: 'app', image: 'kubemu/hello:v1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
    ],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
  },
});

const claim = (name: string, storageClassName: string): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default' },
  spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

const localPv = (name: string, onNode: string, storageClassName: string): PersistentVolume => ({
  metadata: { name },
  spec: {
    storageClassName,
    capacity: { storage: '5Gi' },
    accessModes: ['ReadWriteOnce'],
    local: { path: `/mnt/disks/${name}` },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [onNode] }] },
        ],
      },
    },
  },
});

const storageClass = (name: string, provisioner: string, mode: string): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  provisioner,
  volumeBindingMode: mode,
});

/** vi.waitFor for a value: retries until `check` gives something truthy */
const waitFor = <T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeout: number,
  interval: number,
) =>
  vi.waitFor(
    async () => {
      const v = await check();
      if (!v) throw new Error(`still waiting for ${what}`);
      return v;
    },
    { timeout, interval },
  );

let stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of stops) await s();
  stops = [];
});

async function setup(): Promise<{ c: FakeCluster; get: (n: string) => Promise<Pod> }> {
  const c = await fakeCluster();
  for (const n of ['n1', 'n2']) await c.client.nodes.create(node(n));
  const pvc = new PersistentVolumeController({ client: c.client, informers: c.informers });
  const scheduler = new Scheduler({
    client: c.client,
    instance: 'test',
    initialBackoffMs: 50,
    maxBackoffMs: 200,
  });
  stops.push(
    () => pvc.stop(),
    () => scheduler.stop(),
  );
  await pvc.run();
  await scheduler.start();
  return { c, get: (name) => c.client.pods.get(name, 'default') };
}

const res = <T extends { metadata?: object }>(c: FakeCluster, group: string, resource: string) =>
  c.client.resource<T>(group, 'v1', resource);

const unschedulableMessage = (pod: Pod): string | undefined =>
  pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False')?.message;

describe('VolumeBinding', () => {
  it('keeps a pod Pending while its Immediate claim is unbound, then schedules it once the claim is bound', async () => {
    const { c, get } = await setup();
    await res<StorageClass>(c, 'storage.k8s.io', 'storageclasses').create(
      storageClass('slow', 'example.com/none', 'Immediate'),
    );
    await res<PersistentVolumeClaim>(c, '', 'persistentvolumeclaims').create(claim('data', 'slow'), {
      namespace: 'default',
    });
    await c.client.pods.create(podWith('app', 'data'));
    const message = await waitFor(
      'PodScheduled=False',
      async () => unschedulableMessage(await get('app')),
      10_000,
      20,
    );
    expect(message).toBe(
      '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    );
    expect((await get('app')).spec?.nodeName).toBeUndefined();
    // an admin's volume that fits: the binder binds the claim, and the pod is scheduled
    await res<PersistentVolume>(c, '', 'persistentvolumes').create({
      metadata: { name: 'pv1' },
      spec: {
        storageClassName: 'slow',
        capacity: { storage: '2Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: '/tmp/pv1' },
      },
    });
    await waitFor('scheduled', async () => (await get('app')).spec?.nodeName, 10_000, 20);
  });

  it('says which claim is missing, and waits for the ephemeral volume controller', async () => {
    const { c, get } = await setup();
    await c.client.pods.create(podWith('lonely', 'nope'));
    const eph: Pod = {
      metadata: { name: 'eph', namespace: 'default' },
      spec: {
        containers: [{ name: 'app', image: 'kubemu/hello:v1' }],
        volumes: [
          {
            name: 'scratch',
            ephemeral: {
              volumeClaimTemplate: {
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
              },
            },
          },
        ],
      },
    };
    await c.client.pods.create(eph);
    expect(await waitFor('lonely', async () => unschedulableMessage(await get('lonely')), 10_000, 20)).toBe(
      '0/2 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    );
    expect(await waitFor('eph', async () => unschedulableMessage(await get('eph')), 10_000, 20)).toMatch(
      /^0\/2 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim "eph-scratch"\./,
    );
  });

  it("respects a bound PV's node affinity, and says so when no node matches", async () => {
    const { c, get } = await setup();
    const pvs = res<PersistentVolume>(c, '', 'persistentvolumes');
    const pvcs = res<PersistentVolumeClaim>(c, '', 'persistentvolumeclaims');
    await pvs.create(localPv('on-n2', 'n2', 'manual'));
    await pvs.create(localPv('on-n9', 'n9', 'other'));
    await pvcs.create(
      { ...claim('a', 'manual'), spec: { ...claim('a', 'manual').spec, volumeName: 'on-n2' } },
      { namespace: 'default' },
    );
    await pvcs.create(
      { ...claim('b', 'other'), spec: { ...claim('b', 'other').spec, volumeName: 'on-n9' } },
      { namespace: 'default' },
    );
    await waitFor(
      'bound',
      async () => (await pvcs.get('b', 'default')).status?.phase === 'Bound',
      10_000,
      20,
    );
    await c.client.pods.create(podWith('pa', 'a'));
    await c.client.pods.create(podWith('pb', 'b'));
    expect(await waitFor('pa', async () => (await get('pa')).spec?.nodeName, 10_000, 20)).toBe('n2');
    expect(await waitFor('pb', async () => unschedulableMessage(await get('pb')), 10_000, 20)).toBe(
      '0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    );
  });

  it('WaitForFirstConsumer: binds a static local PV on the node it picks; without one, asks the provisioner for that node', async () => {
    const { c, get } = await setup();
    const pvs = res<PersistentVolume>(c, '', 'persistentvolumes');
    const pvcs = res<PersistentVolumeClaim>(c, '', 'persistentvolumeclaims');
    const classes = res<StorageClass>(c, 'storage.k8s.io', 'storageclasses');
    await classes.create(
      storageClass('local-storage', 'kubernetes.io/no-provisioner', 'WaitForFirstConsumer'),
    );
    await classes.create(storageClass('standard', 'rancher.io/local-path', 'WaitForFirstConsumer'));
    await pvs.create(localPv('disk-n1', 'n1', 'local-storage'));
    await pvcs.create(claim('static', 'local-storage'), { namespace: 'default' });
    await pvcs.create(claim('dynamic', 'standard'), { namespace: 'default' });
    await pvcs.create(claim('nowhere', 'local-storage'), { namespace: 'default' });
    await c.client.pods.create(podWith('s', 'static'));
    expect(await waitFor('s scheduled', async () => (await get('s')).spec?.nodeName, 10_000, 20)).toBe('n1');
    expect((await pvs.get('disk-n1')).spec?.claimRef?.name).toBe('static');
    expect((await pvcs.get('static', 'default')).status?.phase).toBe('Bound');

    // no PV fits, the class has no provisioner: the pod stays Pending
    await c.client.pods.create(podWith('n', 'nowhere'));
    expect(await waitFor('n', async () => unschedulableMessage(await get('n')), 10_000, 20)).toBe(
      "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    );

    // provisioned: the scheduler marks the node on the claim and waits; playing the provisioner, make the PV there
    await c.client.pods.create(podWith('d', 'dynamic'));
    const selected = await waitFor(
      'selected-node',
      async () =>
        (await pvcs.get('dynamic', 'default')).metadata?.annotations?.['volume.kubernetes.io/selected-node'],
      10_000,
      20,
    );
    expect((await get('d')).spec?.nodeName).toBeUndefined();
    const dyn = await pvcs.get('dynamic', 'default');
    await pvs.create({
      ...localPv(`pvc-${dyn.metadata!.uid}`, selected, 'standard'),
      spec: {
        ...localPv('x', selected, 'standard').spec,
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: 'default',
          name: 'dynamic',
          uid: dyn.metadata!.uid!,
        },
      },
    });
    expect(await waitFor('d scheduled', async () => (await get('d')).spec?.nodeName, 10_000, 20)).toBe(
      selected,
    );
  });
});
