// Table printers of the workload and storage kinds (#18): upstream's 1.33 columns and cells.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { findResource } from '../../api/resources.js';
import { toTable } from './index.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;
const meta = (name: string, extra: object = {}) => ({ name, creationTimestamp: ago(3 * MIN), ...extra });

function table(group: string, resource: string, objects: object[]) {
  const ri = findResource(group, resource);
  if (!ri) throw new Error(`no resource ${group}/${resource}`);
  return toTable(ri, objects as KubeObject[], { now: NOW });
}
const columns = (group: string, resource: string): string[] =>
  table(group, resource, []).columnDefinitions.map((c) => (c.priority ? `${c.name}*` : c.name));
const cells = (group: string, resource: string, obj: object): unknown[] =>
  table(group, resource, [obj]).rows[0].cells;

const containers = [{ name: 'pi', image: 'perl' }];

describe('columns (wide-only marked *), as upstream 1.33 prints them', () => {
  it.each([
    [
      'batch',
      'jobs',
      ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*'],
    ],
    [
      'batch',
      'cronjobs',
      [
        'Name',
        'Schedule',
        'Timezone',
        'Suspend',
        'Active',
        'Last Schedule',
        'Age',
        'Containers*',
        'Images*',
        'Selector*',
      ],
    ],
    ['apps', 'statefulsets', ['Name', 'Ready', 'Age', 'Containers*', 'Images*']],
    [
      'apps',
      'daemonsets',
      [
        'Name',
        'Desired',
        'Current',
        'Ready',
        'Up-to-date',
        'Available',
        'Node Selector',
        'Age',
        'Containers*',
        'Images*',
        'Selector*',
      ],
    ],
    ['apps', 'controllerrevisions', ['Name', 'Controller', 'Revision', 'Age']],
    [
      '',
      'replicationcontrollers',
      ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*'],
    ],
    ['', 'podtemplates', ['Name', 'Containers', 'Images', 'Pod Labels']],
    [
      '',
      'persistentvolumes',
      [
        'Name',
        'Capacity',
        'Access Modes',
        'Reclaim Policy',
        'Status',
        'Claim',
        'StorageClass',
        'VolumeAttributesClass',
        'Reason',
        'Age',
        'VolumeMode*',
      ],
    ],
    [
      '',
      'persistentvolumeclaims',
      [
        'Name',
        'Status',
        'Volume',
        'Capacity',
        'Access Modes',
        'StorageClass',
        'VolumeAttributesClass',
        'Age',
        'VolumeMode*',
      ],
    ],
    ['', 'componentstatuses', ['Name', 'Status', 'Message', 'Error']],
    [
      'policy',
      'poddisruptionbudgets',
      ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'],
    ],
    ['node.k8s.io', 'runtimeclasses', ['Name', 'Handler', 'Age']],
    [
      'storage.k8s.io',
      'csidrivers',
      [
        'Name',
        'AttachRequired',
        'PodInfoOnMount',
        'StorageCapacity',
        'TokenRequests',
        'RequiresRepublish',
        'Modes',
        'Age',
      ],
    ],
    ['storage.k8s.io', 'csinodes', ['Name', 'Drivers', 'Age']],
    ['storage.k8s.io', 'volumeattachments', ['Name', 'Attacher', 'PV', 'Node', 'Attached', 'Age']],
  ])('%s/%s', (group, resource, expected) => {
    expect(columns(group, resource)).toEqual(expected);
  });
});

describe('Job rows', () => {
  const job = (spec: object, status: object = {}, metadata: object = {}) => ({
    metadata: meta('pi', metadata),
    spec: {
      template: { spec: { containers } },
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
      ...spec,
    },
    status,
  });

  it('a running job: Running, 0/1, its duration so far', () => {
    expect(cells('batch', 'jobs', job({ completions: 1 }, { startTime: ago(90_000) }))).toEqual([
      'pi',
      'Running',
      '0/1',
      '90s',
      '3m',
      'pi',
      'perl',
      'batch.kubernetes.io/controller-uid=u',
    ]);
  });

  it('a complete job: Complete, its run time; a work queue without completions shows "of parallelism"', () => {
    const done = job(
      { completions: 1 },
      {
        succeeded: 1,
        startTime: ago(60_000),
        completionTime: ago(20_000),
        conditions: [{ type: 'Complete', status: 'True' }],
      },
    );
    expect(cells('batch', 'jobs', done).slice(1, 4)).toEqual(['Complete', '1/1', '40s']);
    expect(cells('batch', 'jobs', job({ parallelism: 3 })).slice(1, 4)).toEqual(['Running', '0/1 of 3', '']);
    expect(
      cells(
        'batch',
        'jobs',
        job({ suspend: true }, { conditions: [{ type: 'Suspended', status: 'True' }] }),
      )[1],
    ).toBe('Suspended');
  });
});

