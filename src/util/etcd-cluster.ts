// A local etcd cluster of N members (Debian's etcd-server) on 127.0.0.1 free ports, each with its own data dir
// under one directory: started together, a member killed (SIGKILL, by its PID) and started again on its ports and
// data, the raft leader found through each member's /v3/maintenance/status. Tests and benches run it.
import { join } from 'node:path';
import { freeLocalPort, startEtcdMember, type EtcdMember } from './etcd-member.js';
import { stopChild } from './stop-child.js';

export interface EtcdClusterOptions {
  /** the members' data dirs go under it (`etcd-0`, `etcd-1`, ...) */
  dir: string;
  /** members (default 3) */
  size?: number;
  /**
   * etcd's --heartbeat-interval and --election-timeout in ms (etcd's defaults: 100 and 1000). Compressed values
   * (e.g. 10 and 100) make a leader's death noticed and a new one elected in a fraction of a second.
   */
  heartbeatMs?: number;
  electionMs?: number;
  startTimeoutMs?: number;
}

interface Slot {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  member: EtcdMember | undefined;
}

export interface EtcdCluster {
  /** every member's client URL, for --etcd-servers */
  endpoints: string[];
  /** the running member at index i (undefined while it is down) */
  member(i: number): EtcdMember | undefined;
  /** index of the member that is the raft leader now (asked of the running members), or -1 */
  leader(): Promise<number>;
  /** SIGKILL member i by its PID (a crash), resolved once it has exited */
  kill(i: number): Promise<void>;
  /** start member i again on its ports and data dir; resolves once it answers /health (the cluster has quorum) */
  start(i: number): Promise<void>;
  /** every member stopped (SIGTERM by PID, SIGKILL after a grace period) */
  stop(): Promise<void>;
}

/** etcd's maintenance status of one member: its own id and the leader's, or undefined when it does not answer */
async function status(endpoint: string): Promise<{ member: string; leader: string } | undefined> {
  try {
    const res = await fetch(`${endpoint}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1000),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    if (!body.header?.member_id || !body.leader) return undefined;
    return { member: body.header.member_id, leader: body.leader };
  } catch {
    return undefined;
  }
}

export async function startEtcdCluster(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  const size = opts.size ?? 3;
  const slots: Slot[] = [];
  for (let i = 0; i < size; i++) {
    slots.push({
      name: `etcd-${i}`,
      clientPort: await freeLocalPort(),
      peerPort: await freeLocalPort(),
      dataDir: join(opts.dir, `etcd-${i}`),
      member: undefined,
    });
  }
  const initialCluster = slots.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const timing = [
    ...(opts.heartbeatMs ? [`--heartbeat-interval=${opts.heartbeatMs}`] : []),
    ...(opts.electionMs ? [`--election-timeout=${opts.electionMs}`] : []),
  ];
  const launch = async (s: Slot): Promise<void> => {
    s.member = await startEtcdMember({
      dataDir: s.dataDir,
      name: s.name,
      clientPort: s.clientPort,
      peerPort: s.peerPort,
      initialCluster,
      extraArgs: ['--initial-cluster-token=kubemu', ...timing],
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    });
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(
      slots.map(async (s) => {
        const m = s.member;
        s.member = undefined;
        if (m) await m.stop();
      }),
    );
  };
  const started = await Promise.allSettled(slots.map(launch));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  return {
    endpoints: slots.map((s) => `http://127.0.0.1:${s.clientPort}`),
    member: (i) => slots[i].member,
    async leader() {
      const seen = await Promise.all(
        slots.map((s) => (s.member ? status(s.member.endpoint) : Promise.resolve(undefined))),
      );
      const leaderId = seen.find((x) => x)?.leader;
      return leaderId === undefined ? -1 : seen.findIndex((x) => x?.member === leaderId);
    },
    async kill(i) {
      const m = slots[i].member;
      slots[i].member = undefined;
      if (m) await stopChild(m.child, 'SIGKILL', 0);
    },
    async start(i) {
      if (!slots[i].member) await launch(slots[i]);
    },
    stop: stopAll,
  };
}
