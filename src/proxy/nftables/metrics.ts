// The nftables proxier's own metrics, named as upstream's kube-proxy names them.
import type { Counter, Histogram } from 'prom-client';
import { metricsRegistry, promClient } from '../../util/metrics.js';

export interface NftMetrics {
  fullSyncDuration: Histogram;
  partialSyncDuration: Histogram;
  syncFailures: Counter;
  staleChainCleanupFailures: Counter;
}

let metrics: NftMetrics | undefined;

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function nftMetrics(): NftMetrics {
  if (metrics) return metrics;
  const registers = [metricsRegistry()];
  const { Counter, Histogram } = promClient();
  metrics = {
    fullSyncDuration: new Histogram({
      name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for full resyncs',
      buckets: BUCKETS,
      registers,
    }),
    partialSyncDuration: new Histogram({
      name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for partial resyncs',
      buckets: BUCKETS,
      registers,
    }),
    syncFailures: new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      help: 'Cumulative proxy nftables sync failures',
      registers,
    }),
    staleChainCleanupFailures: new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total',
      help: 'Cumulative proxy nftables cleanup failures',
      registers,
    }),
  };
  return metrics;
}
