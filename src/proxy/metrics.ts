// kube-proxy's Prometheus metrics: upstream's sync metrics plus kubemu's connection counters.
import {
  deferredCounter,
  deferredGauge,
  deferredHistogram,
  type DeferredCounter,
  type DeferredGauge,
  type DeferredHistogram,
} from '../util/deferred-metrics.js';

export interface ProxyMetrics {
  syncDuration: DeferredHistogram;
  lastSync: DeferredGauge;
  serviceChanges: DeferredCounter;
  endpointChanges: DeferredCounter;
  /** connections (TCP) and sessions (UDP) by outcome: forwarded, rejected (no endpoint answered) */
  connections: DeferredCounter<'protocol' | 'result'>;
  activeConnections: DeferredGauge<'protocol'>;
  /** an endpoint refused or timed out and the connection was retried on another */
  endpointFailures: DeferredCounter<'protocol'>;
  /** listeners bound by this proxy, by kind (ClusterIP, NodePort) */
  boundListeners: DeferredGauge<'kind'>;
}

let metrics: ProxyMetrics | undefined;

/** made on first use, in this process's registry */
export function proxyMetrics(): ProxyMetrics {
  if (metrics) return metrics;
  metrics = {
    syncDuration: deferredHistogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }),
    lastSync: deferredGauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
    }),
    serviceChanges: deferredCounter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
    }),
    endpointChanges: deferredCounter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
    }),
    connections: deferredCounter({
      name: 'kubeproxy_connections_total',
      help: 'Connections (TCP) and sessions (UDP) accepted on proxied addresses, by result',
      labelNames: ['protocol', 'result'],
    }),
    activeConnections: deferredGauge({
      name: 'kubeproxy_active_connections',
      help: 'Proxied TCP connections and UDP sessions currently open',
      labelNames: ['protocol'],
    }),
    endpointFailures: deferredCounter({
      name: 'kubeproxy_endpoint_connect_failures_total',
      help: 'Endpoints that refused or timed out a proxied connection, which was then retried elsewhere',
      labelNames: ['protocol'],
    }),
    boundListeners: deferredGauge({
      name: 'kubeproxy_bound_listeners',
      help: 'Service addresses this kube-proxy currently holds',
      labelNames: ['kind'],
    }),
  };
  return metrics;
}
