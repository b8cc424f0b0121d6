// The TCP ports processes listen on, read from /proc as `ss -ltnp` reads them: each process's socket inodes
// (/proc/PID/fd → socket:[INODE]) matched against its network namespace's /proc/PID/net/tcp and tcp6 in state
// LISTEN (0A).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ListeningSocket {
  pid: number;
  /** the process's name (/proc/PID/comm) and the pm2 name the caller gave it */
  name: string;
  /** as connectable: 0.0.0.0 becomes 127.0.0.1, :: becomes ::1 */
  host: string;
  port: number;
  /** the listening address as bound */
  bound: string;
  /** the network namespace's inode (/proc/PID/ns/net), to reach ports in another namespace with nsenter */
  netns: string;
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** /proc/net/tcp's hex address: IPv4 as a little-endian word, IPv6 as four of them */
function decodeAddress(hex: string): string {
  if (hex.length === 8)
    return [hex.slice(6, 8), hex.slice(4, 6), hex.slice(2, 4), hex.slice(0, 2)]
      .map((b) => parseInt(b, 16))
      .join('.');
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w = hex.slice(i, i + 8);
    const bytes = [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].join('');
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  const text = words.map((w) => parseInt(w, 16).toString(16)).join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
  if (mapped) {
    const n = (parseInt(mapped[1], 16) << 16) | parseInt(mapped[2], 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return text;
}

/** every TCP socket in LISTEN state that one of `processes` holds */
export function listeningSockets(processes: { pid: number; name: string }[]): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  const seen = new Set<string>();
  for (const { pid, name } of processes) {
    const inodes = socketInodes(pid);
    if (inodes.size === 0) continue;
    let netns = '';
    try {
      netns = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      continue;
    }
    for (const table of ['tcp', 'tcp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue;
        const [addrHex, portHex] = f[1].split(':');
        const bound = decodeAddress(addrHex);
        const port = parseInt(portHex, 16);
        const key = `${netns} ${bound} ${port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const host = bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '::1' : bound;
        out.push({ pid, name, host, port, bound, netns });
      }
    }
  }
  return out;
}
