// Upstream's worked cases (kubernetes/kubernetes pkg/controller/podautoscaler replica_calculator_test.go and
// horizontal_test.go), test data transcribed by name and run against kubemu's calculator and normalizer.
import type { HPAScalingRules } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { ScaleNormalizer, scaleDownRules, scaleUpRules, type ScaleEvent } from './normalizer.js';
import {
  getRawResourceReplicas,
  getResourceReplicas,
  groupPods,
  type CalculatorOptions,
  type PodMetricsInfo,
} from './replica-calculator.js';

const NOW = 1_700_000_000_000;
const SEC = 1000;
const MIN = 60 * SEC;
// upstream's defaultTestingTolerance / CPUInitializationPeriod / DelayOfInitialReadinessStatus
const opts: CalculatorOptions = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 2 * MIN,
  delayOfInitialReadinessStatusMs: 10 * SEC,
  now: NOW,
};
// Go's zero time: upstream's fixtures leave start times, transition times and metric timestamps unset
const ZERO = '0001-01-01T00:00:00Z';
const ZERO_MS = Date.parse(ZERO);
const HOT = new Date(NOW).toISOString(); // hotCPUCreationTime: now
const COOL = new Date(NOW - 3 * MIN).toISOString(); // coolCPUCreationTime: 3 minutes ago
const CONTAINERS = 2; // numContainersPerPod: each container requests, and uses, the per-pod figure

type Status = 'True' | 'False';
interface CalcCase {
  currentReplicas: number;
  requests?: string[];
  levels: number[];
  podNames?: string[];
  readiness?: Status[];
  startTimes?: string[];
  phases?: string[];
  deleting?: boolean[];
}

