// One container instance as a real process tree: start, log capture, stop with grace, exit status as upstream reports it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { SubordinateIds } from './id-map.js';
import type { ResolvedImage } from './images.js';
import { joinPid, type CpuJoin } from './cgroups.js';
import { INIT_SCRIPT, prepareLaunch, type IsolationMode, type Mount } from './isolation.js';
import { LogWriter } from './log-file.js';
import type { LogRotationPolicy } from './log-rotation.js';
import type { Logger } from '../../util/logger.js';
import { UsageTracker, type ContainerUsage } from './usage.js';
import { onTerminal } from './terminal.js';
import type { Writable } from 'node:stream';

export interface ContainerSpec {
  /** The container's name in its pod spec. */
  name: string;
  podName: string;
  nodeName?: string;
  image: ResolvedImage;
  /** Upstream semantics: command replaces the image's entrypoint, args replaces its cmd. */
  command?: string[];
  args?: string[];
  /** Already resolved by the kubelet (valueFrom, service links, $(VAR) expansion). */
  env?: Record<string, string>;
  workingDir?: string;
  podIP: string;
  mounts?: Mount[];
  /** Scratch directory of this container instance (private root, /tmp). Created if missing. */
  containerDir: string;
  /** Log file of this container instance (one per restart, so --previous can read the last one). */
  logFile: string;
  memoryLimitBytes?: number;
  /** how its processes take their CPU weight (the runtime sets it) */
  cpuJoin?: CpuJoin;
  /** the pod's network and UTS namespaces to enter (netns pod network); absent: the kubelet's own */
  network?: string[];
  /** `stdin: true`: the program reads a pipe the kubelet holds open for `kubectl attach` */
  stdin?: boolean;
  /** `tty: true`: the program runs on a pseudo-terminal (stderr merged into stdout, as upstream) */
  tty?: boolean;
  /**
   * Its PID namespace: absent, its own; `host` (hostPID), the node's; a PID, that process's (an ephemeral container
   * with targetContainerName joins its target's, so `ps` shows the target's processes).
   */
  pidNamespace?: PidNamespace;
  /**
   * setpriv's `--bounding-set` for the program and every `kubectl exec` in it (capabilities.ts: containerd's default
   * set with securityContext's add/drop); absent: the kubelet's own capabilities (privileged)
   */
  boundingSet?: string;
  /** securityContext runAsUser/runAsGroup: whom the program, and every `kubectl exec` in it, runs as */
  user?: ContainerUser;
  /** securityContext.allowPrivilegeEscalation false: no_new_privs for the program and every `kubectl exec` */
  noNewPrivs?: boolean;
  /** securityContext.readOnlyRootFilesystem */
  readOnlyRootFilesystem?: boolean;
  /** node paths the container must not see (isolation.ts LaunchInput.hiddenPaths; the runtime sets them) */
  hiddenPaths?: string[];
  /** `userns`: the subordinate ids its user namespace maps (id-map.ts; the runtime sets them) */
  subordinateIds?: SubordinateIds;
}

export type PidNamespace = 'host' | number;

export interface ContainerUser {
  uid: number;
  gid: number;
  /** supplementary groups: the primary group, fsGroup, supplementalGroups (as containerd gives them) */
  groups: number[];
}

/**
 * `argv` run as the container's user (securityContext runAsUser, runAsGroup, groups) with its capability bounding set
 * (capabilities.ts) and no_new_privs (allowPrivilegeEscalation: false), in one util-linux setpriv exec (from the
 * node's /usr/bin that every private root has).
 */
export function asUser(
  spec: Pick<ContainerSpec, 'user' | 'boundingSet' | 'noNewPrivs'>,
  argv: string[],
): string[] {
  const { user, boundingSet, noNewPrivs } = spec;
  if (!user && !boundingSet && !noNewPrivs) return argv;
  const who = user
    ? [
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        user.groups.length > 0 ? `--groups=${user.groups.join(',')}` : '--clear-groups',
      ]
    : [];
  return [
    'setpriv',
    ...(noNewPrivs ? ['--no-new-privs'] : []),
    ...(boundingSet ? [boundingSet] : []),
    ...who,
    '--',
    ...argv,
  ];
}

