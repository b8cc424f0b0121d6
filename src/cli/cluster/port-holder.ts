// Who listens on a TCP address (from /proc/net/tcp and /proc/PID/fd), and whether it is another kubemu cluster,
// so `kubemu up` can say which cluster to stop instead of "something holds the port".
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { commandLine } from './processes.js';
import { readRunRecord } from './layout.js';

export interface PortHolder {
  pid: number;
  /** its argv, joined by spaces */
  commandLine: string;
  /** set when it is a component of a kubemu cluster */
  cluster?: { name: string; stateDir: string; component: string };
}

/** /proc/net/tcp writes 127.0.3.1 as 0103007F (the address's bytes in host order, little-endian here). */
function procHexAddress(ip: string): string {
  return ip
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase())
    .join('');
}

/** Socket inodes listening on ip:port or on 0.0.0.0:port. */
export function listeningInodes(ip: string, port: number, table = readProc('/proc/net/tcp')): string[] {
  const wanted = [procHexAddress(ip), '00000000'].map(
    (a) => `${a}:${port.toString(16).padStart(4, '0').toUpperCase()}`,
  );
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (f.length > 9 && f[3] === '0A' && wanted.includes(f[1])) inodes.push(f[9]);
  }
  return inodes;
}

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function pidOfSocket(inodes: readonly string[]): number | undefined {
  const links = new Set(inodes.map((i) => `socket:[${i}]`));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        if (links.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}

/** The process listening on ip:port (TCP), if this user may see it. */
export function portHolder(ip: string, port: number): PortHolder | undefined {
  const inodes = listeningInodes(ip, port).filter((i) => i !== '0');
  const pid = inodes.length > 0 ? pidOfSocket(inodes) : undefined;
  if (pid === undefined) return undefined;
  const argv = commandLine(pid);
  const holder: PortHolder = { pid, commandLine: argv };
  // components run as `node .../cli/main.js <component> ...` with the cluster's state dir as their cwd
  const component = /[\\/]cli[\\/]main\.js (\S+)/.exec(argv)?.[1];
  if (component) {
    try {
      const stateDir = readlinkSync(`/proc/${pid}/cwd`);
      // a cluster still coming up has no run record yet, but has its PKI
      const name =
        readRunRecord(stateDir)?.name ??
        (existsSync(join(stateDir, 'pki'))
          ? (/ --name (\S+)/.exec(argv)?.[1] ?? basename(stateDir))
          : undefined);
      if (name) holder.cluster = { name, stateDir, component };
    } catch {
      // no cwd to read: not known to be a cluster
    }
  }
  return holder;
}
