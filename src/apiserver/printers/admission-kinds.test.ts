// kubectl get columns of ResourceQuota, LimitRange, PriorityClass and StorageClass, as upstream's printers.go.
import { describe, expect, it } from 'vitest';
import { toTable } from './index.js';

const now = Date.parse('2026-01-01T01:00:00Z');
const created = '2026-01-01T00:00:00Z';
const table = (group: string, kind: string, obj: Record<string, unknown>) => {
  const t = toTable({ group, kind }, [{ metadata: { name: 'x', creationTimestamp: created }, ...obj }], {
    now,
  });
  return { headers: t.columnDefinitions.map((c) => c.name), cells: t.rows[0].cells };
};

describe('admission kinds printers', () => {
  it('ResourceQuota: used/hard, limits.* under LIMIT and the rest under REQUEST, sorted', () => {
    expect(
      table('', 'ResourceQuota', {
        status: {
          hard: { 'limits.memory': '2Gi', pods: '10', 'requests.cpu': '1', 'limits.cpu': '2' },
          used: { 'limits.memory': '800Mi', 'requests.cpu': '400m', 'limits.cpu': '800m' },
        },
      }),
    ).toEqual({
      headers: ['Name', 'Request', 'Limit', 'Age'],
      cells: ['x', 'pods: 0/10, requests.cpu: 400m/1', 'limits.cpu: 800m/2, limits.memory: 800Mi/2Gi', '60m'],
    });
  });

  it('LimitRange: name and creation time', () => {
    expect(table('', 'LimitRange', {})).toEqual({ headers: ['Name', 'Created At'], cells: ['x', created] });
  });

  it('PriorityClass: value, global default, preemption policy', () => {
    expect(
      table('scheduling.k8s.io', 'PriorityClass', { value: -1000, preemptionPolicy: 'PreemptLowerPriority' }),
    ).toEqual({
      headers: ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy'],
      cells: ['x', -1000, false, '60m', 'PreemptLowerPriority'],
    });
  });

  it('StorageClass: the default one is marked in NAME', () => {
    expect(
      table('storage.k8s.io', 'StorageClass', {
        metadata: {
          name: 'standard',
          creationTimestamp: created,
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: 'rancher.io/local-path',
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'WaitForFirstConsumer',
      }),
    ).toEqual({
      headers: ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age'],
      cells: ['standard (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '60m'],
    });
  });
});