export type TerminationReason = 'Completed' | 'Error' | 'OOMKilled' | 'StartError';

export interface ContainerExit {
  exitCode: number;
  /** Set when the exit is known to be by a signal. */
  signal?: NodeJS.Signals;
  reason: TerminationReason;
  message?: string;
  startedAt: Date;
  finishedAt: Date;
}

/** The argv a container runs: command/args over the image's entrypoint/cmd, exactly as upstream combines them. */
export function containerArgv(image: ResolvedImage, command?: string[], args?: string[]): string[] {
  const hasCommand = command !== undefined && command.length > 0;
  const entry = hasCommand ? command : image.manifest.entrypoint;
  const rest = args !== undefined && args.length > 0 ? args : hasCommand ? [] : (image.manifest.cmd ?? []);
  const argv = [...entry, ...rest];
  // Built-in images are Node programs; they run on the Node that runs kubemu.
  if (argv[0] === 'node') argv[0] = process.execPath;
  return argv;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function containerEnv(spec: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:${DEFAULT_PATH}`,
    HOME: '/root',
    ...spec.image.manifest.env,
    HOSTNAME: spec.podName,
    POD_IP: spec.podIP,
    HOST: spec.podIP,
    ...(spec.nodeName ? { KUBEMU_NODE_NAME: spec.nodeName } : {}),
    ...spec.env,
  };
  return env;
}

/** how often a stopping container is checked for its program while its launch chain is still setting it up */
const TERM_POLL_MS = 10;

/** The first child of a process (its oldest living one), from /proc. */
function firstChild(pid: number): number | undefined {
  try {
    const first = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** A process's argv, from /proc. */
function argv(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

// util-linux 2.38's unshare cannot re-raise its child's fatal signal and says this instead (then exits 1).
const UNSHARE_SIGNAL_NOISE = /^unshare: sigprocmask unblock failed/;
const EXEC_FAILED = /^(?:unshare|setpriv): failed to execute (.*)$/;

export class ContainerProcess {
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  readonly pid: number;
  private readonly log: LogWriter;
  private readonly tracker: UsageTracker;
  private exit: ContainerExit | undefined;
  private killedFor: 'stop' | 'oom' | undefined;
  private diedBySignal = false;
  private execFailure: string | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private termSent = false;
  private termTimer: NodeJS.Timeout | undefined;
  /** the program's stdin, held open for `kubectl attach` (`stdin: true` containers) */
  stdin: Writable | undefined;
  private readonly taps = new Set<(stream: 'stdout' | 'stderr', chunk: Buffer) => void>();

  constructor(
    readonly spec: ContainerSpec,
    readonly mode: IsolationMode,
    hooks: {
      onExit?: (c: ContainerProcess) => void;
      /** rotate the log file past a size (the runtime passes the kubelet's policy) */
      logRotation?: { policy: LogRotationPolicy; logger?: Logger };
    } = {},
  ) {
    fs.mkdirSync(spec.containerDir, { recursive: true });
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    this.log = new LogWriter(
      spec.logFile,
      (line) => {
        if (UNSHARE_SIGNAL_NOISE.test(line)) return (this.diedBySignal = true);
        const m = EXEC_FAILED.exec(line);
        if (m) this.execFailure = m[1];
        return false;
      },
      hooks.logRotation,
    );
    const programArgv = containerArgv(spec.image, spec.command, spec.args);
    const userArgv = programArgv.length > 0 ? asUser(spec, programArgv) : programArgv;
    const terminal = spec.tty && userArgv.length > 0 ? onTerminal(userArgv) : undefined;
    const argv = terminal?.argv ?? userArgv;
    const workingDir = spec.workingDir || spec.image.manifest.workingDir || '/';
    let resolveExit!: (e: ContainerExit) => void;
    this.exited = new Promise((r) => (resolveExit = r));

    let child: ChildProcess | undefined;
    try {
      if (argv.length === 0) throw new Error('no command specified');
      const launch = prepareLaunch({
        mode,
        containerDir: spec.containerDir,
        imageDir: spec.image.dir,
        mounts: spec.mounts ?? [],
        argv,
        workingDir,
        ...(spec.cpuJoin ? { cpuJoin: spec.cpuJoin } : {}),
        ...(spec.network ? { network: spec.network } : {}),
        ...(spec.pidNamespace !== undefined ? { pidNamespace: spec.pidNamespace } : {}),
        ...(spec.hiddenPaths ? { hiddenPaths: spec.hiddenPaths } : {}),
        ...(spec.readOnlyRootFilesystem ? { readOnlyRoot: true } : {}),
        ...(spec.subordinateIds ? { subordinateIds: spec.subordinateIds } : {}),
      });
      child = spawn(launch.file, launch.args, {
        cwd: launch.cwd,
        env: { ...(terminal?.env ?? {}), ...containerEnv(spec), ...launch.env },
        // Own session and process group: the group is what stop() signals, and nothing reaches the kubelet's.
        detached: true,
        stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      if (child.stdin) {
        child.stdin.on('error', () => undefined); // EPIPE once the program is gone
        this.stdin = child.stdin;
      }
      child.stdout?.on('data', (c: Buffer) => this.emitOutput('stdout', c));
      child.stderr?.on('data', (c: Buffer) => this.emitOutput('stderr', c));
      if (mode === 'none' && spec.cpuJoin && child.pid !== undefined) joinPid(spec.cpuJoin, child.pid);
    } catch (err) {
      // Nothing was started: reported like a failed container start (upstream's StartError, exit 128).
      this.execFailure = (err as Error).message;
    }
    this.pid = child?.pid ?? -1;
    this.tracker = new UsageTracker(this.pid);
    if (child?.stdout) this.log.attach(child.stdout, 'stdout');
    if (child?.stderr) this.log.attach(child.stderr, 'stderr');

    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (settled) return;
      settled = true;
      if (this.graceTimer) clearTimeout(this.graceTimer);
      if (this.termTimer) clearTimeout(this.termTimer);
      if (spawnError) this.execFailure = spawnError.message;
      // Give the pipes a moment to drain what the process wrote just before it died.
      const done = (): void => {
        this.log.close();
        this.exit = this.describeExit(code, signal);
        hooks.onExit?.(this);
        resolveExit(this.exit);
      };
      let pipesOpen = [child?.stdout, child?.stderr].filter((s) => s && !s.readableEnded).length;
      if (pipesOpen === 0) return done();
      const timer = setTimeout(done, 200);
      for (const s of [child?.stdout, child?.stderr]) {
        s?.once('end', () => {
          if (--pipesOpen === 0) {
            clearTimeout(timer);
            done();
          }
        });
      }
    };
    if (!child) queueMicrotask(() => finish(null, null));
    child?.once('exit', (code, signal) => finish(code, signal));
    child?.once('error', (err) => finish(null, null, err));
  }

  private describeExit(code: number | null, signal: NodeJS.Signals | null): ContainerExit {
    const base = { startedAt: this.startedAt, finishedAt: new Date() };
    // 126/127 are what unshare/setpriv exit with when the program cannot be executed.
    if (this.execFailure !== undefined && (code === null || code === 126 || code === 127)) {
      return {
        ...base,
        exitCode: 128,
        reason: 'StartError',
        message: `failed to start container: ${this.execFailure}`,
      };
    }
    if (this.killedFor === 'oom') return { ...base, exitCode: 137, signal: 'SIGKILL', reason: 'OOMKilled' };
    let exitCode = code ?? 0;
    let sig: NodeJS.Signals | undefined = signal ?? undefined;
    if (signal) exitCode = 128 + (osConstants.signals[signal] ?? 0);
    else if (this.diedBySignal) {
      // The signal itself is lost (see UNSHARE_SIGNAL_NOISE); ours was SIGKILL, anyone else's most likely too.
      exitCode = 137;
      sig = 'SIGKILL';
    }
    return {
      ...base,
      exitCode,
      ...(sig ? { signal: sig } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
    };
  }

  private emitOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    for (const tap of this.taps) tap(stream, chunk);
  }

  /** What the program writes from now on, besides its log (`kubectl attach`); returns the way to stop. */
  tapOutput(tap: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get exitStatus(): ContainerExit | undefined {
    return this.exit;
  }

  /** The process group (and session) every process of the container starts in. */
  get pgid(): number {
    return this.pid;
  }

  /** SIGTERM to the container's main process, SIGKILL after the grace period; resolves with the exit. */
  stop(gracePeriodSeconds = 30): Promise<ContainerExit> {
    if (this.exit) return this.exited;
    this.killedFor ??= 'stop';
    this.sendTerm();
    if (gracePeriodSeconds <= 0) this.signalGroup('SIGKILL');
    else {
      this.graceTimer ??= setTimeout(() => this.signalGroup('SIGKILL'), gracePeriodSeconds * 1000);
    }
    return this.exited;
  }

  /**
   * One SIGTERM to the container's main process, as upstream's runtime sends it. Without namespaces that is the
   * process kubemu started (and its group). With them it is the program that kubemu's init (isolation.ts
   * INIT_SCRIPT) runs, signalled once it exists: a container stopped while its launch chain still sets it up gets
   * its SIGTERM as soon as its program has been exec'd (checked in /proc every few ms), never lost on the way.
   */
  private sendTerm(): void {
    if (this.termSent) return;
    this.termSent = true;
    if (this.mode === 'none') return this.signalGroup('SIGTERM');
    const attempt = (): void => {
      this.termTimer = undefined;
      if (this.exit) return;
      const program = this.programPid();
      if (program !== undefined) {
        try {
          process.kill(program, 'SIGTERM');
        } catch {
          // already gone
        }
        return;
      }
      this.termTimer = setTimeout(attempt, TERM_POLL_MS);
    };
    attempt();
  }

  /**
   * The program's PID, once the init runs it: the init's first child after it exec'd (before, it is a copy of the
   * init's shell, whose inherited handlers would swallow the signal).
   */
  private programPid(): number | undefined {
    const init = this.namespaceInit();
    if (init === undefined || argv(init)?.[2] !== INIT_SCRIPT) return undefined;
    const child = firstChild(init);
    if (child === undefined) return undefined;
    const args = argv(child);
    return args !== undefined && args[2] !== INIT_SCRIPT ? child : undefined;
  }

  /** Immediate SIGKILL of the whole container. */
  kill(): Promise<ContainerExit> {
    if (this.exit) return this.exited;
    this.killedFor ??= 'stop';
    this.signalGroup('SIGKILL');
    return this.exited;
  }

  /** Called by the runtime when the container's memory exceeds its limit. */
  oomKill(): void {
    if (this.exit) return;
    this.killedFor = 'oom';
    this.signalGroup('SIGKILL');
  }

  /** Samples usage from a /proc snapshot (the runtime shares one snapshot between all containers). */
  sampleUsage(procs: Parameters<UsageTracker['sample']>[0], now?: number): ContainerUsage {
    return this.tracker.sample(procs, now);
  }

  get usage(): ContainerUsage | undefined {
    return this.tracker.latest;
  }

  /**
   * Resolves true once the container's root is set up (its init runs INIT_SCRIPT in the private root), false after
   * `timeoutMs` or when it exited: a command entering the container before would see the node's filesystem, not the
   * container's (runtime.execLine refuses to).
   */
  async whenSetUp(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running && Date.now() < deadline) {
      if (this.isSetUp()) return true;
      await new Promise((r) => setTimeout(r, TERM_POLL_MS));
    }
    return this.isSetUp();
  }

  /** Whether the container's init runs in its private root (always, without namespaces). */
  isSetUp(): boolean {
    if (this.mode === 'none') return true;
    const init = this.namespaceInit();
    return init !== undefined && argv(init)?.[2] === INIT_SCRIPT;
  }

  /** PID of the container's first process inside its namespaces (what `nsenter` joins); the spawned pid without. */
  initPid(): number {
    if (this.mode === 'none') return this.pid;
    return this.namespaceInit() ?? this.pid;
  }

  /** The PID namespace's init (the child `unshare --fork` made), once it exists. */
  private namespaceInit(): number | undefined {
    return this.pid > 0 ? firstChild(this.pid) : undefined;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pgid, signal);
    } catch {
      // already gone
    }
  }
}
