// The cloud provider's service controller for kubemu: gives every type=LoadBalancer Service an address from the
// pool, publishes it in status.loadBalancer, and keeps a forwarder per Service pointed at the healthy nodes.
import type { LoadBalancerIngress, Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { EventRecorder, Informer, WorkQueue, keyOf, referenceTo, type KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { deepEqual } from '../util/objects.js';
import { SERVICE_NAME_LABEL, backendNodes, nodeAddress, nodeEligible, type Backend } from './backends.js';
import { ListenError, LoadBalancerForwarder, type ForwardedPort } from './forwarder.js';
import { IpPool } from './ip-pool.js';
import { sourceRangesOf, type SourceRanges } from './source-ranges.js';

/** upstream's finalizer: the Service is not gone until its load balancer is */
export const LB_CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';
export const DEFAULT_POOL = '127.0.2.0/24';

export interface LoadBalancerControllerOptions {
  client: KubeClient;
  /** the CIDR external IPs come from; default 127.0.2.0/24 */
  pool?: string;
  workers?: number;
  logger?: Logger;
  clock?: Clock;
  /** per-node connect timeout of the forwarders */
  connectTimeoutMs?: number;
}

interface LoadBalancerState {
  ip: string;
  forwarder: LoadBalancerForwarder;
  /** what the last successful ensure was for: a change means Ensuring/Ensured events */
  specSignature: string;
  backendSignature: string;
}

interface DesiredLoadBalancer {
  ports: ForwardedPort[];
  ranges: SourceRanges;
}

/** the default controller serves Services without a loadBalancerClass, as upstream's does */
export function wantsLoadBalancer(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.metadata?.deletionTimestamp && !svc.spec.loadBalancerClass;
}

const hasFinalizer = (svc: Service): boolean =>
  svc.metadata?.finalizers?.includes(LB_CLEANUP_FINALIZER) ?? false;

/** the address the Service's status already carries (after a restart, the one to re-adopt) */
export function statusIP(svc: Service): string | undefined {
  return svc.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
}

/** what to listen on and whom to let in, or why that cannot be done */
export function desiredLoadBalancer(svc: Service): DesiredLoadBalancer | { error: string } {
  const ports: ForwardedPort[] = [];
  for (const p of svc.spec?.ports ?? []) {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP')
      return { error: `port ${p.name ?? p.port}: protocol ${protocol} is not supported (TCP and UDP are)` };
    if (!p.nodePort)
      return {
        error: `port ${p.name ?? p.port}/${protocol} has no nodePort (spec.allocateLoadBalancerNodePorts is false)`,
      };
    ports.push({ protocol, port: p.port, nodePort: p.nodePort });
  }
  const ranges = sourceRangesOf(svc);
  if ('error' in ranges) return ranges;
  return { ports, ranges: ranges.ranges };
}

const byAge = (a: Service, b: Service): number => {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return keyOf(a) < keyOf(b) ? -1 : 1;
};

export class LoadBalancerController {
  readonly pool: IpPool;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly connectTimeoutMs: number | undefined;
  private readonly services: Informer<Service>;
  private readonly nodes: Informer<Node>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly queue: WorkQueue<string>;
  private readonly recorder: EventRecorder;
  private readonly states = new Map<string, LoadBalancerState>();
  private running: Promise<void> | undefined;

  constructor(opts: LoadBalancerControllerOptions) {
    this.client = opts.client;
    this.pool = new IpPool(opts.pool ?? DEFAULT_POOL);
    this.log = (opts.logger ?? silentLogger()).child({ controller: 'service-lb' });
    this.workers = opts.workers ?? 4;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    const clock = opts.clock ?? realClock;
    const common = { clock, logger: this.log };
    this.services = new Informer<Service>({ source: opts.client.services, name: 'services', ...common });
    this.nodes = new Informer<Node>({ source: opts.client.nodes, name: 'nodes', ...common });
    this.slices = new Informer<EndpointSlice>({
      source: opts.client.endpointSlices,
      name: 'endpointslices',
      ...common,
    });
    this.queue = new WorkQueue<string>({ name: 'service-lb', ...common });
    // upstream's service controller reports as `service-controller`
    this.recorder = new EventRecorder({
      client: opts.client,
      component: 'service-controller',
      clock,
      logger: this.log,
    });

    this.services.addEventHandler({
      onAdd: (svc) => this.queue.add(keyOf(svc)),
      onUpdate: (_old, svc) => this.queue.add(keyOf(svc)),
      onDelete: (svc) => this.queue.add(keyOf(svc)),
    });
    // Heartbeats rewrite Node status constantly; only a change in who may take traffic matters here.
    const nodeSignature = (n: Node): string => `${nodeEligible(n)}/${nodeAddress(n) ?? ''}`;
    this.nodes.addEventHandler({
      onAdd: () => this.enqueueAll(),
      onUpdate: (old, n) => {
        if (nodeSignature(old) !== nodeSignature(n)) this.enqueueAll();
      },
      onDelete: () => this.enqueueAll(),
    });
    const onSlice = (slice: EndpointSlice): void => {
      const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!name) return;
      const svc = this.services.store.getByName(slice.metadata?.namespace, name);
      if (svc && wantsLoadBalancer(svc) && svc.spec?.externalTrafficPolicy === 'Local')
        this.queue.add(keyOf(svc));
    };
    this.slices.addEventHandler({ onAdd: onSlice, onUpdate: (_o, s) => onSlice(s), onDelete: onSlice });
  }

  async start(): Promise<void> {
    this.services.start();
    this.nodes.start();
    this.slices.start();
    await Promise.all([this.services.waitForSync(), this.nodes.waitForSync(), this.slices.waitForSync()]);
    this.adoptExisting();
    this.log.info(
      { pool: this.pool.cidrText, adopted: this.pool.size() },
      'load balancer controller started',
    );
    this.running = this.queue.runWorkers(this.workers, (key) => this.sync(key));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.services.stop();
    this.nodes.stop();
    this.slices.stop();
    await this.running;
    await Promise.all([...this.states.values()].map((s) => s.forwarder.close()));
    this.states.clear();
    await this.recorder.flush();
  }

  /** the external IP the controller holds for `namespace/name` */
  addressOf(key: string): string | undefined {
    return this.pool.addressOf(key);
  }

  /**
   * After a restart the addresses in Service statuses are still the users' (DNS records point at them):
   * take them back before anything new is handed out, oldest Service first if two ever claim one.
   */
  private adoptExisting(): void {
    for (const svc of this.services.store.list().filter(wantsLoadBalancer).sort(byAge)) {
      const ip = statusIP(svc);
      if (!ip || !this.pool.contains(ip)) continue;
      if (!this.pool.adopt(keyOf(svc), ip))
        this.log.warn({ service: keyOf(svc), ip, holder: this.pool.ownerOf(ip) }, 'address claimed twice');
    }
  }

  private enqueueAll(): void {
    for (const svc of this.services.store.list()) if (wantsLoadBalancer(svc)) this.queue.add(keyOf(svc));
  }

  /** a released address may be what a waiting Service asked for */
  private enqueueWaiting(): void {
    for (const svc of this.services.store.list())
      if (wantsLoadBalancer(svc) && !this.pool.addressOf(keyOf(svc))) this.queue.add(keyOf(svc));
  }

  private async sync(key: string): Promise<void> {
    const cached = this.services.store.get(key);
    if (!cached || !wantsLoadBalancer(cached)) {
      await this.ensureDeleted(key, cached);
      return;
    }
    let svc = cached;
    const desired = desiredLoadBalancer(svc);
    const requested = svc.spec?.loadBalancerIP || undefined;
    const specSignature = JSON.stringify([requested ?? '', 'error' in desired ? desired.error : desired]);
    let state = this.states.get(key);
    const specChanged = state?.specSignature !== specSignature;
    if (specChanged)
      this.recorder.event(
        referenceTo(svc, 'v1', 'Service'),
        'Normal',
        'EnsuringLoadBalancer',
        'Ensuring load balancer',
      );

    if (!hasFinalizer(svc))
      svc = await this.setFinalizers(svc, [...(svc.metadata?.finalizers ?? []), LB_CLEANUP_FINALIZER]);

    if ('error' in desired) return this.failed(svc, desired.error);
    const allocation = this.pool.allocate(key, requested);
    // No requeue: a taken or foreign address only frees up when another Service lets go (enqueueWaiting).
    if (!allocation.ok) return this.failed(svc, allocation.reason);

    if (state && state.ip !== allocation.ip) {
      await state.forwarder.close();
      this.states.delete(key);
      state = undefined;
    }
    if (!state) {
      state = {
        ip: allocation.ip,
        forwarder: new LoadBalancerForwarder({
          ip: allocation.ip,
          logger: this.log,
          ...(this.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.connectTimeoutMs } : {}),
        }),
        specSignature: '',
        backendSignature: '',
      };
      this.states.set(key, state);
    }
    const backends = backendNodes(svc, this.nodes.store.list(), this.slices.store.list());
    const backendSignature = backends.map((b: Backend) => `${b.node}=${b.ip}`).join(',');
    state.forwarder.setSourceRanges(desired.ranges);
    state.forwarder.setBackends(backends);
    try {
      await state.forwarder.setPorts(desired.ports);
    } catch (err) {
      if (!(err instanceof ListenError)) throw err;
      state.specSignature = '';
      this.failed(svc, err.message);
      throw err;
    }
    if (specChanged) {
      this.recorder.event(
        referenceTo(svc, 'v1', 'Service'),
        'Normal',
        'EnsuredLoadBalancer',
        'Ensured load balancer',
      );
      this.log.info({ service: key, ip: allocation.ip, nodes: backends.length }, 'ensured load balancer');
    } else if (state.backendSignature !== backendSignature) {
      this.recorder.event(
        referenceTo(svc, 'v1', 'Service'),
        'Normal',
        'UpdatedLoadBalancer',
        'Updated load balancer with new hosts',
      );
    }
    state.specSignature = specSignature;
    state.backendSignature = backendSignature;
    await this.writeStatus(svc, [{ ip: allocation.ip, ipMode: 'VIP' }]);
  }

  private failed(svc: Service, reason: string): void {
    this.log.warn({ service: keyOf(svc), reason }, 'could not ensure load balancer');
    this.recorder.event(
      referenceTo(svc, 'v1', 'Service'),
      'Warning',
      'SyncLoadBalancerFailed',
      `Error syncing load balancer: ${reason}`,
    );
  }

  /** the Service is gone, being deleted, or no longer a LoadBalancer: free its address and listeners */
  private async ensureDeleted(key: string, svc: Service | undefined): Promise<void> {
    const state = this.states.get(key);
    const managed = state !== undefined || (svc !== undefined && hasFinalizer(svc));
    if (state) {
      if (svc)
        this.recorder.event(
          referenceTo(svc, 'v1', 'Service'),
          'Normal',
          'DeletingLoadBalancer',
          'Deleting load balancer',
        );
      this.states.delete(key);
      await state.forwarder.close();
      this.log.info({ service: key, ip: state.ip }, 'deleted load balancer');
    }
    const held = this.pool.addressOf(key);
    this.pool.release(key);
    if (held) this.enqueueWaiting();
    if (!svc || !managed) return;
    if (state)
      this.recorder.event(
        referenceTo(svc, 'v1', 'Service'),
        'Normal',
        'DeletedLoadBalancer',
        'Deleted load balancer',
      );
    let current = svc;
    if (!current.metadata?.deletionTimestamp && (current.status?.loadBalancer?.ingress?.length ?? 0) > 0)
      current = await this.writeStatus(current, []);
    if (hasFinalizer(current))
      await this.setFinalizers(
        current,
        (current.metadata?.finalizers ?? []).filter((f) => f !== LB_CLEANUP_FINALIZER),
      );
  }

  private async setFinalizers(svc: Service, finalizers: string[]): Promise<Service> {
    return this.client.services.patch(
      svc.metadata!.name!,
      // null deletes the key: an empty list is not kept around, as upstream omits it
      {
        metadata: {
          finalizers: finalizers.length ? finalizers : null,
          resourceVersion: svc.metadata?.resourceVersion,
        },
      },
      'merge',
      { namespace: svc.metadata?.namespace },
    );
  }

  private async writeStatus(svc: Service, ingress: LoadBalancerIngress[]): Promise<Service> {
    const desired = ingress.length ? { ingress } : {};
    if (deepEqual(svc.status?.loadBalancer ?? {}, desired)) return svc;
    const copy = structuredClone(svc);
    const next: Service = { ...copy, status: { ...copy.status, loadBalancer: desired } };
    return this.client.services.updateStatus(next);
  }
}
