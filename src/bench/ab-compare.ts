// A/B arithmetic for benchmarks that measure a baseline and the current build in alternating rounds of one run.
export type Better = 'higher' | 'lower';

export interface AbComparison {
  /** medians over the rounds */
  baseline: number;
  current: number;
  /** median of the per-round ratios current / baseline (each round's pair ran back to back) */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** how much worse the current build is, in % of the baseline (from `ratio`); negative: better */
  regressionPct: number;
}

/**
 * The median: the middle value of an odd count, the mean of the two middle ones of an even count (the lower
 * middle alone would favour the side whose ratios are lower).
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Compares per-round values of the same figure; `baseline[i]` and `current[i]` come from round i.
 * For a figure where higher is better (throughput) a ratio of 0.8 is a 20 % regression; where lower is better
 * (latency) a ratio of 1.2 is.
 */
export function compareRounds(
  baseline: readonly number[],
  current: readonly number[],
  better: Better,
): AbComparison {
  if (baseline.length !== current.length || baseline.length === 0)
    throw new Error(`need the same number of rounds on both sides (${baseline.length} / ${current.length})`);
  const ratios = current.map((c, i) => c / baseline[i]);
  const ratio = median(ratios);
  return {
    baseline: median(baseline),
    current: median(current),
    ratio,
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    regressionPct: (better === 'higher' ? 1 - ratio : ratio - 1) * 100,
  };
}

/**
 * The number of rounds to run for `requested`: rounded up to an even number, so that with `alternate` each side
 * goes first in as many rounds as the other (whatever going first or second does to a side counts for both).
 */
export function balancedRounds(requested: number): number {
  return requested % 2 === 0 ? requested : requested + 1;
}

/** The order of the two sides in round `round`: A first in even rounds, B first in odd ones. */
export function alternate<T>(round: number, a: T, b: T): [T, T] {
  return round % 2 === 0 ? [a, b] : [b, a];
}
