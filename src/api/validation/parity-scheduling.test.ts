// PriorityClass rules checked against upstream release-1.33: pkg/apis/scheduling/validation/validation.go
// (ValidatePriorityClass, ValidatePriorityClassUpdate), pkg/apis/scheduling/helpers.go (IsKnownSystemPriorityClass),
// pkg/apis/core/validation ValidatePreemptionPolicy (also for a pod's spec.preemptionPolicy). Case names follow
// upstream's TestValidatePriorityClass / TestValidatePriorityClassUpdate.
import { describe, expect, it } from 'vitest';
import { createErrors, updateErrors } from './test-fixtures.js';

const pc = (name: string, extra: Record<string, unknown>): any => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  ...extra,
});

describe('PriorityClass', () => {
  it.each<[string, Record<string, unknown>]>([
    ['no description', pc('tier1', { value: 100 })],
    [
      'with description',
      pc('tier1', { value: 200, globalDefault: false, description: 'Used for the highest priority pods.' }),
    ],
    [
      'system node critical',
      pc('system-node-critical', { value: 2000001000, description: 'system priority class 0' }),
    ],
    ['preemptionPolicy Never', pc('tier1', { value: 1, preemptionPolicy: 'Never' })],
  ])('accepts %s', (_name, obj) => {
    expect(createErrors(obj)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'invalid name',
      pc('tier&1', { value: 100 }),
      [
        `metadata.name: Invalid value: "tier&1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    [
      'incorrect system class value',
      pc('system-node-critical', { value: 0 }),
      [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
      ],
    ],
    [
      'incorrect system class name',
      pc('system-something', { value: 2000001000 }),
      [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-something is not a known system priority class",
      ],
    ],
    [
      'system class as global default',
      pc('system-cluster-critical', { value: 2000000000, globalDefault: true }),
      [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false",
      ],
    ],
    [
      'user value above HighestUserDefinablePriority',
      pc('tier1', { value: 1000000001 }),
      ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000'],
    ],
    [
      'unknown preemptionPolicy, in upstream order',
      pc('tier1', { value: 1, preemptionPolicy: 'Sometimes' }),
      ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'],
    ],
    [
      'empty preemptionPolicy',
      pc('tier1', { value: 1, preemptionPolicy: '' }),
      ['preemptionPolicy: Required value'],
    ],
  ])('refuses %s', (_name, obj, errors) => {
    expect(createErrors(obj)).toEqual(errors);
  });

  it('value and preemptionPolicy are immutable; description and globalDefault are not', () => {
    const before = pc('tier1', { value: 100, description: 'd' });
    expect(updateErrors(before, (o: any) => (o.value = 101))).toEqual([
      'value: Forbidden: may not be changed in an update.',
    ]);
    expect(updateErrors(before, (o: any) => (o.preemptionPolicy = 'Never'))).toEqual([
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
    expect(updateErrors(before, (o: any) => ((o.description = 'other'), (o.globalDefault = true)))).toEqual(
      [],
    );
  });
});

describe('Pod spec.preemptionPolicy', () => {
  it('is one of PreemptLowerPriority and Never (ValidatePreemptionPolicy)', () => {
    const pod = (preemptionPolicy: string): any => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { preemptionPolicy, containers: [{ name: 'c', image: 'kubemu/hello' }] },
    });
    expect(createErrors(pod('Never'))).toEqual([]);
    expect(createErrors(pod('Always'))).toEqual([
      'spec.preemptionPolicy: Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"',
    ]);
  });
});
