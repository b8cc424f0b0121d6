import { describe, it, expect } from 'vitest';
import { canonicalQuantity, compareQuantities, formatQuantity, parseQuantity, roundUp } from './quantity.js';

describe('quantity', () => {
  it.each([
    ['1', '1'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.5', '500m'],
    ['100m', '100m'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['2048Ki', '2Mi'],
    ['0.5Gi', '512Mi'],
    ['512', '512'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['0', '0'],
    ['0.0000000001', '1n'],
    ['128974848', '128974848'],
    ['-1', '-1'],
    ['1Ki', '1Ki'],
    ['+2G', '2G'],
  ])('canonicalises %s as %s', (input, want) => {
    expect(canonicalQuantity(input)).toBe(want);
  });

  it('canonicalises numbers given as JSON numbers', () => {
    expect(canonicalQuantity(1)).toBe('1');
    expect(canonicalQuantity(0.25)).toBe('250m');
    expect(canonicalQuantity(1e9)).toBe('1G');
  });

  it.each(['', 'abc', '1.2.3', '1Kb', '1 Gi', '--1', '.', 'Gi', '1e'])('rejects %j', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });

  it('rounds up to milli as ResourceList defaulting does', () => {
    expect(formatQuantity(roundUp(parseQuantity('100u')!, -3))).toBe('1m');
    expect(formatQuantity(roundUp(parseQuantity('1.0001')!, -3))).toBe('1001m');
  });

  it('compares across suffixes exactly', () => {
    expect(compareQuantities('1Gi', '1024Mi')).toBe(0);
    expect(compareQuantities('500m', '1')).toBe(-1);
    expect(compareQuantities('2', '1999m')).toBe(1);
    expect(compareQuantities('x', '1')).toBeNaN();
  });
});
