// kube-proxy's nftables mode: watch Services and EndpointSlices and keep `table ip kube-proxy` (and `ip6` once the
// cluster has IPv6 Services) equal to the rules they imply, one atomic transaction a sync — partial (only the
// Services that changed) except on the first sync and after a failure; partial ones go through one long-running
// `nft -i` (nft-session.ts), so a change costs no process start. Syncs are rate-limited as
// upstream's BoundedFrequencyRunner: at most `burst` back to back, then one per `minSyncPeriodMs`.
import type { KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { proxyMetrics } from '../metrics.js';
import { ServiceWatch } from '../service-watch.js';
import {
  KUBE_PROXY_TABLE,
  NftRuleGenerator,
  STALE_CHAIN_DELETE_AFTER_MS,
  type GeneratorConfig,
} from './generator.js';
import { nftMetrics } from './metrics.js';
import { NftRunner, type NftApplier } from './nft-host.js';
import { isIPv6, servicePorts, type IPFamily, type ServicePortInfo } from './service-ports.js';

export interface NftProxierOptions {
  client: KubeClient;
  nodeName: string;
  /** the node's IPs (one per family at most): NodePorts are accepted on them (--nodeport-addresses primary) */
  nodeIPs: string[];
  /** --cluster-cidr: pod sources, for masquerading off-cluster traffic and short-circuiting pod traffic */
  clusterCIDRs?: string[];
  /** the Service CIDRs: traffic to unallocated ClusterIPs in them is dropped */
  serviceCIDRs?: string[];
  /** --masquerade-bit, default 14 (mark 0x4000) */
  masqueradeBit?: number;
  masqueradeAll?: boolean;
  /** --min-sync-period, default 1 s */
  minSyncPeriodMs?: number;
  /** --sync-period: the retry after a failed sync, default 30 s */
  syncPeriodMs?: number;
  /** how transactions reach the kernel; default an NftRunner (a fake in tests) */
  runner?: NftApplier;
  /** the default runner keeps one `nft -i` for small transactions (default true; false: `nft -f -` each) */
  nftSession?: boolean;
  logger?: Logger;
  clock?: Clock;
}

const BURST_SYNCS = 2;

/** one IP family's table: its generator and the cached ports of every Service */
interface FamilyState {
  family: IPFamily;
  gen: NftRuleGenerator;
  /** Service key → its ports in this family */
  ports: Map<string, ServicePortInfo[]>;
  /** Services changed since this family's last committed sync */
  changed: Set<string>;
  /** the table exists (an ip6 table is made only once an IPv6 Service appears) */
  active: boolean;
}

export class NftProxier {
  private readonly opts: NftProxierOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly watch: ServiceWatch;
  private readonly runner: NftApplier;
  private readonly families: FamilyState[];
  private synced = false;
  private stopped = false;
  private running = false;
  private pending = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private tokens = BURST_SYNCS;
  private lastRefill: number;
  /** syncs done (committed), for tests and benches */
  syncs = 0;

  constructor(opts: NftProxierOptions) {
    if (!opts.client || !opts.nodeName) throw new TypeError('NftProxier needs client and nodeName');
    this.opts = opts;
    this.log = (opts.logger ?? silentLogger()).child({ node: opts.nodeName, proxyMode: 'nftables' });
    this.clock = opts.clock ?? realClock;
    this.lastRefill = this.clock.now();
    this.runner = opts.runner ?? new NftRunner({ session: opts.nftSession ?? true, logger: this.log });
    const mark = `0x${(1 << (opts.masqueradeBit ?? 14)).toString(16)}`;
    const make = (family: IPFamily): FamilyState => {
      const v6 = family === 'IPv6';
      const inFamily = (ip: string): boolean => isIPv6(ip) === v6;
      const nodeIPs = opts.nodeIPs.filter(inFamily);
      const cfg: GeneratorConfig = {
        family,
        masqueradeMark: mark,
        localCIDRs: (opts.clusterCIDRs ?? []).filter(inFamily),
        nodePortIPs: nodeIPs,
        serviceCIDRs: (opts.serviceCIDRs ?? []).filter(inFamily),
        masqueradeAll: opts.masqueradeAll ?? false,
      };
      if (nodeIPs[0]) cfg.nodeIP = nodeIPs[0];
      return { family, gen: new NftRuleGenerator(cfg), ports: new Map(), changed: new Set(), active: !v6 };
    };
    this.families = [make('IPv4'), make('IPv6')];
    this.watch = new ServiceWatch({
      client: opts.client,
      clock: this.clock,
      logger: this.log,
      onChange: (key) => {
        for (const f of this.families) f.changed.add(key);
        if (this.synced) this.requestSync();
      },
    });
  }

  /** start watching; resolves after the first full sync was attempted */
  async start(): Promise<void> {
    await this.watch.start();
    this.synced = true;
    await this.syncNow(true);
    this.log.info({ syncs: this.syncs }, 'caches synced; nftables rules programmed');
  }

  hasSynced(): boolean {
    return this.synced && this.syncs > 0;
  }

  stop(): void {
    this.stopped = true;
    this.watch.stop();
    this.runner.close?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  /** upstream Sync(): run soon, within the rate limit */
  private requestSync(): void {
    if (this.stopped) return;
    this.pending = true;
    // a sync running or about to run picks this change up (syncNow runs again when pending)
    if (this.running || this.immediate) return;
    this.refill();
    if (this.tokens >= 1) {
      this.clearTimer();
      // one sync for every event this turn of the event loop brings
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.syncNow(true);
      });
      return;
    }
    const period = this.opts.minSyncPeriodMs ?? 1000;
    this.schedule(Math.max(0, Math.ceil((1 - this.tokens) * period)), true);
  }

  /**
   * A sync in `ms` unless one is due sooner. `limited`: a change's sync, which spends a token of the rate
   * limit; housekeeping (deleting stale chains, retrying a failure) does not, so it never delays a change.
   */
  private schedule(ms: number, limited: boolean): void {
    if (this.stopped) return;
    const at = this.clock.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pending = true;
      void this.syncNow(limited);
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refill(): void {
    const period = this.opts.minSyncPeriodMs ?? 1000;
    const now = this.clock.now();
    if (period <= 0) this.tokens = BURST_SYNCS;
    else this.tokens = Math.min(BURST_SYNCS, this.tokens + (now - this.lastRefill) / period);
    this.lastRefill = now;
  }

  private async syncNow(limited: boolean): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.pending = false;
    this.refill();
    if (limited) this.tokens = Math.max(0, this.tokens - 1);
    let ok = true;
    try {
      for (const f of this.families) ok = (await this.syncFamily(f)) && ok;
    } finally {
      this.running = false;
    }
    if (!ok) this.schedule(this.opts.syncPeriodMs ?? 30_000, false);
    else if (this.families.some((f) => f.gen.hasStaleChains()))
      this.schedule(STALE_CHAIN_DELETE_AFTER_MS + 100, false);
    if (this.pending) this.requestSync();
  }

  /** upstream syncProxyRules for one family; false when nft failed */
  private async syncFamily(f: FamilyState): Promise<boolean> {
    const started = process.hrtime.bigint();
    const full = f.gen.isFullSyncNeeded();
    const changed = f.changed;
    f.changed = new Set();
    // bring the cached ports up to date: all of them on a full sync, else only the changed Services'
    const keys = full
      ? this.watch.services.store
          .list()
          .map((s) => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`)
      : [...changed];
    if (full) f.ports.clear();
    for (const key of keys) {
      const svc = this.watch.service(key);
      const ports = svc ? servicePorts(svc, this.watch.slicesOf(key), f.family, this.opts.nodeName) : [];
      if (ports.length) f.ports.set(key, ports);
      else f.ports.delete(key);
    }
    if (!f.active) {
      if (!f.ports.size) return true;
      f.active = true;
      f.gen.requestFullSync();
      return this.syncFamily(f);
    }
    const metrics = nftMetrics();
    const now = this.clock.now();
    const cleanup = f.gen.staleChainCleanup(now);
    if (cleanup)
      await this.runner.apply(cleanup).catch((err: unknown) => {
        metrics.staleChainCleanupFailures.inc();
        this.log.warn({ err, family: f.family }, 'unable to delete stale chains; will retry later');
      });
    let existing;
    if (full) {
      try {
        existing = await this.runner.list(f.gen.family, KUBE_PROXY_TABLE);
      } catch (err) {
        this.log.error({ err, family: f.family }, 'cannot list the nftables table; stale chains stay');
      }
    }
    const plan = f.gen.plan(f.ports, changed, now, existing);
    try {
      await this.runner.apply(plan.script);
    } catch (err) {
      plan.abort();
      metrics.syncFailures.inc();
      this.log.error({ err, family: f.family }, 'nftables sync failed; retrying with a full sync');
      return false;
    }
    plan.commit();
    this.syncs++;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    (full ? metrics.fullSyncDuration : metrics.partialSyncDuration).observe(seconds);
    const common = proxyMetrics();
    common.syncDuration.observe(seconds);
    common.lastSync.set(Date.now() / 1000);
    this.log.debug(
      { family: f.family, full, ...plan.stats, ms: Math.round(seconds * 1000) },
      'synced nftables rules',
    );
    return true;
  }
}
