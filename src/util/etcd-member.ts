// One local etcd member (Debian's etcd-server) on 127.0.0.1 free ports with its own data dir: started, waited for
// until /health answers, stopped by its PID. Tests, benches and (later) `kubemu up --storage etcd` run it.
import { freeLocalPort } from './free-port.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { findProgram } from './find-program.js';
import { stopChild } from './stop-child.js';

export interface EtcdMemberOptions {
  dataDir: string;
  name?: string;
  clientPort?: number;
  peerPort?: number;
  /** how long to wait for /health (default 20 s) */
  startTimeoutMs?: number;
  /** more etcd flags (e.g. `--snapshot-count=...`) */
  extraArgs?: string[];
  /**
   * every member of the cluster as `name=http://127.0.0.1:PEERPORT,...` (default: this member alone); a member of
   * a cluster is healthy once the cluster has a leader, so start a new cluster's members together
   */
  initialCluster?: string;
}

export interface EtcdMember {
  /** http://127.0.0.1:PORT, for --etcd-servers */
  endpoint: string;
  pid: number;
  child: ChildProcess;
  /** etcd's own log so far */
  logs(): string;
  /** SIGTERM by PID, SIGKILL after the grace period */
  stop(): Promise<void>;
}

export { freeLocalPort };

function health(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${endpoint}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Request limit: our stored JSON is wordier than upstream's protobuf, so etcd takes up to 4 MiB per request (above
 * MAX_OBJECT_BYTES, which the storage checks first with etcd's own message), where upstream's 1.5 MiB holds protobuf.
 */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** One member of an etcd cluster on 127.0.0.1 (`cluster`: every member's name and peer port, itself included). */
export function etcdMemberArgs(
  member: { name: string; dataDir: string; clientPort: number; peerPort: number },
  cluster: readonly { name: string; peerPort: number }[],
  token?: string,
): string[] {
  const endpoint = `http://127.0.0.1:${member.clientPort}`;
  const peer = `http://127.0.0.1:${member.peerPort}`;
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${cluster.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',')}`,
    '--initial-cluster-state=new',
    ...(token ? [`--initial-cluster-token=${token}`] : []),
    `--max-request-bytes=${MAX_REQUEST_BYTES}`,
  ];
}

export async function startEtcdMember(opts: EtcdMemberOptions): Promise<EtcdMember> {
  const etcd = findProgram('etcd');
  const name = opts.name ?? 'etcd-0';
  const clientPort = opts.clientPort ?? (await freeLocalPort());
  const peerPort = opts.peerPort ?? (await freeLocalPort());
  const endpoint = `http://127.0.0.1:${clientPort}`;
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const child = spawn(
    etcd,
    [
      ...etcdMemberArgs({ name, dataDir: opts.dataDir, clientPort, peerPort }, [{ name, peerPort }]).map(
        (a) =>
          opts.initialCluster && a.startsWith('--initial-cluster=')
            ? `--initial-cluster=${opts.initialCluster}`
            : a,
      ),
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (c: Buffer) => {
    log += c.toString();
    if (log.length > 256 * 1024) log = log.slice(-128 * 1024);
  });
  const member: EtcdMember = {
    endpoint,
    pid: child.pid!,
    child,
    logs: () => log,
    stop: () => stopChild(child, 'SIGTERM', 5000),
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `etcd exited (${child.exitCode ?? child.signalCode}) before it was healthy: ${log.slice(-2000)}`,
      );
    if (await health(endpoint)) return member;
    if (Date.now() > deadline) {
      await member.stop();
      throw new Error(
        `etcd did not answer ${endpoint}/health within ${opts.startTimeoutMs ?? 20_000} ms: ${log.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
