// Starts a real apiserver process (from dist/) for benchmarks, with its own state dir and a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchApiServer {
  url: string;
  token: string;
  ca: string;
  pid: number;
  /** the admin kubeconfig the apiserver wrote in its state dir */
  kubeconfig: string;
  stop(): Promise<void>;
}

function ready(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Node/V8 flags for the apiserver under bench, from KUBEMU_BENCH_APISERVER_NODE_FLAGS (space-separated), to
 * profile it (`--cpu-prof --cpu-prof-dir=...`, `--trace-gc`) without touching the bench process itself.
 */
function nodeFlags(): string[] {
  return (process.env.KUBEMU_BENCH_APISERVER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

export interface BenchApiServerOptions {
  /** the dist/ directory whose cmd/apiserver.js runs (default: this build's; another for A/B against a baseline) */
  dist?: string;
  /** node options before the script, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR] */
  nodeArgs?: string[];
}

export async function startBenchApiServer(
  extraArgs: string[] = [],
  opts: BenchApiServerOptions = {},
): Promise<BenchApiServer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeFlags(),
      ...(opts.nodeArgs ?? []),
      join(opts.dist ?? DIST, 'cmd/apiserver.js'),
      '--state-dir',
      stateDir,
      '--port',
      '0',
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn' },
    },
  );
  const deadline = Date.now() + 20_000;
  const info = join(stateDir, 'apiserver.json');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apiserver exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('apiserver did not come up within 20 s');
    }
    if (existsSync(info)) {
      const { url } = JSON.parse(readFileSync(info, 'utf8')) as { url: string };
      const ca = readFileSync(join(stateDir, 'pki/ca.crt'), 'utf8');
      if (await ready(url, ca)) {
        const token = readFileSync(join(stateDir, 'tokens.csv'), 'utf8')
          .split('\n')
          .find((l) => l.includes('kubemu-admin'))!
          .split(',')[0];
        return {
          url,
          token,
          ca,
          pid: child.pid!,
          kubeconfig: join(stateDir, 'admin.kubeconfig'),
          async stop() {
            child.kill('SIGTERM');
            await new Promise<void>((r) => {
              const t = setTimeout(() => {
                child.kill('SIGKILL');
                r();
              }, 5000);
              child.once('exit', () => {
                clearTimeout(t);
                r();
              });
            });
            rmSync(stateDir, { recursive: true, force: true });
          },
        };
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat; NaN when gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name (which may hold spaces): utime and stime are the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * CPU (user + system, ms) of `pid` and its descendants: the children each has reaped (cutime/cstime, which include
 * what they had reaped in turn) and the ones running now, down the tree (a kubelet's pause helper reaps its pauses
 * while it runs); NaN when `pid` is gone.
 */
export function treeCpuMs(pid: number, depth = 0): number {
  let total = cpuMs(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
    if (depth >= 8) return total;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    for (const c of children) if (c) total += treeCpuMs(Number(c), depth + 1) || 0;
  } catch {
    /* gone */
  }
  return total;
}

/** USER_HZ: 100 on every Linux architecture Node runs on */
const CLOCK_TICKS = 100;

/** RSS of a process now, from /proc (kB → MB), for memory figures. */
export function rssMb(pid: number): number {
  return procStatusMb(pid, 'VmRSS');
}

/** The highest RSS a process ever had (VmHWM), in MB: a peak no sampling can miss. */
export function peakRssMb(pid: number): number {
  return procStatusMb(pid, 'VmHWM');
}
