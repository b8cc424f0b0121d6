// storage.k8s.io and ReplicationController validation against upstream: kubernetes/kubernetes
// pkg/apis/storage/validation/validation.go (ValidateStorageClass's allowedTopologies, ValidateCSIDriver[Update],
// ValidateCSINode[Update] with the strategy's AllowLongNodeID, ValidateVolumeAttachment[V1|Update]) and
// pkg/apis/core/validation (ValidatePodTemplateSpecForRC's ValidateReadOnlyPersistentDisks), with cases of their
// validation_test.go (TestValidateAllowedTopologies, TestCSINodeValidation, TestCSINodeUpdateValidation,
// TestCSIDriverValidation, TestVolumeAttachmentValidation / status cases).
import { describe, expect, it } from 'vitest';
import { createErrors, statusErrors, updateErrors } from './test-fixtures.js';

const storageClass = (allowedTopologies: unknown): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'foo' },
  provisioner: 'kubernetes.io/foo-provisioner',
  allowedTopologies,
});
const term = (...exprs: [string, string[]][]) => ({
  matchLabelExpressions: exprs.map(([key, values]) => ({ key, values })),
});

describe('StorageClass allowedTopologies (TestValidateAllowedTopologies)', () => {
  it.each<[string, unknown, string[]]>([
    ['valid topology', [term(['failure-domain.beta.kubernetes.io/zone', ['zone1']])], []],
    [
      'valid topology with multiple terms and expressions',
      [
        term(['failure-domain.beta.kubernetes.io/zone', ['zone1']], ['kubernetes.io/hostname', ['node1']]),
        term(['failure-domain.beta.kubernetes.io/zone', ['zone2']]),
      ],
      [],
    ],
    ['empty AllowedTopologies', [], []],
    [
      'empty key',
      [term(['', ['zone1']])],
      [
        'allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: "": name part must be non-empty',
        "allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
    ],
    [
      'empty values',
      [term(['failure-domain.beta.kubernetes.io/zone', []])],
      ['allowedTopologies[0].matchLabelExpressions[0].values: Required value'],
    ],
    [
      'duplicate values',
      [term(['failure-domain.beta.kubernetes.io/zone', ['zone1', 'zone1']])],
      ['allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "zone1"'],
    ],
    [
      'duplicate keys in a term',
      [
        term(
          ['failure-domain.beta.kubernetes.io/zone', ['zone1']],
          ['failure-domain.beta.kubernetes.io/zone', ['zone2']],
        ),
      ],
      [
        'allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "failure-domain.beta.kubernetes.io/zone"',
      ],
    ],
    [
      'duplicate terms (same expressions in another order)',
      [term(['a.io/x', ['1', '2']], ['b.io/y', ['3']]), term(['b.io/y', ['3']], ['a.io/x', ['2', '1']])],
      ['allowedTopologies[1].matchLabelExpressions: Duplicate value: ""'],
    ],
  ])('%s', (_name, topologies, errors) => {
    expect(createErrors(storageClass(topologies))).toEqual(errors);
  });

  it('more than 512 parameters: only that is reported', () => {
    const parameters: Record<string, string> = { '': 'x' };
    for (let i = 0; i < 513; i++) parameters[`k${i}`] = 'v';
    expect(createErrors({ ...storageClass(undefined), parameters })).toEqual([
      // upstream uses field.TooLong for the count, so the message says bytes
      'parameters: Too long: may not be more than 512 bytes',
    ]);
  });
});

const csiNode = (drivers: unknown[]): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSINode',
  metadata: { name: 'foo' },
  spec: { drivers },
});
const driver = (over: Record<string, unknown> = {}) => ({
  name: 'io.kubernetes.storage.csi.driver',
  nodeID: 'node',
  topologyKeys: ['company.com/zone1'],
  ...over,
});

