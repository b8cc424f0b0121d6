// PersistentVolumeClaim and PersistentVolume update rules against upstream: kubernetes/kubernetes release-1.33
// pkg/apis/core/validation/validation.go (ValidatePersistentVolumeClaimUpdate, validateStorageClassUpgradeFromNil,
// validateStorageClassUpgradeFromAnnotation, ValidatePersistentVolumeUpdate) and the cases of
// TestValidatePersistentVolumeClaimUpdate in validation_test.go (names kept).
import { describe, expect, it } from 'vitest';
import { createErrors, updateErrors } from './test-fixtures.js';

const IMMUTABLE =
  'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

const claim = (spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'foo', namespace: 'ns' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10G' } }, ...spec },
  ...extra,
});
const bound = (spec: Record<string, unknown> = {}, capacity = '10G') =>
  claim(spec, { status: { phase: 'Bound', capacity: { storage: capacity } } });

describe('TestValidatePersistentVolumeClaimUpdate (upstream cases)', () => {
  it.each<[string, any, (c: any) => void, string[]]>([
    ['valid-update-volumeName-only', claim(), (c) => (c.spec.volumeName = 'volume'), []],
    ['valid-no-op-update', claim(), () => {}, []],
    [
      'invalid-update-change-resources-on-bound-claim',
      bound(),
      (c) => (c.spec.resources.requests.storage = '15G'),
      [],
    ],
    [
      'invalid-update-change-access-modes-on-bound-claim',
      bound(),
      (c) => (c.spec.accessModes = ['ReadOnlyMany']),
      [IMMUTABLE],
    ],
    [
      'invalid-update-change-storage-class-annotation-after-creation',
      claim(
        {},
        {
          metadata: {
            name: 'foo',
            namespace: 'ns',
            annotations: { 'volume.beta.kubernetes.io/storage-class': 'foo' },
          },
        },
      ),
      (c) => (c.metadata.annotations['volume.beta.kubernetes.io/storage-class'] = 'bar'),
      [
        'metadata.annotations.volume.beta.kubernetes.io/storage-class: Invalid value: "bar": field is immutable',
      ],
    ],
    [
      'valid-upgrade-storage-class-annotation-to-spec',
      claim(
        {},
        {
          metadata: {
            name: 'foo',
            namespace: 'ns',
            annotations: { 'volume.beta.kubernetes.io/storage-class': 'foo' },
          },
        },
      ),
      (c) => (c.spec.storageClassName = 'foo'),
      [],
    ],
    [
      'invalid-upgrade-storage-class-annotation-to-spec (another class)',
      claim(
        {},
        {
          metadata: {
            name: 'foo',
            namespace: 'ns',
            annotations: { 'volume.beta.kubernetes.io/storage-class': 'foo' },
          },
        },
      ),
      (c) => (c.spec.storageClassName = 'bar'),
      [IMMUTABLE],
    ],
    ['valid-upgrade-nil-storage-class-spec-to-spec', claim(), (c) => (c.spec.storageClassName = 'foo'), []],
    [
      'invalid-upgrade-not-nil-storage-class-spec-to-spec',
      claim({ storageClassName: 'foo' }),
      (c) => (c.spec.storageClassName = 'bar'),
      [IMMUTABLE],
    ],
    [
      'invalid-update-volume-mode',
      claim({ volumeMode: 'Filesystem' }),
      (c) => (c.spec.volumeMode = 'Block'),
      [IMMUTABLE, 'volumeMode: Invalid value: "Block": field is immutable'],
    ],
    [
      'valid-expand-shrink-resize-enabled (above status.capacity)',
      bound({ resources: { requests: { storage: '15G' } } }, '10G'),
      (c) => (c.spec.resources.requests.storage = '13G'),
      [],
    ],
    [
      'invalid-expand-shrink-to-status-resize-enabled',
      bound({ resources: { requests: { storage: '15G' } } }, '10G'),
      (c) => (c.spec.resources.requests.storage = '10G'),
      ['spec.resources.requests.storage: Forbidden: field can not be less than status.capacity'],
    ],
    [
      'unbound-size-update-resize-enabled',
      claim(),
      (c) => (c.spec.resources.requests.storage = '15G'),
      [IMMUTABLE],
    ],
  ])('%s', (_name, old, mutate, expected) => {
    expect(updateErrors(old, mutate)).toEqual(expected);
  });

  it('create: access modes and the storage request are required', () => {
    expect(createErrors(claim({ accessModes: [], resources: {} }))).toEqual([
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
  });
});
