// Benchmark results: the aligned table people read and the JSON files that track them over time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { dirname, join } from 'node:path';

export interface BenchTarget {
  op: '>=' | '<=';
  value: number;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** reported, never asserted: a missed target does not fail the run */
  target?: BenchTarget;
  note?: string;
}

/** Whether a result meets its target; undefined when it has none (or its value is not a number). */
export function targetMet(result: BenchResult): boolean | undefined {
  if (!result.target || !Number.isFinite(result.value)) return undefined;
  return result.target.op === '>='
    ? result.value >= result.target.value
    : result.value <= result.target.value;
}

/** Enough digits to read, never scientific notation for everyday magnitudes. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  return value.toFixed(digits).replace(/\.?0+$/, '');
}

const HEADERS = ['benchmark', 'value', 'unit', 'target', 'met'] as const;

/** The results as an aligned text table (values right-aligned), one line per result, plus a notes section. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => {
    const met = targetMet(r);
    return [
      r.name,
      formatValue(r.value),
      r.unit,
      r.target ? `${r.target.op} ${formatValue(r.target.value)}` : '',
      met === undefined ? '' : met ? '✓' : '✗',
    ];
  });
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const notes = results.filter((r) => r.note);
  if (notes.length > 0) out.push('', ...notes.map((r) => `${r.name}: ${r.note}`));
  const missed = results.filter((r) => targetMet(r) === false).length;
  const withTarget = results.filter((r) => targetMet(r) !== undefined).length;
  if (withTarget > 0) out.push('', `targets met: ${withTarget - missed}/${withTarget}`);
  return `${out.join('\n')}\n`;
}

export function printTable(results: readonly BenchResult[]): void {
  process.stdout.write(formatTable(results));
}

export interface BenchReport {
  timestamp: string;
  node: string;
  platform: string;
  cpus: number;
  results: (BenchResult & { met?: boolean })[];
}

/**
 * Writes the report to `file` (normally bench-results/latest.json) and a timestamped copy beside it,
 * so runs can be compared later. Returns both paths.
 */
export function writeJson(
  results: readonly BenchResult[],
  file = join('bench-results', 'latest.json'),
  now = new Date(),
): { latest: string; archived: string } {
  const report: BenchReport = {
    timestamp: now.toISOString(),
    node: process.version,
    platform: `${platform()}-${arch()}`,
    cpus: cpus().length,
    results: results.map((r) => {
      const met = targetMet(r);
      return met === undefined ? { ...r } : { ...r, met };
    }),
  };
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const archived = join(dir, `${now.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(archived, text);
  return { latest: file, archived };
}
