// kube-proxy's control loop: watch Services and EndpointSlices, and keep this node's listeners equal to the rules they imply.
import type { KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { BoundAddress } from './bound-address.js';
import { proxyMetrics } from './metrics.js';
import { computeListeners, type ListenerSpec, type NodeIdentity } from './rules.js';
import { ServiceWatch } from './service-watch.js';
import { TcpListener } from './tcp-listener.js';
import { UdpListener } from './udp-listener.js';

export interface ProxierOptions extends NodeIdentity {
  client: KubeClient;
  logger?: Logger;
  clock?: Clock;
  /** retry period for binding an address held elsewhere (a ClusterIP another node serves); default 400 ms */
  bindRetryMs?: number;
  /** per endpoint, before trying the next; default 3 s */
  connectTimeoutMs?: number;
  /** UDP session idle timeout; default 30 s (conntrack's nf_conntrack_udp_timeout) */
  udpIdleTimeoutMs?: number;
  /** [0, 1): endpoint choice and retry jitter */
  random?: () => number;
}

export interface ListenerState {
  key: string;
  servicePort: string;
  kind: ListenerSpec['kind'];
  bound: boolean;
  endpoints: number;
}

export class Proxier {
  private readonly opts: ProxierOptions;
  private readonly log: Logger;
  private readonly watch: ServiceWatch;
  private readonly listeners = new Map<string, BoundAddress>();
  /** Service key → the listener keys its rules produced last time */
  private readonly byService = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  private syncScheduled = false;
  private synced = false;
  private stopped = false;

  constructor(opts: ProxierOptions) {
    if (!opts.client || !opts.nodeName || !opts.nodeIP)
      throw new TypeError('Proxier needs client, nodeName and nodeIP');
    this.opts = opts;
    this.log = (opts.logger ?? silentLogger()).child({ node: opts.nodeName });
    this.watch = new ServiceWatch({
      client: opts.client,
      clock: opts.clock ?? realClock,
      logger: this.log,
      onChange: (serviceKey) => this.markDirty(serviceKey),
    });
  }

  /** start watching; resolves after the first full sync */
  async start(): Promise<void> {
    await this.watch.start();
    this.synced = true;
    this.sync();
    this.log.info({ listeners: this.listeners.size }, 'caches synced; proxying');
  }

  hasSynced(): boolean {
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.watch.stop();
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
    this.byService.clear();
  }

  /** what this proxy holds, for tests and debugging */
  listenerStates(): ListenerState[] {
    return [...this.listeners.values()].map((l) => {
      const spec = l.current;
      return {
        key: l.key,
        servicePort: spec.servicePort,
        kind: spec.kind,
        bound: l.isBound(),
        endpoints: spec.endpoints.length,
      };
    });
  }

  private markDirty(serviceKey: string): void {
    this.dirty.add(serviceKey);
    if (!this.synced || this.syncScheduled || this.stopped) return;
    // one sync per turn of the event loop, however many events the turn brought
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.sync();
    });
  }

  /** recompute the rules of the Services that changed and apply the difference */
  private sync(): void {
    if (this.stopped) return;
    const started = process.hrtime.bigint();
    const metrics = proxyMetrics();
    const node: NodeIdentity = { nodeName: this.opts.nodeName, nodeIP: this.opts.nodeIP };
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const serviceKey of keys) {
      const svc = this.watch.service(serviceKey);
      const specs = computeListeners(
        svc ? [svc] : [],
        (ns, name) => this.watch.slicesOf(`${ns}/${name}`),
        node,
      );
      const want = new Set(specs.map((s) => s.key));
      for (const key of this.byService.get(serviceKey) ?? []) {
        const l = this.listeners.get(key);
        // an address another Service took over meanwhile is that Service's now
        if (want.has(key) || !l || l.owner !== serviceKey) continue;
        l.close();
        this.listeners.delete(key);
      }
      for (const spec of specs) {
        let l = this.listeners.get(spec.key);
        if (l) l.update(spec);
        else {
          l = this.newListener(spec);
          this.listeners.set(spec.key, l);
          l.start();
        }
        l.owner = serviceKey;
      }
      if (want.size) this.byService.set(serviceKey, want);
      else this.byService.delete(serviceKey);
    }
    metrics.syncDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.lastSync.set(Date.now() / 1000);
  }

  private newListener(spec: ListenerSpec): BoundAddress {
    const common = {
      logger: this.log,
      bindRetryMs: this.opts.bindRetryMs ?? 400,
      ...(this.opts.random ? { random: this.opts.random } : {}),
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
    };
    return spec.protocol === 'UDP'
      ? new UdpListener(spec, { ...common, idleTimeoutMs: this.opts.udpIdleTimeoutMs ?? 30_000 })
      : new TcpListener(spec, { ...common, connectTimeoutMs: this.opts.connectTimeoutMs ?? 3_000 });
  }
}
