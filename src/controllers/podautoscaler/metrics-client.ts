// Reads pod resource usage from metrics.k8s.io/v1beta1 PodMetrics, as upstream's resource metrics client does.
import type { KubeClient, ObjectWithMeta } from '../../client/index.js';
import { CalculationError, milliValue, type PodMetricsInfo } from './replica-calculator.js';

interface PodMetrics extends ObjectWithMeta {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

/** Go duration strings as the metrics API writes them: `1.004s`, `500ms`, `1m0s` */
export function parseGoDuration(text: string | undefined): number {
  if (!text) return 0;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * (unit[m[2]] ?? 0);
  return total;
}

export type ResourceMetricsSource = (
  resource: string,
  namespace: string,
  selector: string,
  container?: string,
) => Promise<PodMetricsInfo>;

/** GetResourceMetric: a pod whose containers lack the resource is left out (it then counts as missing) */
export function apiResourceMetrics(client: KubeClient): ResourceMetricsSource {
  const podMetrics = client.resource<PodMetrics>('metrics.k8s.io', 'v1beta1', 'pods', true);
  return async (resource, namespace, selector, container) => {
    let items: PodMetrics[];
    try {
      items = (await podMetrics.list({ namespace, labelSelector: selector })).items;
    } catch (err) {
      throw new CalculationError(
        `unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (items.length === 0)
      throw new CalculationError(
        `unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`,
      );
    const out: PodMetricsInfo = new Map();
    for (const m of items) {
      let total = 0;
      let missing = false;
      for (const c of m.containers ?? []) {
        if (container && c.name !== container) continue;
        const v = milliValue(c.usage?.[resource]);
        if (v === undefined) {
          missing = true;
          break;
        }
        total += v;
      }
      if (missing || (container && !(m.containers ?? []).some((c) => c.name === container))) continue;
      out.set(m.metadata?.name ?? '', {
        value: total,
        timestampMs: m.timestamp ? Date.parse(m.timestamp) : 0,
        windowMs: parseGoDuration(m.window),
      });
    }
    return out;
  };
}
