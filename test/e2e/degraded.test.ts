// Degraded modes are never silent: a user who runs `kubemu up` without root (nobody, uid 65534), with
// KUBEMU_ISOLATION=none and KUBEMU_CPU_CGROUPS=off, reads each degraded mode in `kubemu up`'s output, in
// `kubemu status` (text and -o json), as Warning events on the Nodes and as Node conditions in `kubectl describe node`.
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST } from '../helpers/apiserver.js';
import { descendants, freePort, alive, testNetworkArgs, type Run } from '../helpers/cluster.js';
import { kubectlBin } from '../helpers/kubectl.js';

const NOBODY = 65534;
const MAIN = join(DIST, 'cli/main.js');
const LOOPBACK_DEGRADED = [
  'IsolationDegraded',
  'CPUCgroupsDegraded',
  'PrivilegedPortsDegraded',
  'ClusterDNSDegraded',
  'RunAsUserDegraded',
];
// with --network=netns pods bind any port in their own namespace and the cluster DNS is on :53 (10.96.0.10), so
// the nodes lose PrivilegedPortsDegraded; the ingress, published on the host, keeps it
const NETNS_DEGRADED = LOOPBACK_DEGRADED.filter((t) => t !== 'PrivilegedPortsDegraded');
let DEGRADED = LOOPBACK_DEGRADED;
let netns = false;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeout = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

