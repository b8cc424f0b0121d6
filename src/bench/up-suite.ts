// Benchmarks of `kubemu up` (issue: 3 Ready nodes in ≤ 3 s) and of an idle cluster's memory, with the real CLI.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOf } from '../cli/cluster/processes.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const IDLE_MS = 3_000;
const MB = 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function kubemu(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubemu ${args[0]} failed: ${stderr || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

interface StatusJson {
  nodes: { ready: string }[];
  processes: { name: string; pid: number }[];
}

registerSuite('up', async (): Promise<BenchResult[]> => {
  const root = mkdtempSync(join(tmpdir(), 'kubemu-bench-up-'));
  const env = { ...process.env, HOME: join(root, 'home'), KUBEMU_LOG_LEVEL: 'warn' };
  const flags = ['--name', 'bench', '--state-dir', join(root, 'state')];
  try {
    const port = await freePort();
    const kubeletPort = await freePort();
    const t0 = performance.now();
    await kubemu(
      ['up', ...flags, '--nodes', '3', '--port', String(port), '--kubelet-port', String(kubeletPort)].concat([
        '--kubeconfig',
        join(root, 'kubeconfig'),
      ]),
      env,
    );
    const upMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const status = JSON.parse(await kubemu(['status', ...flags, '-o', 'json'], env)) as StatusJson;
    const readyNodes = status.nodes.filter((n) => n.ready === 'True').length;
    const memory = status.processes.map((p) => ({ name: p.name, ...memoryOf(p.pid) }));
    const kubelets = memory.filter((m) => m.name.startsWith('kubelet-'));
    const t1 = performance.now();
    await kubemu(['down', ...flags], env);
    const downMs = performance.now() - t1;
    return [
      {
        name: 'kubemu up → 3 Ready nodes',
        value: upMs,
        unit: 'ms',
        target: { op: '<=', value: 3000 },
        note: `whole command, pm2 daemon start included; ${readyNodes}/3 nodes Ready ${IDLE_MS / 1000} s later`,
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
      { name: 'kubemu down (3 nodes)', value: downMs, unit: 'ms' },
    ];
  } finally {
    await kubemu(['down', ...flags], env).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
});
