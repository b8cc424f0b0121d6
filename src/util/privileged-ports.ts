// Whether this process may listen on ports below 1024: root (CAP_NET_BIND_SERVICE), or a machine whose
// net.ipv4.ip_unprivileged_port_start lets everyone. Shared by the kubelet (what its containers may bind), the
// cluster DNS (53 or 1053), the ingress gateway (80/443 or 8080/8443) and the CLI that reports them.
import { readFileSync } from 'node:fs';

/** The first port an unprivileged process may bind (1024 unless the sysctl lowers it). */
export function unprivilegedPortStart(file = '/proc/sys/net/ipv4/ip_unprivileged_port_start'): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n >= 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** May this process bind `port`? */
export function mayBindPort(port: number, uid = process.getuid?.()): boolean {
  return uid === 0 || port >= unprivilegedPortStart();
}
