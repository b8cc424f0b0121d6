import { describe, it, expect, vi } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** a fresh copy of the metrics modules (their registry and declared metrics are per process) */
async function fresh(): Promise<{
  metrics: typeof import('./metrics.js');
  deferred: typeof import('./deferred-metrics.js');
}> {
  vi.resetModules();
  return { metrics: await import('./metrics.js'), deferred: await import('./deferred-metrics.js') };
}

const BUCKETS = [0.01, 0.1, 1];

describe('deferred metrics', () => {
  it('show at the first scrape exactly what prom-client metrics given the same operations show', async () => {
    const { metrics, deferred } = await fresh();
    let queued = 3;
    const counter = deferred.deferredCounter({ name: 't_total', help: 'a counter', labelNames: ['code'] });
    const gauge = deferred.deferredGauge({ name: 't_gauge', help: 'a gauge', labelNames: ['kind'] });
    deferred.deferredGauge({
      name: 't_queue',
      help: 'set at each scrape',
      collect() {
        this.set(queued);
      },
    });
    const histogram = deferred.deferredHistogram({
      name: 't_seconds',
      help: 'a histogram',
      buckets: BUCKETS,
    });
    // before the scrape: nothing made in the registry
    counter.inc({ code: '200' });
    counter.inc({ code: '500' }, 2);
    gauge.inc({ kind: 'ClusterIP' });
    gauge.inc({ kind: 'ClusterIP' });
    gauge.dec({ kind: 'ClusterIP' });
    gauge.set({ kind: 'NodePort' }, 7);
    histogram.observe(0.05);
    histogram.observe(2);
    expect(metrics.metricsRegistry().getSingleMetric('t_total')).toBeUndefined();
    queued = 4;

    const reference = new Registry();
    const registers = [reference];
    const c = new Counter({ name: 't_total', help: 'a counter', labelNames: ['code'], registers });
    const g = new Gauge({ name: 't_gauge', help: 'a gauge', labelNames: ['kind'], registers });
    new Gauge({
      name: 't_queue',
      help: 'set at each scrape',
      registers,
      collect() {
        this.set(queued);
      },
    });
    const h = new Histogram({ name: 't_seconds', help: 'a histogram', buckets: BUCKETS, registers });
    c.inc({ code: '200' });
    c.inc({ code: '500' }, 2);
    g.inc({ kind: 'ClusterIP' });
    g.inc({ kind: 'ClusterIP' });
    g.dec({ kind: 'ClusterIP' });
    g.set({ kind: 'NodePort' }, 7);
    h.observe(0.05);
    h.observe(2);

    const { body } = await metrics.metricsText();
    const want = await reference.metrics();
    // the declared metrics, in declaration order, after the default process metrics
    expect(body.endsWith(want)).toBe(true);
    expect(want).toContain('t_gauge{kind="ClusterIP"} 1');
    expect(want).toContain('t_queue 4');
    // once made, an operation goes straight to the metric
    counter.inc({ code: '200' });
    expect((await counter.get()).values.find((v) => v.labels['code'] === '200')?.value).toBe(2);
  });

  it('are made a few seconds after their declaration without a scrape, and by get()', async () => {
    vi.useFakeTimers();
    try {
      const { metrics, deferred } = await fresh();
      const counter = deferred.deferredCounter({ name: 'late_total', help: 'made by the timer' });
      counter.inc(5);
      expect(metrics.metricsRegistry().getSingleMetric('late_total')).toBeUndefined();
      vi.advanceTimersByTime(deferred.DEFER_MS);
      const made = await metrics.metricsRegistry().getSingleMetric('late_total')!.get();
      expect(made.values[0]?.value).toBe(5);

      const later = deferred.deferredCounter({ name: 'asked_total', help: 'made by get' });
      later.inc();
      expect((await later.get()).values[0]?.value).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
