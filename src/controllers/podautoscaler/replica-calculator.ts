// upstream's replica_calculator.go for Resource metrics: usage ratio, tolerance, missing and not-yet-ready pods.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityValue } from '../../api/schema/quantity.js';

/** one pod's usage of a resource, in milli-units (MilliValue), with when and over what window it was measured */
export interface PodMetric {
  value: number;
  timestampMs: number;
  windowMs: number;
}
export type PodMetricsInfo = Map<string, PodMetric>;

export interface CalculatorOptions {
  /** upstream --horizontal-pod-autoscaler-tolerance (0.1) */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min) */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s) */
  delayOfInitialReadinessStatusMs: number;
  now: number;
}

export const DEFAULT_CALCULATOR: Omit<CalculatorOptions, 'now'> = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  delayOfInitialReadinessStatusMs: 30_000,
};

export class CalculationError extends Error {}

const ms = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);

export const milliValue = (q: string | number | undefined): number | undefined => {
  if (q === undefined) return undefined;
  const parsed = parseQuantity(String(q));
  return parsed ? Math.ceil(quantityValue(parsed) * 1000 - 1e-9) : undefined;
};

/** upstream groupPods: which pods count, which are unready (pending, or CPU not yet trustworthy), missing or ignored */
export function groupPods(
  pods: Pod[],
  metrics: PodMetricsInfo,
  resource: string,
  opts: CalculatorOptions,
): { readyPodCount: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> } {
  let readyPodCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const condition = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = ms(pod.status?.startTime);
      let isUnready: boolean;
      if (!condition || start === undefined) isUnready = true;
      else {
        const transition = ms(condition.lastTransitionTime) ?? 0;
        if (start + opts.cpuInitializationPeriodMs > opts.now) {
          // within the initialization period: ignore an unready pod, or a sample not fully taken since it became ready
          isUnready = condition.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        } else {
          // afterwards: ignore only a pod that is unready and has never been ready
          isUnready =
            condition.status === 'False' && start + opts.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/** sum of the containers' requests of a resource per pod, in milli-units; upstream fails on a container without one */
export function calculatePodRequests(pods: Pod[], resource: string, container?: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let total = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = milliValue(c.resources?.requests?.[resource]);
      if (q === undefined)
        throw new CalculationError(
          `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name}`,
        );
      total += q;
    }
    requests.set(pod.metadata?.name ?? '', total);
  }
  return requests;
}

/** upstream GetResourceUtilizationRatio: ratio to target, utilization %, and the raw average (milli) */
export function resourceUtilizationRatio(
  metrics: PodMetricsInfo,
  requests: Map<string, number>,
  targetUtilization: number,
): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    n++;
  }
  if (requestsTotal === 0) throw new CalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / n) };
}

/** upstream GetMetricUsageRatio */
function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

export interface ReplicaProposal {
  replicas: number;
  /** utilization % (Utilization targets) */
  utilization?: number;
  /** average usage in milli-units */
  rawAverage: number;
  timestampMs: number;
}

function prepare(pods: Pod[], metricsIn: PodMetricsInfo, resource: string, opts: CalculatorOptions) {
  if (pods.length === 0)
    throw new CalculationError('no pods returned by selector while calculating replica count');
  const metrics: PodMetricsInfo = new Map(metricsIn);
  const groups = groupPods(pods, metrics, resource, opts);
  for (const name of [...groups.ignored, ...groups.unready]) metrics.delete(name);
  if (metrics.size === 0)
    throw new CalculationError('did not receive metrics for targeted pods (pods might be unready)');
  return { metrics, ...groups };
}

/**
 * The shared tail of upstream's calculators: fill in missing pods (as 100%/target when scaling down, 0 when up),
 * unready pods as 0 when scaling up, and refuse to reverse direction or move within tolerance.
 */
function withMissingAndUnready(
  currentReplicas: number,
  ratio: number,
  readyPodCount: number,
  g: { metrics: PodMetricsInfo; unready: Set<string>; missing: Set<string> },
  fillDown: (pod: string) => number,
  recompute: (metrics: PodMetricsInfo) => number,
  tolerance: number,
): number {
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - ratio) <= tolerance) return currentReplicas;
    return Math.ceil(ratio * readyPodCount);
  }
  const zero = { value: 0, timestampMs: 0, windowMs: 0 };
  if (g.missing.size > 0) {
    if (ratio < 1.0) for (const p of g.missing) g.metrics.set(p, { ...zero, value: fillDown(p) });
    else if (ratio > 1.0) for (const p of g.missing) g.metrics.set(p, zero);
  }
  if (scaleUpWithUnready) for (const p of g.unready) g.metrics.set(p, zero);
  const newRatio = recompute(g.metrics);
  if (
    Math.abs(1.0 - newRatio) <= tolerance ||
    (ratio < 1.0 && newRatio > 1.0) ||
    (ratio > 1.0 && newRatio < 1.0)
  )
    return currentReplicas;
  const newReplicas = Math.ceil(newRatio * g.metrics.size);
  if ((newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas))
    return currentReplicas;
  return newReplicas;
}

const firstTimestamp = (metrics: PodMetricsInfo): number => metrics.values().next().value?.timestampMs ?? 0;

/** upstream GetResourceReplicas: a Utilization target (percent of requests) */
export function getResourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: Pod[],
  metricsIn: PodMetricsInfo,
  opts: CalculatorOptions,
  container?: string,
): ReplicaProposal {
  const timestampMs = firstTimestamp(metricsIn);
  const g = prepare(pods, metricsIn, resource, opts);
  const requests = calculatePodRequests(pods, resource, container);
  const { ratio, utilization, rawAverage } = resourceUtilizationRatio(g.metrics, requests, targetUtilization);
  const fallback = Math.max(100, targetUtilization);
  const replicas = withMissingAndUnready(
    currentReplicas,
    ratio,
    g.readyPodCount,
    g,
    (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
    (m) => resourceUtilizationRatio(m, requests, targetUtilization).ratio,
    opts.tolerance,
  );
  return { replicas, utilization, rawAverage, timestampMs };
}

/** upstream GetRawResourceReplicas / calcPlainMetricReplicas: an AverageValue target (milli-units) */
export function getRawResourceReplicas(
  currentReplicas: number,
  targetUsage: number,
  resource: string,
  pods: Pod[],
  metricsIn: PodMetricsInfo,
  opts: CalculatorOptions,
): ReplicaProposal {
  const timestampMs = firstTimestamp(metricsIn);
  const g = prepare(pods, metricsIn, resource, opts);
  const { ratio, usage } = metricUsageRatio(g.metrics, targetUsage);
  const replicas = withMissingAndUnready(
    currentReplicas,
    ratio,
    g.readyPodCount,
    g,
    () => targetUsage,
    (m) => metricUsageRatio(m, targetUsage).ratio,
    opts.tolerance,
  );
  return { replicas, rawAverage: usage, timestampMs };
}
