// kube-proxy's Prometheus metrics: upstream's sync metrics plus kubemu's connection counters.
import type { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry, promClient } from '../util/metrics.js';

export interface ProxyMetrics {
  syncDuration: Histogram;
  lastSync: Gauge;
  serviceChanges: Counter;
  endpointChanges: Counter;
  /** connections (TCP) and sessions (UDP) by outcome: forwarded, rejected (no endpoint answered) */
  connections: Counter<'protocol' | 'result'>;
  activeConnections: Gauge<'protocol'>;
  /** an endpoint refused or timed out and the connection was retried on another */
  endpointFailures: Counter<'protocol'>;
  /** listeners bound by this proxy, by kind (ClusterIP, NodePort) */
  boundListeners: Gauge<'kind'>;
}

let metrics: ProxyMetrics | undefined;

/** made on first use, in this process's registry */
export function proxyMetrics(): ProxyMetrics {
  if (metrics) return metrics;
  const registers = [metricsRegistry()];
  const { Counter, Gauge, Histogram } = promClient();
  metrics = {
    syncDuration: new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    lastSync: new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      registers,
    }),
    serviceChanges: new Counter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
      registers,
    }),
    endpointChanges: new Counter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
      registers,
    }),
    connections: new Counter({
      name: 'kubeproxy_connections_total',
      help: 'Connections (TCP) and sessions (UDP) accepted on proxied addresses, by result',
      labelNames: ['protocol', 'result'],
      registers,
    }),
    activeConnections: new Gauge({
      name: 'kubeproxy_active_connections',
      help: 'Proxied TCP connections and UDP sessions currently open',
      labelNames: ['protocol'],
      registers,
    }),
    endpointFailures: new Counter({
      name: 'kubeproxy_endpoint_connect_failures_total',
      help: 'Endpoints that refused or timed out a proxied connection, which was then retried elsewhere',
      labelNames: ['protocol'],
      registers,
    }),
    boundListeners: new Gauge({
      name: 'kubeproxy_bound_listeners',
      help: 'Service addresses this kube-proxy currently holds',
      labelNames: ['kind'],
      registers,
    }),
  };
  return metrics;
}
