// Chaos for a local cluster run by pm2 (`kubemu up`): signals by PID, pm2 stop/restart to keep things down or up.
import type { ProcessDescription } from 'pm2';
import { clusterPaths } from '../cli/cluster/layout.js';
import { daemonPid } from '../cli/cluster/pm2.js';
import { descendants, isAlive } from '../cli/cluster/processes.js';
import {
  ChaosError,
  formatMs,
  plainHint,
  pollFor,
  sleep,
  type ChaosBackend,
  type CommandHint,
} from './chaos.js';

type Callback<T> = (err: unknown, result: T) => void;
interface Pm2Api {
  connect(cb: Callback<unknown>): void;
  list(cb: Callback<ProcessDescription[]>): void;
  stop(name: string, cb: Callback<unknown>): void;
  restart(name: string, cb: Callback<unknown>): void;
  disconnect(): void;
}

interface Proc {
  name: string;
  pid: number;
  status: string;
}

const call = <T>(fn: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) =>
    fn((err, result) =>
      err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(result),
    ),
  );

function signalAll(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    if (!(pid > 1)) continue; // kill(0)/kill(-1) would signal whole process groups
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export class Pm2Chaos implements ChaosBackend {
  private constructor(
    private readonly api: Pm2Api,
    private readonly hint: CommandHint,
  ) {}

  /** Connects to the pm2 daemon in the cluster's state dir; fails when none runs (never starts one). */
  static async connect(stateDir: string, hint: CommandHint = plainHint): Promise<Pm2Chaos> {
    const pm2Home = clusterPaths(stateDir).pm2Home;
    if (daemonPid(pm2Home) === undefined)
      throw new ChaosError(
        `no pm2 daemon runs for the cluster in ${stateDir} (is it up? '${hint('status')}')`,
      );
    process.env['PM2_HOME'] = pm2Home;
    const { default: pm2 } = await import('pm2');
    const Custom = (pm2 as unknown as { custom: new (opts: object) => Pm2Api }).custom;
    const api = new Custom({ pm2_home: pm2Home, daemon_mode: true });
    await call((cb) => api.connect(cb));
    return new Pm2Chaos(api, hint);
  }

  private async list(): Promise<Proc[]> {
    const all = await call<ProcessDescription[]>((cb) => this.api.list(cb));
    return all.map((p) => ({
      name: p.name ?? '?',
      pid: p.pid ?? 0,
      status: (p.pm2_env as { status?: string } | undefined)?.status ?? 'unknown',
    }));
  }

  /** The node's processes: every pm2 process named `<kind>-<node>` (kubelet-node-2, kube-proxy-node-2). */
  private async nodeProcs(node: string): Promise<Proc[]> {
    const all = await this.list();
    const procs = all.filter((p) => p.name.endsWith(`-${node}`));
    if (procs.length === 0) {
      const nodes = [...new Set(all.map((p) => /-(node-\d+)$/.exec(p.name)?.[1]).filter(Boolean))];
      throw new ChaosError(`no node "${node}" in this cluster (nodes: ${nodes.join(', ') || 'none'})`);
    }
    return procs;
  }

  async killNode(node: string): Promise<string[]> {
    const procs = (await this.nodeProcs(node)).filter((p) => p.pid > 0 && isAlive(p.pid));
    if (procs.length === 0) return [`${node} is already down`];
    const pods = procs.flatMap((p) => descendants(p.pid));
    // power loss: everything at once, then tell pm2 to leave them stopped (stop cancels the pending restart)
    signalAll([...procs.map((p) => p.pid), ...pods], 'SIGKILL');
    for (const p of procs) await call((cb) => this.api.stop(p.name, cb));
    const left = await pollFor(5_000, () => {
      const alive = [...procs.map((p) => p.pid), ...pods].filter(isAlive);
      return Promise.resolve(alive.length === 0 ? [] : undefined);
    });
    const what = procs.map((p) => `${p.name} pid ${p.pid}`).join(', ');
    return [
      `killed ${node} (${what}; ${pods.length} pod process(es) with it)` +
        (left ? '' : ' — some processes are still alive') +
        `; it stays down until '${this.hint(`chaos restart-node ${node}`)}'`,
    ];
  }

  async pauseNode(node: string, ms: number, onPaused?: (line: string) => void): Promise<string[]> {
    const procs = (await this.nodeProcs(node)).filter((p) => p.pid > 0 && isAlive(p.pid));
    const pids = [...procs.map((p) => p.pid), ...procs.flatMap((p) => descendants(p.pid))];
    return freeze(
      pids,
      `paused ${node} (SIGSTOP to ${pids.length} process(es): ${procs.map((p) => `${p.name} pid ${p.pid}`).join(', ')}) for ${formatMs(ms)}`,
      `resumed ${node} (SIGCONT)`,
      ms,
      onPaused,
    );
  }

  async restartNode(node: string): Promise<string[]> {
    const procs = await this.nodeProcs(node);
    // a paused node is thawed first, so pm2's restart can stop it gracefully
    signalAll(
      procs.filter((p) => p.pid > 0).flatMap((p) => [p.pid, ...descendants(p.pid)]),
      'SIGCONT',
    );
    for (const p of procs) await call((cb) => this.api.restart(p.name, cb));
    const now = await this.nodeProcs(node);
    return [`restarted ${node} (${now.map((p) => `${p.name} pid ${p.pid} ${p.status}`).join(', ')})`];
  }

  async kill(component: string): Promise<string[]> {
    const proc = await this.component(component);
    if (proc.pid <= 0 || !isAlive(proc.pid)) return [`${component} is not running (${proc.status})`];
    signalAll([proc.pid], 'SIGKILL');
    const next = await pollFor(15_000, async () => {
      const p = (await this.list()).find((q) => q.name === component);
      return p && p.pid > 0 && p.pid !== proc.pid && p.status === 'online' ? p : undefined;
    });
    return [
      `killed ${component} (pid ${proc.pid}) with SIGKILL; ` +
        (next ? `pm2 restarted it as pid ${next.pid}` : 'pm2 has not restarted it yet'),
    ];
  }

  async pause(component: string, ms: number, onPaused?: (line: string) => void): Promise<string[]> {
    const proc = await this.component(component);
    if (proc.pid <= 0 || !isAlive(proc.pid)) return [`${component} is not running (${proc.status})`];
    // the component and what it started (a kubelet's pods): all frozen, as a VM paused
    const pids = [proc.pid, ...descendants(proc.pid)];
    return freeze(
      pids,
      `paused ${component} (SIGSTOP to pid ${pids.join(', ')}) for ${formatMs(ms)}`,
      `resumed ${component} (SIGCONT)`,
      ms,
      onPaused,
    );
  }

  /** The pm2 process named `component`; an unknown name is an error listing the cluster's components. */
  private async component(component: string): Promise<Proc> {
    const all = await this.list();
    const proc = all.find((p) => p.name === component);
    if (!proc)
      throw new ChaosError(
        `no component "${component}" in this cluster (components: ${all.map((p) => p.name).join(', ')})`,
      );
    return proc;
  }

  close(): void {
    this.api.disconnect();
  }
}

/** SIGSTOP `pids` for `ms` (alive but silent, as a paused VM), then SIGCONT; says when it took hold. */
async function freeze(
  pids: number[],
  paused: string,
  resumed: string,
  ms: number,
  onPaused?: (line: string) => void,
): Promise<string[]> {
  signalAll(pids, 'SIGSTOP');
  onPaused?.(paused);
  await sleep(ms);
  signalAll(pids, 'SIGCONT');
  return [paused, resumed];
}
