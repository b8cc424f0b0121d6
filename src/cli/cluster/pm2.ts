// pm2 with its home inside one cluster's state dir: start, list and stop that cluster's processes, never another's.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ProcessDescription, StartOptions } from 'pm2';
import { isAlive } from './processes.js';

export interface ManagedProcess {
  name: string;
  pid: number;
  /** pm2's status: online, stopping, stopped, launching, errored, one-launch-status */
  status: string;
  restarts: number;
}

export interface ProcessSpec {
  name: string;
  /** the program: node (default), or a launcher such as nsenter whose args name node themselves */
  command?: string;
  /** argv after the program */
  args: string[];
  env: Record<string, string>;
  /** stdout and stderr both go here */
  logFile: string;
  cwd: string;
}

/** The pm2 daemon of `pm2Home`, if its pid file names a live process. */
export function daemonPid(pm2Home: string): number | undefined {
  const file = join(pm2Home, 'pm2.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

type Callback<T> = (err: Error | null, result: T) => void;
const call = <T>(fn: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, result) => (err ? reject(toError(err)) : resolve(result))));

// pm2 sometimes calls back with an array of errors or a plain object
function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (Array.isArray(err) && err[0] instanceof Error) return err[0];
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

interface Pm2Api {
  connect(cb: Callback<unknown>): void;
  /** one process, or an ecosystem file's apps */
  start(opts: StartOptions | { apps: StartOptions[] }, cb: Callback<unknown>): void;
  list(cb: Callback<ProcessDescription[]>): void;
  delete(target: string, cb: Callback<unknown>): void;
  killDaemon(cb: Callback<unknown>): void;
  disconnect(): void;
}

/** pm2's options for one process (an ecosystem file's app) */
function appOptions(spec: ProcessSpec): StartOptions {
  return {
    name: spec.name,
    script: spec.command ?? process.execPath,
    interpreter: 'none',
    args: spec.args,
    cwd: spec.cwd,
    env: spec.env,
    output: spec.logFile,
    error: spec.logFile,
    merge_logs: true,
    autorestart: true,
    restart_delay: 500,
    // a component that dies within a second of starting counts as unstable; 10 of those → errored
    min_uptime: 1_000,
    max_restarts: 10,
    kill_timeout: 3_000,
  };
}

/** A connection to one cluster's pm2 daemon. */
export class Pm2Cluster {
  private constructor(
    private readonly api: Pm2Api,
    readonly pm2Home: string,
  ) {}

  /**
   * Connects to the daemon of `pm2Home`, starting it when `spawnDaemon` (else fails when none runs,
   * so `status` never leaves a stray daemon behind).
   */
  static async connect(pm2Home: string, spawnDaemon: boolean): Promise<Pm2Cluster> {
    if (!spawnDaemon && daemonPid(pm2Home) === undefined)
      throw new Error(`no pm2 daemon runs for ${pm2Home}`);
    // pm2 reads PM2_HOME when first loaded; set it too so nothing falls back to ~/.pm2
    process.env['PM2_HOME'] = pm2Home;
    // the daemon boots (a few hundred ms of its own) while this process loads pm2's client
    const launched = spawnDaemon && daemonPid(pm2Home) === undefined ? launchDaemon(pm2Home) : undefined;
    const [{ default: pm2 }] = await Promise.all([import('pm2'), launched]);
    const Custom = (pm2 as unknown as { custom: new (opts: object) => Pm2Api }).custom;
    const api = new Custom({ pm2_home: pm2Home, daemon_mode: true });
    await call((cb) => api.connect(cb));
    return new Pm2Cluster(api, pm2Home);
  }

  async start(spec: ProcessSpec): Promise<void> {
    await this.startAll([spec]);
  }

