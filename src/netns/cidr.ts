// IPv4 CIDRs as the namespaces need them: a subnet's prefix length and its first host (the gateway, .1 upstream).

export interface Ipv4Cidr {
  /** the network address, e.g. 10.244.1.0 */
  network: string;
  prefixLength: number;
  /** the first host address: the bridge's own address, the pods' gateway */
  gateway: string;
}

/** Parses "a.b.c.d/n"; throws with the input when it is not one. */
export function parseCidr(cidr: string): Ipv4Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefixLength = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefixLength > 30) {
    throw new Error(`invalid CIDR "${cidr}": want a.b.c.d/n with n at most 30`);
  }
  const value = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  const network = value - (value % size);
  return { network: toIpv4(network), prefixLength, gateway: toIpv4(network + 1) };
}

export function isIpv4(address: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function toIpv4(n: number): string {
  return [
    Math.floor(n / 2 ** 24) % 256,
    Math.floor(n / 2 ** 16) % 256,
    Math.floor(n / 256) % 256,
    n % 256,
  ].join('.');
}