/** upstream prepareTestClientSet + prepareTestMetricsClient: pods test-pod-i, two containers, 1-minute window */
function fixture(tc: CalcCase): { pods: Pod[]; metrics: PodMetricsInfo } {
  const count = Math.max(tc.currentReplicas, tc.phases?.length ?? 0);
  const pods: Pod[] = Array.from({ length: count }, (_, i) => {
    const request = tc.requests?.[i];
    const container = (n: number) => ({
      name: `container${n}`,
      ...(request !== undefined ? { resources: { requests: { cpu: request } } } : {}),
    });
    return {
      metadata: {
        name: `test-pod-${i}`,
        ...(tc.deleting?.[i] ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
      },
      spec: { containers: [container(0), container(1)] },
      status: {
        phase: tc.phases?.[i] ?? 'Running',
        startTime: tc.startTimes?.[i] ?? ZERO,
        conditions: [{ type: 'Ready', status: tc.readiness?.[i] ?? 'True', lastTransitionTime: ZERO }],
      },
    };
  });
  const metrics: PodMetricsInfo = new Map(
    tc.levels.map((level, i) => [
      tc.podNames?.[i] ?? `test-pod-${i}`,
      { value: CONTAINERS * level, timestampMs: ZERO_MS, windowMs: MIN },
    ]),
  );
  return { pods, metrics };
}

function resourceCase(tc: CalcCase, target: number) {
  const { pods, metrics } = fixture(tc);
  return getResourceReplicas(tc.currentReplicas, target, 'cpu', pods, metrics, opts);
}
/** GetMetricReplicas (Pods metric "qps", AverageValue): no CPU readiness rules apply */
function podMetricCase(tc: CalcCase, target: number) {
  const { pods, metrics } = fixture(tc);
  // custom metrics are per pod, not per container
  for (const m of metrics.values()) m.value /= CONTAINERS;
  return getRawResourceReplicas(tc.currentReplicas, target, 'qps', pods, metrics, opts);
}
const ones = (n: number): string[] => Array.from({ length: n }, () => '1.0');

describe('replica_calculator_test.go: GetResourceReplicas (CPU Utilization)', () => {
  const cases: [string, CalcCase, number, { replicas: number; utilization: number; rawAverage: number }][] = [
    [
      'TestReplicaCalcScaleUp',
      { currentReplicas: 3, requests: ones(3), levels: [300, 500, 700] },
      30,
      { replicas: 5, utilization: 50, rawAverage: CONTAINERS * 500 },
    ],
    [
      'TestReplicaCalcScaleUpUnreadyLessScale',
      {
        currentReplicas: 3,
        requests: ones(3),
        levels: [300, 500, 700],
        readiness: ['False', 'True', 'True'],
      },
      30,
      { replicas: 4, utilization: 60, rawAverage: CONTAINERS * 600 },
    ],
    [
      'TestReplicaCalcScaleUpHotCpuLessScale',
      { currentReplicas: 3, requests: ones(3), levels: [300, 500, 700], startTimes: [HOT, COOL, COOL] },
      30,
      { replicas: 4, utilization: 60, rawAverage: CONTAINERS * 600 },
    ],
    [
      'TestReplicaCalcScaleUpUnreadyNoScale',
      {
        currentReplicas: 3,
        requests: ones(3),
        levels: [400, 500, 700],
        readiness: ['True', 'False', 'False'],
      },
      30,
      { replicas: 3, utilization: 40, rawAverage: CONTAINERS * 400 },
    ],
    [
      'TestReplicaCalcScaleHotCpuNoScale',
      {
        currentReplicas: 3,
        requests: ones(3),
        levels: [400, 500, 700],
        readiness: ['True', 'False', 'False'],
        startTimes: [COOL, HOT, HOT],
      },
      30,
      { replicas: 3, utilization: 40, rawAverage: CONTAINERS * 400 },
    ],
    [
      'TestReplicaCalcScaleUpIgnoresFailedPods',
      {
        currentReplicas: 2,
        requests: ones(4),
        levels: [500, 700],
        readiness: ['True', 'True', 'False', 'False'],
        phases: ['Running', 'Running', 'Failed', 'Failed'],
      },
      30,
      { replicas: 4, utilization: 60, rawAverage: CONTAINERS * 600 },
    ],
    [
      'TestReplicaCalcScaleUpIgnoresDeletionPods',
      {
        currentReplicas: 2,
        requests: ones(4),
        levels: [500, 700],
        readiness: ['True', 'True', 'False', 'False'],
        phases: ['Running', 'Running', 'Running', 'Running'],
        deleting: [false, false, true, true],
      },
      30,
      { replicas: 4, utilization: 60, rawAverage: CONTAINERS * 600 },
    ],
    [
      'TestReplicaCalcScaleDown',
      { currentReplicas: 5, requests: ones(5), levels: [100, 300, 500, 250, 250] },
      50,
      { replicas: 3, utilization: 28, rawAverage: CONTAINERS * 280 },
    ],
    [
      'TestReplicaCalcScaleDownIncludeUnreadyPods',
      {
        currentReplicas: 5,
        requests: ones(5),
        levels: [100, 300, 500, 250, 250],
        readiness: ['True', 'True', 'True', 'False', 'False'],
      },
      50,
      { replicas: 2, utilization: 30, rawAverage: CONTAINERS * 300 },
    ],
    [
      'TestReplicaCalcScaleDownExcludeUnscheduledPods',
      {
        currentReplicas: 5,
        requests: ones(5),
        levels: [100],
        readiness: ['True', 'False', 'False', 'False', 'False'],
        phases: ['Running', 'Pending', 'Pending', 'Pending', 'Pending'],
      },
      50,
      { replicas: 1, utilization: 10, rawAverage: CONTAINERS * 100 },
    ],
    [
      'TestReplicaCalcScaleDownIgnoreHotCpuPods',
      {
        currentReplicas: 5,
        requests: ones(5),
        levels: [100, 300, 500, 250, 250],
        startTimes: [COOL, COOL, COOL, HOT, HOT],
      },
      50,
      { replicas: 2, utilization: 30, rawAverage: CONTAINERS * 300 },
    ],
    [
      'TestReplicaCalcScaleDownIgnoresFailedPods',
      {
        currentReplicas: 5,
        requests: ones(7),
        levels: [100, 300, 500, 250, 250],
        readiness: ['True', 'True', 'True', 'True', 'True', 'False', 'False'],
        phases: ['Running', 'Running', 'Running', 'Running', 'Running', 'Failed', 'Failed'],
      },
      50,
      { replicas: 3, utilization: 28, rawAverage: CONTAINERS * 280 },
    ],
    [
      'TestReplicaCalcScaleDownIgnoresDeletionPods',
      {
        currentReplicas: 5,
        requests: ones(7),
        levels: [100, 300, 500, 250, 250],
        readiness: ['True', 'True', 'True', 'True', 'True', 'False', 'False'],
        phases: Array(7).fill('Running'),
        deleting: [false, false, false, false, false, true, true],
      },
      50,
      { replicas: 3, utilization: 28, rawAverage: CONTAINERS * 280 },
    ],
    [
      'TestReplicaCalcTolerance',
      { currentReplicas: 3, requests: ['0.9', '1.0', '1.1'], levels: [1010, 1030, 1020] },
      100,
      { replicas: 3, utilization: 102, rawAverage: CONTAINERS * 1020 },
    ],
    [
      'TestReplicaCalcSuperfluousMetrics',
      { currentReplicas: 4, requests: ones(4), levels: [4000, 9500, 3000, 7000, 3200, 2000] },
      100,
      { replicas: 24, utilization: 587, rawAverage: CONTAINERS * 5875 },
    ],
    [
      'TestReplicaCalcMissingMetrics',
      { currentReplicas: 4, requests: ones(4), levels: [400, 95] },
      100,
      { replicas: 3, utilization: 24, rawAverage: 495 },
    ],
    [
      'TestReplicaCalcMissingMetricsNoChangeEq',
      { currentReplicas: 2, requests: ones(2), levels: [1000] },
      100,
      { replicas: 2, utilization: 100, rawAverage: CONTAINERS * 1000 },
    ],
    [
      'TestReplicaCalcMissingMetricsNoChangeGt',
      { currentReplicas: 2, requests: ones(2), levels: [1900] },
      100,
      { replicas: 2, utilization: 190, rawAverage: CONTAINERS * 1900 },
    ],
    [
      'TestReplicaCalcMissingMetricsNoChangeLt',
      { currentReplicas: 2, requests: ones(2), levels: [600] },
      100,
      { replicas: 2, utilization: 60, rawAverage: CONTAINERS * 600 },
    ],
    [
      'TestReplicaCalcMissingMetricsUnreadyChange',
      { currentReplicas: 3, requests: ones(3), levels: [100, 450], readiness: ['False', 'True', 'True'] },
      50,
      { replicas: 3, utilization: 45, rawAverage: CONTAINERS * 450 },
    ],
    [
      'TestReplicaCalcMissingMetricsHotCpuNoChange',
      { currentReplicas: 3, requests: ones(3), levels: [100, 450], startTimes: [HOT, COOL, COOL] },
      50,
      { replicas: 3, utilization: 45, rawAverage: CONTAINERS * 450 },
    ],
    [
      'TestReplicaCalcMissingMetricsUnreadyScaleUp',
      { currentReplicas: 3, requests: ones(3), levels: [100, 2000], readiness: ['False', 'True', 'True'] },
      50,
      { replicas: 4, utilization: 200, rawAverage: CONTAINERS * 2000 },
    ],
    [
      'TestReplicaCalcMissingMetricsHotCpuScaleUp',
      {
        currentReplicas: 3,
        requests: ones(3),
        levels: [100, 2000],
        readiness: ['False', 'True', 'True'],
        startTimes: [HOT, COOL, COOL],
      },
      50,
      { replicas: 4, utilization: 200, rawAverage: CONTAINERS * 2000 },
    ],
    [
      'TestReplicaCalcMissingMetricsUnreadyScaleDown',
      {
        currentReplicas: 4,
        requests: ones(4),
        levels: [100, 100, 100],
        readiness: ['False', 'True', 'True', 'True'],
      },
      50,
      { replicas: 3, utilization: 10, rawAverage: CONTAINERS * 100 },
    ],
    [
      'TestReplicaCalcDuringRollingUpdateWithMaxSurge',
      {
        currentReplicas: 2,
        requests: ones(3),
        levels: [100, 100],
        phases: ['Running', 'Running', 'Running'],
      },
      50,
      { replicas: 2, utilization: 10, rawAverage: CONTAINERS * 100 },
    ],
  ];
  for (const [name, tc, target, expected] of cases)
    it(name, () => {
      const r = resourceCase(tc, target);
      expect(r).toEqual({ ...expected, timestampMs: ZERO_MS });
    });

  // 10 pods each using 150m, requests jittered around 300m (3000m in all): 50% utilization
  const computed: CalcCase = {
    currentReplicas: 10,
    requests: ['400m', '200m', '310m', '290m', '302m', '298m', '301m', '299m', '300m', '300m'],
    levels: Array(10).fill(150),
  };
  it('TestReplicaCalcComputedToleranceAlgImplementation: target 56% (just past tolerance) → 9', () => {
    // upstream derives target int32((1/(2*(1-0.1)) + .01)*100) = 56 and ceil(1500/(3000*0.5656)*10) = 9
    expect(resourceCase(computed, 56)).toMatchObject({
      replicas: 9,
      utilization: 50,
      rawAverage: CONTAINERS * 150,
    });
  });
  it('TestReplicaCalcComputedToleranceAlgImplementation: target 55% (within tolerance) → no change', () => {
    expect(resourceCase(computed, 55)).toMatchObject({ replicas: 10, utilization: 50 });
  });

  it('TestReplicaCalcDisjointResourcesMetrics', () => {
    const tc: CalcCase = {
      currentReplicas: 1,
      requests: ['1.0'],
      levels: [100],
      podNames: ['an-older-pod-name'],
    };
    expect(() => resourceCase(tc, 100)).toThrow('no metrics returned matched known pods');
  });
  it('TestReplicaCalcEmptyCPURequest', () => {
    expect(() => resourceCase({ currentReplicas: 1, requests: [], levels: [200] }, 100)).toThrow(
      'missing request for',
    );
  });
});

describe('replica_calculator_test.go: GetMetricReplicas (Pods metric "qps")', () => {
  const cases: [string, CalcCase, number, number, number][] = [
    ['TestReplicaCalcScaleUpCM', { currentReplicas: 3, levels: [20000, 10000, 30000] }, 15000, 4, 20000],
    [
      'TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale',
      {
        currentReplicas: 3,
        levels: [50000, 10000, 30000],
        readiness: ['True', 'True', 'False'],
        startTimes: [COOL, COOL, HOT],
      },
      15000,
      6,
      30000,
    ],
    [
      'TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown',
      {
        currentReplicas: 3,
        levels: [50000, 15000, 30000],
        readiness: ['False', 'True', 'False'],
        startTimes: [HOT, COOL, HOT],
      },
      15000,
      7,
      31666,
    ],
    [
      'TestReplicaCalcScaleDownCM',
      { currentReplicas: 5, levels: [12000, 12000, 12000, 12000, 12000] },
      20000,
      3,
      12000,
    ],
    ['TestReplicaCalcToleranceCM', { currentReplicas: 3, levels: [20000, 21000, 21000] }, 20000, 3, 20666],
  ];
  for (const [name, tc, target, replicas, usage] of cases)
    it(name, () => {
      expect(podMetricCase(tc, target)).toMatchObject({ replicas, rawAverage: usage, timestampMs: ZERO_MS });
    });
});

describe('replica_calculator_test.go: TestGroupPods', () => {
  const pod = (name: string, o: { phase?: string; start?: number; ready?: [Status, number] } = {}): Pod => ({
    metadata: { name },
    status: {
      phase: o.phase ?? 'Succeeded',
      ...(o.start !== undefined ? { startTime: new Date(NOW + o.start).toISOString() } : {}),
      ...(o.ready
        ? {
            conditions: [
              {
                type: 'Ready',
                status: o.ready[0],
                lastTransitionTime: new Date(NOW + o.ready[1]).toISOString(),
              },
            ],
          }
        : {}),
    },
  });
  const metric = (tsAgo = 0, window = 0) => ({ value: 1, timestampMs: NOW - tsAgo, windowMs: window });
  const cases: [string, Pod[], PodMetricsInfo, string, number, string[], string[]][] = [
    ['void', [], new Map(), 'cpu', 0, [], []],
    [
      'count in a ready pod - memory',
      [pod('bentham')],
      new Map([['bentham', metric(0, MIN)]]),
      'memory',
      1,
      [],
      [],
    ],
    [
      'ignore a pod without ready condition - CPU',
      [pod('lucretius', { start: 0 })],
      new Map([['lucretius', metric()]]),
      'cpu',
      0,
      ['lucretius'],
      [],
    ],
    [
      'count in a ready pod with fresh metrics during initialization period - CPU',
      [pod('bentham', { start: -MIN, ready: ['True', -30 * SEC] })],
      new Map([['bentham', metric(0, 30 * SEC)]]),
      'cpu',
      1,
      [],
      [],
    ],
    [
      'ignore a ready pod without fresh metrics during initialization period - CPU',
      [pod('bentham', { start: -MIN, ready: ['True', -30 * SEC] })],
      new Map([['bentham', metric(0, 60 * SEC)]]),
      'cpu',
      0,
      ['bentham'],
      [],
    ],
    [
      'ignore an unready pod during initialization period - CPU',
      [pod('lucretius', { start: -10 * MIN, ready: ['False', -9 * MIN - 54 * SEC] })],
      new Map([['lucretius', metric()]]),
      'cpu',
      0,
      ['lucretius'],
      [],
    ],
    [
      'count in a ready pod without fresh metrics after initialization period - CPU',
      [pod('bentham', { start: -3 * MIN, ready: ['True', -3 * MIN] })],
      new Map([['bentham', metric(2 * MIN, MIN)]]),
      'cpu',
      1,
      [],
      [],
    ],
    [
      'count in an unready pod that was ready after initialization period - CPU',
      [pod('lucretius', { start: -10 * MIN, ready: ['False', -9 * MIN] })],
      new Map([['lucretius', metric()]]),
      'cpu',
      1,
      [],
      [],
    ],
    [
      'ignore pod that has never been ready after initialization period - CPU',
      [pod('lucretius', { start: -10 * MIN, ready: ['False', -9 * MIN - 50 * SEC] })],
      new Map([['lucretius', metric()]]),
      'cpu',
      1,
      [],
      [],
    ],
    ['a missing pod', [pod('epicurus', { start: -3 * MIN })], new Map(), 'cpu', 0, [], ['epicurus']],
    [
      'several pods',
      [
        pod('lucretius', { start: 0 }),
        pod('niccolo', { start: -3 * MIN, ready: ['True', -3 * MIN] }),
        pod('epicurus', { start: -3 * MIN }),
      ],
      new Map([
        ['lucretius', metric()],
        ['niccolo', metric()],
      ]),
      'cpu',
      1,
      ['lucretius'],
      ['epicurus'],
    ],
    [
      'pending pods are ignored',
      [pod('unscheduled', { phase: 'Pending' })],
      new Map(),
      'cpu',
      0,
      ['unscheduled'],
      [],
    ],
  ];
  for (const [name, pods, metrics, resource, ready, unready, missing] of cases)
    it(name, () => {
      const g = groupPods(pods, metrics, resource, opts);
      expect(g.readyPodCount).toBe(ready);
      // upstream's "ignored" set here is what kubemu calls unready (left out of the ratio, filled in on scale-up)
      expect([...g.unready].sort()).toEqual(unready);
      expect([...g.missing].sort()).toEqual(missing);
    });
});

const KEY = 'test-namespace/test-hpa';
const normalizer = (clock = new FakeClock(NOW), downscaleWindowMs = 5 * MIN) =>
  new ScaleNormalizer(clock, downscaleWindowMs);
const recs = (list: [number, number][]) => list.map(([replicas, ago]) => ({ replicas, at: NOW - ago }));

describe('horizontal_test.go: TestNormalizeDesiredReplicas (no behavior, 5 min window)', () => {
  const cases: [string, [number, number][], number, number, number][] = [
    ['empty log', [], 5, 5, 1],
    [
      'stabilize',
      [
        [4, 2 * MIN],
        [5, MIN],
      ],
      3,
      5,
      3,
    ],
    [
      'no stabilize',
      [
        [1, 2 * MIN],
        [2, MIN],
      ],
      3,
      3,
      3,
    ],
    [
      'no stabilize - old recommendations',
      [
        [10, 10 * MIN],
        [9, 9 * MIN],
      ],
      3,
      3,
      2,
    ],
    [
      'stabilize - old recommendations',
      [
        [10, 10 * MIN],
        [4, MIN],
        [5, 2 * MIN],
        [9, 9 * MIN],
      ],
      3,
      5,
      4,
    ],
  ];
  for (const [name, history, desired, stabilized, logLength] of cases)
    it(name, () => {
      const n = normalizer();
      n.seed(KEY, { recommendations: recs(history) });
      // current 100 keeps the rate limit (max(2×100, 4)) and min/max out of the way
      expect(n.normalize(KEY, 100, desired, 1, 1000).replicas).toBe(stabilized);
      expect(n.recommendationsOf(KEY)).toHaveLength(logLength);
    });
});

describe('horizontal_test.go: TestConvertDesiredReplicasWithRules (no behavior)', () => {
  const cases: [string, number, number, number, number, number, string][] = [
    ['prenormalized desired replicas within range', 5, 7, 3, 8, 7, 'DesiredWithinRange'],
    ['prenormalized desired replicas < minReplicas', 3, 1, 2, 8, 2, 'TooFewReplicas'],
    ['prenormalized desired zeroed replicas within range', 1, 0, 0, 10, 0, 'DesiredWithinRange'],
    ['maxReplicas is the limit because maxReplicas < scaleUpLimit', 20, 1000, 1, 10, 10, 'TooManyReplicas'],
    // calculateScaleUpLimit(3) = max(2×3, 4) with the production scaleUpLimitFactor (upstream's tests raise it to 8)
    ['scaleUpLimit is the limit because scaleUpLimit < maxReplicas', 3, 1000, 1, 2000, 6, 'ScaleUpLimit'],
  ];
  for (const [name, current, desired, min, max, replicas, reason] of cases)
    it(name, () => {
      const n = normalizer(new FakeClock(NOW), 0);
      expect(n.normalize(KEY, current, desired, min, max)).toMatchObject({
        replicas,
        scalingLimited: { reason },
      });
    });
});

describe('horizontal_test.go: TestNormalizeDesiredReplicasWithBehavior (stabilization windows)', () => {
  const cases: [string, [number, number][], number, number, number, number[] | undefined, number, number][] =
    [
      // name, recommendations, current, prenormalized, stabilized, stored, up window s, down window s
      ['empty recommendations for scaling down', [], 100, 5, 5, [5], 0, 0],
      [
        'simple scale down stabilization',
        [
          [4, 2 * MIN],
          [5, MIN],
        ],
        100,
        3,
        5,
        [4, 5, 3],
        0,
        180,
      ],
      [
        'simple scale up stabilization',
        [
          [4, 2 * MIN],
          [5, MIN],
        ],
        1,
        7,
        4,
        [4, 5, 7],
        300,
        0,
      ],
      [
        'no scale down stabilization',
        [
          [1, 2 * MIN],
          [2, MIN],
        ],
        100,
        3,
        3,
        [1, 2, 3],
        300,
        0,
      ],
      [
        'no scale up stabilization',
        [
          [4, 2 * MIN],
          [5, MIN],
        ],
        1,
        3,
        3,
        [4, 5, 3],
        0,
        300,
      ],
      [
        'no scale down stabilization, reuse recommendation element',
        [
          [10, 10 * MIN],
          [9, 9 * MIN],
        ],
        100,
        3,
        3,
        [10, 3],
        0,
        0,
      ],
      [
        'no scale up stabilization, reuse recommendation element',
        [
          [10, 10 * MIN],
          [9, 9 * MIN],
        ],
        1,
        100,
        100,
        [10, 100],
        0,
        0,
      ],
      [
        'scale down stabilization, reuse one of obsolete recommendation element',
        [
          [10, 10 * MIN],
          [4, MIN],
          [5, 2 * MIN],
          [9, 9 * MIN],
        ],
        100,
        3,
        5,
        [10, 4, 5, 3],
        0,
        180,
      ],
      [
        'scale up stabilization, reuse one of obsolete recommendation element',
        [
          [10, 100 * MIN],
          [6, MIN],
          [5, 2 * MIN],
          [9, 3 * MIN],
        ],
        1,
        100,
        5,
        [100, 6, 5, 9],
        300,
        0,
      ],
      [
        'scale up and down stabilization, do not scale up when prenormalized rec goes down',
        [
          [2, 100 * MIN],
          [3, 3 * MIN],
        ],
        2,
        1,
        2,
        undefined,
        300,
        300,
      ],
      [
        'scale up and down stabilization, do not scale down when prenormalized rec goes up',
        [
          [2, 100 * MIN],
          [1, 3 * MIN],
        ],
        2,
        3,
        2,
        undefined,
        300,
        300,
      ],
    ];
  for (const [name, history, current, desired, stabilized, stored, up, down] of cases)
    it(name, () => {
      const n = normalizer();
      n.seed(KEY, { recommendations: recs(history) });
      const r = n.stabilizeWithBehavior(
        KEY,
        scaleUpRules({ stabilizationWindowSeconds: up }),
        scaleDownRules({ stabilizationWindowSeconds: down }, 300),
        current,
        desired,
      );
      expect(r.replicas).toBe(stabilized);
      if (stored) expect(n.recommendationsOf(KEY).map((x) => x.replicas)).toEqual(stored);
    });
});

/** upstream generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow), selectPolicy Max */
function rules(
  pods: number,
  podsPeriod: number,
  percent: number,
  percentPeriod: number,
  window: number,
): HPAScalingRules {
  const policies = [
    ...(pods ? [{ type: 'Pods', value: pods, periodSeconds: podsPeriod }] : []),
    ...(percent ? [{ type: 'Percent', value: percent, periodSeconds: percentPeriod }] : []),
  ];
  return {
    stabilizationWindowSeconds: window,
    selectPolicy: 'Max',
    ...(policies.length ? { policies } : {}),
  };
}
/** upstream generateEventsUniformDistribution: event i in the middle of segment i of the last periodSeconds */
function events(raw: number[], periodSeconds: number): ScaleEvent[] {
  const segment = periodSeconds / raw.length;
  return raw.map((change, i) => ({
    change,
    at: NOW - Math.trunc(periodSeconds - segment * (i + 1) + segment / 2) * SEC,
  }));
}

describe('horizontal_test.go: TestScalingWithRules (behavior rate limits)', () => {
  interface RuleCase {
    up?: HPAScalingRules;
    down?: HPAScalingRules;
    upEvents?: ScaleEvent[];
    downEvents?: ScaleEvent[];
    min: number;
    max: number;
    current: number;
    desired: number;
    replicas: number;
    reason: string;
  }
  const cases: [string, RuleCase][] = [
    [
      'prenormalized desired replicas within range',
      { current: 5, desired: 7, min: 3, max: 8, replicas: 7, reason: 'DesiredWithinRange' },
    ],
    [
      'prenormalized desired replicas < minReplicas',
      { current: 3, desired: 1, min: 2, max: 8, replicas: 2, reason: 'TooFewReplicas' },
    ],
    [
      'prenormalized desired replicas within range when minReplicas is 0',
      { current: 1, desired: 0, min: 0, max: 10, replicas: 0, reason: 'DesiredWithinRange' },
    ],
    [
      'maxReplicas is the limit because maxReplicas < scaleUpLimit',
      { current: 20, desired: 1000, min: 1, max: 10, replicas: 10, reason: 'TooManyReplicas' },
    ],
    [
      'desired replica count is more than the maximum replica count',
      { current: 100, desired: 1000, min: 100, max: 150, replicas: 150, reason: 'TooManyReplicas' },
    ],
    [
      'scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies',
      {
        up: rules(0, 0, 1, 60, 0),
        current: 3,
        desired: 1000,
        min: 1,
        max: 2000,
        replicas: 4,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with default behavior',
      { current: 10, desired: 50, min: 1, max: 1000, replicas: 20, reason: 'ScaleUpLimit' },
    ],
    [
      'scaleUp with pods policy larger than percent policy',
      {
        up: rules(100, 60, 100, 60, 0),
        current: 10,
        desired: 500,
        min: 1,
        max: 1000,
        replicas: 110,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with percent policy larger than pods policy',
      {
        up: rules(2, 60, 100, 60, 0),
        current: 10,
        desired: 500,
        min: 1,
        max: 1000,
        replicas: 20,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with spec MaxReplicas limitation with large pod policy',
      {
        up: rules(100, 60, 0, 0, 0),
        current: 10,
        desired: 50,
        min: 1,
        max: 1000,
        replicas: 50,
        reason: 'DesiredWithinRange',
      },
    ],
    [
      'scaleUp with pod policy limitation',
      {
        up: rules(30, 60, 0, 0, 0),
        current: 10,
        desired: 50,
        min: 1,
        max: 1000,
        replicas: 40,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with percent policy limitation',
      {
        up: rules(0, 0, 200, 60, 0),
        current: 10,
        desired: 50,
        min: 1,
        max: 1000,
        replicas: 30,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleDown with percent policy larger than pod policy',
      {
        down: rules(20, 60, 1, 60, 300),
        current: 100,
        desired: 2,
        min: 1,
        max: 1000,
        replicas: 80,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with pod policy larger than percent policy',
      {
        down: rules(2, 60, 1, 60, 300),
        current: 100,
        desired: 2,
        min: 1,
        max: 1000,
        replicas: 98,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with spec MinReplicas=nil limitation with large pod policy',
      {
        down: rules(100, 60, 0, 0, 300),
        current: 10,
        desired: 0,
        min: 1,
        max: 1000,
        replicas: 1,
        reason: 'TooFewReplicas',
      },
    ],
    [
      'scaleDown with spec MinReplicas limitation with large percent policy',
      {
        down: rules(0, 0, 100, 60, 300),
        current: 10,
        desired: 2,
        min: 5,
        max: 1000,
        replicas: 5,
        reason: 'TooFewReplicas',
      },
    ],
    [
      'scaleDown with pod policy limitation',
      {
        down: rules(5, 60, 0, 0, 300),
        current: 10,
        desired: 2,
        min: 1,
        max: 1000,
        replicas: 5,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with percent policy limitation',
      {
        down: rules(0, 0, 50, 60, 300),
        current: 10,
        desired: 5,
        min: 1,
        max: 1000,
        replicas: 5,
        reason: 'DesiredWithinRange',
      },
    ],
    [
      'scaleUp with spec MaxReplicas limitation with large pod policy and events',
      {
        upEvents: events([1, 5, 9], 120),
        up: rules(300, 60, 0, 0, 0),
        current: 100,
        desired: 500,
        min: 1,
        max: 200,
        replicas: 200,
        reason: 'TooManyReplicas',
      },
    ],
    [
      'scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events',
      {
        upEvents: events([1, 5, 9], 120),
        up: rules(5, 120, 0, 0, 0),
        current: 100,
        desired: 500,
        min: 1,
        max: 1000,
        replicas: 100,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with pod policy and previous scale up events',
      {
        upEvents: events([1, 5, 9], 120),
        up: rules(150, 120, 0, 0, 0),
        current: 100,
        desired: 500,
        min: 1,
        max: 1000,
        replicas: 235,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with percent policy and previous scale up events',
      {
        upEvents: events([1, 5, 9], 120),
        up: rules(0, 0, 200, 120, 0),
        current: 100,
        desired: 500,
        min: 1,
        max: 1000,
        replicas: 255,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleUp with percent policy and previous scale up and down events',
      {
        upEvents: events([4], 120),
        downEvents: events([2], 120),
        up: rules(0, 0, 300, 300, 0),
        current: 6,
        desired: 24,
        min: 1,
        max: 1000,
        replicas: 16,
        reason: 'ScaleUpLimit',
      },
    ],
    [
      'scaleDown with default policy and previous events',
      {
        downEvents: events([1, 5, 9], 120),
        current: 10,
        desired: 5,
        min: 1,
        max: 1000,
        replicas: 5,
        reason: 'DesiredWithinRange',
      },
    ],
    [
      'scaleDown with spec MinReplicas limitation with large pod policy and previous events',
      {
        downEvents: events([1, 5, 9], 120),
        down: rules(130, 120, 0, 0, 300),
        current: 100,
        desired: 0,
        min: 5,
        max: 1000,
        replicas: 5,
        reason: 'TooFewReplicas',
      },
    ],
    [
      'scaleDown with pod policy limitation and previous events',
      {
        downEvents: events([1, 5, 9], 120),
        down: rules(5, 120, 0, 0, 300),
        current: 100,
        desired: 2,
        min: 1,
        max: 1000,
        replicas: 100,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with percent policy limitation and previous events',
      {
        downEvents: events([2, 4, 6], 120),
        down: rules(0, 0, 50, 120, 300),
        current: 100,
        desired: 0,
        min: 1,
        max: 1000,
        replicas: 56,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with percent policy and previous scale up and down events',
      {
        upEvents: events([2], 120),
        downEvents: events([4], 120),
        down: rules(0, 0, 50, 180, 0),
        current: 10,
        desired: 1,
        min: 1,
        max: 1000,
        replicas: 6,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with previous events preventing further scale down',
      {
        downEvents: events([10, 10, 10], 120),
        down: rules(0, 0, 10, 120, 300),
        current: 100,
        desired: 0,
        min: 1,
        max: 1000,
        replicas: 100,
        reason: 'ScaleDownLimit',
      },
    ],
    [
      'scaleDown with with previous events still allowing more scale down',
      {
        downEvents: events([10, 10, 10], 120),
        down: rules(0, 0, 1000, 120, 300),
        current: 10,
        desired: 5,
        min: 1,
        max: 1000,
        replicas: 5,
        reason: 'DesiredWithinRange',
      },
    ],
    [
      "check that events were marked 'outdated' for two different policies in the behavior for up",
      {
        upEvents: events([8, 12, 9, 11], 120),
        up: rules(1000, 30, 100, 60, 0),
        current: 100,
        desired: 200,
        min: 1,
        max: 1000,
        replicas: 200,
        reason: 'DesiredWithinRange',
      },
    ],
    [
      "check that events were marked 'outdated' for two different policies in the behavior for down",
      {
        downEvents: events([8, 12, 9, 11], 120),
        down: rules(1000, 30, 100, 60, 300),
        current: 100,
        desired: 5,
        min: 1,
        max: 1000,
        replicas: 5,
        reason: 'DesiredWithinRange',
      },
    ],
  ];
  for (const [name, tc] of cases)
    it(name, () => {
      const n = normalizer();
      n.seed(KEY, { scaleUpEvents: tc.upEvents ?? [], scaleDownEvents: tc.downEvents ?? [] });
      // no recommendation history, so stabilization passes the prenormalized count through to the rate limits
      const r = n.normalizeWithBehavior(
        KEY,
        { scaleUp: tc.up, scaleDown: tc.down },
        tc.current,
        tc.desired,
        tc.min,
        tc.max,
      );
      expect(r.replicas).toBe(tc.replicas);
      expect(r.scalingLimited.reason).toBe(tc.reason);
    });

  const minChange = (w: number): HPAScalingRules => ({
    stabilizationWindowSeconds: w,
    selectPolicy: 'Min',
    policies: [
      { type: 'Pods', value: 2, periodSeconds: 60 },
      { type: 'Percent', value: 50, periodSeconds: 60 },
    ],
  });
  it('TestCalculateScaleUpLimitWithScalingRules: Min of (2 pods, 50%) from 1 → 2', () => {
    const r = normalizer().normalizeWithBehavior(KEY, { scaleUp: minChange(300) }, 1, 100, 1, 1000);
    expect(r).toMatchObject({ replicas: 2, scalingLimited: { reason: 'ScaleUpLimit' } });
  });
  it('TestCalculateScaleDownLimitWithBehaviors: Min of (2 pods, 50%) from 5 → 3', () => {
    const r = normalizer().normalizeWithBehavior(KEY, { scaleDown: minChange(300) }, 5, 0, 1, 1000);
    expect(r).toMatchObject({ replicas: 3, scalingLimited: { reason: 'ScaleDownLimit' } });
  });
});
