import { describe, expect, it } from 'vitest';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import {
  applyRevision,
  isClaimOwnerUpToDate,
  maxUnavailableOf,
  newRevision,
  newVersionedStatefulSetPod,
  parentNameAndOrdinal,
  updateClaimOwnerRefs,
} from './utils.js';
import { equalRevision, goJsonMarshal, hashControllerRevision } from '../history/controller-history.js';

const set = (spec: Partial<StatefulSet['spec']> = {}): StatefulSet => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'set-uid' },
  spec: {
    replicas: 3,
    serviceName: 'nginx',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } },
    ...spec,
  },
});

const pod = (name: string, uid = `${name}-uid`): Pod => ({ metadata: { name, namespace: 'ns', uid } });

describe('StatefulSet utils (upstream stateful_set_utils_test.go cases)', () => {
  it('parses parent and ordinal from the pod name', () => {
    expect(parentNameAndOrdinal(pod('web-12'))).toEqual({ parent: 'web', ordinal: 12 });
    expect(parentNameAndOrdinal(pod('my-web-0'))).toEqual({ parent: 'my-web', ordinal: 0 });
    expect(parentNameAndOrdinal(pod('web'))).toEqual({ parent: '', ordinal: -1 });
    expect(parentNameAndOrdinal(pod('web-99999999999'))).toEqual({ parent: 'web', ordinal: -1 });
  });

  it('getStatefulSetMaxUnavailable: int, percentage rounded down, at least 1', () => {
    const withMax = (v: number | string, replicas: number): StatefulSet =>
      set({ replicas, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: v } } });
    expect(maxUnavailableOf(set())).toBe(1);
    expect(maxUnavailableOf(withMax(3, 10))).toBe(3);
    expect(maxUnavailableOf(withMax('50%', 5))).toBe(2);
    expect(maxUnavailableOf(withMax('10%', 5))).toBe(1);
    expect(maxUnavailableOf(withMax('100%', 4))).toBe(4);
  });

  it('new pods below the partition are made at the current revision, the rest at the update revision', () => {
    const current = set({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    const update = structuredClone(current);
    update.spec!.template.spec!.containers[0].image = 'v2';
    const p1 = newVersionedStatefulSetPod(current, update, 'web-a', 'web-b', 1);
    const p2 = newVersionedStatefulSetPod(current, update, 'web-a', 'web-b', 2);
    expect([p1.spec?.containers[0].image, p1.metadata?.labels?.['controller-revision-hash']]).toEqual([
      'v1',
      'web-a',
    ]);
    expect([p2.spec?.containers[0].image, p2.metadata?.labels?.['controller-revision-hash']]).toEqual([
      'v2',
      'web-b',
    ]);
  });

  it('a revision replaces the template whole when applied, and equal templates give equal revisions', () => {
    const a = set();
    const b = set();
    b.spec!.template.spec!.containers[0].image = 'v2';
    b.spec!.template.metadata!.annotations = { x: 'y' };
    const revA = newRevision(a, 1, 0);
    expect(revA.metadata?.name).toBe(`web-${hashControllerRevision(revA, 0)}`);
    const applied = applyRevision(b, revA);
    expect(applied.spec?.template).toEqual(a.spec?.template);
    expect(equalRevision(revA, newRevision(set(), 7, 0))).toBe(true);
    expect(equalRevision(revA, newRevision(b, 2, 0))).toBe(false);
    // a collision count changes the name, not the data
    expect(newRevision(a, 1, 1).metadata?.name).not.toBe(revA.metadata?.name);
    // Go's encoding: sorted keys, HTML characters escaped
    expect(goJsonMarshal({ b: 1, a: '<&>' })).toBe('{"a":"\\u003c\\u0026\\u003e","b":1}');
  });

  it('isClaimOwnerUpToDate / updateClaimOwnerRefs follow the retention policy (upstream TestClaimOwnerUpToDate)', () => {
    const policies = [
      ['Retain', 'Retain'],
      ['Retain', 'Delete'],
      ['Delete', 'Retain'],
      ['Delete', 'Delete'],
    ] as const;
    for (const [whenScaled, whenDeleted] of policies)
      for (const ordinal of [1, 5]) {
        const s = set({ persistentVolumeClaimRetentionPolicy: { whenScaled, whenDeleted } });
        const p = pod(`web-${ordinal}`);
        const claim: PersistentVolumeClaim = { metadata: { name: `www-web-${ordinal}` } };
        updateClaimOwnerRefs(claim, s, p);
        expect(isClaimOwnerUpToDate(claim, s, p), `${whenScaled}/${whenDeleted} ordinal ${ordinal}`).toBe(
          true,
        );
        const kinds = (claim.metadata?.ownerReferences ?? []).map((r) => r.kind);
        const scaledDown = ordinal >= 3;
        const expected =
          whenScaled === 'Delete' && scaledDown ? ['Pod'] : whenDeleted === 'Delete' ? ['StatefulSet'] : [];
        expect(kinds, `${whenScaled}/${whenDeleted} ordinal ${ordinal}`).toEqual(expected);
        // a claim without refs is out of date unless the policy is Retain/Retain (or Delete/Retain in range)
        const bare: PersistentVolumeClaim = { metadata: { name: 'x' } };
        expect(isClaimOwnerUpToDate(bare, s, p)).toBe(expected.length === 0);
      }
  });

  it('a claim owned by an earlier pod of the same name (stale uid) is left alone', () => {
    const s = set({ persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' } });
    const claim: PersistentVolumeClaim = {
      metadata: {
        name: 'www-web-1',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'old', controller: true }],
      },
    };
    expect(isClaimOwnerUpToDate(claim, s, pod('web-1', 'new'))).toBe(true);
  });
});
