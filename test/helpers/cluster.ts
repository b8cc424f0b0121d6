// A whole local cluster for end-to-end tests: `kubemu up` in a temp state dir on a free port, the real
// kubectl against it, `kubemu down` at the end (and every PID it listed checked gone).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterStatus } from '../../src/cli/cluster/status.js';
import { freeLocalPort as freePort } from '../../src/util/free-port.js';
import { DIST } from './apiserver.js';
import type { TestUser } from './test-user.js';
import { waitFor } from './wait.js';
import { kubectlBin } from './kubectl.js';

/** what `kubemu status -o json` prints: the CLI's own ClusterStatus */
export type ClusterStatusJson = ClusterStatus;

export interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

export interface TestCluster {
  name: string;
  stateDir: string;
  kubeconfig: string;
  home: string;
  status(): Promise<ClusterStatusJson>;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<Run>;
  /** parsed `kubectl get ... -o json` */
  getJson<T = any>(args: string[]): Promise<T>;
  kubemu(args: string[]): Promise<Run>;
  /**
   * Runs a command on a node's side of the network, as `ssh NODE` would on a real cluster: in the node's network
   * namespace with --network=netns (nsenter), here with the loopback network (the host's network is every node's).
   * For what only a node reaches, e.g. its kubelet's port; never for pod IPs (a pod reaches those).
   */
  onNode(node: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<Run>;
  /** poll until `check` returns a value, or fail with the last error */
  waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms?: number): Promise<T>;
  down(): Promise<void>;
}

export { freePort };

/**
 * The network model the e2e and chaos clusters run: KUBEMU_TEST_NETWORK=netns|loopback, handed to `kubemu up` as
 * `--network`; unset or empty, kubemu's own default. A file that needs one model names it in its `extraArgs`
 * (pod-network.test.ts), which wins.
 */
export function testNetworkArgs(): string[] {
  const mode = process.env['KUBEMU_TEST_NETWORK'] ?? '';
  if (mode === '') return [];
  if (mode !== 'netns' && mode !== 'loopback')
    throw new Error(`KUBEMU_TEST_NETWORK must be netns or loopback, got "${mode}"`);
  return ['--network', mode];
}

export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({
          stdout,
          stderr,
          code: err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0,
        });
      },
    );
    if (opts.input !== undefined) {
      // a command that exits without reading its input (a fast failure) must not fail the test file with an EPIPE
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

/** Every descendant of the given PIDs (containers are children of their kubelet), from /proc. */
export function descendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  // pm2 reports 0 for a stopped process: 0's "children" would be init and kthreadd, i.e. every process there is
  const stack = roots.filter((pid) => pid > 1);
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export async function upCluster(
  opts: {
    nodes?: number;
    name?: string;
    /** an existing directory to use as the state dir (removed by down()); default a new temp dir */
    stateDir?: string;
    /** the umask `kubemu up` runs with, as a user's shell would set it; default this process's */
    umask?: number;
    /** more `kubemu up` flags */
    extraArgs?: string[];
    /** run kubemu and kubectl as this unprivileged user (through runuser), owner of the state dir and home */
    user?: TestUser;
    /** how long `kubemu up` may take (default 90 s; give its --timeout plus the start of pm2) */
    upTimeoutMs?: number;
  } = {},
): Promise<TestCluster> {
  const name = opts.name ?? `e2e${process.pid}${Math.floor(Math.random() * 1000)}`;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'kubemu-e2e-'));
  const home = mkdtempSync(join(tmpdir(), 'kubemu-home-'));
  const kubeconfig = join(home, 'kubeconfig');
  const port = await freePort();
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBEMU_LOG_LEVEL: 'info' };
  const user = opts.user;
  if (user) for (const dir of [stateDir, home]) chownSync(dir, user.uid, user.gid);
  // as the user: runuser, with the environment handed on explicitly (runuser resets HOME)
  const asUser = user
    ? [
        'runuser',
        '-u',
        user.name,
        '--',
        'env',
        `HOME=${home}`,
        `KUBECONFIG=${kubeconfig}`,
        `PATH=${process.env['PATH']}`,
      ]
    : [];
  // with a umask: through a shell that sets it, as the user's own shell would have
  const [command, ...prefix] = [
    ...asUser,
    ...(opts.umask === undefined
      ? [process.execPath]
      : ['/bin/sh', '-c', `umask ${opts.umask.toString(8)} && exec "$@"`, 'sh', process.execPath]),
  ];
  const kubemu = (args: string[], timeoutMs = 90_000): Promise<Run> =>
    run(command, [...prefix, join(DIST, 'cli/main.js'), ...args], env, { timeoutMs });
  const up = await kubemu(
    [
      'up',
      '--name',
      name,
      '--nodes',
      String(opts.nodes ?? 3),
      '--state-dir',
      stateDir,
      '--port',
      String(port),
      '--kubeconfig',
      kubeconfig,
      ...((opts.extraArgs ?? []).some((a) => a === '--network' || a.startsWith('--network='))
        ? []
        : testNetworkArgs()),
      ...(opts.extraArgs ?? []),
    ],
    opts.upTimeoutMs,
  );
  if (up.code !== 0) {
    await kubemu(['down', '--name', name, '--state-dir', stateDir]);
    throw new Error(`kubemu up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  const status = async (): Promise<ClusterStatusJson> => {
    const r = await kubemu(['status', '--name', name, '--state-dir', stateDir, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubemu status failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ClusterStatusJson;
  };
  const kubectl = (args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<Run> =>
    user
      ? run(asUser[0], [...asUser.slice(1), kubectlBin(), '--kubeconfig', kubeconfig, ...args], env, o)
      : run(kubectlBin(), ['--kubeconfig', kubeconfig, ...args], env, o);
  return {
    name,
    stateDir,
    kubeconfig,
    home,
    status,
    kubectl,
    kubemu,
    async onNode(node, cmd, args, o = {}) {
      const net = (await status()).network;
      if (!net) return run(cmd, args, env, o);
      const pid = net.nodePids[node];
      if (pid === undefined) throw new Error(`no network namespace recorded for ${node}`);
      return run('nsenter', [`--target=${pid}`, '--net', '--', cmd, ...args], env, o);
    },
    async getJson(args) {
      const r = await kubectl([...args, '-o', 'json']);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    waitFor,

    async down() {
      let pids: number[] = [];
      try {
        const s = await status();
        pids = [...s.processes.map((p) => p.pid), ...(s.pm2.daemonPid ? [s.pm2.daemonPid] : [])].filter(
          (pid) => pid > 1,
        );
      } catch {
        /* status failing is reported by down below */
      }
      const containers = descendants(pids);
      const r = await kubemu(['down', '--name', name, '--state-dir', stateDir]);
      const deadline = Date.now() + 5000;
      const all = [...pids, ...containers];
      while (all.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      const left = all.filter(alive);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`kubemu down failed: ${r.stderr}`);
      if (left.length) throw new Error(`kubemu down left processes running: ${left.join(', ')}`);
    },
  };
}

/** Start a long-running kubectl (e.g. `logs -f`, `get -w`) and collect its output. */
export function kubectlStream(
  kubeconfig: string,
  args: string[],
): { child: ChildProcess; output(): string; stop(): void } {
  let out = '';
  const child = spawn(kubectlBin(), ['--kubeconfig', kubeconfig, ...args]);
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out, stop: () => child.kill('SIGKILL') };
}
