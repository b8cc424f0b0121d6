// StatefulSet, DaemonSet and ControllerRevision validation against upstream's rules: kubernetes/kubernetes
// release-1.33 pkg/apis/apps/validation/validation.go (ValidateStatefulSetSpec, ValidateStatefulSetUpdate,
// ValidateStatefulSetStatusUpdate, ValidateDaemonSetSpec, ValidateDaemonSetStatusUpdate,
// ValidateControllerRevision*) and its validation_test.go (TestValidateStatefulSet, TestValidateStatefulSetUpdate,
// TestValidateDaemonSet*, TestValidateControllerRevision*); case names follow upstream's.
import { describe, expect, it } from 'vitest';
import { createErrors, statusErrors, updateErrors } from './test-fixtures.js';

const podTemplate = (labels: Record<string, string> = { a: 'b' }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'abc', image: 'image' }] },
});

const sts = (spec: Record<string, unknown> = {}): any => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'abc', namespace: 'default' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate(), ...spec },
});

const ds = (spec: Record<string, unknown> = {}): any => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'abc', namespace: 'default' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate(), ...spec },
});

describe('TestValidateStatefulSet (upstream error cases)', () => {
  it.each<[string, any, string[]]>([
    [
      'zero-length name',
      { ...sts(), metadata: { name: '', namespace: 'default' } },
      ['metadata.name: Required value: name or generateName is required'],
    ],
    [
      'empty selector',
      sts({ selector: {} }),
      ['spec.selector: Invalid value: {}: empty selector is invalid for statefulset'],
    ],
    [
      'selector_doesnt_match',
      sts({ selector: { matchLabels: { foo: 'bar' } } }),
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'negative_replicas',
      sts({ replicas: -1 }),
      ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'invalid restart policy 1',
      sts({ template: { ...podTemplate(), spec: { ...podTemplate().spec, restartPolicy: 'OnFailure' } } }),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      'spec.template.spec.activeDeadlineSeconds',
      sts({ template: { ...podTemplate(), spec: { ...podTemplate().spec, activeDeadlineSeconds: 10 } } }),
      [
        'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported',
      ],
    ],
    [
      'spec.podManagementPolicy: Invalid value',
      sts({ podManagementPolicy: 'foo' }),
      [`spec.podManagementPolicy: Invalid value: "foo": must be 'OrderedReady' or 'Parallel'`],
    ],
    [
      'spec.updateStrategy: Invalid value',
      sts({ updateStrategy: { type: 'foo' } }),
      [`spec.updateStrategy: Invalid value: {"type":"foo"}: must be 'RollingUpdate' or 'OnDelete'`],
    ],
    [
      'spec.updateStrategy.rollingUpdate: Invalid value (OnDelete)',
      sts({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }),
      [
        `spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy 'RollingUpdate'`,
      ],
    ],
    [
      'spec.updateStrategy.rollingUpdate.partition: Invalid value',
      sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }),
      ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'empty PersistentVolumeClaimRetentionPolicy',
      sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Foo', whenScaled: 'Retain' } }),
      [
        'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Foo": supported values: "Retain", "Delete"',
      ],
    ],
    [
      'invalid ordinals.start',
      sts({ ordinals: { start: -2 } }),
      ['spec.ordinals.start: Invalid value: -2: must be greater than or equal to 0'],
    ],
    [
      'negative minReadySeconds',
      sts({ minReadySeconds: -1 }),
      ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'],
    ],
  ])('%s', (_name, body, expected) => {
    expect(createErrors(body)).toEqual(expected);
  });

  it('a new rollingUpdate.maxUnavailable is dropped by the strategy (MaxUnavailableStatefulSet is alpha in 1.33)', () => {
    // validation sees it only when the stored object already had one: then 0 is refused
    expect(
      updateErrors(
        sts({
          podManagementPolicy: 'Parallel',
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        }),
        (s) => (s.spec.updateStrategy.rollingUpdate.maxUnavailable = 0),
      ),
    ).toEqual(['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0']);
  });
});

