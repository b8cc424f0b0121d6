// One etcd member's state as `etcdctl endpoint status` sees it, through etcd's v3 JSON gateway
// (POST /v3/maintenance/status on the member's client URL): leader, follower, or not answering within a second.
// Used by `kubemu status` and by the apiserver for the dashboard's control-plane panel.
import { request } from 'node:http';

export type EtcdMemberState = 'leader' | 'follower' | 'not answering';

export interface EtcdMemberStatus {
  endpoint: string;
  state: EtcdMemberState;
  raftTerm?: string;
}

interface MaintenanceStatus {
  header?: { member_id?: string; raft_term?: string };
  leader?: string;
}

function maintenanceStatus(endpoint: string, timeoutMs: number): Promise<MaintenanceStatus | undefined> {
  return new Promise((resolve) => {
    const req = request(
      `${endpoint}/v3/maintenance/status`,
      { method: 'POST', timeout: timeoutMs, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? (JSON.parse(body) as MaintenanceStatus) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end('{}');
  });
}

/** The member at `endpoint` (an http:// client URL): never rejects, 'not answering' when it does not in time. */
export async function etcdMemberStatus(endpoint: string, timeoutMs = 1_000): Promise<EtcdMemberStatus> {
  const s = await maintenanceStatus(endpoint, timeoutMs);
  const state: EtcdMemberState = !s
    ? 'not answering'
    : s.leader !== undefined && s.leader === s.header?.member_id
      ? 'leader'
      : 'follower';
  return { endpoint, state, ...(s?.header?.raft_term ? { raftTerm: s.header.raft_term } : {}) };
}
