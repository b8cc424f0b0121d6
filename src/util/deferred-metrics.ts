// Metrics a component declares at start and prom-client makes later. Loading prom-client (94 CommonJS files, with
// the default metrics' GC observer) cost the scheduler, each kube-proxy and the ingress 40–100 ms of CPU at start,
// while `kubemu up` waits for its nodes. A declared metric holds what is done to it (inc, dec, set, observe) until
// the metrics are made — at the first scrape, DEFER_MS after the first declaration, or once MAX_HELD operations
// are held — and then replays it in order, so /metrics shows exactly what the metric itself would have.
import type {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
} from 'prom-client';
// a cycle (metrics.ts makes the declared metrics before a scrape); both sides use the other only in functions
import { metricsRegistry, promClient } from './metrics.js';

export type DeferredCounter<T extends string = string> = Pick<Counter<T>, 'inc' | 'get'>;
export type DeferredGauge<T extends string = string> = Pick<Gauge<T>, 'inc' | 'dec' | 'set' | 'get'>;
export type DeferredHistogram<T extends string = string> = Pick<Histogram<T>, 'observe' | 'get'>;

/** how long after the first declaration the metrics are made without a scrape: past `kubemu up`'s boot */
export const DEFER_MS = 5_000;
/** operations held over all declared metrics before they are made at once */
const MAX_HELD = 10_000;

interface Pending {
  make(): void;
}

/** declared and not yet made, in declaration order (the registry lists metrics in the order they were made) */
let pending: Pending[] = [];
let held = 0;
let timer: NodeJS.Timeout | undefined;

/** Makes every declared metric, in declaration order, and replays what was done to each. */
export function makeDeclaredMetrics(): void {
  const now = pending;
  pending = [];
  held = 0;
  if (timer) clearTimeout(timer);
  timer = undefined;
  for (const p of now) p.make();
}

type Method = (...args: never[]) => unknown;

/**
 * A stand-in for a prom-client metric: the `recorded` methods are replayed on the real metric, `get` makes all
 * declared metrics first.
 */
function declare<M extends object, K extends keyof M>(
  make: () => M,
  recorded: readonly K[],
): Pick<M, K | ('get' & keyof M)> {
  let real: M | undefined;
  let ops: ((m: M) => void)[] = [];
  pending.push({
    make() {
      const m = make();
      for (const op of ops) op(m);
      ops = [];
      real = m;
    },
  });
  timer ??= setTimeout(makeDeclaredMetrics, DEFER_MS).unref();
  const stand: Record<string, unknown> = {};
  for (const k of recorded) {
    stand[k as string] = (...args: never[]): void => {
      if (real) {
        (real[k] as Method)(...args);
        return;
      }
      ops.push((m) => (m[k] as Method)(...args));
      if (++held >= MAX_HELD) makeDeclaredMetrics();
    };
  }
  stand.get = (): unknown => {
    if (!real) makeDeclaredMetrics();
    return ((real as M)['get' as keyof M] as Method).call(real);
  };
  return stand as Pick<M, K | ('get' & keyof M)>;
}

/** a Counter registered in this process's registry when the metrics are made */
export function deferredCounter<T extends string>(
  config: Omit<CounterConfiguration<T>, 'registers'>,
): DeferredCounter<T> {
  return declare(
    () => {
      const { Counter } = promClient();
      return new Counter({ ...config, registers: [metricsRegistry()] });
    },
    ['inc'] as const,
  );
}

/** a Gauge registered in this process's registry when the metrics are made (its `collect` runs at each scrape) */
export function deferredGauge<T extends string>(
  config: Omit<GaugeConfiguration<T>, 'registers'>,
): DeferredGauge<T> {
  return declare(
    () => {
      const { Gauge } = promClient();
      return new Gauge({ ...config, registers: [metricsRegistry()] });
    },
    ['inc', 'dec', 'set'] as const,
  );
}

/** a Histogram registered in this process's registry when the metrics are made */
export function deferredHistogram<T extends string>(
  config: Omit<HistogramConfiguration<T>, 'registers'>,
): DeferredHistogram<T> {
  return declare(
    () => {
      const { Histogram } = promClient();
      return new Histogram({ ...config, registers: [metricsRegistry()] });
    },
    ['observe'] as const,
  );
}
