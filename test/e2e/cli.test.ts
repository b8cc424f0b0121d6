// `kubemu up / status / down` as real commands, run the README's way from a fresh clone (`npx kubemu`, no `kubemu`
// on PATH): 3 Ready nodes for the real kubectl, the hints `up` prints run exactly as printed, refusals with what
// to do, a stopped cluster's status, and nothing left behind.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLocalPort as freePort } from '../../src/util/free-port.js';
import { DIST, ROOT } from '../helpers/apiserver.js';

const MAIN = join(DIST, 'cli/main.js');

/** $PATH as on a machine where kubemu was only cloned and `npm install`ed: no directory holding a `kubemu`. */
const PATH_WITHOUT_KUBEMU = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((dir) => dir && !existsSync(join(dir, 'kubemu')))
  .join(delimiter);

/** The command lines `up` prints after "Try:", "Dashboard:" and "Stop:", without their trailing remarks. */
function hints(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.matchAll(/^(Try|Dashboard|Stop):\s+(.+?)(?:\s{3}\(.*\))?$/gm)) out[m[1]] = m[2]!;
  return out;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie (exited, not yet reaped by its parent) is gone for our purposes
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('kubemu up / status / down', () => {
  const root = mkdtempSync(join(tmpdir(), 'kubemu-cli-'));
  const home = join(root, 'home');
  const stateDir = join(root, 'state');
  const kubeconfig = join(root, 'kubeconfig');
  const name = `t${process.pid}`;
  let port = 0;
  let kubeletPort = 0;
  // never the user's ~/.kubemu, ~/.kube/config or ~/.pm2
  const env = {
    ...process.env,
    PATH: PATH_WITHOUT_KUBEMU,
    HOME: home,
    KUBECONFIG: join(home, 'unused-kubeconfig'),
    PM2_HOME: join(home, 'pm2'),
  };

  // from the clone's directory, as a user who followed the README
  const run = (file: string, args: string[], timeout = 60_000): Promise<Run> =>
    new Promise((resolve) => {
      execFile(file, args, { env, cwd: ROOT, timeout, maxBuffer: 10 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const kubemu = (...args: string[]): Promise<Run> => run(process.execPath, [MAIN, ...args]);
  /** a command line exactly as kubemu printed it, run by the shell */
  const shell = (line: string, timeout = 60_000): Promise<Run> => run('sh', ['-c', line], timeout);
  let printed: Record<string, string> = {};
  const clusterFlags = (): string[] => ['--name', name, '--state-dir', stateDir];

  beforeAll(async () => {
    mkdirSync(home, { recursive: true });
    port = await freePort();
    kubeletPort = await freePort();
  });

  afterAll(async () => {
    await kubemu('down', ...clusterFlags());
    rmSync(root, { recursive: true, force: true });
  });

  let statusPids: number[] = [];
  let daemonPid = 0;

  it(
    "`npx kubemu up` (the README's way) starts a cluster whose 3 nodes the real kubectl sees Ready",
    { timeout: 200_000 },
    async () => {
      expect((await shell('command -v kubemu')).code).not.toBe(0);
      const up = await shell(
        `npx kubemu up --name ${name} --state-dir ${stateDir} --port ${port} --kubelet-port ${kubeletPort} ` +
          `--kubeconfig ${kubeconfig}`,
        180_000,
      );
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`Cluster "${name}" is up: 3 node(s) Ready`);
      expect(up.stdout).toContain(`https://127.0.0.1:${port}`);
      expect(up.stdout).toContain(stateDir);
      printed = hints(up.stdout);
      expect(printed).toEqual({
        Try: `kubectl --kubeconfig ${kubeconfig} get nodes -o wide`,
        Dashboard: `npx kubemu dashboard --name ${name} --state-dir ${stateDir}`,
        Stop: `npx kubemu down --name ${name} --state-dir ${stateDir}`,
      });

      const config = readFileSync(kubeconfig, 'utf8');
      expect(config).toContain(`current-context: kubemu-${name}`);

      // the Try: hint, as printed
      const get = await shell(printed['Try']);
      expect(get.stderr).toBe('');
      const [header, ...rows] = get.stdout.trim().split('\n');
      expect(header.split(/\s+/).slice(0, 7)).toEqual([
        'NAME',
        'STATUS',
        'ROLES',
        'AGE',
        'VERSION',
        'INTERNAL-IP',
        'EXTERNAL-IP',
      ]);
      const nodes = rows.map((r) => r.split(/\s+/)).map((c) => ({ name: c[0], status: c[1], ip: c[5] }));
      expect(nodes).toEqual([
        { name: 'node-1', status: 'Ready', ip: '127.0.1.1' },
        { name: 'node-2', status: 'Ready', ip: '127.0.1.2' },
        { name: 'node-3', status: 'Ready', ip: '127.0.1.3' },
      ]);
    },
  );

  it('status -o json reports the API server, nodes, ingress, state dir and pm2 processes', async () => {
    const res = await kubemu('status', ...clusterFlags(), '-o', 'json');
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout);
    expect(status).toMatchObject({
      name,
      stateDir,
      running: true,
      mode: 'pm2',
      apiServer: { url: `https://127.0.0.1:${port}`, ready: true },
      ingress: {
        http: expect.stringMatching(/^http:\/\/127\.0\.3\.1/),
        https: expect.stringMatching(/^https:\/\/127\.0\.3\.1/),
      },
      // no token: status output ends up in CI logs (issue 17)
      dashboard: `https://127.0.0.1:${port}/dashboard/`,
      kubeconfig,
      context: `kubemu-${name}`,
    });
    expect(status.nodes).toEqual([
      { name: 'node-1', internalIP: '127.0.1.1', ready: 'True', degraded: [] },
      { name: 'node-2', internalIP: '127.0.1.2', ready: 'True', degraded: [] },
      { name: 'node-3', internalIP: '127.0.1.3', ready: 'True', degraded: [] },
    ]);
    const names = status.processes.map((p: { name: string }) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'apiserver',
        'controller-manager',
        'scheduler',
        'kubelet-node-1',
        'kubelet-node-3',
      ]),
    );
    for (const p of status.processes) {
      expect(p.status).toBe('online');
      expect(alive(p.pid)).toBe(true);
    }
    statusPids = status.processes.map((p: { pid: number }) => p.pid);
    daemonPid = status.pm2.daemonPid;
    expect(alive(daemonPid)).toBe(true);
    // pm2 lives in the state dir, not in HOME
    expect(status.pm2.home).toBe(join(stateDir, 'pm2'));
  });

  it('a second up of the running cluster refuses, naming the cluster and its state dir', async () => {
    const again = await kubemu('up', ...clusterFlags(), '--port', String(port), '--kubeconfig', kubeconfig);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`cluster "${name}" is already running`);
    expect(again.stderr).toContain(stateDir);
  });

  it('a second cluster on the same API port is told which cluster holds it and the exact command to stop it', async () => {
    const status = JSON.parse((await kubemu('status', ...clusterFlags(), '-o', 'json')).stdout);
    const apiserverPid = status.processes.find((p: { name: string }) => p.name === 'apiserver').pid;
    const otherState = join(root, 'other');
    // node rather than npx for speed: from the clone's directory the hint says `npx kubemu` either way
    const res = await kubemu(
      ...['up', '--name', `${name}-b`, '--state-dir', otherState, '--port', String(port)],
      ...['--kubeconfig', join(root, 'other-kubeconfig')],
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(
      `port ${port} on 127.0.0.1 (for the API server) is already in use by cluster "${name}" (its apiserver, ` +
        `pid ${apiserverPid}). Only one loopback-network cluster can run at a time: they share the node, ingress and DNS addresses ` +
        `(clusters started with --network=netns run side by side).\n` +
        `Stop that cluster first with: npx kubemu down --name ${name} --state-dir ${stateDir}\n`,
    );
    expect(existsSync(otherState)).toBe(false);
  });

  it('a second cluster on other API and kubelet ports collides on the ingress address, and is told the same', async () => {
    const status = JSON.parse((await kubemu('status', ...clusterFlags(), '-o', 'json')).stdout);
    const ingressPid = status.processes.find((p: { name: string }) => p.name === 'ingress').pid;
    const ingressPort = new URL(status.ingress.http).port || '80';
    const res = await kubemu(
      ...[
        'up',
        '--name',
        `${name}-b`,
        '--state-dir',
        join(root, 'other'),
        '--port',
        String(await freePort()),
      ],
      ...['--kubelet-port', String(await freePort()), '--kubeconfig', join(root, 'other-kubeconfig')],
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `port ${ingressPort} on 127.0.3.1 (for the ingress gateway) is already in use by cluster "${name}" (its ingress, ` +
        `pid ${ingressPid}). Only one loopback-network cluster can run at a time: they share the node, ingress and DNS addresses ` +
        `(clusters started with --network=netns run side by side).\n` +
        `Stop that cluster first with: npx kubemu down --name ${name} --state-dir ${stateDir}\n`,
    );
  });

  it(
    'the Dashboard: hint, run as printed, serves the dashboard and the API on http://127.0.0.1',
    { timeout: 180_000 },
    async () => {
      // its own process group, so Ctrl-C can be sent as a terminal sends it: to npx and kubemu both
      const child = spawn('sh', ['-c', printed['Dashboard']], {
        env,
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        const deadline = Date.now() + 120_000;
        let url: string | undefined;
        while (
          !(url = /Dashboard of cluster "[^"]+": (http:\/\/127\.0\.0\.1:\d+\/dashboard\/)\n/.exec(out)?.[1])
        ) {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`no URL from the Dashboard: hint: ${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<title>kubemu dashboard</title>');
        const nodes = await fetch(new URL('/api/v1/nodes', url));
        expect(nodes.status).toBe(200);
        expect(((await nodes.json()) as { items: unknown[] }).items).toHaveLength(3);
        // read-only: the credentials it holds do not write
        const del = await fetch(new URL('/api/v1/nodes/node-1', url), { method: 'DELETE' });
        expect(del.status).toBe(405);
      } finally {
        const interrupt = (signal: NodeJS.Signals): void => {
          try {
            process.kill(-child.pid!, signal);
          } catch {
            // the group is gone
          }
        };
        interrupt('SIGINT');
        const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
        if (!stopped) interrupt('SIGKILL');
        expect(stopped, 'Ctrl-C stops kubemu dashboard').toBe(true);
      }
    },
  );

  it('kubemu --version and kubemu version name the package version and the Kubernetes release it serves', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['version']]) {
      const res = await kubemu(...args);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(
        new RegExp(
          `^kubemu ${pkg.version.replace(/\./g, '\\.')} \\(Kubernetes v1\\.\\d+\\.\\d+\\+kubemu, node v`,
        ),
      );
    }
  });

  it('rejects unknown flags with exit code 2', async () => {
    const res = await kubemu('up', '--no-such-flag');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("'--no-such-flag'");
  });

  it('the Stop: hint, run as printed, stops every process it listed, the pm2 daemon too, and removes the context', async () => {
    expect(statusPids.length).toBeGreaterThanOrEqual(6);
    const res = await shell(printed['Stop']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`cluster "${name}" stopped`);
    for (const pid of [...statusPids, daemonPid])
      expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    expect(readFileSync(kubeconfig, 'utf8')).not.toContain(`kubemu-${name}`);
    const status = await kubemu('status', ...clusterFlags(), '-o', 'json');
    expect(status.code).toBe(7);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, processes: [] });
  });

  it('status of the stopped cluster says it is stopped, how to start it, and exits 7 like minikube status', async () => {
    const res = await shell(`npx kubemu status --name ${name} --state-dir ${stateDir}`);
    expect(res).toEqual({
      code: 7,
      stdout:
        `cluster     ${name}: Stopped\n` +
        `state dir   ${stateDir}\n` +
        '\n' +
        `Start it with: npx kubemu up --name ${name} --state-dir ${stateDir}\n`,
      stderr: '',
    });
  });

  it(
    'up again on the same state dir returns once every kubelet of this run reported its node Ready, not on the Ready left from before',
    { timeout: 200_000 },
    async () => {
      // the Nodes kept the Ready condition (and heartbeat) their kubelets last wrote before down
      const since = Math.floor(Date.now() / 1000) * 1000;
      const up = await shell(
        `npx kubemu up --name ${name} --state-dir ${stateDir} --port ${port} --kubelet-port ${kubeletPort} ` +
          `--kubeconfig ${kubeconfig}`,
        180_000,
      );
      expect(up.code).toBe(0);
      // `kubectl` as a user types it: on this machine the Cloud SDK's dispatcher, which picks its kubectl by the
      // server's reported version (the other tests run that kubectl directly: test/helpers/kubectl.ts)
      const nodes = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'json']);
      expect(nodes.code).toBe(0);
      const heartbeats = (
        JSON.parse(nodes.stdout) as {
          items: { status: { conditions: { type: string; status: string; lastHeartbeatTime: string }[] } }[];
        }
      ).items.map((n) => n.status.conditions.find((c) => c.type === 'Ready')!);
      expect(heartbeats).toHaveLength(3);
      for (const h of heartbeats) {
        expect(h.status).toBe('True');
        expect(Date.parse(h.lastHeartbeatTime)).toBeGreaterThanOrEqual(since);
      }
    },
  );
});
