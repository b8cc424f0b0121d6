// The first instant of `kubemu chaos kill-node` on a pm2 cluster: freeze the node's processes (SIGSTOP) straight
// from /proc, before the pm2 client is loaded and connected (a third of a second of CPU, more on a busy machine).
// A frozen kubelet renews no lease and answers nothing, as a node that lost power; the pm2 backend then SIGKILLs
// them and stops them in pm2. Were the kill done first, pm2 would restart the kubelet before it was told to stop.
import { descendants, isAlive, commandLine, childrenOf } from '../cli/cluster/processes.js';

/** A node's component processes: direct children of the pm2 daemon run with `--node-name <node>`. */
export function nodeProcesses(daemonPid: number, node: string): number[] {
  return childrenOf(daemonPid).filter((pid) => {
    const argv = commandLine(pid).split(' ');
    const i = argv.indexOf('--node-name');
    return i > 0 && argv[i + 1] === node;
  });
}

export interface Frozen {
  /** the node's component processes and their descendants (pods), as stopped */
  pids: number[];
  /** SIGCONT to each: when the kill could not go on */
  thaw(): void;
}

/** SIGSTOPs the node's processes and their descendants; `pids` is empty when none was found. */
export function freezeNode(daemonPid: number, node: string): Frozen {
  const procs = nodeProcesses(daemonPid, node);
  const pids = [...procs, ...procs.flatMap(descendants)];
  // the components first: a kubelet frozen after its pods could still report them dead
  for (const pid of pids) signal(pid, 'SIGSTOP');
  return {
    pids,
    thaw: () => {
      for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGCONT');
    },
  };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  if (!(pid > 1)) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