describe('CSINode (TestCSINodeValidation, TestCSINodeUpdateValidation)', () => {
  it('node IDs of up to 256 characters are accepted (the strategy sets AllowLongNodeID), longer ones are not', () => {
    expect(createErrors(csiNode([driver({ nodeID: 'n'.repeat(256) })]))).toEqual([]);
    expect(createErrors(csiNode([driver({ nodeID: 'n'.repeat(257) })]))).toEqual([
      `spec.drivers[0].nodeID: Invalid value: "${'n'.repeat(257)}": must be 256 characters or less`,
    ]);
    expect(createErrors(csiNode([driver({ nodeID: '' })]))).toEqual([
      'spec.drivers[0].nodeID: Required value',
    ]);
  });

  it('topology keys: errors are reported on the driver', () => {
    expect(
      createErrors(csiNode([driver({ topologyKeys: ['company.com/zone1', 'company.com/zone1'] })])),
    ).toEqual(['spec.drivers[0]: Duplicate value: "company.com/zone1"']);
    expect(createErrors(csiNode([driver({ topologyKeys: [''] })]))).toEqual([
      'spec.drivers[0]: Required value',
      'spec.drivers[0]: Invalid value: "": name part must be non-empty',
      "spec.drivers[0]: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
  });

  it('a registered driver is immutable, its allocatable count too; drivers may be added and removed', () => {
    const before = csiNode([driver({ allocatable: { count: 5 } })]);
    expect(
      updateErrors(before, (n: any) =>
        n.spec.drivers.push(driver({ name: 'io.kubernetes.storage.csi.new' })),
      ),
    ).toEqual([]);
    expect(updateErrors(before, (n: any) => (n.spec.drivers = []))).toEqual([]);
    for (const change of [
      (n: any) => (n.spec.drivers[0].nodeID = 'other'),
      (n: any) => (n.spec.drivers[0].topologyKeys = ['company.com/zone2']),
      (n: any) => (n.spec.drivers[0].allocatable = { count: 6 }),
    ])
      expect(updateErrors(before, change)).toEqual([
        expect.stringMatching(/^spec\.drivers: Invalid value: .*: field is immutable$/),
      ]);
  });
});

const csiDriver = (spec: Record<string, unknown> = {}, name = 'test-driver'): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  metadata: { name },
  spec,
});

describe('CSIDriver (TestCSIDriverValidation, TestCSIDriverValidationUpdate)', () => {
  it("invalid volumeLifecycleModes: the supported values in upstream's order (Persistent, Ephemeral)", () => {
    expect(createErrors(csiDriver({ volumeLifecycleModes: ['no-such-mode'] }))).toEqual([
      'spec.volumeLifecycleModes: Unsupported value: "no-such-mode": supported values: "Persistent", "Ephemeral"',
    ]);
  });

  it('tokenRequests: a duplicate audience is reported alone; expiration at least 10 minutes', () => {
    expect(
      createErrors(
        csiDriver({ tokenRequests: [{ audience: 'a' }, { audience: 'a', expirationSeconds: 10 }] }),
      ),
    ).toEqual(['spec.tokenRequests[1].audience: Duplicate value: "a"']);
    expect(createErrors(csiDriver({ tokenRequests: [{ audience: 'a', expirationSeconds: 599 }] }))).toEqual([
      'spec.tokenRequests[0].expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    ]);
  });

  it('nodeAllocatableUpdatePeriodSeconds is at least 10', () => {
    expect(createErrors(csiDriver({ nodeAllocatableUpdatePeriodSeconds: 10 }))).toEqual([]);
    expect(createErrors(csiDriver({ nodeAllocatableUpdatePeriodSeconds: 9 }))).toEqual([
      'spec.nodeAllocatableUpdatePeriodSeconds: Invalid value: 9: must be greater than or equal to 10 seconds',
    ]);
  });

  it('update: attachRequired (path spec.attachedRequired, as upstream) and volumeLifecycleModes are immutable; fsGroupPolicy, podInfoOnMount, requiresRepublish are not', () => {
    const before = csiDriver({ attachRequired: true });
    expect(updateErrors(before, (d: any) => (d.spec.attachRequired = false))).toEqual([
      'spec.attachedRequired: Invalid value: false: field is immutable',
    ]);
    expect(updateErrors(before, (d: any) => (d.spec.volumeLifecycleModes = ['Ephemeral']))).toEqual([
      'spec.volumeLifecycleModes: Invalid value: ["Ephemeral"]: field is immutable',
    ]);
    expect(
      updateErrors(before, (d: any) => {
        d.spec.fsGroupPolicy = 'File';
        d.spec.podInfoOnMount = true;
        d.spec.requiresRepublish = true;
      }),
    ).toEqual([]);
  });
});

const attachment = (source: Record<string, unknown>): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'VolumeAttachment',
  metadata: { name: 'foo' },
  spec: { attacher: 'myattacher', nodeName: 'node', source },
});

