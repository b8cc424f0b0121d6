// IPv4 addresses and CIDR blocks as numbers: parsing, formatting, membership — for the address pool and source ranges.

export interface Cidr {
  /** the network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
  /** how many addresses the block spans */
  size: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** `127.0.2.7` → 2130706951; undefined for anything that is not a dotted-quad IPv4 address */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `127.0.2.0/24` → its block; a host bits set (`127.0.2.1/24`) is masked off, as net.ParseCIDR does */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIPv4(text.slice(0, slash).trim());
  const prefixText = text.slice(slash + 1).trim();
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + cidr.size;
}

/** a socket's remote address as IPv4, unwrapping IPv4-mapped IPv6 (`::ffff:127.0.0.1`) */
export function socketIPv4(address: string | undefined): number | undefined {
  if (!address) return undefined;
  const plain = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return parseIPv4(plain);
}
