// nftables object names as upstream's nftables proxier makes them: `service-ULMVA6XW-ns1/svc1/tcp/p80`,
// `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80` (a base32 SHA-256 prefix keeps truncated names unique).
import { createHash } from 'node:crypto';

/** nft's NFT_NAME_MAXLEN less one, as knftables.NameLengthMax */
const NAME_LENGTH_MAX = 256 - 1;
/** the longest prefix (`service-`, `endpoint-`, …) including its hyphen */
const PREFIX_LENGTH_MAX = 16;
const BASE_LENGTH_MAX = NAME_LENGTH_MAX - PREFIX_LENGTH_MAX;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding) of the first 5 bytes: the 8 characters upstream keeps */
function base32Prefix8(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; i < 5; i++) {
    value = (value << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** upstream hashAndTruncate: `HASH8-name`, cut to fit with `...` */
export function hashAndTruncate(name: string): string {
  const hashed = `${base32Prefix8(createHash('sha256').update(name).digest())}-${name}`;
  return hashed.length > BASE_LENGTH_MAX ? `${hashed.slice(0, BASE_LENGTH_MAX - 3)}...` : hashed;
}

export interface ServicePortName {
  namespace: string;
  name: string;
  /** the Service port's name, '' when unnamed */
  portName: string;
  /** lower case: tcp, udp, sctp */
  protocol: string;
}

/** `ns/svc:port`, upstream's ServicePortName.String(), used in element comments */
export const servicePortNameString = (s: ServicePortName): string => `${s.namespace}/${s.name}:${s.portName}`;

/** `HASH-ns/svc/proto/port` */
export const servicePortChainBase = (s: ServicePortName): string =>
  hashAndTruncate(`${s.namespace}/${s.name}/${s.protocol}/${s.portName}`);

/** `HASH-ns/svc/proto/port__ip/port`; an IPv6 address has its colons made dots */
export const endpointChainBase = (s: ServicePortName, ip: string, port: number): string =>
  hashAndTruncate(`${s.namespace}/${s.name}/${s.protocol}/${s.portName}__${ip.replaceAll(':', '.')}/${port}`);

export const CHAIN_PREFIX = {
  clusterPolicy: 'service-',
  localPolicy: 'local-',
  external: 'external-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
  firewall: 'firewall-',
} as const;

/** the per-Service and per-endpoint chains all have a `/` in their names; the fixed ones never do */
export const isServiceChainName = (chain: string): boolean => chain.includes('/');
export const isAffinitySetName = (set: string): boolean => set.startsWith(CHAIN_PREFIX.affinity);
