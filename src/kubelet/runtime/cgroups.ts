// CPU weights for containers, as upstream's kubelet sets them: one cgroup per node for all its pods (upstream's
// "kubepods"), one per pod inside it with cpu.shares from the pod's CPU requests (BestEffort pods get the minimum,
// 2). The node's group weighs little against kubemu's own processes, the way kube-reserved keeps CPU for the
// kubelet and the control plane: on a machine whose cores the nodes, the control plane and every container
// share, a burst of containers starting up must not starve the processes that start and report them.
import fs from 'node:fs';
import path from 'node:path';

/** upstream's MinShares and SharesPerCPU (pkg/kubelet/cm/helpers_linux.go) */
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
/** The weight of one node's pods together: an eighth of a nice-0 process group. KUBEMU_NODE_CPU_SHARES overrides. */
const DEFAULT_NODE_SHARES = 128;

/** upstream's MilliCPUToShares: requests in millicores → cpu.shares, at least 2 */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  return Math.max(MIN_SHARES, Math.floor((milli * SHARES_PER_CPU) / 1000));
}

/** cgroup v2's weight for v1 shares, as runc and upstream convert them */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/**
 * How a container's processes get their CPU weight: by joining the pod's cgroup, or, where there are no cgroups to
 * write, by a nice value for the container's session autogroup (a container is a session of its own, and the
 * scheduler weighs autogroups, not processes, against each other).
 */
export type CpuJoin =
  | {
      kind: 'cgroup';
      /** what a process writes `0` to, to move itself (see `selfJoinFile`) */
      selfFile: string;
      /** what another process's pid is written to, to move all of it */
      procsFile: string;
    }
  | { kind: 'autogroup'; nice: number };

/** The fallback: the weakest autogroup weight, like a niced process */
export const AUTOGROUP_JOIN: CpuJoin = { kind: 'autogroup', nice: 19 };

/** Gives an already started process its weight (degraded isolation has no setup script to do it); best effort. */
export function joinPid(join: CpuJoin, pid: number): void {
  try {
    if (join.kind === 'cgroup') fs.writeFileSync(join.procsFile, String(pid));
    else fs.writeFileSync(`/proc/${pid}/autogroup`, String(join.nice));
  } catch {
    // the process is gone already, or the kernel has no autogroups
  }
}

interface Hierarchy {
  /** the directory of the kubelet's own cgroup in the cpu hierarchy */
  dir: string;
  version: 1 | 2;
}

/** The cpu controller's hierarchy and our place in it, from /proc/self/mountinfo and /proc/self/cgroup. */
function findHierarchy(): Hierarchy | undefined {
  let mountinfo: string;
  let self: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    self = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
  const mounts = mountinfo.split('\n').map((line) => {
    const [pre = '', post = ''] = line.split(' - ');
    const f = pre.split(' ');
    const [fstype = '', , superOpts = ''] = post.split(' ');
    return { root: f[3] ?? '', point: f[4] ?? '', fstype, superOpts: superOpts.split(',') };
  });
  const groups = self.split('\n').map((l) => l.split(':'));
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOpts.includes('cpu'));
  if (v1) {
    const mine = groups.find((g) => (g[1] ?? '').split(',').includes('cpu'));
    if (mine?.[2] !== undefined) return { dir: within(v1, mine[2]), version: 1 };
  }
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  const mine = groups.find((g) => g[0] === '0' && g[1] === '');
  if (v2 && mine?.[2] !== undefined) return { dir: within(v2, mine[2]), version: 2 };
  return undefined;
}

function within(m: { root: string; point: string }, cgroupPath: string): string {
  const rel = m.root !== '/' && cgroupPath.startsWith(m.root) ? cgroupPath.slice(m.root.length) : cgroupPath;
  return path.join(m.point, rel);
}

/** One node's CPU cgroups. `open` says why not where cgroups cannot be written (no root, read-only /sys). */
export class CpuCgroups {
  private readonly pods = new Set<string>();

  private constructor(
    readonly dir: string,
    private readonly version: 1 | 2,
  ) {}

