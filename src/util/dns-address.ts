// Where the cluster DNS listens by default: one address shared by the DNS server and the CLI that points kubelets at it.
import { mayBindPort } from './privileged-ports.js';

/** the cluster DNS's ClusterIP (upstream's kube-dns Service is the tenth address of the service range) */
export const DEFAULT_DNS_IP = '127.96.0.10';

/** 127.96.0.10:53 when this process may bind port 53 (root, or a lowered ip_unprivileged_port_start), else :1053 */
export function defaultDnsListen(): string {
  return `${DEFAULT_DNS_IP}:${mayBindPort(53) ? 53 : 1053}`;
}
