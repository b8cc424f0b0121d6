// Validation of ResourceQuota, LimitRange, PriorityClass and StorageClass: upstream's rules, paths and messages.
import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import type { KubeObject } from '../request.js';
import { applyDefaults } from '../defaults/index.js';
import { validateObject } from './index.js';

const gvk = (group: string, kind: string) => ({ group, version: 'v1', kind });
const errs = (group: string, kind: string, obj: KubeObject, old?: KubeObject): string[] => {
  applyDefaults(gvk(group, kind), obj);
  if (old) applyDefaults(gvk(group, kind), old);
  return validateObject(gvk(group, kind), obj, old ? { old } : {}).map(fieldErrorString);
};

describe('ResourceQuota validation', () => {
  const rq = (spec: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'q', namespace: 'ns' },
    spec,
  });
  it('hard: standard quota resources, non-negative, whole counts', () => {
    expect(
      errs(
        '',
        'ResourceQuota',
        rq({ hard: { pods: '10', 'requests.cpu': '1', 'count/deployments.apps': '2' } }),
      ),
    ).toEqual([]);
    expect(errs('', 'ResourceQuota', rq({ hard: { pods: '1500m', cpu: '-1', bogus: '1' } }))).toEqual([
      'spec.hard[pods]: Invalid value: "1500m": must be an integer',
      'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.hard[bogus]: Invalid value: "bogus": must be a standard resource for quota',
    ]);
  });
  it('scopes are upstream scope names and cannot change', () => {
    expect(errs('', 'ResourceQuota', rq({ scopes: ['Forever'] }))).toEqual([
      'spec.scopes: Invalid value: ["Forever"]: unsupported scope',
    ]);
    expect(
      errs('', 'ResourceQuota', rq({ scopes: ['BestEffort'] }), rq({ scopes: ['NotBestEffort'] })),
    ).toEqual(['spec.scopes: Invalid value: ["BestEffort"]: field is immutable']);
  });
});

describe('LimitRange defaults and validation', () => {
  const lr = (limits: Record<string, unknown>[]): KubeObject => ({
    metadata: { name: 'lr', namespace: 'ns' },
    spec: { limits },
  });
  it('a Container item defaults its default limit to max and its default request to the limit, then min', () => {
    const o = lr([{ type: 'Container', max: { cpu: '2' }, min: { memory: '1Mi' } }]);
    expect(errs('', 'LimitRange', o)).toEqual([]);
    expect((o['spec'] as { limits: unknown[] }).limits[0]).toEqual({
      type: 'Container',
      max: { cpu: '2' },
      min: { memory: '1Mi' },
      default: { cpu: '2' },
      defaultRequest: { cpu: '2', memory: '1Mi' },
    });
  });
  it('refuses min above max, defaults on a Pod item, duplicate types', () => {
    expect(
      errs(
        '',
        'LimitRange',
        lr([
          { type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } },
          { type: 'Pod', default: { cpu: '1' } },
        ]),
      ),
    ).toEqual([
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[1].type: Duplicate value: "Pod"',
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
    ]);
  });
});

describe('PriorityClass validation', () => {
  const pc = (name: string, value: number, more: Record<string, unknown> = {}): KubeObject => ({
    metadata: { name },
    value,
    ...more,
  });
  it("reserves 'system-' names and values above a billion", () => {
    expect(errs('scheduling.k8s.io', 'PriorityClass', pc('system-node-critical', 2000001000))).toEqual([]);
    expect(errs('scheduling.k8s.io', 'PriorityClass', pc('system-mine', 1))).toEqual([
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
    expect(errs('scheduling.k8s.io', 'PriorityClass', pc('huge', 2000000000))).toEqual([
      'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    ]);
  });
  it('value and preemptionPolicy cannot change', () => {
    expect(
      errs('scheduling.k8s.io', 'PriorityClass', pc('a', 2, { preemptionPolicy: 'Never' }), pc('a', 1)),
    ).toEqual([
      'value: Forbidden: may not be changed in an update.',
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
  });
});

describe('StorageClass defaults and validation', () => {
  const sc = (more: Record<string, unknown>): KubeObject => ({ metadata: { name: 'sc' }, ...more });
  it('defaults reclaimPolicy and volumeBindingMode; provisioner is required', () => {
    const o = sc({ provisioner: 'example.com/x' });
    expect(errs('storage.k8s.io', 'StorageClass', o)).toEqual([]);
    expect([o['reclaimPolicy'], o['volumeBindingMode']]).toEqual(['Delete', 'Immediate']);
    expect(errs('storage.k8s.io', 'StorageClass', sc({ reclaimPolicy: 'Recycle' }))).toEqual([
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    ]);
  });
  it('parameters, provisioner and reclaimPolicy cannot change', () => {
    expect(
      errs(
        'storage.k8s.io',
        'StorageClass',
        sc({ provisioner: 'b', parameters: { a: '1' } }),
        sc({ provisioner: 'a' }),
      ),
    ).toEqual([
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
    ]);
  });
});
