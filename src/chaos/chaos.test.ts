import { describe, expect, it } from 'vitest';
import { formatMs, parseDuration, pollFor } from './chaos.js';

describe('parseDuration', () => {
  it('reads ms, s, m and bare seconds', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5')).toBe(1_500);
  });
  it('rejects what is not a duration', () => {
    expect(parseDuration('ten')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
    expect(parseDuration('5h')).toBeUndefined();
  });
});

describe('formatMs', () => {
  it('prints whole seconds as s, else ms', () => {
    expect(formatMs(10_000)).toBe('10s');
    expect(formatMs(1_500)).toBe('1500ms');
  });
});

describe('pollFor', () => {
  it('returns the first value, or undefined after the time is up', async () => {
    let n = 0;
    expect(await pollFor(2_000, () => Promise.resolve(++n >= 3 ? n : undefined))).toBe(3);
    expect(await pollFor(150, () => Promise.resolve(undefined))).toBeUndefined();
  });
});
