// Benchmarks of `kubemu up` (issue: 3 Ready nodes in ≤ 3 s) and of an idle cluster's memory, measured the way a
// user waits for it: `npx kubemu up` in the project directory, from process start to exit (npm's own start and
// its resolution of `kubemu`, the CLI's module loading, the pm2 daemon, PKI, the components, the exit).
//   cold: the first run after `npm install`: an empty state dir (CA and keys made, database created) and an empty
//         npm home (no ~/.npm/_npx entry, no npm update check on record), as on a fresh machine;
//   warm: the next `npx kubemu up` after `kubemu down` on the same state dir and npm home.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOf } from '../cli/cluster/processes.js';
import { freePort } from './cluster.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';

/** the project directory, where a user types `npx kubemu` */
export const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IDLE_MS = 3_000;
const MB = 1024 * 1024;

export interface Timed {
  stdout: string;
  ms: number;
}

/** `npx kubemu ARGS` in the project directory, timed from spawn to exit; rejects on a non-zero exit. */
export function npxKubemu(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['kubemu', ...args],
      { env, cwd: PROJECT_DIR, timeout: 180_000, maxBuffer: 16 * MB },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        if (err) reject(new Error(`npx kubemu ${args[0]} failed: ${stderr || err.message}`, { cause: err }));
        else resolve({ stdout, ms });
      },
    );
  });
}

/** the "Ready in 2.1s" `kubemu up` prints (its own view: from its start, without node's and npm's) */
const printedReady = (stdout: string): string => /Ready in ([\d.]+s)/.exec(stdout)?.[1] ?? '?';

interface StatusJson {
  nodes: { ready: string }[];
  processes: { name: string; pid: number }[];
}

registerSuite('up', async (): Promise<BenchResult[]> => {
  const root = mkdtempSync(join(tmpdir(), 'kubemu-bench-up-'));
  const home = join(root, 'home');
  mkdirSync(home);
  // npm's cache, npx cache and update-notifier record live under HOME: an empty one is a first run
  const env = { ...process.env, HOME: home, KUBEMU_LOG_LEVEL: 'warn', npm_config_cache: join(home, '.npm') };
  const flags = ['--name', 'bench', '--state-dir', join(root, 'state')];
  try {
    const port = await freePort();
    const kubeletPort = await freePort();
    const upArgs = [
      'up',
      ...flags,
      '--nodes',
      '3',
      '--port',
      String(port),
      '--kubelet-port',
      String(kubeletPort),
      '--kubeconfig',
      join(root, 'kubeconfig'),
    ];
    const cold = await npxKubemu(upArgs, env);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const status = JSON.parse(
      (await npxKubemu(['status', ...flags, '-o', 'json'], env)).stdout,
    ) as StatusJson;
    const readyNodes = status.nodes.filter((n) => n.ready === 'True').length;
    const memory = status.processes.map((p) => ({ name: p.name, ...memoryOf(p.pid) }));
    const kubelets = memory.filter((m) => m.name.startsWith('kubelet-'));
    const down = await npxKubemu(['down', ...flags], env);
    const warm = await npxKubemu(upArgs, env);
    await npxKubemu(['down', ...flags], env);
    return [
      {
        name: 'npx kubemu up → 3 Ready nodes, cold',
        value: Math.round(cold.ms),
        unit: 'ms',
        target: { op: '<=', value: 3000 },
        note:
          `wall time of the whole command, npx included; first run: empty state dir and npm home; ` +
          `it printed "Ready in ${printedReady(cold.stdout)}"; ${readyNodes}/3 nodes Ready ${IDLE_MS / 1000} s later`,
      },
      {
        name: 'npx kubemu up → 3 Ready nodes, warm',
        value: Math.round(warm.ms),
        unit: 'ms',
        target: { op: '<=', value: 3000 },
        note: `the next up on the same state dir after down; it printed "Ready in ${printedReady(warm.stdout)}"`,
      },
      {
        name: 'idle kubelet peak RSS (max over nodes)',
        value: Math.max(...kubelets.map((k) => k.peakRss)) / MB,
        unit: 'MB',
      },
      {
        name: `idle 3-node cluster RSS (${memory.length} processes)`,
        value: memory.reduce((sum, m) => sum + m.rss, 0) / MB,
        unit: 'MB',
        note: `peak RSS summed: ${(memory.reduce((sum, m) => sum + m.peakRss, 0) / MB).toFixed(0)} MB; pm2 daemon not counted`,
      },
      { name: 'npx kubemu down (3 nodes)', value: Math.round(down.ms), unit: 'ms' },
    ];
  } finally {
    await npxKubemu(['down', ...flags], env).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
});
