// kubemu's cluster DNS: CoreDNS-kubernetes-plugin records over a hand-written RFC 1035 server.
export {
  ClusterDns,
  DEFAULT_DNS_IP,
  DEFAULT_TTL,
  DEFAULT_ZONE,
  type ClusterDnsOptions,
} from './cluster-dns.js';
export { ClusterRecords, type DnsView, type RecordOptions } from './records.js';
export { DEFAULT_TCP_TIMEOUTS, DnsServer, respond, type TcpTimeouts } from './server.js';
export * from './wire.js';