describe('VolumeAttachment (TestVolumeAttachmentValidation, ValidateVolumeAttachmentV1)', () => {
  it('the persistent volume name must be a PersistentVolume name', () => {
    expect(createErrors(attachment({ persistentVolumeName: 'pv-1' }))).toEqual([]);
    expect(createErrors(attachment({ persistentVolumeName: 'PV_1' }))).toEqual([
      expect.stringMatching(
        /^spec\.source\.persistentVolumeName: Invalid value: "PV_1": a lowercase RFC 1123 subdomain/,
      ),
    ]);
  });

  it('status: attach and detach errors have a message of at most 1024 bytes and a non-negative code', () => {
    const before = attachment({ persistentVolumeName: 'pv-1' });
    expect(
      statusErrors(before, (va: any) => (va.status = { attached: true, attachmentMetadata: { foo: 'bar' } })),
    ).toEqual([]);
    expect(
      statusErrors(
        before,
        (va: any) => (va.status = { attached: false, attachError: { message: 'x'.repeat(1025) } }),
      ),
    ).toEqual(['status.attachError.message: Too long: may not be more than 262144 bytes']);
    expect(
      statusErrors(before, (va: any) => (va.status = { attached: false, detachError: { errorCode: -1 } })),
    ).toEqual([
      'status.detachError.errorCode: Invalid value: -1: must be between 0 and 2147483647, inclusive',
    ]);
    expect(
      statusErrors(
        before,
        (va: any) => (va.status = { attached: true, attachmentMetadata: { foo: 'x'.repeat(256 * 1024) } }),
      ),
    ).toEqual(['status.attachmentMetadata: Too long: may not be more than 262144 bytes']);
  });
});

describe('ReplicationController (ValidatePodTemplateSpecForRC)', () => {
  const rc = (replicas: number, readOnly: boolean): any => ({
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'nginx' },
    spec: {
      replicas,
      selector: { app: 'nginx' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx' }],
          volumes: [{ name: 'pd', gcePersistentDisk: { pdName: 'my-data-disk', fsType: 'ext4', readOnly } }],
        },
      },
    },
  });

  // older releases refused a writable GCE PD with more than one replica (ValidateReadOnlyPersistentDisks); the 1.33-era
  // validation.go (index ids 36792487, 6976543664) has no such rule in ValidatePodTemplateSpecForRC (docs/api-parity.md)
  it('a writable GCE persistent disk is no longer refused with more than one replica', () => {
    expect(createErrors(rc(1, false))).toEqual([]);
    expect(createErrors(rc(2, true))).toEqual([]);
    expect(createErrors(rc(2, false))).toEqual([]);
  });
});

