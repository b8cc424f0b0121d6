import { describe, expect, it } from 'vitest';
import { alternate, balancedRounds, compareRounds, median } from './ab-compare.js';

describe('median', () => {
  it('takes the middle value of an odd count, the mean of the two middle ones of an even one, without sorting the input', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('compareRounds', () => {
  it('a throughput that dropped is a positive regression', () => {
    const c = compareRounds([1000, 1100, 900], [800, 990, 900], 'higher');
    expect(c.baseline).toBe(1000);
    expect(c.current).toBe(900);
    // per-round ratios 0.8, 0.9, 1.0: median 0.9
    expect(c.ratio).toBeCloseTo(0.9);
    expect(c.ratioMin).toBeCloseTo(0.8);
    expect(c.ratioMax).toBeCloseTo(1.0);
    expect(c.regressionPct).toBeCloseTo(10);
  });

  it('a latency that grew is a positive regression, one that shrank a negative one', () => {
    expect(compareRounds([100, 200], [120, 240], 'lower').regressionPct).toBeCloseTo(20);
    expect(compareRounds([100, 200, 50], [50, 100, 25], 'lower').regressionPct).toBeCloseTo(-50);
  });

  it('pairs the rounds: a machine that slowed down for both sides shows no regression', () => {
    const c = compareRounds([10, 20, 40], [10, 20, 40], 'lower');
    expect(c.ratio).toBe(1);
    expect(c.regressionPct).toBe(0);
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => compareRounds([1, 2], [1], 'lower')).toThrow(/same number of rounds/);
    expect(() => compareRounds([], [], 'lower')).toThrow(/same number of rounds/);
  });
});

describe('alternate', () => {
  it('puts A first in even rounds and B first in odd ones', () => {
    expect(alternate(0, 'a', 'b')).toEqual(['a', 'b']);
    expect(alternate(1, 'a', 'b')).toEqual(['b', 'a']);
    expect(alternate(4, 'a', 'b')).toEqual(['a', 'b']);
  });
});

describe('balancedRounds', () => {
  it('rounds an odd count up, so each side goes first in half of the rounds', () => {
    expect(balancedRounds(3)).toBe(4);
    expect(balancedRounds(1)).toBe(2);
    expect(balancedRounds(4)).toBe(4);
    const rounds = balancedRounds(5);
    const baselineFirst = Array.from(
      { length: rounds },
      (_, r) => alternate(r, 'baseline', 'current')[0],
    ).filter((s) => s === 'baseline').length;
    expect(baselineFirst * 2).toBe(rounds);
  });
});

describe('compareRounds over an even number of rounds', () => {
  it('takes the mean of the two middle ratios, favouring neither side', () => {
    // per-round ratios 1.0, 1.1, 1.3, 1.4: the lower middle alone would say 10 %, the upper 30 %
    const c = compareRounds([100, 100, 100, 100], [100, 110, 130, 140], 'lower');
    expect(c.ratio).toBeCloseTo(1.2);
    expect(c.regressionPct).toBeCloseTo(20);
  });
});
