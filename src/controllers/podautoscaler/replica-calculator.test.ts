// Worked cases after upstream's replica_calculator_test.go and horizontal_test.go (levels in milli-cores, requests 1 core).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { rfc3339 } from '../../util/objects.js';
import { ScaleNormalizer } from './normalizer.js';
import {
  DEFAULT_CALCULATOR,
  getRawResourceReplicas,
  getResourceReplicas,
  type PodMetricsInfo,
} from './replica-calculator.js';

const NOW = 1_700_000_000_000;
const opts = { ...DEFAULT_CALCULATOR, now: NOW };

function pods(
  n: number,
  o: { requests?: string[]; ready?: ('True' | 'False')[]; phase?: string[]; startedMsAgo?: number } = {},
): Pod[] {
  return Array.from({ length: n }, (_, i) => ({
    metadata: { name: `p-${i}` },
    spec: {
      containers: [{ name: 'c', resources: { requests: { cpu: o.requests?.[i] ?? '1', memory: '100Mi' } } }],
    },
    status: {
      phase: o.phase?.[i] ?? 'Running',
      startTime: rfc3339(NOW - (o.startedMsAgo ?? 10 * 60_000)),
      conditions: [
        { type: 'Ready', status: o.ready?.[i] ?? 'True', lastTransitionTime: rfc3339(NOW - 10 * 60_000) },
      ],
    },
  }));
}
const metrics = (levels: (number | undefined)[]): PodMetricsInfo =>
  new Map(
    levels.flatMap((v, i) =>
      v === undefined ? [] : [[`p-${i}`, { value: v, timestampMs: NOW - 1000, windowMs: 1000 }] as const],
    ),
  );

describe('getResourceReplicas (Utilization)', () => {
  it('scales up: 300/500/700m of 1 core at 30% → 5 replicas, 50% utilization', () => {
    const r = getResourceReplicas(3, 30, 'cpu', pods(3), metrics([300, 500, 700]), opts);
    expect(r).toMatchObject({ replicas: 5, utilization: 50, rawAverage: 500 });
  });
  it('scales up less with an unready pod counted as 0 (UnreadyLessScale): 3 → 4', () => {
    const r = getResourceReplicas(
      3,
      30,
      'cpu',
      pods(3, { ready: ['False', 'True', 'True'] }),
      metrics([300, 500, 700]),
      opts,
    );
    expect(r).toMatchObject({ replicas: 4, utilization: 60, rawAverage: 600 });
  });
  it('does not scale up when the unready pods would bring the ratio under 1 (UnreadyNoScale)', () => {
    const r = getResourceReplicas(
      3,
      30,
      'cpu',
      pods(3, { ready: ['True', 'False', 'False'] }),
      metrics([400, 500, 700]),
      opts,
    );
    expect(r.replicas).toBe(3);
  });
  it('scales down: 100,300,500,250,250 at 50% → 3 replicas, 28%', () => {
    const r = getResourceReplicas(5, 50, 'cpu', pods(5), metrics([100, 300, 500, 250, 250]), opts);
    expect(r).toMatchObject({ replicas: 3, utilization: 28, rawAverage: 280 });
  });
  it('stays within the 0.1 tolerance: 106% of target keeps 3', () => {
    const r = getResourceReplicas(
      3,
      100,
      'cpu',
      pods(3, { requests: ['0.9', '1', '1.1'] }),
      metrics([1010, 1060, 1110]),
      opts,
    );
    expect(r).toMatchObject({ replicas: 3, utilization: 106 });
  });
  it('missing metrics count as 100% of request when scaling down, damping the scale-down (MissingMetricsScaleDown)', () => {
    const r = getResourceReplicas(4, 50, 'cpu', pods(4), metrics([100, undefined, 200, 300]), opts);
    // ratio 0.4 → the missing pod at 100%: 1600/4000 = 40% → ratio 0.8 → ceil(3.2) = 4, not ceil(0.4*3) = 2
    expect(r.replicas).toBe(4);
  });
  it('missing metrics count as 0 when scaling up (MissingMetricsScaleUp): 2000m on 1 of 2 pods at 100% → no change', () => {
    const r = getResourceReplicas(2, 100, 'cpu', pods(2), metrics([2000, undefined]), opts);
    expect(r.replicas).toBe(2);
  });
  it('missing metrics count as 0 when scaling up: 3000m, 2000m and a missing pod at 50% → 10', () => {
    const r = getResourceReplicas(3, 50, 'cpu', pods(3), metrics([3000, 2000, undefined]), opts);
    // ratio 5.0 → missing as 0: 5000/3000 = 166% → ratio 3.33 → ceil(3.33*3) = 10
    expect(r.replicas).toBe(10);
  });
  it('ignores pending pods and failed/deleted pods', () => {
    const list = pods(4, { phase: ['Running', 'Running', 'Pending', 'Failed'] });
    const r = getResourceReplicas(4, 50, 'cpu', list, metrics([500, 500, undefined, 900]), opts);
    expect(r).toMatchObject({ replicas: 4, utilization: 50 });
  });
  it('treats a sample taken before readiness + window as unready within the CPU initialization period', () => {
    const list = pods(2, { startedMsAgo: 30_000 });
    list[1].status!.conditions![0].lastTransitionTime = rfc3339(NOW - 500);
    const r = getResourceReplicas(2, 50, 'cpu', list, metrics([1000, 1000]), opts);
    // pod 1 is unready → pod 0 alone is at 200% → with the unready pod at 0: 1000/2000 = 50%, ratio 1 → stays
    expect(r.replicas).toBe(2);
  });
  it('fails without metrics or without requests, with upstream messages', () => {
    expect(() =>
      getResourceReplicas(2, 50, 'cpu', pods(2, { phase: ['Pending', 'Pending'] }), metrics([1, 1]), opts),
    ).toThrow('did not receive metrics for targeted pods (pods might be unready)');
    expect(() => getResourceReplicas(1, 50, 'cpu', [], metrics([]), opts)).toThrow(
      'no pods returned by selector while calculating replica count',
    );
    const noRequest = pods(1);
    delete noRequest[0].spec!.containers[0].resources;
    expect(() => getResourceReplicas(1, 50, 'cpu', noRequest, metrics([1]), opts)).toThrow(
      'missing request for cpu in container c of Pod p-0',
    );
  });
});

