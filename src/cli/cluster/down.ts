// `kubemu down`: stop every process of a cluster, check by PID that none is left, drop its kubeconfig context.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeKubeletScratch } from '../../kubelet/scratch.js';
import { removeFromKubeconfig } from '../../util/kubeconfig.js';
import { CliError } from '../cli-error.js';
import { clusterPaths } from './layout.js';
import { Pm2Cluster } from './pm2.js';
import { isAlive, terminate } from './processes.js';
import { clusterPids, runningState } from './running.js';
import { isHolder, networkPids, stopClusterNetwork } from './network.js';

export interface DownOptions {
  name: string;
  stateDir: string;
  purge: boolean;
  /** a kubeconfig to clean besides the one `up` recorded */
  kubeconfig?: string;
  out?: NodeJS.WritableStream;
}

export interface DownResult {
  /** every PID that belonged to the cluster when down started (all gone now) */
  stoppedPids: number[];
  wasRunning: boolean;
}

/** Refuse to delete anything that does not look like a kubemu state dir (a typo'd --state-dir / would hurt). */
function looksLikeStateDir(dir: string): boolean {
  const abs = resolve(dir);
  if (abs === '/' || abs === homedir()) return false;
  return ['tokens.csv', 'pki', 'cluster.json', 'pm2'].some((f) => existsSync(join(abs, f)));
}

export async function down(opts: DownOptions): Promise<DownResult> {
  const out = opts.out ?? process.stdout;
  const { name, stateDir } = opts;
  const paths = clusterPaths(stateDir);
  if (!existsSync(stateDir)) throw new CliError(`no cluster "${name}": state dir ${stateDir} does not exist`);
  const state = runningState(stateDir);
  const record = state.record;

  let pm2: Pm2Cluster | undefined;
  const componentPids = Object.values(state.livePids);
  if (state.daemonPid !== undefined) {
    pm2 = await Pm2Cluster.connect(paths.pm2Home, false);
    componentPids.push(...(await pm2.list()).map((p) => p.pid).filter((pid) => pid > 0));
  }
  // the whole tree, collected before anything stops: pod containers are the kubelets' children
  const pids = clusterPids([...new Set(componentPids)]);
  if (record?.mode === 'foreground' && record.supervisorPid && isAlive(record.supervisorPid))
    pids.push(record.supervisorPid);
  if (state.daemonPid !== undefined) pids.push(state.daemonPid);

  if (pm2) {
    await pm2.stopAll();
    pm2.disconnect();
  }
  const left = await terminate(pids.filter(isAlive), 5_000);
  // netns: the node and sandbox holders last; their namespaces, veths and mounts go with them
  if (record?.network) {
    await stopClusterNetwork(record.network);
    left.push(...networkPids(record.network).filter(isHolder));
  }
  if (left.length > 0) {
    throw new CliError(`cluster "${name}": processes ${left.join(', ')} are still alive after SIGKILL`);
  }

  removeNodeScratch(paths.stateDir);

  for (const file of new Set([record?.kubeconfig, opts.kubeconfig].filter((f): f is string => !!f)))
    removeFromKubeconfig(file, name);
  rmSync(paths.runRecord, { force: true });
  if (opts.purge) {
    if (!looksLikeStateDir(stateDir))
      throw new CliError(`not purging ${stateDir}: it does not look like a kubemu state dir`);
    rmSync(stateDir, { recursive: true, force: true });
  }
  out.write(
    state.running
      ? `cluster "${name}" stopped (${pids.length} processes)` +
          (opts.purge ? `; state dir ${stateDir} removed.\n` : `; state kept in ${stateDir}.\n`)
      : `cluster "${name}" was not running` + (opts.purge ? `; state dir ${stateDir} removed.\n` : '.\n'),
  );
  return { stoppedPids: pids, wasRunning: state.running };
}

/** What the nodes' kubelets keep outside the state dir (run dirs on tmpfs, CPU cgroups), should one have died hard. */
function removeNodeScratch(stateDir: string): void {
  let nodes: string[];
  try {
    nodes = readdirSync(join(stateDir, 'nodes'));
  } catch {
    return;
  }
  for (const node of nodes) removeKubeletScratch(join(stateDir, 'nodes', node));
}