describe('degraded modes (not root, no namespaces, no CPU cgroups)', () => {
  const root = mkdtempSync(join(tmpdir(), 'kubemu-degraded-'));
  const home = join(root, 'home');
  const stateDir = join(root, 'state');
  const kubeconfig = join(root, 'kubeconfig');
  const env = {
    ...process.env,
    HOME: home,
    KUBECONFIG: kubeconfig,
    KUBEMU_ISOLATION: 'none',
    KUBEMU_CPU_CGROUPS: 'off',
    KUBEMU_LOG_LEVEL: 'info',
  };
  let flags: string[] = [];
  let up: Run;
  // the kubemu CLI as user nobody: setpriv (util-linux) drops root for it and every process it starts
  const kubemu = (args: string[]): Promise<Run> =>
    run(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, MAIN, ...args, ...flags],
      env,
    );
  const kubectl = (args: string[]): Promise<Run> =>
    run(kubectlBin(), ['--kubeconfig', kubeconfig, ...args], env);

  beforeAll(async () => {
    mkdirSync(home);
    for (const dir of [root, home]) chownSync(dir, NOBODY, NOBODY);
    const port = await freePort();
    flags = ['--name', 'degraded', '--state-dir', stateDir];
    up = await kubemu(['up', '--port', String(port), '--kubeconfig', kubeconfig, ...testNetworkArgs()]);
    if (up.code !== 0) throw new Error(`kubemu up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    netns = /^\s+network\s+netns\b/m.test(up.stdout);
    if (netns) DEGRADED = NETNS_DEGRADED;
  }, 120_000);

  afterAll(async () => {
    let pids: number[] = [];
    const status = await kubemu(['status', '-o', 'json']);
    if (status.code === 0) {
      const s = JSON.parse(status.stdout) as {
        processes: { pid: number }[];
        pm2: { daemonPid: number | null };
      };
      pids = [...s.processes.map((p) => p.pid), ...(s.pm2.daemonPid ? [s.pm2.daemonPid] : [])];
      pids.push(...descendants(pids));
    }
    await kubemu(['down']);
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('`kubemu up` warns about every degraded mode and names the nodes', () => {
    expect(up.stdout).toContain('WARNING: degraded mode');
    for (const type of DEGRADED) expect(up.stdout).toMatch(new RegExp(`node-1, node-2, node-3: ${type} \\(`));
    expect(up.stdout).toContain('(forced by KUBEMU_ISOLATION=none)');
    expect(up.stdout).toContain('disabled by KUBEMU_CPU_CGROUPS=off');
    expect(up.stdout).toMatch(
      /ingress: PrivilegedPortsDegraded \(NoPrivilegedPorts\): the ingress gateway listens on 127\.0\.3\.1:8080/,
    );
  });

  it('`kubectl describe node` shows the conditions, `kubectl get events` the Warnings', async () => {
    const describeNode = await kubectl(['describe', 'node', 'node-2']);
    expect(describeNode.code, describeNode.stderr).toBe(0);
    expect(describeNode.stdout).toMatch(
      /IsolationDegraded\s+True\s.*NoNamespaces\s+containers run without mount and PID namespaces/,
    );
    expect(describeNode.stdout).toMatch(/CPUCgroupsDegraded\s+True\s.*NoCPUCgroups/);
    if (netns) {
      expect(describeNode.stdout).not.toMatch(/PrivilegedPortsDegraded\s+True/);
      expect(describeNode.stdout).toMatch(
        /ClusterDNSDegraded\s+True\s.*NoPrivateResolvConf\s+without mount namespaces pods keep the node's \/etc\/resolv\.conf, not one naming 10\.96\.0\.10/,
      );
      // the cluster's user namespace maps only the user's own uid, as uid 0
      expect(describeNode.stdout).toMatch(
        /RunAsUserDegraded\s+True\s.*NoSubordinateIDs\s+containers run only as uid 0/,
      );
    } else {
      expect(describeNode.stdout).toMatch(
        /PrivilegedPortsDegraded\s+True\s.*NoPrivilegedPorts\s+containers cannot listen on ports below 1024/,
      );
      expect(describeNode.stdout).toMatch(
        /ClusterDNSDegraded\s+True\s.*ClusterDNSOffPort53\s+the cluster DNS listens on 127\.96\.0\.10:1053/,
      );
      // nobody without namespaces runs every container as nobody: a pod asking for another user is refused
      expect(describeNode.stdout).toMatch(
        /RunAsUserDegraded\s+True\s.*NoSubordinateIDs\s+containers run only as the kubelet's uid 65534 \(nobody\)/,
      );
    }
    // the Warnings are in describe's Events too, and in `kubectl get events`
    expect(describeNode.stdout).toMatch(/Warning\s+IsolationDegraded/);
    const events = await kubectl([
      'get',
      'events',
      '--field-selector',
      'type=Warning,involvedObject.kind=Node,involvedObject.name=node-1',
    ]);
    expect(events.code, events.stderr).toBe(0);
    for (const type of DEGRADED)
      expect(events.stdout).toMatch(new RegExp(`Warning\\s+${type}\\s+node/node-1`));
  });

  it('`kubemu status` lists them, as text and as JSON', async () => {
    const text = await kubemu(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('DEGRADED');
    for (const type of DEGRADED) expect(text.stdout).toContain(`node-1, node-2, node-3: ${type} (`);
    const json = await kubemu(['status', '-o', 'json']);
    const status = JSON.parse(json.stdout) as {
      degraded: { type: string; reason: string; where: string[] }[];
      nodes: { name: string; degraded: { type: string }[] }[];
    };
    expect(status.degraded.map((d) => `${d.where.join(',')} ${d.type} ${d.reason}`)).toEqual([
      'node-1,node-2,node-3 IsolationDegraded NoNamespaces',
      'node-1,node-2,node-3 CPUCgroupsDegraded NoCPUCgroups',
      ...(netns
        ? ['node-1,node-2,node-3 ClusterDNSDegraded NoPrivateResolvConf']
        : [
            'node-1,node-2,node-3 PrivilegedPortsDegraded NoPrivilegedPorts',
            'node-1,node-2,node-3 ClusterDNSDegraded ClusterDNSOffPort53',
          ]),
      'node-1,node-2,node-3 RunAsUserDegraded NoSubordinateIDs',
      'ingress PrivilegedPortsDegraded NoPrivilegedPorts',
    ]);
    for (const n of status.nodes) expect(n.degraded.map((d) => d.type)).toEqual(DEGRADED);
  });
});
