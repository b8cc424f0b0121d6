// Lease against upstream release-1.33: pkg/apis/coordination/validation/validation.go (ValidateLease,
// ValidateLeaseSpec, ValidateCoordinatedLeaseStrategy) and pkg/registry/coordination/lease/strategy.go
// (AllowCreateOnUpdate, AllowUnconditionalUpdate false, strategy/preferredHolder dropped while the
// CoordinatedLeaderElection gate is off, as it is by default in 1.33).
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { describe, expect, it } from 'vitest';
import { createErrors, updateErrors } from '../../api/validation/test-fixtures.js';
import { fakeCluster } from '../../testing/fake-cluster.js';

const lease = (spec: Record<string, unknown>): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'node-1', namespace: 'kube-node-lease' },
  spec: { holderIdentity: 'node-1', ...spec },
});

describe('Lease validation', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid', { leaseDurationSeconds: 40, leaseTransitions: 0 }, []],
    [
      'leaseDurationSeconds 0',
      { leaseDurationSeconds: 0 },
      ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0'],
    ],
    [
      'negative leaseTransitions',
      { leaseTransitions: -1 },
      ['spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0'],
    ],
  ])('%s', (_name, spec, expected) => {
    expect(createErrors(lease(spec))).toEqual(expected);
  });

  it('a name that is no DNS subdomain is refused', () => {
    expect(createErrors({ ...lease({}), metadata: { name: 'Node_1', namespace: 'default' } })).toEqual([
      expect.stringMatching(/^metadata\.name: Invalid value: "Node_1": a lowercase RFC 1123 subdomain/),
    ]);
  });

  it('strategy and preferredHolder are checked as upstream checks them when the stored Lease has them', () => {
    const withStrategy = lease({ strategy: 'OldestEmulationVersion', preferredHolder: 'a' });
    expect(updateErrors(withStrategy, (l: any) => (l.spec.strategy = 'Newest'))).toEqual([
      'spec.strategy.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"',
    ]);
    expect(updateErrors(withStrategy, (l: any) => (l.spec.strategy = 'example.com/My_Strategy'))).toEqual([]);
    expect(updateErrors(withStrategy, (l: any) => (l.spec.strategy = 'example.com/-bad'))).toEqual([
      expect.stringMatching(/^spec\.strategy\.strategy: Invalid value: "example\.com\/-bad": name part must/),
    ]);
  });
});

describe('Lease storage', () => {
  it('PUT creates a missing Lease; an update without resourceVersion is refused', async () => {
    const c = await fakeCluster();
    const created = await c.client.leases.update(lease({ leaseDurationSeconds: 40 }));
    expect(created.metadata?.resourceVersion).toBeTruthy();
    const { resourceVersion: _rv, ...meta } = created.metadata!;
    await expect(c.client.leases.update({ ...created, metadata: meta })).rejects.toMatchObject({
      code: 422,
      message: expect.stringContaining(
        'metadata.resourceVersion: Invalid value: 0: must be specified for an update',
      ),
    });
    const renewed = await c.client.leases.update({
      ...created,
      spec: { ...created.spec, leaseTransitions: 1 },
    });
    expect(renewed.spec?.leaseTransitions).toBe(1);
  });

  it('strategy and preferredHolder are dropped while CoordinatedLeaderElection is off', async () => {
    const c = await fakeCluster();
    const created = await c.client.leases.create(
      lease({ strategy: 'OldestEmulationVersion', preferredHolder: 'node-2' }),
    );
    expect(created.spec).toEqual({ holderIdentity: 'node-1' });
    const updated = await c.client.leases.update({
      ...created,
      spec: {
        ...created.spec,
        strategy: 'OldestEmulationVersion',
        preferredHolder: 'node-2',
      } as Lease['spec'],
    });
    expect(updated.spec).toEqual({ holderIdentity: 'node-1' });
  });
});
