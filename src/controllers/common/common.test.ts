import { describe, it, expect } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.js';
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations.js';
import { EventRecorder } from '../../client/index.js';
import { fakeCluster } from '../../testing/fake-cluster.js';
import { isPodAvailable, sortPodsForDeletion } from './pods.js';
import { selectorMatches, selectsEverything } from './selectors.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    readySince?: string;
    restarts?: number;
    created?: string;
    cost?: string;
  } = {},
): Pod {
  return {
    metadata: {
      name,
      uid: name,
      creationTimestamp: o.created ?? '2024-06-01T00:00:00Z',
      ...(o.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
    },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: o.readySince }] : [],
      containerStatuses: [
        { name: 'c', image: 'i', imageID: '', ready: !!o.readySince, restartCount: o.restarts ?? 0 },
      ],
    },
  };
}

const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata!.name!);

describe('sortPodsForDeletion', () => {
  it('orders as upstream ActivePodsWithRanks', () => {
    const pods = [
      pod('ready-old', { node: 'n1', readySince: '2024-05-01T00:00:00Z', created: '2024-05-01T00:00:00Z' }),
      pod('unassigned', { phase: 'Pending' }),
      pod('pending', { node: 'n1', phase: 'Pending' }),
      pod('unknown', { node: 'n1', phase: 'Unknown' }),
      pod('not-ready', { node: 'n1' }),
      pod('ready-new', { node: 'n1', readySince: '2024-06-01T11:59:00Z', created: '2024-06-01T11:58:00Z' }),
    ];
    expect(names(sortPodsForDeletion(pods, () => 0, NOW))).toEqual([
      'unassigned',
      'pending',
      'unknown',
      'not-ready',
      'ready-new',
      'ready-old',
    ]);
  });

  it('prefers a lower deletion cost, then doubled-up nodes, then more restarts', () => {
    const a = pod('a', { node: 'n1', readySince: '2024-05-01T00:00:00Z' });
    const b = pod('b', { node: 'n2', readySince: '2024-05-01T00:00:00Z' });
    const cheap = pod('cheap', { node: 'n2', readySince: '2024-05-01T00:00:00Z', cost: '-10' });
    expect(names(sortPodsForDeletion([a, b, cheap], () => 0, NOW))[0]).toBe('cheap');
    expect(names(sortPodsForDeletion([a, b], (p) => (p.spec?.nodeName === 'n2' ? 3 : 1), NOW))).toEqual([
      'b',
      'a',
    ]);
    const crashy = pod('crashy', { node: 'n1', readySince: '2024-05-01T00:00:00Z', restarts: 4 });
    expect(names(sortPodsForDeletion([a, crashy], () => 0, NOW))).toEqual(['crashy', 'a']);
  });

  it('buckets ages logarithmically: pods of similar age fall back to uid order', () => {
    const x = pod('x', { node: 'n', readySince: '2024-06-01T11:00:00Z' });
    const y = pod('y', { node: 'n', readySince: '2024-06-01T11:00:01Z' });
    // 3600 s and 3599 s fall in the same power-of-two bucket of nanoseconds
    expect(names(sortPodsForDeletion([y, x], () => 0, NOW))).toEqual(['x', 'y']);
  });
});

describe('pod availability', () => {
  it('needs minReadySeconds of readiness', () => {
    const p = pod('p', { readySince: '2024-06-01T11:59:50Z' });
    expect(isPodAvailable(p, 0, NOW)).toBe(true);
    expect(isPodAvailable(p, 10, NOW)).toBe(false);
    expect(isPodAvailable(p, 9, NOW)).toBe(true);
    expect(isPodAvailable(pod('q'), 0, NOW)).toBe(false);
  });
});

describe('selectors', () => {
  it('matches matchLabels and every matchExpressions operator', () => {
    const sel = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['fe', 'be'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(selectorMatches(sel, { app: 'web', tier: 'fe', team: 'a' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', tier: 'fe', team: 'a', env: 'prod' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'db', team: 'a' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'fe' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'fe', team: 'a', legacy: '1' })).toBe(false);
    expect(selectorMatches(undefined, { app: 'web' })).toBe(false);
    expect(selectorMatches({}, { app: 'web' })).toBe(true);
    expect(selectsEverything({})).toBe(true);
    expect(selectsEverything(sel)).toBe(false);
  });
});

describe('ControllerExpectations', () => {
  it('blocks until creations and tracked deletions are observed, or they expire', () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectCreations('ns/rs', 2);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/other');
    expect(e.get('ns/rs')).toEqual({ add: 0, del: 1 });
    clock.advance(EXPECTATIONS_TIMEOUT_MS + 1);
    expect(e.satisfied('ns/rs')).toBe(true);
  });
});

describe('EventRecorder', () => {
  it('writes core/v1 Events and counts repeats on the same Event', async () => {
    const c = await fakeCluster();
    const rec = new EventRecorder({ client: c.client, component: 'test-controller', clock: c.clock });
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    };
    rec.event(obj, 'Normal', 'SuccessfulCreate', 'Created pod: web-a');
    await rec.flush();
    c.clock.advance(5_000);
    rec.event(obj, 'Normal', 'SuccessfulCreate', 'Created pod: web-a');
    rec.event(obj, 'Warning', 'FailedCreate', 'Error creating: boom');
    await rec.flush();
    const evs = c.objects<{
      reason: string;
      count: number;
      type: string;
      firstTimestamp: string;
      lastTimestamp: string;
      involvedObject: object;
      source: object;
    }>('events');
    expect(evs).toHaveLength(2);
    const created = evs.find((e) => e.reason === 'SuccessfulCreate')!;
    expect(created).toMatchObject({
      count: 2,
      type: 'Normal',
      source: { component: 'test-controller' },
      involvedObject: {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'web',
        namespace: 'default',
        uid: 'u1',
      },
    });
    expect(Date.parse(created.lastTimestamp) - Date.parse(created.firstTimestamp)).toBe(5_000);
  });
});
