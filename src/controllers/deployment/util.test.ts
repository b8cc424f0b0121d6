import { describe, it, expect } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import {
  computeHash,
  equalIgnoreHash,
  findActiveOrLatest,
  getProportion,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  resolveFenceposts,
  safeEncodeString,
  setNewReplicaSetAnnotations,
} from './util.js';

const template = (image: string): PodTemplateSpec => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image }] },
});

function deployment(
  replicas: number,
  maxSurgeV: number | string,
  maxUnavailableV: number | string,
): Deployment {
  return {
    metadata: {
      name: 'web',
      annotations: { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: template('v1'),
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: maxSurgeV, maxUnavailable: maxUnavailableV },
      },
    },
  };
}

const rs = (
  name: string,
  replicas: number,
  created: string,
  annotations: Record<string, string> = {},
): ReplicaSet => ({
  metadata: { name, uid: name, creationTimestamp: created, annotations },
  spec: { replicas, selector: {} },
});

describe('deployment util', () => {
  it('hashes a template into upstream-shaped pod-template-hash values, stable and collision-count sensitive', () => {
    const h = computeHash(template('v1'));
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash(template('v1'))).toBe(h);
    expect(computeHash(template('v2'))).not.toBe(h);
    expect(computeHash(template('v1'), 1)).not.toBe(h);
    // key order and empty/null fields don't matter
    expect(
      computeHash({
        spec: { containers: [{ image: 'v1', name: 'c' }] },
        metadata: { labels: { app: 'web' }, annotations: {} },
      }),
    ).toBe(h);
    // as upstream: digits map to 4-9 and b, c, d, f (hashes like 7c5ddbdf54)
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
    expect(h).toMatch(/^[4-9bcdf]{1,10}$/);
  });

  it('compares templates ignoring only the pod-template-hash label', () => {
    const withHash = structuredClone(template('v1'));
    withHash.metadata!.labels!['pod-template-hash'] = 'abc';
    expect(equalIgnoreHash(withHash, template('v1'))).toBe(true);
    expect(
      equalIgnoreHash(template('v1'), {
        ...template('v1'),
        metadata: { labels: { app: 'web' }, creationTimestamp: null as unknown as string },
      }),
    ).toBe(true);
    expect(equalIgnoreHash(template('v2'), template('v1'))).toBe(false);
  });

  it('resolves maxSurge up and maxUnavailable down, and both zero as one unavailable', () => {
    expect(resolveFenceposts('25%', '25%', 6)).toEqual({ surge: 2, unavailable: 1 });
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, 0, 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts('0%', '0%', 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(maxUnavailable(deployment(3, 0, 10))).toBe(3);
    expect(maxUnavailable(deployment(0, 1, 1))).toBe(0);
    expect(
      maxSurge({
        ...deployment(3, 2, 1),
        spec: { ...deployment(3, 2, 1).spec!, strategy: { type: 'Recreate' } },
      }),
    ).toBe(0);
  });

  it('sizes the new ReplicaSet within replicas + maxSurge', () => {
    const d = deployment(10, 3, 2);
    const old = rs('old', 10, '2024-01-01T00:00:00Z');
    const fresh = rs('new', 0, '2024-01-02T00:00:00Z');
    expect(newRSNewReplicas(d, [old, fresh], fresh)).toBe(3);
    expect(newRSNewReplicas(d, [rs('old', 8, 'x'), rs('new', 3, 'y')], rs('new', 3, 'y'))).toBe(5);
    expect(newRSNewReplicas(d, [rs('old', 10, 'x'), rs('new', 3, 'y')], rs('new', 3, 'y'))).toBe(3);
  });

  it('computes proportions from the max-replicas annotation', () => {
    const d = deployment(20, 3, 2);
    const old = rs('old', 8, 'x', { 'deployment.kubernetes.io/max-replicas': '13' });
    expect(getProportion(old, d, 10, 0)).toBe(6);
    const fresh = rs('new', 5, 'y', { 'deployment.kubernetes.io/max-replicas': '13' });
    expect(getProportion(fresh, d, 10, 6)).toBe(4);
    // scaling down: never more than what is left to remove
    const down = deployment(5, 3, 2);
    expect(
      getProportion(rs('a', 8, 'x', { 'deployment.kubernetes.io/max-replicas': '13' }), down, -5, -4),
    ).toBe(-1);
  });

  it('finds the only active ReplicaSet or the latest', () => {
    const a = rs('a', 0, '2024-01-01T00:00:00Z');
    const b = rs('b', 0, '2024-01-02T00:00:00Z');
    const c = rs('c', 2, '2024-01-03T00:00:00Z');
    expect(findActiveOrLatest(undefined, [a, b])?.metadata?.name).toBe('b');
    expect(findActiveOrLatest(a, [b, c])?.metadata?.name).toBe('c');
    expect(findActiveOrLatest(c, [rs('d', 1, 'x')])).toBeUndefined();
  });

  it('raises a reused ReplicaSet to the new revision and keeps its old revisions in revision-history', () => {
    const d = deployment(2, 1, 0);
    const reused = rs('web-abc', 0, 'x', { 'deployment.kubernetes.io/revision': '1' });
    expect(setNewReplicaSetAnnotations(d, reused, 3, true)).toBe(true);
    expect(reused.metadata?.annotations).toEqual({
      team: 'a',
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(setNewReplicaSetAnnotations(d, reused, 5, true)).toBe(true);
    expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1,3');
    // not lowered, nothing to do
    expect(setNewReplicaSetAnnotations(d, reused, 4, true)).toBe(false);
    const fresh = rs('web-new', 0, 'x');
    setNewReplicaSetAnnotations(d, fresh, 1, false);
    expect(fresh.metadata?.annotations).toEqual({
      team: 'a',
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '2',
      'deployment.kubernetes.io/max-replicas': '3',
    });
  });
});