  /**
   * Creates (or reuses) the node's group `name` under the kubelet's own cgroup and clears pod groups left in it; or
   * says why it cannot (no root, read-only /sys, KUBEMU_CPU_CGROUPS=off), for the Node's CPUCgroupsDegraded condition.
   */
  static open(name: string, shares = nodeShares()): CpuCgroups | string {
    if (process.env['KUBEMU_CPU_CGROUPS'] === 'off') return 'disabled by KUBEMU_CPU_CGROUPS=off';
    const h = findHierarchy();
    if (!h) return 'no cgroup hierarchy with the cpu controller is mounted';
    const dir = path.join(h.dir, name);
    try {
      if (h.version === 2) {
        // v2 lets a group that holds processes not delegate to children; only a root cgroup kubelet can nest here
        const controllers = fs.readFileSync(path.join(h.dir, 'cgroup.subtree_control'), 'utf8');
        if (!controllers.split(/\s+/).includes('cpu'))
          fs.writeFileSync(path.join(h.dir, 'cgroup.subtree_control'), '+cpu');
      }
      fs.mkdirSync(dir, { recursive: true });
      removePodGroups(dir);
      const groups = new CpuCgroups(dir, h.version);
      if (h.version === 2) groups.enableCpuBelow(dir);
      groups.setShares(dir, shares);
      return groups;
    } catch (err) {
      // the kubelet's own group, not the node's: the same words on every node of a cluster
      return `cannot make a cgroup in ${h.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }

  /** Removes a node's group and its pod groups, if they are there and empty (`kubemu down` after a SIGKILL). */
  static remove(name: string): void {
    const h = findHierarchy();
    if (!h) return;
    const dir = path.join(h.dir, name);
    removePodGroups(dir);
    removeGroup(dir);
  }

  /**
   * Makes the pod's group off the event loop: a cgroup mkdir waits for the kernel's global cgroup mutex, which every
   * container joining a group somewhere on the machine takes too. False when the group cannot be made.
   */
  async preparePod(podUID: string, shares: number): Promise<boolean> {
    if (this.pods.has(podUID)) return true;
    const dir = path.join(this.dir, `pod${podUID}`);
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      await fs.promises.writeFile(...this.sharesFile(dir, shares));
      this.pods.add(podUID);
      return true;
    } catch {
      return false;
    }
  }

  /** The pod's group (made here, on the event loop, if `preparePod` did not) and how a process joins it. */
  join(podUID: string, shares: number): CpuJoin | undefined {
    const dir = path.join(this.dir, `pod${podUID}`);
    try {
      if (!this.pods.has(podUID)) {
        fs.mkdirSync(dir, { recursive: true });
        this.setShares(dir, shares);
        this.pods.add(podUID);
      }
      return {
        kind: 'cgroup',
        selfFile: selfJoinFile(dir, this.version),
        procsFile: path.join(dir, 'cgroup.procs'),
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Removes the pod's group once its processes are gone: the last of them may still be exiting when the
   * container's stop resolves (a PID namespace's processes die after its init), so this tries for a while.
   */
  async removePod(podUID: string, attempts = 20): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      if (removeGroup(path.join(this.dir, `pod${podUID}`))) {
        this.pods.delete(podUID);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Removes every pod group and the node's own. */
  async close(): Promise<void> {
    await Promise.all([...this.pods].map((uid) => this.removePod(uid)));
    removeGroup(this.dir);
  }

  private setShares(dir: string, shares: number): void {
    fs.writeFileSync(...this.sharesFile(dir, shares));
  }

  private sharesFile(dir: string, shares: number): [string, string] {
    return this.version === 1
      ? [path.join(dir, 'cpu.shares'), String(shares)]
      : [path.join(dir, 'cpu.weight'), String(sharesToWeight(shares))];
  }

  private enableCpuBelow(dir: string): void {
    fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+cpu');
  }
}

/**
 * The file a container's first process writes `0` to, to join a group. On cgroup v1 that is `tasks`: it moves only
 * the writing thread (the setup shell has no other), and the kernel then skips the global threadgroup lock that a
 * write to `cgroup.procs` takes. That lock waits for an RCU grace period while it holds the cgroup mutex, so with
 * `cgroup.procs` a burst of containers starting serialises on it, and every fork and cgroup mkdir on the machine
 * (the kubelets' among them) waits behind. cgroup v2 has only `cgroup.procs` for a domain group.
 */
export function selfJoinFile(dir: string, version: 1 | 2): string {
  return path.join(dir, version === 1 ? 'tasks' : 'cgroup.procs');
}

/** Removes an empty cgroup; true when it is gone (or never was), false while processes are still in it. */
function removeGroup(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Removes the pod groups left in a node's group whose processes are gone. */
function removePodGroups(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeGroup(path.join(dir, e.name));
}

function nodeShares(): number {
  const n = Number(process.env['KUBEMU_NODE_CPU_SHARES'] ?? DEFAULT_NODE_SHARES);
  return Number.isInteger(n) && n >= MIN_SHARES ? n : DEFAULT_NODE_SHARES;
}
