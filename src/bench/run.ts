// The bench runner: pick suites (--only), run them one after another, print the table, write the JSON.
import type { BenchResult } from './report.js';
import { formatTable, writeJson } from './report.js';
import type { Suite } from './suites.js';

export interface BenchOptions {
  only: string[];
  out: string;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { only: [], out: 'bench-results/latest.json' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--only')
      options.only.push(
        ...value()
          .split(',')
          .filter((s) => s !== ''),
      );
    else if (flag === '--out') options.out = value();
    else throw new Error(`unknown argument ${arg} (usage: bench [--only SUITE[,SUITE]] [--out FILE])`);
  }
  return options;
}

export interface BenchIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs the chosen suites sequentially (they measure the machine; running them together would skew
 * each other). Returns the exit code: 0 even when targets are missed, 1 if a suite crashed,
 * 2 for bad arguments or an --only that matches nothing.
 */
export async function runBench(
  suites: readonly Suite[],
  argv: readonly string[],
  io: BenchIo,
): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 2;
  }
  if (suites.length === 0) {
    io.out('no suites registered\n');
    return 0;
  }
  const unknown = options.only.filter((name) => !suites.some((s) => s.name === name));
  if (unknown.length > 0) {
    io.err(`no suite named ${unknown.join(', ')}; registered: ${suites.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const chosen = options.only.length > 0 ? suites.filter((s) => options.only.includes(s.name)) : suites;

  const results: BenchResult[] = [];
  let crashed = false;
  for (const suite of chosen) {
    io.out(`running ${suite.name}…\n`);
    const started = performance.now();
    try {
      results.push(...(await suite.run()));
      io.out(`  ${suite.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      crashed = true;
      io.err(`  ${suite.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  io.out(`\n${formatTable(results)}`);
  if (results.length > 0) {
    const { latest, archived } = writeJson(results, options.out);
    io.out(`\nwrote ${latest} and ${archived}\n`);
  }
  return crashed ? 1 : 0;
}
