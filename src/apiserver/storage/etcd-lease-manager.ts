// Leases for writes with a TTL (Events: --event-ttl), as upstream's etcd3 leaseManager
// (k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go): one lease serves every write whose TTL ends within its
// reuse window, so a burst of Events costs etcd one lease, not one each. A write asking `ttl` seconds reuses the last
// lease when it expires after now + ttl (the object lives at least its TTL) and no later than now + ttl + the reuse
// window (min(60 s, 5 % of ttl)), and the lease holds fewer than 1,000 objects; otherwise it is granted a new lease
// of ttl + the window. Leases are never kept alive: etcd deletes their keys when they expire, and the apiserver's
// watch of etcd turns that into DELETED events.
export interface LeaseGranter {
  /** grants a lease of `ttlSeconds`; resolves with its ID */
  grant(ttlSeconds: number): Promise<string>;
}

export interface LeaseManagerOptions {
  /** upstream's LeaseManagerConfig.ReuseDurationSeconds (60) */
  reuseDurationSeconds?: number;
  /** upstream's leaseReuseDurationPercent (0.05) */
  reuseDurationPercent?: number;
  /** upstream's LeaseManagerConfig.MaxObjectCount (1000) */
  maxObjectCount?: number;
  now?: () => number;
}

export class EtcdLeaseManager {
  private prevId: string | undefined;
  private prevExpires = 0;
  private attached = 0;
  /** a grant under way: concurrent writes wait for it rather than each granting one */
  private granting: Promise<string> | undefined;
  private readonly reuseSeconds: number;
  private readonly reusePercent: number;
  private readonly maxObjects: number;
  private readonly now: () => number;

  constructor(
    private readonly granter: LeaseGranter,
    opts: LeaseManagerOptions = {},
  ) {
    this.reuseSeconds = opts.reuseDurationSeconds ?? 60;
    this.reusePercent = opts.reuseDurationPercent ?? 0.05;
    this.maxObjects = opts.maxObjectCount ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** the lease a write of `ttlSeconds` is attached to */
  async leaseFor(ttlSeconds: number): Promise<string> {
    for (;;) {
      if (this.granting) {
        await this.granting.catch(() => undefined);
        continue;
      }
      const now = this.now();
      const reuse = Math.min(this.reuseSeconds, Math.floor(this.reusePercent * ttlSeconds));
      const valid = now + ttlSeconds * 1000 < this.prevExpires;
      // upstream's `After`, on a clock of nanoseconds; ours counts milliseconds, where a burst of writes shares one
      const sufficient = now + (ttlSeconds + reuse) * 1000 >= this.prevExpires;
      if (this.prevId !== undefined && valid && sufficient && this.attached < this.maxObjects) {
        this.attached++;
        return this.prevId;
      }
      const ttl = ttlSeconds + reuse;
      const granting = this.granter.grant(ttl);
      this.granting = granting;
      try {
        const id = await granting;
        this.prevId = id;
        this.prevExpires = now + ttl * 1000;
        this.attached = 1;
        return id;
      } finally {
        this.granting = undefined;
      }
    }
  }
}
