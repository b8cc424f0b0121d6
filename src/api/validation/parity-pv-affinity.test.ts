// PersistentVolume rules added in the volumes round (#22), against upstream release-1.33
// pkg/apis/core/validation/validation.go: validateHostPathType, validateVolumeNodeAffinity and ValidateNodeSelector
// (validateNodeSelectorRequirement, validateNodeFieldSelectorRequirement).
import { describe, expect, it } from 'vitest';
import { createErrors } from './test-fixtures.js';

const pv = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...spec },
});
const affinity = (terms: unknown[]): unknown => ({ required: { nodeSelectorTerms: terms } });

describe('PersistentVolume: hostPath type and node affinity (upstream rules)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid hostPath type', { hostPath: { path: '/d', type: 'DirectoryOrCreate' } }, []],
    [
      'bad hostPath type',
      { hostPath: { path: '/d', type: 'Folder' } },
      [
        'spec.hostPath.type: Unsupported value: "Folder": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
      ],
    ],
    [
      'local with node affinity',
      {
        local: { path: '/mnt/disks/a' },
        nodeAffinity: affinity([
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] },
        ]),
      },
      [],
    ],
    [
      'node affinity without required',
      { hostPath: { path: '/d' }, nodeAffinity: {} },
      ['spec.nodeAffinity.required: Required value: must specify required node constraints'],
    ],
    [
      'no terms',
      { hostPath: { path: '/d' }, nodeAffinity: affinity([]) },
      [
        'spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term',
      ],
    ],
    [
      'In without values, Exists with values, bad operator',
      {
        hostPath: { path: '/d' },
        nodeAffinity: affinity([
          {
            matchExpressions: [
              { key: 'a', operator: 'In' },
              { key: 'b', operator: 'Exists', values: ['x'] },
              { key: 'c', operator: 'Near', values: ['x'] },
            ],
          },
        ]),
      },
      [
        "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
      ],
    ],
    [
      'matchFields on a label',
      {
        hostPath: { path: '/d' },
        nodeAffinity: affinity([
          { matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['x'] }] },
        ]),
      },
      [
        'spec.nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].key: Invalid value: "metadata.labels": not a valid field selector key',
      ],
    ],
  ])('%s', (_name, spec, want) => {
    expect(createErrors(pv(spec))).toEqual(want);
  });
});