// ValidatePersistentVolumeSpec with validateInlinePersistentVolumeSpec (core validation.go), which
// validateVolumeAttachmentSource runs on spec.source.inlineVolumeSpec; inlineSpec as in TestVolumeAttachmentValidation
describe('VolumeAttachment spec.source.inlineVolumeSpec (ValidatePersistentVolumeSpec, inline)', () => {
  const inlineSpec = {
    accessModes: ['ReadWriteOnce'],
    csi: { driver: 'com.test.foo', volumeHandle: 'foobar' },
  };
  const p = 'spec.source.inlineVolumeSpec';

  it('accepts upstream success cases (inline, inline with status) and an inline spec update that keeps it', () => {
    expect(createErrors(attachment({ inlineVolumeSpec: inlineSpec }))).toEqual([]);
    const before = attachment({ inlineVolumeSpec: inlineSpec });
    expect(
      statusErrors(before, (va: any) => (va.status = { attached: true, attachmentMetadata: { foo: 'bar' } })),
    ).toEqual([]);
    expect(updateErrors(before, (va: any) => (va.metadata.labels = { a: 'b' }))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'inline without a CSI source (setWithInlineWithoutPVSource, without the PV name)',
      {
        capacity: { storage: '10G' },
        accessModes: ['ReadWriteOnce'],
        flexVolume: { driver: 'kubernetes.io/blue', fsType: 'ext4' },
        storageClassName: 'test-storage-class',
      },
      [
        `${p}.capacity: Forbidden: may not be specified in the context of inline volumes`,
        `${p}.csi: Required value: has to be specified in the context of inline volumes`,
        `${p}.storageClassName: Forbidden: may not be specified in the context of inline volumes`,
      ],
    ],
    [
      'claimRef',
      { ...inlineSpec, claimRef: { namespace: 'ns', name: 'claim' } },
      [`${p}.claimRef: Forbidden: may not be specified in the context of inline volumes`],
    ],
    ['no access modes', { csi: inlineSpec.csi }, [`${p}.accessModes: Required value`]],
    [
      'reclaim policy other than Retain',
      { ...inlineSpec, persistentVolumeReclaimPolicy: 'Delete' },
      [`${p}.persistentVolumeReclaimPolicy: Forbidden: may only be Retain in the context of inline volumes`],
    ],
    ['reclaim policy Retain', { ...inlineSpec, persistentVolumeReclaimPolicy: 'Retain' }, []],
    [
      'node affinity',
      {
        ...inlineSpec,
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] },
        },
      },
      [`${p}.nodeAffinity: Forbidden: may not be specified in the context of inline volumes`],
    ],
    [
      'volumeMode Block',
      { ...inlineSpec, volumeMode: 'Block' },
      [
        `${p}.volumeMode: Forbidden: may not specify volumeMode other than Filesystem in the context of inline volumes`,
      ],
    ],
    ['volumeMode Filesystem', { ...inlineSpec, volumeMode: 'Filesystem' }, []],
    [
      'the CSI source validated (validateCSIPersistentVolumeSource)',
      { accessModes: ['ReadWriteOnce'], csi: { driver: 'com.test.foo' } },
      [`${p}.csi.volumeHandle: Required value`],
    ],
  ])('%s', (_name, inlineVolumeSpec, expected) => {
    expect(createErrors(attachment({ inlineVolumeSpec }))).toEqual(expected);
  });
});

describe('PersistentVolume flexVolume source (ValidatePersistentVolumeSpec, validateFlexPersistentVolumeSource)', () => {
  const pv = (flexVolume: Record<string, unknown>): any => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'flex' },
    spec: { capacity: { storage: '10G' }, accessModes: ['ReadWriteOnce'], flexVolume },
  });

  it('is a volume type, and needs its driver', () => {
    expect(createErrors(pv({ driver: 'kubernetes.io/blue', fsType: 'ext4' }))).toEqual([]);
    expect(createErrors(pv({ fsType: 'ext4' }))).toEqual(['spec.flexVolume.driver: Required value']);
  });
});

describe('VolumeAttachment: ValidateVolumeAttachmentV1 is for creates only (volumeAttachmentStrategy)', () => {
  it('an empty attacher is Required once; a bad attacher name is refused on create, not re-checked on update', () => {
    const empty = attachment({ persistentVolumeName: 'pv' });
    empty.spec.attacher = '';
    expect(createErrors(empty)).toEqual(['spec.attacher: Required value']);
    const bad = attachment({ persistentVolumeName: 'pv' });
    bad.spec.attacher = 'Bad_Attacher';
    expect(createErrors(bad)).toEqual([
      expect.stringMatching(/^spec\.attacher: Invalid value: "Bad_Attacher": a lowercase RFC 1123 subdomain/),
    ]);
    expect(updateErrors(bad, (v: any) => (v.metadata.labels = { a: 'b' }))).toEqual([]);
  });
});
