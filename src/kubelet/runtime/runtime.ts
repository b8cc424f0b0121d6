// The container runtime a kubelet drives: detects isolation once, starts containers, samples usage, enforces memory limits.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Logger } from '../../util/logger.js';
import { ContainerProcess, containerEnv, type ContainerSpec } from './container.js';
import { detectIsolation, type IsolationMode } from './isolation.js';
import { readAllProcs } from './usage.js';
import { Watchdog } from './watchdog.js';

export interface ContainerRuntimeOptions {
  /** Defaults to what detectIsolation() finds. */
  mode?: IsolationMode;
  /** How often CPU/memory are sampled (and memory limits enforced). */
  usageIntervalMs?: number;
  logger?: Logger;
}

export interface ExecOptions {
  stdio?: StdioOptions;
  env?: Record<string, string>;
}

export class ContainerRuntime {
  readonly mode: IsolationMode;
  private readonly containers = new Set<ContainerProcess>();
  private readonly watchdog = new Watchdog();
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly options: ContainerRuntimeOptions = {}) {
    this.mode = options.mode ?? detectIsolation();
    this.sampler = setInterval(() => this.sampleUsage(), options.usageIntervalMs ?? 250);
    this.sampler.unref();
    options.logger?.info({ mode: this.mode, watchdogPid: this.watchdog.pid }, 'container runtime ready');
  }

  /** Starts a container; its exit (including a failed start, as StartError) comes through `exited`. */
  startContainer(spec: ContainerSpec): ContainerProcess {
    const container = new ContainerProcess(spec, this.mode, {
      onExit: (c) => {
        this.containers.delete(c);
        if (c.pid > 0) this.watchdog.unwatch(c.pgid);
        this.options.logger?.debug(
          { container: spec.name, pod: spec.podName, exit: c.exitStatus },
          'container exited',
        );
      },
    });
    if (container.pid > 0) {
      this.containers.add(container);
      this.watchdog.watch(container.pgid);
    }
    return container;
  }

  /**
   * Runs a command in the container's context (its mounts, root, working dir, PID namespace and env): for exec probes
   * and `kubectl exec`. The process has its own process group, so a timeout can kill all of it.
   */
  exec(container: ContainerProcess, argv: string[], options: ExecOptions = {}): ChildProcess {
    const env = { ...containerEnv(container.spec), ...options.env };
    const stdio = options.stdio ?? ['ignore', 'pipe', 'pipe'];
    if (this.mode === 'none') {
      const root = `${container.spec.containerDir}/root`;
      return spawn(argv[0], argv.slice(1), { env: { ...env, KUBEMU_ROOT: root }, stdio, detached: true });
    }
    const nsenter = [
      '--target',
      String(container.initPid()),
      ...(this.mode === 'userns' ? ['--user', '--preserve-credentials'] : []),
      '--mount',
      '--pid',
      '--root',
      '--wd',
      '--',
      ...argv,
    ];
    return spawn('nsenter', nsenter, { env, stdio, detached: true });
  }

  /** Running containers. */
  list(): ContainerProcess[] {
    return [...this.containers];
  }

  /** One /proc snapshot for all containers; a container over its memory limit is OOM-killed. */
  sampleUsage(): void {
    if (this.containers.size === 0) return;
    const procs = readAllProcs();
    const now = Date.now();
    for (const c of this.containers) {
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

  /** Kills every container and stops sampling (a kubelet shutting down takes its containers with it). */
  async close(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all([...this.containers].map((c) => c.kill()));
    this.watchdog.close();
  }
}
