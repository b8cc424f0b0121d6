// The nftables proxier's own metrics, named as upstream's kube-proxy names them.
import {
  deferredCounter,
  deferredHistogram,
  type DeferredCounter,
  type DeferredHistogram,
} from '../../util/deferred-metrics.js';

export interface NftMetrics {
  fullSyncDuration: DeferredHistogram;
  partialSyncDuration: DeferredHistogram;
  syncFailures: DeferredCounter;
  staleChainCleanupFailures: DeferredCounter;
}

let metrics: NftMetrics | undefined;

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function nftMetrics(): NftMetrics {
  if (metrics) return metrics;
  metrics = {
    fullSyncDuration: deferredHistogram({
      name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for full resyncs',
      buckets: BUCKETS,
    }),
    partialSyncDuration: deferredHistogram({
      name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for partial resyncs',
      buckets: BUCKETS,
    }),
    syncFailures: deferredCounter({
      name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      help: 'Cumulative proxy nftables sync failures',
    }),
    staleChainCleanupFailures: deferredCounter({
      name: 'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total',
      help: 'Cumulative proxy nftables cleanup failures',
    }),
  };
  return metrics;
}
