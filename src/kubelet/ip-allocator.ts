// Pod IPs from the node's podCIDR: .2 upwards (.1 is the gateway upstream), freed ones reused later.

export class PodIPAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private next = 2;

  constructor(cidr: string) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
    if (!m) throw new Error(`invalid pod CIDR "${cidr}": want a.b.c.d/n`);
    const prefix = Number(m[5]);
    if (prefix < 8 || prefix > 30) throw new Error(`invalid pod CIDR "${cidr}": prefix must be 8–30`);
    const addr = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
    this.size = 2 ** (32 - prefix);
    this.base = addr - (addr % this.size);
  }

  private toIP(n: number): string {
    const v = this.base + n;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }

  private offsetOf(ip: string): number | undefined {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return undefined;
    const off = parts.reduce((a, o) => a * 256 + o, 0) - this.base;
    return off >= 2 && off < this.size - 1 ? off : undefined;
  }

  /** A free address, preferring `wanted` (a pod keeping its IP across a kubelet restart). */
  allocate(wanted?: string): string {
    const w = wanted !== undefined ? this.offsetOf(wanted) : undefined;
    if (w !== undefined && !this.used.has(w)) {
      this.used.add(w);
      return this.toIP(w);
    }
    // Round-robin, so a just-freed address is not handed straight to the next pod.
    for (let i = 0; i < this.size - 3; i++) {
      const n = 2 + ((this.next - 2 + i) % (this.size - 3));
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next = n + 1;
        return this.toIP(n);
      }
    }
    throw new Error("no pod IPs left in the node's podCIDR");
  }

  release(ip: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined) this.used.delete(off);
  }

  contains(ip: string): boolean {
    return this.offsetOf(ip) !== undefined;
  }
}