describe('getRawResourceReplicas (AverageValue)', () => {
  it('scales on the average: memory 400Mi avg against 200Mi → double', () => {
    const mi = 1024 * 1024 * 1000;
    const r = getRawResourceReplicas(2, 200 * mi, 'memory', pods(2), metrics([400 * mi, 400 * mi]), opts);
    expect(r).toMatchObject({ replicas: 4, rawAverage: 400 * mi });
  });
});

describe('ScaleNormalizer without behavior', () => {
  it('limits scale-up to max(2x, 4) and reports ScaleUpLimit, then TooManyReplicas', () => {
    const n = new ScaleNormalizer(new FakeClock(NOW), 15_000);
    n.recordInitial('ns/h', 1);
    expect(n.normalize('ns/h', 1, 10, 1, 20)).toMatchObject({
      replicas: 4,
      scalingLimited: { status: 'True', reason: 'ScaleUpLimit' },
    });
    expect(n.normalize('ns/h', 4, 10, 1, 5)).toMatchObject({
      replicas: 5,
      scalingLimited: { status: 'True', reason: 'TooManyReplicas' },
    });
  });
  it('holds a scale-down for the stabilization window (ScaleDownStabilized), then applies it', () => {
    const clock = new FakeClock(NOW);
    const n = new ScaleNormalizer(clock, 15_000);
    n.recordInitial('k', 5);
    const held = n.normalize('k', 5, 1, 1, 10);
    expect(held).toMatchObject({ replicas: 5, ableToScale: { reason: 'ScaleDownStabilized' } });
    clock.advance(16_000);
    expect(n.normalize('k', 5, 1, 1, 10)).toMatchObject({
      replicas: 1,
      ableToScale: { reason: 'ReadyForNewScale' },
      scalingLimited: { status: 'False', reason: 'DesiredWithinRange' },
    });
  });
  it('never goes below minReplicas (TooFewReplicas)', () => {
    const clock = new FakeClock(NOW);
    const n = new ScaleNormalizer(clock, 0);
    clock.advance(1);
    expect(n.normalize('k', 3, 1, 3, 10)).toMatchObject({
      replicas: 3,
      scalingLimited: { status: 'True', reason: 'TooFewReplicas' },
    });
  });
});

describe('ScaleNormalizer with behavior', () => {
  it('default scale-up policies: Max(4 pods, 100%) per 15 s', () => {
    const clock = new FakeClock(NOW);
    const n = new ScaleNormalizer(clock, 15_000);
    n.recordInitial('k', 10);
    expect(n.normalizeWithBehavior('k', {}, 10, 50, 1, 100).replicas).toBe(20);
    n.storeScaleEvent('k', {}, 10, 20);
    clock.advance(5_000);
    // within the period the start is still 10: 10+100% = 20 → no further growth
    expect(n.normalizeWithBehavior('k', {}, 20, 50, 1, 100)).toMatchObject({
      replicas: 20,
      scalingLimited: { reason: 'ScaleUpLimit' },
    });
    clock.advance(11_000);
    expect(n.normalizeWithBehavior('k', {}, 20, 50, 1, 100).replicas).toBe(40);
  });
  it('Pods policy with selectPolicy Min and a scale-down Percent policy', () => {
    const clock = new FakeClock(NOW);
    const n = new ScaleNormalizer(clock, 0);
    const behavior = {
      scaleUp: {
        selectPolicy: 'Min',
        policies: [
          { type: 'Pods', value: 1, periodSeconds: 60 },
          { type: 'Percent', value: 200, periodSeconds: 60 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 0,
        policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
      },
    };
    expect(n.normalizeWithBehavior('k', behavior, 4, 10, 1, 20).replicas).toBe(5);
    clock.advance(1000);
    expect(n.normalizeWithBehavior('k', behavior, 8, 1, 1, 20)).toMatchObject({
      replicas: 4,
      scalingLimited: { status: 'True', reason: 'ScaleDownLimit' },
    });
  });
  it('selectPolicy Disabled never scales in that direction', () => {
    const n = new ScaleNormalizer(new FakeClock(NOW), 0);
    const r = n.normalizeWithBehavior('k', { scaleUp: { selectPolicy: 'Disabled' } }, 2, 6, 1, 10);
    expect(r.replicas).toBe(2);
  });
  it('scale-up stabilization takes the lowest recent recommendation (ScaleUpStabilized)', () => {
    const clock = new FakeClock(NOW);
    const n = new ScaleNormalizer(clock, 0);
    const behavior = { scaleUp: { stabilizationWindowSeconds: 30 } };
    n.recordInitial('k', 2);
    clock.advance(1000);
    expect(n.normalizeWithBehavior('k', behavior, 2, 6, 1, 10)).toMatchObject({
      replicas: 2,
      ableToScale: { reason: 'ScaleUpStabilized' },
    });
    clock.advance(31_000);
    expect(n.normalizeWithBehavior('k', behavior, 2, 6, 1, 10).replicas).toBe(6);
  });
});
