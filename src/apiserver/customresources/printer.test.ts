import { describe, expect, it } from 'vitest';
import { evalJsonPath, parseJsonPath } from './printer.js';
import { compareKubeAwareVersions, sortVersions } from './versions.js';

describe('printer column JSONPath', () => {
  const obj = {
    spec: { hostnames: ['a.example', 'b.example'], replicas: 3 },
    status: {
      conditions: [
        { type: 'Issuing', status: 'False' },
        { type: 'Ready', status: 'True', message: 'ok' },
      ],
    },
  };
  const at = (path: string): unknown[] => evalJsonPath(obj, parseJsonPath(path));

  it('follows fields, indexes, wildcards and filters as cert-manager and Gateway API columns use them', () => {
    expect(at('.spec.replicas')).toEqual([3]);
    expect(at('.spec.hostnames')).toEqual([['a.example', 'b.example']]);
    expect(at('.spec.hostnames[1]')).toEqual(['b.example']);
    expect(at('.spec.hostnames[*]')).toEqual(['a.example', 'b.example']);
    expect(at('.status.conditions[?(@.type=="Ready")].status')).toEqual(['True']);
    expect(at(".status.conditions[?(@.type=='Ready')].message")).toEqual(['ok']);
    expect(at('.status.missing')).toEqual([]);
  });

  it('refuses what it cannot read', () => {
    expect(() => parseJsonPath('spec..x[')).toThrow();
  });
});

describe('kube-aware version order', () => {
  it('puts GA before beta before alpha before anything else', () => {
    expect(sortVersions(['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v1beta2', 'v2beta1'])).toEqual([
      'v2',
      'v1',
      'v2beta1',
      'v1beta2',
      'v1beta1',
      'v1alpha1',
      'foo',
    ]);
    expect(compareKubeAwareVersions('v1', 'v1')).toBe(0);
  });
});