describe('TestValidateStatefulSetUpdate (upstream cases)', () => {
  const forbidden =
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

  it.each<[string, (s: any) => void, string[]]>([
    ['update replicas', (s) => (s.spec.replicas = 3), []],
    ['update template', (s) => (s.spec.template.metadata.labels.x = 'y'), []],
    ['update minReadySeconds', (s) => (s.spec.minReadySeconds = 5), []],
    ['update ordinals', (s) => (s.spec.ordinals = { start: 2 }), []],
    [
      'update persistentVolumeClaimRetentionPolicy',
      (s) => (s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Delete' }),
      [],
    ],
    [
      'update selector',
      (s) => (s.spec.selector = { matchLabels: { a: 'b', c: 'd' } }),
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
        forbidden,
      ],
    ],
    ['update serviceName', (s) => (s.spec.serviceName = 'other'), [forbidden]],
    ['update podManagementPolicy', (s) => (s.spec.podManagementPolicy = 'Parallel'), [forbidden]],
    [
      'update volumeClaimTemplates',
      (s) =>
        (s.spec.volumeClaimTemplates = [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ]),
      [forbidden],
    ],
  ])('%s', (_name, mutate, expected) => {
    expect(updateErrors(sts(), mutate)).toEqual(expected);
  });
});

describe('ValidateStatefulSetStatusUpdate / ValidateDaemonSetStatusUpdate', () => {
  it('status counts: non-negative, not above replicas, collisionCount never decremented', () => {
    const old = { ...sts(), status: { replicas: 3, readyReplicas: 3, collisionCount: 2 } };
    expect(
      statusErrors(old, (s) => {
        s.status = { replicas: 2, readyReplicas: 3, currentReplicas: -1, collisionCount: 1 };
      }),
    ).toEqual([
      'status.currentReplicas: Invalid value: -1: must be greater than or equal to 0',
      'status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas',
      'status.collisionCount: Invalid value: 1: cannot be decremented',
    ]);
    const oldDs = { ...ds(), status: { collisionCount: 2 } };
    expect(statusErrors(oldDs, (d) => delete d.status.collisionCount)).toEqual([
      'status.collisionCount: Invalid value: 0: cannot be decremented',
    ]);
  });
});

describe('TestValidateDaemonSet (upstream error cases)', () => {
  it.each<[string, any, string[]]>([
    [
      'nil selector (selects nothing)',
      ds({ selector: undefined }),
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'empty selector',
      ds({ selector: {} }),
      ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset'],
    ],
    [
      'spec.template.metadata.labels',
      ds({ selector: { matchLabels: { a: 'c' } } }),
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'invalid restart policy',
      ds({ template: { ...podTemplate(), spec: { ...podTemplate().spec, restartPolicy: 'Never' } } }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    [
      'spec.template.spec.activeDeadlineSeconds',
      ds({ template: { ...podTemplate(), spec: { ...podTemplate().spec, activeDeadlineSeconds: 10 } } }),
      [
        'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported',
      ],
    ],
    [
      'spec.minReadySeconds',
      ds({ minReadySeconds: -1 }),
      ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "110%"',
      ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '110%' } } }),
      [
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%',
      ],
    ],
    [
      'both maxUnavailable and maxSurge',
      ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } }),
      [
        'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
      ],
    ],
    [
      'neither maxUnavailable nor maxSurge',
      ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
    ],
    [
      'spec.revisionHistoryLimit',
      ds({ revisionHistoryLimit: -1 }),
      ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0'],
    ],
  ])('%s', (_name, body, expected) => {
    expect(createErrors(body)).toEqual(expected);
  });

  it('the selector is immutable in apps/v1 (the strategy, not ValidateDaemonSetUpdate)', () => {
    expect(
      updateErrors(ds(), (d) => {
        d.spec.selector = { matchLabels: { a: 'b', c: 'd' } };
        d.spec.template.metadata.labels.c = 'd';
      }),
    ).toEqual(['spec.selector: Invalid value: {"matchLabels":{"a":"b","c":"d"}}: field is immutable']);
  });
});

describe('TestValidateControllerRevision (upstream cases)', () => {
  const cr = (extra: Record<string, unknown>): any => ({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: 'abc', namespace: 'default' },
    ...extra,
  });
  it.each<[string, any, string[]]>([
    ['valid', cr({ data: { a: 1 }, revision: 1 }), []],
    ['null data', cr({ revision: 1 }), ['data: Required value: data is mandatory']],
    [
      'negative revision',
      cr({ data: { a: 1 }, revision: -1 }),
      ['revision: Invalid value: -1: must be greater than or equal to 0'],
    ],
  ])('%s', (_name, body, expected) => {
    expect(createErrors(body)).toEqual(expected);
  });

  it('data is immutable', () => {
    expect(updateErrors(cr({ data: { a: 1 }, revision: 1 }), (c) => (c.data = { a: 2 }))).toEqual([
      'data: Invalid value: {"a":2}: field is immutable',
    ]);
  });
});
