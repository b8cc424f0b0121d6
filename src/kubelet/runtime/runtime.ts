// The container runtime a kubelet drives: detects isolation once, starts containers, samples usage, enforces memory limits.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Logger } from '../../util/logger.js';
import { AUTOGROUP_JOIN, CpuCgroups } from './cgroups.js';
import { asUser, ContainerProcess, containerEnv, type ContainerSpec } from './container.js';
import { DEFAULT_LOG_ROTATION, type LogRotationPolicy } from './log-rotation.js';
import type { IdMapping, SubordinateIds } from './id-map.js';
import { detectIsolation, idMapping, type IsolationMode } from './isolation.js';
import { readAllProcs, readProcs } from './usage.js';
import { Watchdog } from './watchdog.js';

export interface ContainerRuntimeOptions {
  /** Defaults to what detectIsolation() finds. */
  mode?: IsolationMode;
  /** How often CPU/memory are sampled (and memory limits enforced). */
  usageIntervalMs?: number;
  /** Every this many samples, all of /proc is read to find new processes in containers (default 8). */
  fullScanEvery?: number;
  /**
   * Containers without a memory limit are sampled only every this many samples (default 4): their usage feeds
   * metrics (a 15 s window upstream), not the OOM killer, which needs the sampler's full speed.
   */
  unlimitedEvery?: number;
  /** The node's CPU cgroup (cgroups.ts), made under the kubelet's own; none → containers' autogroups are niced */
  cgroupName?: string;
  /** containerLogMaxSize × containerLogMaxFiles (default upstream's 10Mi × 5) */
  logRotation?: LogRotationPolicy;
  /** node paths no container may see: the cluster's state dir, the kubelet's root dir (isolation.ts) */
  hiddenPaths?: string[];
  /** Defaults to what idMapping() finds for the mode. */
  idMapping?: IdMapping;
  logger?: Logger;
}

/** What the runtime needs of a container's pod to place it: its uid and CPU weight. */
export interface PodPlacement {
  uid: string;
  cpuShares: number;
}

export interface ExecOptions {
  stdio?: StdioOptions;
  env?: Record<string, string>;
}

export class ContainerRuntime {
  readonly mode: IsolationMode;
  /** which ids containers may run as (id-map.ts) */
  readonly idMapping: IdMapping;
  private readonly containers = new Set<ContainerProcess>();
  private readonly watchdog = new Watchdog();
  private readonly sampler: NodeJS.Timeout;
  private samples = 0;
  private readonly cgroups: CpuCgroups | undefined;
  /** why containers get no CPU cgroups (undefined when they do, or when none were asked for) */
  readonly cpuCgroupsUnavailable: string | undefined;

  constructor(private readonly options: ContainerRuntimeOptions = {}) {
    this.mode = options.mode ?? detectIsolation();
    this.idMapping = options.idMapping ?? idMapping(this.mode);
    this.sampler = setInterval(() => this.sampleUsage(), options.usageIntervalMs ?? 250);
    this.sampler.unref();
    const opened = options.cgroupName ? CpuCgroups.open(options.cgroupName) : undefined;
    this.cgroups = typeof opened === 'string' ? undefined : opened;
    this.cpuCgroupsUnavailable = typeof opened === 'string' ? opened : undefined;
    options.logger?.info(
      { mode: this.mode, watchdogPid: this.watchdog.pid, cpuCgroup: this.cgroups?.dir ?? null },
      'container runtime ready',
    );
  }

  /** Makes the pod's CPU cgroup ahead of its containers' start, off the event loop (see CpuCgroups.preparePod). */
  async preparePod(pod: PodPlacement): Promise<void> {
    await this.cgroups?.preparePod(pod.uid, pod.cpuShares);
  }

  /** Starts a container; its exit (including a failed start, as StartError) comes through `exited`. */
  startContainer(spec: ContainerSpec, pod?: PodPlacement): ContainerProcess {
    const cpuJoin = (pod && this.cgroups?.join(pod.uid, pod.cpuShares)) ?? AUTOGROUP_JOIN;
    const logRotation = {
      policy: this.options.logRotation ?? DEFAULT_LOG_ROTATION,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    };
    const hiddenPaths = [...(this.options.hiddenPaths ?? []), ...(spec.hiddenPaths ?? [])];
    const subordinateIds = this.subordinateIds;
    const container = new ContainerProcess(
      { ...spec, cpuJoin, hiddenPaths, ...(subordinateIds ? { subordinateIds } : {}) },
      this.mode,
      {
        logRotation,
        onExit: (c) => {
          this.containers.delete(c);
          if (c.pid > 0) this.watchdog.unwatch(c.pgid);
          this.options.logger?.debug(
            { container: spec.name, pod: spec.podName, exit: c.exitStatus },
            'container exited',
          );
        },
      },
    );
    if (container.pid > 0) {
      this.containers.add(container);
      this.watchdog.watch(container.pgid);
    }
    return container;
  }

