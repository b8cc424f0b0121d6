// A/B arithmetic for benchmarks that measure a baseline and the current build in alternating rounds of one run.
import { percentile } from './apiserver-process.js';

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

export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
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

/** The order of the two sides in round `round`: A first in even rounds, B first in odd ones. */
export function alternate<T>(round: number, a: T, b: T): [T, T] {
  return round % 2 === 0 ? [a, b] : [b, a];
}
