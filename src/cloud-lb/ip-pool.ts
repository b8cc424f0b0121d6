// The LoadBalancer address pool: which Service holds which address of the CIDR, handed out lowest-free-first.
import { cidrContains, formatIPv4, parseCidr, parseIPv4, type Cidr } from './cidr.js';

export type AllocateResult = { ok: true; ip: string } | { ok: false; reason: string };

export class IpPool {
  readonly cidr: Cidr;
  readonly cidrText: string;
  private readonly byIp = new Map<number, string>();
  private readonly byOwner = new Map<string, number>();

  constructor(cidrText: string) {
    const cidr = parseCidr(cidrText);
    if (!cidr)
      throw new TypeError(
        `invalid pool ${JSON.stringify(cidrText)}: expected an IPv4 CIDR such as 127.0.2.0/24`,
      );
    this.cidr = cidr;
    this.cidrText = `${formatIPv4(cidr.base)}/${cidr.prefix}`;
  }

  /** the first and last address of a block wider than /31 are its network and broadcast addresses: never handed out */
  private usable(ip: number): boolean {
    if (!cidrContains(this.cidr, ip)) return false;
    if (this.cidr.prefix >= 31) return true;
    return ip !== this.cidr.base && ip !== this.cidr.base + this.cidr.size - 1;
  }

  contains(ip: string): boolean {
    const n = parseIPv4(ip);
    return n !== undefined && this.usable(n);
  }

  /** the address `owner` holds, if any */
  addressOf(owner: string): string | undefined {
    const n = this.byOwner.get(owner);
    return n === undefined ? undefined : formatIPv4(n);
  }

  /** who holds `ip`, if anyone */
  ownerOf(ip: string): string | undefined {
    const n = parseIPv4(ip);
    return n === undefined ? undefined : this.byIp.get(n);
  }

  /**
   * Give `owner` an address: the one it already holds if that still satisfies `requested`, else `requested`
   * when free and in the pool, else (nothing requested) the lowest free one. An owner holds one address.
   */
  allocate(owner: string, requested?: string): AllocateResult {
    const held = this.byOwner.get(owner);
    if (requested) {
      const want = parseIPv4(requested);
      if (want === undefined)
        return { ok: false, reason: `requested IP ${requested} is not a valid IPv4 address` };
      if (held === want) return { ok: true, ip: requested };
      if (!this.usable(want))
        return {
          ok: false,
          reason: `requested IP ${requested} is not in the load balancer pool ${this.cidrText}`,
        };
      const holder = this.byIp.get(want);
      if (holder !== undefined && holder !== owner)
        return { ok: false, reason: `requested IP ${requested} is already allocated to service ${holder}` };
      this.release(owner);
      this.take(owner, want);
      return { ok: true, ip: requested };
    }
    if (held !== undefined) return { ok: true, ip: formatIPv4(held) };
    for (let n = this.cidr.base; n < this.cidr.base + this.cidr.size; n++) {
      if (!this.usable(n) || this.byIp.has(n)) continue;
      this.take(owner, n);
      return { ok: true, ip: formatIPv4(n) };
    }
    return { ok: false, reason: `no addresses left in the load balancer pool ${this.cidrText}` };
  }

  /**
   * Record an address `owner` already had (from its Service status, after a restart). Refused when the
   * address is outside the pool or someone else holds it.
   */
  adopt(owner: string, ip: string): boolean {
    const n = parseIPv4(ip);
    if (n === undefined || !this.usable(n)) return false;
    const holder = this.byIp.get(n);
    if (holder !== undefined) return holder === owner;
    this.release(owner);
    this.take(owner, n);
    return true;
  }

  release(owner: string): void {
    const n = this.byOwner.get(owner);
    if (n === undefined) return;
    this.byOwner.delete(owner);
    this.byIp.delete(n);
  }

  size(): number {
    return this.byOwner.size;
  }

  private take(owner: string, n: number): void {
    this.byOwner.set(owner, n);
    this.byIp.set(n, owner);
  }
}
