import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable, formatValue, targetMet, writeJson, type BenchResult } from './report.js';

const results: BenchResult[] = [
  { name: 'pod startup p50', value: 412.3456, unit: 'ms', target: { op: '<=', value: 500 } },
  { name: 'creates/s', value: 850, unit: 'ops/s', target: { op: '>=', value: 1000 }, note: 'sqlite WAL' },
  { name: 'rss', value: 0.123456, unit: 'GB' },
];

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report', () => {
  it('judges targets both ways', () => {
    expect(results.map(targetMet)).toEqual([true, false, undefined]);
    expect(targetMet({ name: 'x', value: NaN, unit: 'ms', target: { op: '<=', value: 1 } })).toBeUndefined();
  });

  it('formats values readably', () => {
    expect(formatValue(850)).toBe('850');
    expect(formatValue(412.3456)).toBe('412.3');
    expect(formatValue(1.5)).toBe('1.5');
    expect(formatValue(0.123456)).toBe('0.1235');
  });

  it('prints an aligned table with met marks, notes and a summary', () => {
    const lines = formatTable(results).split('\n');
    expect(lines[0]).toMatch(/^benchmark\s+value\s+unit\s+target\s+met$/);
    expect(lines[2]).toMatch(/^pod startup p50\s+412\.3\s+ms\s+<= 500\s+✓$/);
    expect(lines[3]).toMatch(/^creates\/s\s+850\s+ops\/s\s+>= 1000\s+✗$/);
    expect(lines[4]).toMatch(/^rss\s+0\.1235\s+GB$/);
    // values right-aligned: they all end in the same column
    const valueEnd = (line: string, value: string): number => line.indexOf(value) + value.length;
    expect(valueEnd(lines[2], '412.3')).toBe(valueEnd(lines[3], '850'));
    expect(lines).toContain('creates/s: sqlite WAL');
    expect(lines).toContain('targets met: 1/2');
  });

  it('writes latest.json and a timestamped copy', () => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
    const now = new Date('2025-01-02T03:04:05.678Z');
    const { latest, archived } = writeJson(results, join(dir, 'latest.json'), now);
    expect(readdirSync(dir).sort()).toEqual(['2025-01-02T03-04-05-678Z.json', 'latest.json']);
    const report = JSON.parse(readFileSync(latest, 'utf8'));
    expect(readFileSync(archived, 'utf8')).toBe(readFileSync(latest, 'utf8'));
    expect(report.timestamp).toBe('2025-01-02T03:04:05.678Z');
    expect(report.results.map((r: { met?: boolean }) => r.met)).toEqual([true, false, undefined]);
    expect(report.results[1]).toMatchObject({
      name: 'creates/s',
      value: 850,
      target: { op: '>=', value: 1000 },
    });
  });
});