  /** the subordinate ids containers' user namespaces map, when they do */
  get subordinateIds(): SubordinateIds | undefined {
    return this.mode === 'userns' && this.idMapping.kind === 'subordinate' ? this.idMapping.ids : undefined;
  }

  /** Kills `pgid` with the containers if the kubelet dies (a pod's pause process, say). */
  watchProcessGroup(pgid: number): void {
    this.watchdog.watch(pgid);
  }

  unwatchProcessGroup(pgid: number): void {
    this.watchdog.unwatch(pgid);
  }

  /**
   * Runs a command in the container's context (its mounts, root, working dir, PID namespace and env): for exec probes
   * and `kubectl exec`. The process has its own process group, so a timeout can kill all of it.
   */
  exec(container: ContainerProcess, argv: string[], options: ExecOptions = {}): ChildProcess {
    const line = this.execLine(container, argv, options.env);
    const stdio = options.stdio ?? ['ignore', 'pipe', 'pipe'];
    return spawn(line.file, line.args, { env: line.env, stdio, detached: true });
  }

  /**
   * The command line that runs `argv` inside the container: the one place that says how a process enters a
   * container (with namespaces, `nsenter` into the container's init: its mount and PID namespaces, root and
   * working dir — joining more namespaces, network and UTS, is a flag here), for exec probes, `kubectl exec` and
   * the TTY wrapper around it.
   */
  execLine(
    container: ContainerProcess,
    argv: string[],
    extraEnv: Record<string, string> = {},
  ): { file: string; args: string[]; env: Record<string, string> } {
    const env = { ...containerEnv(container.spec), ...extraEnv };
    if (this.mode === 'none') {
      const root = `${container.spec.containerDir}/root`;
      const line = asUser(container.spec, argv);
      return { file: line[0], args: line.slice(1), env: { ...env, KUBEMU_ROOT: root } };
    }
    // before its init runs in the private root, the target would be the launch chain, on the node's filesystem
    if (!container.isSetUp()) throw new Error("the container's root filesystem is not set up yet");
    const nsenter = [
      '--target',
      String(container.initPid()),
      ...(this.mode === 'userns' ? ['--user', '--preserve-credentials'] : []),
      // a pod with its own network: exec and exec probes see the pod's interfaces and hostname
      ...(container.spec.network ? ['--net', '--uts'] : []),
      '--mount',
      '--pid',
      '--root',
      '--wd',
      '--',
      // as the container's program runs (securityContext runAsUser, runAsGroup and groups)
      ...asUser(container.spec, argv),
    ];
    return { file: 'nsenter', args: nsenter, env };
  }

  /** Running containers. */
  list(): ContainerProcess[] {
    return [...this.containers];
  }

  /**
   * One /proc snapshot for all containers; a container over its memory limit is OOM-killed. Reading all of /proc
   * costs a file per process on the machine (every node's containers), so most samples only re-read the processes
   * each container was last seen with, and every `fullScanEvery`-th one looks for new ones. Only containers with a
   * memory limit are read at every sample; the others at every `unlimitedEvery`-th.
   */
  sampleUsage(n = this.samples++): void {
    const full = n % (this.options.fullScanEvery ?? 8) === 0;
    const everyone = full || n % (this.options.unlimitedEvery ?? 4) === 0;
    const sampled = everyone ? [...this.containers] : [...this.containers].filter((c) => hasMemoryLimit(c));
    if (sampled.length === 0) return;
    const procs = full ? readAllProcs() : readProcs(knownPids(sampled));
    const now = Date.now();
    for (const c of sampled) {
      const usage = c.sampleUsage(procs, now);
      const limit = c.spec.memoryLimitBytes;
      if (limit !== undefined && limit > 0 && usage.workingSetBytes > limit) {
        this.options.logger?.info(
          { container: c.spec.name, pod: c.spec.podName, workingSetBytes: usage.workingSetBytes, limit },
          'container over its memory limit: OOM-killing',
        );
        c.oomKill();
      }
    }
  }

  /** Forgets a pod whose containers are all gone (its CPU cgroup). */
  async removePod(uid: string): Promise<void> {
    await this.cgroups?.removePod(uid);
  }

  /** Kills every container and stops sampling (a kubelet shutting down takes its containers with it). */
  async close(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all([...this.containers].map((c) => c.kill()));
    this.watchdog.close();
    await this.cgroups?.close();
  }
}

function hasMemoryLimit(c: ContainerProcess): boolean {
  return (c.spec.memoryLimitBytes ?? 0) > 0;
}

/** the processes each container was last seen with */
function knownPids(containers: ContainerProcess[]): Set<number> {
  const pids = new Set<number>();
  for (const c of containers) {
    if (c.pid > 0) pids.add(c.pid);
    for (const pid of c.usage?.pids ?? []) pids.add(pid);
  }
  return pids;
}
