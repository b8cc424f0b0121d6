// kube-proxy's control loop: watch Services and EndpointSlices, and keep this node's listeners equal to the rules they imply.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, keyOf, type KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { BoundAddress } from './bound-address.js';
import { proxyMetrics } from './metrics.js';
import { SERVICE_NAME_LABEL, computeListeners, type ListenerSpec, type NodeIdentity } from './rules.js';
import { TcpListener } from './tcp-listener.js';
import { UdpListener } from './udp-listener.js';

const SLICE_SERVICE_INDEX = 'service';

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
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
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
    const clock = opts.clock ?? realClock;
    this.services = new Informer<Service>({
      source: opts.client.services,
      name: 'services',
      clock,
      logger: this.log,
    });
    this.slices = new Informer<EndpointSlice>({
      source: opts.client.endpointSlices,
      name: 'endpointslices',
      clock,
      logger: this.log,
      indexers: {
        [SLICE_SERVICE_INDEX]: (s) => {
          const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
          return svc ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
        },
      },
    });
    const metrics = proxyMetrics();
    const serviceChanged = (svc: Service): void => {
      metrics.serviceChanges.inc();
      this.markDirty(keyOf(svc));
    };
    this.services.addEventHandler({
      onAdd: serviceChanged,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) serviceChanged(cur);
      },
      onDelete: serviceChanged,
    });
    const sliceChanged = (slice: EndpointSlice): void => {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) return;
      metrics.endpointChanges.inc();
      this.markDirty(`${slice.metadata?.namespace ?? ''}/${svc}`);
    };
    this.slices.addEventHandler({
      onAdd: sliceChanged,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        sliceChanged(cur);
        if (old.metadata?.labels?.[SERVICE_NAME_LABEL] !== cur.metadata?.labels?.[SERVICE_NAME_LABEL])
          sliceChanged(old);
      },
      onDelete: sliceChanged,
    });
  }

  /** start watching; resolves after the first full sync */
  async start(): Promise<void> {
    this.services.start();
    this.slices.start();
    await Promise.all([this.services.waitForSync(), this.slices.waitForSync()]);
    this.synced = true;
    this.sync();
    this.log.info({ listeners: this.listeners.size }, 'caches synced; proxying');
  }

  hasSynced(): boolean {
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.services.stop();
    this.slices.stop();
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
      const svc = this.services.store.get(serviceKey);
      const specs = computeListeners(
        svc ? [svc] : [],
        (ns, name) => this.slices.store.byIndex(SLICE_SERVICE_INDEX, `${ns}/${name}`),
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