describe('rows of the other kinds', () => {
  it('CronJob: schedule, <none> time zone and last schedule, suspend as False', () => {
    const cj = {
      metadata: meta('hello'),
      spec: {
        schedule: '* * * * *',
        suspend: false,
        jobTemplate: { spec: { template: { spec: { containers } } } },
      },
      status: {},
    };
    expect(cells('batch', 'cronjobs', cj)).toEqual([
      'hello',
      '* * * * *',
      '<none>',
      'False',
      0,
      '<none>',
      '3m',
      'pi',
      'perl',
      '<none>',
    ]);
  });

  it('StatefulSet READY is ready/desired; DaemonSet counts and node selector', () => {
    const sts = {
      metadata: meta('web'),
      spec: { replicas: 2, template: { spec: { containers } } },
      status: { readyReplicas: 1 },
    };
    expect(cells('apps', 'statefulsets', sts)).toEqual(['web', '1/2', '3m', 'pi', 'perl']);
    const ds = {
      metadata: meta('fluentd'),
      spec: {
        selector: { matchLabels: { name: 'f' } },
        template: { spec: { containers, nodeSelector: { disk: 'ssd' } } },
      },
      status: {
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        numberReady: 1,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
      },
    };
    expect(cells('apps', 'daemonsets', ds)).toEqual([
      'fluentd',
      2,
      2,
      1,
      2,
      1,
      'disk=ssd',
      '3m',
      'pi',
      'perl',
      'name=f',
    ]);
  });

  it('ControllerRevision names its controller kind.group/name', () => {
    const cr = {
      metadata: meta('web-6d5f', {
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true },
        ],
      }),
      revision: 1,
    };
    expect(cells('apps', 'controllerrevisions', cr)).toEqual(['web-6d5f', 'statefulset.apps/web', 1, '3m']);
    expect(cells('apps', 'controllerrevisions', { metadata: meta('orphan'), revision: 2 })[1]).toBe('<none>');
  });

  it('PersistentVolume: capacity, RWO, claim namespace/name, class, <unset> attributes class, volume mode', () => {
    const pv = {
      metadata: meta('task-pv-volume'),
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'default', name: 'task-pv-claim' },
        storageClassName: 'manual',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    expect(cells('', 'persistentvolumes', pv)).toEqual([
      'task-pv-volume',
      '10Gi',
      'RWO,RWX',
      'Retain',
      'Bound',
      'default/task-pv-claim',
      'manual',
      '<unset>',
      '',
      '3m',
      'Filesystem',
    ]);
  });

  it('PersistentVolumeClaim shows capacity and access modes only once bound', () => {
    const pending = {
      metadata: meta('c'),
      spec: { storageClassName: 'manual', volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    };
    expect(cells('', 'persistentvolumeclaims', pending)).toEqual([
      'c',
      'Pending',
      '',
      '',
      '',
      'manual',
      '<unset>',
      '3m',
      'Filesystem',
    ]);
    const bound = {
      metadata: meta('c'),
      spec: { volumeName: 'pv1', storageClassName: 'manual' },
      status: { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] },
    };
    expect(cells('', 'persistentvolumeclaims', bound).slice(1, 5)).toEqual(['Bound', 'pv1', '10Gi', 'RWO']);
  });

  it('PodDisruptionBudget: N/A for the unset bound', () => {
    const pdb = { metadata: meta('zk-pdb'), spec: { minAvailable: 2 }, status: { disruptionsAllowed: 0 } };
    expect(cells('policy', 'poddisruptionbudgets', pdb)).toEqual(['zk-pdb', '2', 'N/A', 0, '3m']);
  });

  it('ComponentStatus: Healthy/Unhealthy from the Healthy condition', () => {
    const cs = {
      metadata: { name: 'etcd-0' },
      conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }],
    };
    expect(cells('', 'componentstatuses', cs)).toEqual(['etcd-0', 'Healthy', 'ok', '']);
    expect(cells('', 'componentstatuses', { metadata: { name: 'x' } })).toEqual(['x', 'Unknown', '', '']);
  });

  it('CSIDriver, CSINode and VolumeAttachment', () => {
    const d = {
      metadata: meta('csi.example.com'),
      spec: { attachRequired: true, volumeLifecycleModes: ['Persistent', 'Ephemeral'] },
    };
    expect(cells('storage.k8s.io', 'csidrivers', d)).toEqual([
      'csi.example.com',
      true,
      false,
      false,
      '<unset>',
      false,
      'Persistent,Ephemeral',
      '3m',
    ]);
    expect(
      cells('storage.k8s.io', 'csinodes', {
        metadata: meta('n1'),
        spec: { drivers: [{ name: 'a', nodeID: 'x' }] },
      }),
    ).toEqual(['n1', 1, '3m']);
    const va = {
      metadata: meta('va'),
      spec: { attacher: 'csi.example.com', nodeName: 'n1', source: { persistentVolumeName: 'pv1' } },
      status: { attached: false },
    };
    expect(cells('storage.k8s.io', 'volumeattachments', va)).toEqual([
      'va',
      'csi.example.com',
      'pv1',
      'n1',
      false,
      '3m',
    ]);
  });
});
