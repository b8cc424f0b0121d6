// `kubemu up / status / down` as real commands: 3 Ready nodes for the real kubectl, refusals, and nothing left behind.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST } from '../helpers/apiserver.js';

const MAIN = join(DIST, 'cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

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
    HOME: home,
    KUBECONFIG: join(home, 'unused-kubeconfig'),
    PM2_HOME: join(home, 'pm2'),
  };

  const run = (file: string, args: string[], timeout = 60_000): Promise<Run> =>
    new Promise((resolve) => {
      execFile(file, args, { env, timeout, maxBuffer: 10 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const kubemu = (...args: string[]): Promise<Run> => run(process.execPath, [MAIN, ...args]);
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

  it('up starts a cluster whose 3 nodes the real kubectl sees Ready', async () => {
    const started = Date.now();
    const up = await kubemu(
      'up',
      ...clusterFlags(),
      ...['--port', String(port), '--kubelet-port', String(kubeletPort), '--kubeconfig', kubeconfig],
    );
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`Cluster "${name}" is up: 3 node(s) Ready`);
    expect(up.stdout).toContain(`https://127.0.0.1:${port}`);
    expect(up.stdout).toContain(stateDir);
    expect(Date.now() - started).toBeLessThan(30_000);

    const config = readFileSync(kubeconfig, 'utf8');
    expect(config).toContain(`current-context: kubemu-${name}`);

    const get = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'wide']);
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
  });

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
      dashboard: expect.stringMatching(/\/dashboard\/#token=/),
      kubeconfig,
      context: `kubemu-${name}`,
    });
    expect(status.nodes).toEqual([
      { name: 'node-1', internalIP: '127.0.1.1', ready: 'True' },
      { name: 'node-2', internalIP: '127.0.1.2', ready: 'True' },
      { name: 'node-3', internalIP: '127.0.1.3', ready: 'True' },
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

  it('up on a port that is taken names the port and starts nothing', async () => {
    const otherState = join(root, 'other');
    const res = await kubemu(
      'up',
      ...['--name', `${name}-b`, '--state-dir', otherState, '--port', String(port)],
      ...['--kubeconfig', join(root, 'other-kubeconfig')],
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(res.stderr).toContain('--port');
  });

  it('rejects unknown flags with exit code 2', async () => {
    const res = await kubemu('up', '--no-such-flag');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("'--no-such-flag'");
  });

  it('down stops every process it listed, the pm2 daemon too, and removes the context', async () => {
    expect(statusPids.length).toBeGreaterThanOrEqual(6);
    const res = await kubemu('down', ...clusterFlags());
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`cluster "${name}" stopped`);
    for (const pid of [...statusPids, daemonPid])
      expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    expect(readFileSync(kubeconfig, 'utf8')).not.toContain(`kubemu-${name}`);
    const status = JSON.parse((await kubemu('status', ...clusterFlags(), '-o', 'json')).stdout);
    expect(status.running).toBe(false);
    expect(status.processes).toEqual([]);
  });
});
