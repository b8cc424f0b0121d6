// Whether a cluster's processes are running, and every PID that belongs to it (for status and down).
import { clusterPaths, readRunRecord, type RunRecord } from './layout.js';
import { daemonPid } from './pm2.js';
import { descendants, isOurs } from './processes.js';
import { isHolder } from './network.js';

export interface RunningState {
  record: RunRecord | undefined;
  /** the pm2 daemon of this cluster's PM2_HOME, if alive */
  daemonPid: number | undefined;
  /** recorded component PIDs that are still alive and still ours */
  livePids: Record<string, number>;
  running: boolean;
}

export function runningState(stateDir: string): RunningState {
  const record = readRunRecord(stateDir);
  const daemon = daemonPid(clusterPaths(stateDir).pm2Home);
  const livePids: Record<string, number> = {};
  for (const [name, pid] of Object.entries(record?.pids ?? {})) {
    if (isOurs(pid, stateDir)) livePids[name] = pid;
  }
  const supervisorAlive =
    record?.mode === 'foreground' &&
    record.supervisorPid !== undefined &&
    isOurs(record.supervisorPid, '--foreground');
  return {
    record,
    daemonPid: daemon,
    livePids,
    running:
      daemon !== undefined ||
      Object.keys(livePids).length > 0 ||
      supervisorAlive ||
      // netns: a sandbox left after its components died (kill -9) still needs `down`
      (record?.network !== undefined && isHolder(record.network.sandboxPid)),
  };
}

/** Component PIDs plus all their descendants (pod containers), alive and ours or not yet gone. */
export function clusterPids(pids: readonly number[]): number[] {
  const real = pids.filter((pid) => pid > 1);
  return [...new Set([...real, ...real.flatMap(descendants)])];
}
