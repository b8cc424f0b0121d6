// Runs a cluster's processes: under pm2 (background) or as direct children (foreground); both look alike to `up`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { ManagedProcess, ProcessSpec } from './pm2.js';
import { descendants, terminate } from './processes.js';
import { privateDir, privateFile } from '../../util/private-files.js';

export interface Supervisor {
  start(spec: ProcessSpec): Promise<void>;
  /** starts these together (pm2: one request for all) */
  startAll(specs: readonly ProcessSpec[]): Promise<void>;
  list(): Promise<ManagedProcess[]>;
  /** stop every process it started (and, for pm2, the daemon) */
  stopAll(): Promise<void>;
}

interface Child {
  spec: ProcessSpec;
  process: ChildProcess;
  log: WriteStream;
  startedAt: number;
  restarts: number;
  /** the next restart's delay */
  delayMs: number;
  restartTimer?: NodeJS.Timeout;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** How the foreground supervisor restarts a component that exited. */
export interface RestartPolicy {
  /** the first restart's delay (pm2's restart_delay, 500 ms, in the background mode) */
  initialDelayMs: number;
  /** a component that keeps dying waits twice as long each time, up to this (as a kubelet's CrashLoopBackOff) */
  maxDelayMs: number;
  /** a run this long counts as stable: the next restart waits initialDelayMs again */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  resetAfterMs: 10_000,
};

export interface DirectSupervisorOptions {
  /** every line a component prints (and the supervisor's own lines about it, as pino JSON) */
  onLine?: (name: string, line: string) => void;
  /** a component was started again (its new PID) */
  onRestart?: (name: string, pid: number) => void;
  restart?: RestartPolicy;
}

/**
 * Foreground supervision: each component is a child of this process, its output appended to its log file
 * and handed line by line to `onLine`. A component that exits, whatever its status, is started again after a
 * backoff, as pm2 does in the background mode: the cluster must not lose its scheduler because nobody watched.
 */
export class DirectSupervisor implements Supervisor {
  private readonly children: Child[] = [];
  private stopping = false;
  private readonly onLine: (name: string, line: string) => void;
  private readonly policy: RestartPolicy;

  constructor(private readonly opts: DirectSupervisorOptions = {}) {
    this.onLine = opts.onLine ?? (() => {});
    this.policy = opts.restart ?? DEFAULT_RESTART_POLICY;
    // if this process ends without stopAll (an uncaught error), take the children with it
    process.once('exit', () => {
      for (const c of this.children) if (!c.exit) c.process.kill('SIGKILL');
    });
  }

  start(spec: ProcessSpec): Promise<void> {
    privateDir(dirname(spec.logFile));
    privateFile(spec.logFile);
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const entry: Child = {
      spec,
      process: this.spawn(spec, log),
      log,
      startedAt: Date.now(),
      restarts: 0,
      delayMs: this.policy.initialDelayMs,
    };
    this.children.push(entry);
    this.watch(entry);
    return new Promise((resolve, reject) => {
      entry.process.once('spawn', () => resolve());
      entry.process.once('error', reject);
    });
  }

  async startAll(specs: readonly ProcessSpec[]): Promise<void> {
    await Promise.all(specs.map((spec) => this.start(spec)));
  }

  private spawn(spec: ProcessSpec, log: WriteStream): ChildProcess {
    const child = spawn(spec.command ?? process.execPath, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.write(`${line}\n`);
        this.onLine(spec.name, line);
      });
    }
    return child;
  }

  /** Restarts the entry's process when it exits (not when the supervisor stops it). */
  private watch(entry: Child): void {
    const child = entry.process;
    // a spawn failure ('error' without 'exit') counts as an exit too
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (entry.process !== child || entry.exit) return;
      entry.exit = { code, signal };
      if (this.stopping) return;
      if (Date.now() - entry.startedAt >= this.policy.resetAfterMs)
        entry.delayMs = this.policy.initialDelayMs;
      const delay = entry.delayMs;
      entry.delayMs = Math.min(delay * 2, this.policy.maxDelayMs);
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      this.note(entry, 50, `${entry.spec.name} (pid ${child.pid}) ${how}; restarting in ${delay / 1000}s`);
      entry.restartTimer = setTimeout(() => this.restart(entry), delay);
    };
    child.once('exit', onExit);
    child.once('error', () => onExit(1, null));
  }

  private restart(entry: Child): void {
    entry.restartTimer = undefined;
    if (this.stopping) return;
    entry.process = this.spawn(entry.spec, entry.log);
    entry.startedAt = Date.now();
    entry.restarts++;
    delete entry.exit;
    this.watch(entry);
    entry.process.once('spawn', () => {
      const pid = entry.process.pid ?? 0;
      this.note(entry, 30, `${entry.spec.name} restarted (pid ${pid}, restart ${entry.restarts})`);
      this.opts.onRestart?.(entry.spec.name, pid);
    });
  }

  /** The supervisor's own line about a component, in its log file and its stream, shaped like the components'. */
  private note(entry: Child, level: number, msg: string): void {
    const line = JSON.stringify({ level, time: new Date().toISOString(), component: 'supervisor', msg });
    entry.log.write(`${line}\n`);
    this.onLine(entry.spec.name, line);
  }

  list(): Promise<ManagedProcess[]> {
    return Promise.resolve(
      this.children.map((c) => ({
        name: c.spec.name,
        pid: c.process.pid ?? 0,
        // between an exit and its restart a component counts as errored, as pm2 shows it
        status: !c.exit ? 'online' : this.stopping ? 'stopped' : 'errored',
        restarts: c.restarts,
      })),
    );
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const c of this.children) clearTimeout(c.restartTimer);
    const pids = this.children.filter((c) => !c.exit && c.process.pid).map((c) => c.process.pid!);
    // containers are the kubelets' children: collect them before their parents go
    const all = [...pids, ...pids.flatMap(descendants)];
    await terminate(pids, 5_000);
    await terminate(all, 1_000);
    for (const c of this.children) c.log.end();
  }
}
