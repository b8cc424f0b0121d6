// storage.k8s.io/v1 CSIStorageCapacity against upstream's pkg/apis/storage/validation/validation.go
// (ValidateCSIStorageCapacity, ValidateCSIStorageCapacityUpdate) and the cases of TestCSIStorageCapacityValidation /
// TestCSIStorageCapacityUpdateValidation: served since this commit (upstream 1.33 serves it by default).
import { describe, expect, it } from 'vitest';
import { findResource } from '../resources.js';
import { createErrors, updateErrors } from './test-fixtures.js';

const capacity = (over: Record<string, unknown> = {}): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIStorageCapacity',
  metadata: { name: 'foo', namespace: 'default' },
  storageClassName: 'bar',
  nodeTopology: { matchLabels: { 'topology.kubernetes.io/zone': 'zone1' } },
  capacity: '1Gi',
  ...over,
});

describe('CSIStorageCapacity (TestCSIStorageCapacityValidation)', () => {
  it('accepts a capacity with topology, without topology and without capacity', () => {
    expect(createErrors(capacity())).toEqual([]);
    expect(createErrors(capacity({ nodeTopology: undefined }))).toEqual([]);
    expect(createErrors(capacity({ capacity: undefined }))).toEqual([]);
    expect(createErrors(capacity({ capacity: '0' }))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'negative capacity',
      { capacity: '-1Gi' },
      ['capacity: Invalid value: "-1Gi": must be greater than or equal to 0'],
    ],
    [
      'bad storage class name',
      { storageClassName: 'Bar_' },
      [
        expect.stringMatching(
          /^storageClassName: Invalid value: "Bar_": a lowercase RFC 1123 subdomain/,
        ) as never,
      ],
    ],
    [
      'no storage class name',
      { storageClassName: '' },
      [
        expect.stringMatching(
          /^storageClassName: Invalid value: "": a lowercase RFC 1123 subdomain/,
        ) as never,
      ],
    ],
    [
      'bad topology selector',
      { nodeTopology: { matchExpressions: [{ key: 'k', operator: 'In' }] } },
      [
        "nodeTopology.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      ],
    ],
  ])('%s', (_name, over, expected) => {
    expect(createErrors(capacity(over))).toEqual(expected);
  });

  it('is served, namespaced, in storage.k8s.io/v1', () => {
    expect(findResource('storage.k8s.io', 'csistoragecapacities')).toMatchObject({
      kind: 'CSIStorageCapacity',
      namespaced: true,
      versions: ['v1'],
    });
  });
});

describe('CSIStorageCapacity update (ValidateCSIStorageCapacityUpdate)', () => {
  it('capacity and maximumVolumeSize may change; nodeTopology and storageClassName may not', () => {
    expect(updateErrors(capacity(), (c: any) => (c.capacity = '2Gi'))).toEqual([]);
    expect(updateErrors(capacity(), (c: any) => (c.maximumVolumeSize = '1Gi'))).toEqual([]);
    expect(updateErrors(capacity(), (c: any) => (c.storageClassName = 'other'))).toEqual([
      'storageClassName: Invalid value: "other": field is immutable',
    ]);
    expect(
      updateErrors(
        capacity(),
        (c: any) => (c.nodeTopology = { matchLabels: { 'topology.kubernetes.io/zone': 'z2' } }),
      ),
    ).toEqual([expect.stringMatching(/^nodeTopology: Invalid value: .*: field is immutable$/)]);
  });
});
