// The scheduler's Prometheus metrics, under upstream's names (pkg/scheduler/metrics).
import {
  deferredCounter,
  deferredGauge,
  deferredHistogram,
  type DeferredCounter,
  type DeferredGauge,
  type DeferredHistogram,
} from '../util/deferred-metrics.js';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

interface SchedulerMetrics {
  attempts: DeferredCounter<'result' | 'profile'>;
  attemptDuration: DeferredHistogram<'result' | 'profile'>;
  pending: DeferredGauge<'queue'>;
}

let metrics: SchedulerMetrics | undefined;
/** the scheduler whose queues `scheduler_pending_pods` reports (one per process; the latest in tests) */
let pendingSource: (() => PendingCounts) | undefined;

function schedulerMetrics(): SchedulerMetrics {
  if (!metrics) {
    metrics = {
      attempts: deferredCounter({
        name: 'scheduler_schedule_attempts_total',
        help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
        labelNames: ['result', 'profile'],
      }),
      attemptDuration: deferredHistogram({
        name: 'scheduler_scheduling_attempt_duration_seconds',
        help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
        labelNames: ['result', 'profile'],
        buckets: [
          0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
          16.384,
        ],
      }),
      pending: deferredGauge({
        name: 'scheduler_pending_pods',
        help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.",
        labelNames: ['queue'],
        collect() {
          const counts = pendingSource?.() ?? { active: 0, backoff: 0, unschedulable: 0 };
          for (const [queue, n] of Object.entries(counts) as [string, number][]) this.set({ queue }, n);
        },
      }),
    };
  }
  return metrics;
}

export function reportPendingFrom(source: () => PendingCounts): void {
  schedulerMetrics();
  pendingSource = source;
}

export function observeAttempt(result: AttemptResult, profile: string, seconds: number): void {
  const m = schedulerMetrics();
  m.attempts.inc({ result, profile });
  m.attemptDuration.observe({ result, profile }, seconds);
}
