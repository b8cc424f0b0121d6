// Chooses the endpoint for a new connection: uniformly at random (as upstream's iptables mode), sticky per client IP with sessionAffinity ClientIP.
import { realClock, type Clock } from '../util/clock.js';
import { endpointKey, type ProxyEndpoint } from './rules.js';

/** beyond this many remembered clients, expired ones are swept on the next insert */
const AFFINITY_SWEEP_AT = 4096;

export interface EndpointPickerOptions {
  clock?: Clock;
  /** [0, 1), injectable so tests are deterministic */
  random?: () => number;
}

export class EndpointPicker {
  private endpoints: ProxyEndpoint[] = [];
  private byKey = new Map<string, ProxyEndpoint>();
  private affinityTimeoutMs: number | undefined;
  /** client IP → the endpoint it sticks to and when it was last used (upstream's `recent` module) */
  private readonly affinity = new Map<string, { key: string; lastSeen: number }>();
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(opts: EndpointPickerOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
  }

  setEndpoints(endpoints: readonly ProxyEndpoint[], affinityTimeoutMs: number | undefined): void {
    this.endpoints = [...endpoints];
    this.byKey = new Map(endpoints.map((e) => [endpointKey(e), e]));
    if (affinityTimeoutMs !== this.affinityTimeoutMs) this.affinity.clear();
    this.affinityTimeoutMs = affinityTimeoutMs;
    // a client stuck to an endpoint that left is free to go elsewhere
    for (const [ip, a] of this.affinity) if (!this.byKey.has(a.key)) this.affinity.delete(ip);
  }

  size(): number {
    return this.endpoints.length;
  }

  has(ep: ProxyEndpoint): boolean {
    return this.byKey.has(endpointKey(ep));
  }

  /**
   * The endpoint for a new connection from `clientIP`, skipping endpoints in `exclude` (those that already
   * refused this connection); undefined when none is left. With affinity, the choice is remembered.
   */
  pick(clientIP: string, exclude?: ReadonlySet<string>): ProxyEndpoint | undefined {
    const now = this.clock.now();
    const timeout = this.affinityTimeoutMs;
    if (timeout !== undefined) {
      const sticky = this.affinity.get(clientIP);
      if (sticky && now - sticky.lastSeen <= timeout && !exclude?.has(sticky.key)) {
        const ep = this.byKey.get(sticky.key);
        if (ep) {
          sticky.lastSeen = now;
          return ep;
        }
      }
    }
    const candidates = exclude?.size
      ? this.endpoints.filter((e) => !exclude.has(endpointKey(e)))
      : this.endpoints;
    if (!candidates.length) return undefined;
    const ep = candidates[Math.min(candidates.length - 1, Math.floor(this.random() * candidates.length))];
    if (timeout !== undefined) {
      if (this.affinity.size >= AFFINITY_SWEEP_AT) this.sweep(now, timeout);
      this.affinity.set(clientIP, { key: endpointKey(ep), lastSeen: now });
    }
    return ep;
  }

  private sweep(now: number, timeout: number): void {
    for (const [ip, a] of this.affinity) if (now - a.lastSeen > timeout) this.affinity.delete(ip);
  }
}