  /**
   * Starts `specs` with one request, as an ecosystem file's `apps` (pm2's `start` of a config): pm2 asks its daemon
   * for the process list once for the whole batch, where a `start` per process asked it before each (the daemon
   * samples every process's CPU and memory and sends back every process's whole environment for each list).
   */
  async startAll(specs: readonly ProcessSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const started = (await call<unknown>((cb) => this.api.start({ apps: specs.map(appOptions) }, cb))) as
      { pm2_env?: { name?: string } }[] | undefined;
    // pm2 reports a process it could not launch on its own output and goes on with the others
    const names = new Set((started ?? []).map((p) => p.pm2_env?.name));
    const missing = specs.filter((s) => !names.has(s.name)).map((s) => s.name);
    if (missing.length > 0) throw new Error(`pm2 did not start ${missing.join(', ')}`);
  }

  async list(): Promise<ManagedProcess[]> {
    const all = await call<ProcessDescription[]>((cb) => this.api.list(cb));
    return all.map((p) => {
      const env = (p.pm2_env ?? {}) as { status?: string; restart_time?: number };
      return {
        name: p.name ?? '?',
        pid: p.pid ?? 0,
        status: env.status ?? 'unknown',
        restarts: env.restart_time ?? 0,
      };
    });
  }

  /** Deletes one process (pm2 kills its process tree: a kubelet's containers with it). */
  async delete(name: string): Promise<void> {
    await call((cb) => this.api.delete(name, cb));
  }

  /** Deletes every process (pm2 kills each process tree), then stops the daemon itself. */
  async stopAll(): Promise<void> {
    try {
      await call((cb) => this.api.delete('all', cb));
    } catch {
      // nothing to delete
    }
    await call((cb) => this.api.killDaemon(cb));
  }

  disconnect(): void {
    this.api.disconnect();
  }
}

/**
 * pm2's settings (`pm2 set`, kept in PM2_HOME/module_conf.json): `pm2:sysmonit false` turns off the host metrics pm2 7
 * collects for pm2.io (it ran `df` and read /proc's disk, network and CPU files as its daemon started, while it was
 * starting the cluster's components, and every 30 s after). kubemu never links pm2.io; its own metrics are its own.
 */
export function writePm2Settings(file: string): void {
  let conf: { pm2?: Record<string, unknown> } = {};
  try {
    conf = JSON.parse(readFileSync(file, 'utf8')) as typeof conf;
  } catch {
    // none yet (or unreadable: pm2 would read it as {} too)
  }
  if (conf.pm2?.['sysmonit'] === 'false') return;
  writeFileSync(file, JSON.stringify({ ...conf, pm2: { ...conf.pm2, sysmonit: 'false' } }));
}

/**
 * Starts pm2's daemon for `pm2Home` as pm2's client does (Client.launchDaemon: `node lib/Daemon.js`, detached, its
 * output in pm2.log, the same environment), without loading the client first; resolves when it reports itself
 * online. The client, connected after, finds it running. Left out: pm2's Keymetrics agent, which kubemu never links.
 */
export function launchDaemon(pm2Home: string): Promise<void> {
  const pm2Dir = dirname(createRequire(import.meta.url).resolve('pm2/package.json'));
  // the layout the client makes on construction (Client.initFileStructure)
  for (const dir of ['logs', 'pids', 'modules']) mkdirSync(join(pm2Home, dir), { recursive: true });
  writePm2Settings(join(pm2Home, 'module_conf.json'));
  const log = openSync(join(pm2Home, 'pm2.log'), 'a');
  try {
    const child = spawn(process.execPath, [join(pm2Dir, 'lib', 'Daemon.js')], {
      detached: true,
      cwd: process.cwd(),
      // what pm2's client passes: its defaults under this process's environment, in which loading pm2 set
      // PM2_PROGRAMMATIC (the components inherit the daemon's environment)
      env: { SILENT: 'true', PM2_HOME: pm2Home, ...process.env, PM2_PROGRAMMATIC: 'true' },
      stdio: ['ignore', log, log, 'ipc'],
    });
    child.unref();
    return new Promise((resolve, reject) => {
      const exited = (code: number | null): void =>
        reject(
          new Error(
            `the pm2 daemon exited (code ${code}) before it was online; see ${join(pm2Home, 'pm2.log')}`,
          ),
        );
      child.once('error', reject);
      child.once('exit', exited);
      child.once('message', () => {
        child.removeListener('exit', exited);
        child.disconnect();
        resolve();
      });
    });
  } finally {
    closeSync(log);
  }
}
