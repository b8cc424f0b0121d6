// The gateway's Prometheus metrics, registered in the process registry of src/util/metrics.ts.
import {
  deferredCounter,
  deferredHistogram,
  type DeferredCounter,
  type DeferredHistogram,
} from '../util/deferred-metrics.js';

export interface IngressMetrics {
  requests: DeferredCounter<'ingress' | 'service' | 'status'>;
  duration: DeferredHistogram<'ingress' | 'service'>;
  upstreamErrors: DeferredCounter<'ingress' | 'service' | 'reason'>;
}

let metrics: IngressMetrics | undefined;

export function ingressMetrics(): IngressMetrics {
  if (!metrics) {
    metrics = {
      requests: deferredCounter({
        name: 'ingress_requests_total',
        help: 'Requests answered by the ingress gateway, by Ingress (namespace/name), Service and HTTP status.',
        labelNames: ['ingress', 'service', 'status'],
      }),
      duration: deferredHistogram({
        name: 'ingress_request_duration_seconds',
        help: 'Time from the first byte of a request to the last byte of its response, in seconds.',
        labelNames: ['ingress', 'service'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
      upstreamErrors: deferredCounter({
        name: 'ingress_upstream_errors_total',
        help: 'Failed attempts to reach a backend endpoint (refused, reset, timed out), retried or not.',
        labelNames: ['ingress', 'service', 'reason'],
      }),
    };
  }
  return metrics;
}
