// A paused apiserver (SIGSTOP for longer than the clients' pong timeout, then SIGCONT) must not cost the cluster a
// component: each one keeps retrying with backoff and carries on, under both supervisors (`kubemu up --foreground`,
// which `npm start` runs, and pm2). A component that does exit says why and exits non-zero, and its supervisor
// starts it again. Node N is 127.0.1.N on the shared loopback: run it in a network namespace of its own:
//   unshare --net sh -c 'ip link set lo up && npx vitest run --project chaos test/chaos/apiserver-pause.test.ts'
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentLog } from '../../src/cli/cluster/layout.js';
import { DIST } from '../helpers/apiserver.js';
import {
  alive,
  descendants,
  freePort,
  run,
  upCluster,
  type ClusterStatusJson,
  type Run,
} from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { kubectlBin } from '../helpers/kubectl.js';

/** longer than the clients' pong timeout (a ping every 5 s, three unanswered → reconnect: 15-20 s) */
const PAUSE_MS = 30_000;
const CLI = join(DIST, 'cli/main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the scenarios need of a cluster, whichever supervisor runs it. */
interface Cluster {
  stateDir: string;
  kubectl(args: string[]): Promise<Run>;
  status(): Promise<ClusterStatusJson>;
}

/** `kubemu up --foreground` as `npm start` runs it: a child process that streams the cluster's logs until SIGTERM. */
async function upForeground(): Promise<Cluster & { output(): string; down(): Promise<void> }> {
  const name = `pause${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-pause-'));
  const home = mkdtempSync(join(tmpdir(), 'kubemu-home-'));
  const kubeconfig = join(home, 'kubeconfig');
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBEMU_LOG_LEVEL: 'info' };
  const port = await freePort();
  const args = ['up', '--foreground', '--name', name, '--nodes', '1', '--state-dir', stateDir];
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, ...args, '--port', String(port), '--kubeconfig', kubeconfig],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const cluster = {
    stateDir,
    output: () => output,
    kubectl: (a: string[]) => run(kubectlBin(), ['--kubeconfig', kubeconfig, ...a], env),
    async status(): Promise<ClusterStatusJson> {
      const r = await run(
        process.execPath,
        [CLI, 'status', '--name', name, '--state-dir', stateDir, '-o', 'json'],
        env,
      );
      if (r.code !== 0) throw new Error(`kubemu status: ${r.stderr}`);
      return JSON.parse(r.stdout) as ClusterStatusJson;
    },
    async down(): Promise<void> {
      const pids = [child.pid!, ...descendants([child.pid!])];
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
  try {
    const outcome = await waitFor(
      'kubemu up --foreground to stream logs',
      () =>
        Promise.resolve(
          child.exitCode !== null ? 'exited' : output.includes('Streaming logs') ? 'up' : undefined,
        ),
      120_000,
    );
    if (outcome === 'exited') throw new Error(`kubemu up exited ${child.exitCode}:\n${output}`);
  } catch (err) {
    await cluster.down();
    throw err;
  }
  return cluster;
}

const pidsOf = (s: ClusterStatusJson): Record<string, number> =>
  Object.fromEntries(s.processes.map((p) => [p.name, p.pid]));

/**
 * SIGSTOP the apiserver past the pong timeout, SIGCONT it: every process keeps its PID and a Deployment made
 * afterwards becomes available (its pod scheduled, started, and counted by the controller-manager).
 */
async function pauseApiserver(c: Cluster, deployment: string): Promise<void> {
  // the controller-manager must be connected (its informers synced) before the pause, or the pause meets its
  // connection attempt (a handshake timeout) instead of its pong timeout
  const cmLogFile = componentLog(c.stateDir, 'controller-manager');
  await waitFor(
    'the controller-manager to start its controllers',
    () =>
      Promise.resolve(
        existsSync(cmLogFile) && readFileSync(cmLogFile, 'utf8').includes('controllers started')
          ? true
          : undefined,
      ),
    60_000,
  );
  const before = pidsOf(await c.status());
  expect(Object.keys(before)).toEqual(
    expect.arrayContaining(['apiserver', 'controller-manager', 'scheduler', 'cloud-lb', 'kube-proxy-node-1']),
  );
  process.kill(before['apiserver'], 'SIGSTOP');
  try {
    await sleep(PAUSE_MS);
  } finally {
    process.kill(before['apiserver'], 'SIGCONT');
  }
  // the pong timeout did fire (else this test would prove nothing)
  const cmLog = readFileSync(cmLogFile, 'utf8');
  expect(cmLog).toContain('apiserver missed its pongs; reconnecting');
  await sleep(2_000);
  const gone = Object.entries(before).filter(([, pid]) => !alive(pid));
  expect(gone, `processes that exited while the apiserver was paused: ${JSON.stringify(gone)}`).toEqual([]);
  const after = await c.status();
  expect(pidsOf(after)).toEqual(before);
  expect(after.processes.filter((p) => p.restarts > 0)).toEqual([]);

  const created = await c.kubectl([
    'create',
    'deployment',
    deployment,
    '--image=busybox',
    '--',
    'sleep',
    '3600',
  ]);
  expect(created.code, created.stderr).toBe(0);
  const rollout = await c.kubectl(['rollout', 'status', `deployment/${deployment}`, '--timeout=90s']);
  expect(rollout.stdout + rollout.stderr).toContain('successfully rolled out');
  expect(rollout.code).toBe(0);
}

describe('a component with nothing left to run', () => {
  it('logs why and exits non-zero (it exited 0 without a word)', async () => {
    const script = `
      import { runUntilSignal } from ${JSON.stringify(join(DIST, 'util/run.js'))};
      import { createLogger } from ${JSON.stringify(join(DIST, 'util/logger.js'))};
      runUntilSignal(createLogger('probe'), async () => ({ close: async () => {} }));`;
    const r = await new Promise<Run>((resolve) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { timeout: 20_000 },
        (err, stdout, stderr) =>
          resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }),
      ),
    );
    expect(r.code).toBe(1);
    const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { level: number; msg: string };
    expect(line.level).toBe(60);
    expect(line.msg).toMatch(/nothing is left to keep the component running/);
  });
});

describe('kubemu up --foreground', () => {
  let c: Awaited<ReturnType<typeof upForeground>>;
  beforeAll(async () => {
    c = await upForeground();
  }, 180_000);
  afterAll(async () => {
    await c?.down();
  }, 60_000);

  it('keeps every component through a paused apiserver; a new Deployment becomes available', async () => {
    await pauseApiserver(c, 'after-pause');
  });

  it('restarts a component that died, says so, and records its new PID', async () => {
    const before = pidsOf(await c.status());
    process.kill(before['scheduler'], 'SIGKILL');
    const restarted = await waitFor(
      'the supervisor to restart the scheduler',
      async () => {
        const s = await c.status();
        const p = s.processes.find((x) => x.name === 'scheduler');
        return p && p.pid !== before['scheduler'] && p.status === 'online' && p.restarts === 1 && alive(p.pid)
          ? p
          : undefined;
      },
      30_000,
    );
    expect(c.output()).toMatch(/scheduler .*was killed by SIGKILL; restarting in/);
    expect(c.output()).toMatch(/scheduler restarted \(pid \d+, restart 1\)/);
    expect(existsSync(componentLog(c.stateDir, 'scheduler'))).toBe(true);
    expect(readFileSync(componentLog(c.stateDir, 'scheduler'), 'utf8')).toContain('was killed by SIGKILL');
    // the new scheduler schedules
    const created = await c.kubectl([
      'create',
      'deployment',
      'after-kill',
      '--image=busybox',
      '--',
      'sleep',
      '3600',
    ]);
    expect(created.code).toBe(0);
    const rollout = await c.kubectl(['rollout', 'status', 'deployment/after-kill', '--timeout=90s']);
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(alive(restarted.pid)).toBe(true);
  });
});

describe('kubemu up (pm2)', () => {
  let c: Awaited<ReturnType<typeof upCluster>>;
  beforeAll(async () => {
    c = await upCluster({ nodes: 1 });
  }, 180_000);
  afterAll(async () => {
    await c?.down();
  }, 120_000);

  it('keeps every component through a paused apiserver; a new Deployment becomes available', async () => {
    await pauseApiserver(
      { stateDir: c.stateDir, kubectl: (a) => c.kubectl(a), status: () => c.status() },
      'after-pause',
    );
  });
});
