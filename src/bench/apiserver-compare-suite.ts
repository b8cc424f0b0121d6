// Issue #18's "no regression" check: the apiserver figures of this build against a baseline commit's build
// (default 0b258a0, the commit before the registry rewrite; KUBEMU_BENCH_BASELINE=REV for another), in the
// same run, in rounds that alternate which side goes first (an even number of them), each side a fresh apiserver
// process measured by a fresh client (a worker thread of its own).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, startBenchApiServer } from './apiserver-process.js';
import type { ApiServerFigures } from './apiserver-figures.js';
import { measureApiServerInWorker } from './apiserver-figures-worker.js';
import { alternate, balancedRounds, compareRounds, type Better } from './ab-compare.js';
import { defaultBaselineCacheDir, prepareBaselineBuild } from './baseline-build.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_BASELINE = '0b258a0';
const DEFAULT_ROUNDS = 4;
/** the most a figure may get worse (issue #18, Show 4) */
const MAX_REGRESSION_PCT = 10;

interface Figure {
  name: string;
  unit: string;
  better: Better;
  /** in issue #18's list of figures (the others are reported for the why) */
  headline: boolean;
  pick: (f: ApiServerFigures) => number;
}

const FIGURES: Figure[] = [
  {
    name: 'durable creates over WebSocket (32 writers, Pods)',
    unit: 'creates/s',
    better: 'higher',
    headline: true,
    pick: (f) => f.createsPerSec,
  },
  {
    name: 'list 10,000 Pods, REST/JSON p99',
    unit: 'ms',
    better: 'lower',
    headline: true,
    pick: (f) => percentile(f.restListMs, 99),
  },
  {
    name: 'list 10,000 Pods, WebSocket p99',
    unit: 'ms',
    better: 'lower',
    headline: true,
    pick: (f) => percentile(f.wsListMs, 99),
  },
  {
    name: 'watch delivery to 100 watchers p99',
    unit: 'ms',
    better: 'lower',
    headline: true,
    pick: (f) => percentile(f.watchMs, 99),
  },
  {
    name: 'apiserver CPU per 1,000 creates',
    unit: 'ms',
    better: 'lower',
    headline: false,
    pick: (f) => f.createCpuMsPer1000,
  },
  {
    name: 'apiserver CPU per list of 10,000 Pods',
    unit: 'ms',
    better: 'lower',
    headline: false,
    pick: (f) => f.listCpuMs,
  },
  {
    name: 'list 10,000 Pods, REST/JSON body size',
    unit: 'MB',
    better: 'lower',
    headline: false,
    pick: (f) => f.listBytes / 1e6,
  },
  {
    name: 'list 10,000 Pods, REST/JSON p50',
    unit: 'ms',
    better: 'lower',
    headline: false,
    pick: (f) => percentile(f.restListMs, 50),
  },
  {
    name: 'watch delivery to 100 watchers p50',
    unit: 'ms',
    better: 'lower',
    headline: false,
    pick: (f) => percentile(f.watchMs, 50),
  },
];

const round2 = (x: number): number => Number(x.toFixed(2));

registerSuite('apiserver-compare', async (): Promise<BenchResult[]> => {
  const revision = process.env.KUBEMU_BENCH_BASELINE || DEFAULT_BASELINE;
  const requested = Number(process.env.KUBEMU_BENCH_ROUNDS || DEFAULT_ROUNDS);
  if (!Number.isInteger(requested) || requested < 1)
    throw new Error(
      `KUBEMU_BENCH_ROUNDS must be a positive integer, not "${process.env.KUBEMU_BENCH_ROUNDS}"`,
    );
  const rounds = balancedRounds(requested);
  if (rounds !== requested)
    process.stderr.write(`  ${rounds} rounds, not ${requested}: each side goes first in as many rounds\n`);
  // KUBEMU_BENCH_CPU_PROF=DIR: every apiserver writes a .cpuprofile under DIR/<side>-<round>/ when it stops
  const profDir = process.env.KUBEMU_BENCH_CPU_PROF;
  const baseline = prepareBaselineBuild(revision, {
    repoRoot: join(DIST, '..'),
    cacheDir: defaultBaselineCacheDir(),
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  const short = baseline.commit.slice(0, 7);
  if (baseline.depDifferences.length > 0)
    process.stderr.write(
      `  baseline ${short}'s package.json declares other dependencies than this one; it runs on this node_modules:\n    ${baseline.depDifferences.join('\n    ')}\n`,
    );
  const sides = { baseline: baseline.dist, current: DIST };
  const runs: Record<keyof typeof sides, ApiServerFigures[]> = { baseline: [], current: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of alternate(round, 'baseline', 'current') as (keyof typeof sides)[]) {
      let nodeArgs: string[] = [];
      if (profDir) {
        const dir = join(profDir, `${side}-${round}`);
        mkdirSync(dir, { recursive: true });
        nodeArgs = ['--cpu-prof', '--cpu-prof-dir', dir];
      }
      const server = await startBenchApiServer([], { dist: sides[side], nodeArgs });
      try {
        // the client in a fresh worker per side: nothing the other side's run left in the bench counts
        const f = await measureApiServerInWorker(server);
        runs[side].push(f);
        process.stderr.write(
          `  round ${round + 1}/${rounds} ${side}: ${Math.round(f.createsPerSec)} creates/s, list p99 ${percentile(f.restListMs, 99).toFixed(0)} / ${percentile(f.wsListMs, 99).toFixed(0)} ms, watch p99 ${percentile(f.watchMs, 99).toFixed(1)} ms; CPU ${f.createCpuMsPer1000.toFixed(0)} ms / 1,000 creates, ${f.listCpuMs.toFixed(0)} ms / list of ${(f.listBytes / 1e6).toFixed(1)} MB\n`,
        );
      } finally {
        await server.stop();
      }
    }
  }

  const results: BenchResult[] = [];
  for (const fig of FIGURES) {
    const c = compareRounds(runs.baseline.map(fig.pick), runs.current.map(fig.pick), fig.better);
    const range = (side: keyof typeof sides): string => {
      const xs = runs[side].map(fig.pick);
      return `rounds ${round2(Math.min(...xs))} to ${round2(Math.max(...xs))}`;
    };
    results.push(
      {
        name: `${fig.name}: baseline ${short}`,
        value: round2(c.baseline),
        unit: fig.unit,
        note: range('baseline'),
      },
      { name: `${fig.name}: current`, value: round2(c.current), unit: fig.unit, note: range('current') },
      {
        name: `${fig.name}: regression`,
        value: Number(c.regressionPct.toFixed(1)),
        unit: '%',
        ...(fig.headline ? { target: { op: '<=' as const, value: MAX_REGRESSION_PCT } } : {}),
        note: `current / baseline per round ${c.ratioMin.toFixed(2)} to ${c.ratioMax.toFixed(2)}, median ${c.ratio.toFixed(3)} (${fig.better} is better)`,
      },
    );
  }
  results[0].note += `; medians of ${rounds} rounds, each a fresh apiserver and a fresh client (worker thread) per side, each side first in half of the rounds`;
  if (baseline.depDifferences.length > 0)
    results[0].note += `; the baseline's package.json differs (${baseline.depDifferences.join(', ')}), it ran on the current node_modules`;
  return results;
});
