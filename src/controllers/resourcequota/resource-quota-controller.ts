// The resourcequota controller (upstream pkg/controller/resourcequota): keeps every ResourceQuota's status true —
// status.hard copied from spec.hard, status.used recomputed from the objects in its namespace. Admission charges
// creates at once; this gives back what deletes (and pods that finished) free, on their events and on a resync.
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { canonical, type ResourceList } from '../../api/quota/resource-list.js';
import { resourcesCounted, usageOf } from '../../api/quota/usage.js';
import { findResource } from '../../api/resources.js';
import { WorkQueue, type Informer, type KubeClient, type ObjectWithMeta } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { deepEqual } from '../../util/objects.js';
import { SharedInformerFactory } from '../common/informers.js';

export interface ResourceQuotaControllerOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --concurrent-resource-quota-syncs (5) */
  workers?: number;
  /** upstream --resource-quota-sync-period (5 m); kubemu default 10 s */
  resyncPeriodMs?: number;
}

/** resources whose deletes and updates free quota at once (upstream's replenishment monitors) */
const REPLENISHED = [
  'pods',
  'services',
  'configmaps',
  'secrets',
  'persistentvolumeclaims',
  'replicationcontrollers',
];

export class ResourceQuotaController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly workers: number;
  private readonly resyncMs: number;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly quotas: Informer<ResourceQuota>;
  private readonly monitors: Informer<ObjectWithMeta>[] = [];
  private timer: { cancel(): void } | undefined;
  private workersDone: Promise<void> | undefined;
  readonly queue: WorkQueue<string>;

  constructor(opts: ResourceQuotaControllerOptions) {
    if (!opts.client) throw new TypeError('ResourceQuotaController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'resourcequota' });
    this.clock = opts.clock ?? realClock;
    this.workers = opts.workers ?? 5;
    this.resyncMs = opts.resyncPeriodMs ?? 10_000;
    this.queue = new WorkQueue<string>({ name: 'resourcequota', clock: this.clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.quotas = this.informers.forResource(
      'resourcequotas',
      this.client.resource<ResourceQuota>('', 'v1', 'resourcequotas'),
    );
    const enqueue = (q: ResourceQuota): void =>
      this.queue.add(`${q.metadata?.namespace}/${q.metadata?.name}`);
    this.quotas.addEventHandler({
      onAdd: enqueue,
      // status writes (ours and admission's) come back as updates: only a spec change needs a sync
      onUpdate: (old, q) => {
        if (!deepEqual(old.spec, q.spec) || !deepEqual(q.spec?.hard ?? {}, q.status?.hard ?? {})) enqueue(q);
      },
    });
    for (const resource of REPLENISHED) {
      if (!findResource('', resource)) continue;
      const informer = this.informers.forResource(resource, this.client.resource('', 'v1', resource));
      const replenish = (o: ObjectWithMeta): void => this.enqueueNamespace(o.metadata?.namespace);
      informer.addEventHandler({
        onDelete: replenish,
        // a pod that finished (Succeeded/Failed) or started terminating no longer uses compute resources
        onUpdate: (old, o) => {
          const phase = (x: ObjectWithMeta): unknown => (x as { status?: { phase?: string } }).status?.phase;
          if (phase(old) !== phase(o) || old.metadata?.deletionTimestamp !== o.metadata?.deletionTimestamp)
            replenish(o);
        },
      });
      this.monitors.push(informer);
    }
  }

  private enqueueNamespace(namespace: string | undefined): void {
    if (!namespace) return;
    for (const q of this.quotas.store.listNamespace(namespace))
      this.queue.add(`${namespace}/${q.metadata?.name ?? ''}`);
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.quotas.waitForSync(), ...this.monitors.map((m) => m.waitForSync())]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.sync(key));
    this.scheduleResync();
  }

  stop(): void {
    this.timer?.cancel();
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  private scheduleResync(): void {
    if (this.queue.shuttingDown()) return;
    this.timer = this.clock.setTimeout(() => {
      for (const q of this.quotas.store.list())
        this.queue.add(`${q.metadata?.namespace}/${q.metadata?.name}`);
      this.scheduleResync();
    }, this.resyncMs);
  }

  /** the objects of one resource in a namespace, live from the apiserver */
  private async objects(group: string, resource: string, namespace: string): Promise<ObjectWithMeta[]> {
    const ri = findResource(group, resource);
    if (!ri) return [];
    const list = await this.client.resource(group, ri.versions[0], resource).list({ namespace });
    return list.items;
  }

  /** syncResourceQuota: status.hard = spec.hard, status.used = usage recomputed for those resources */
  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cached = this.quotas.store.getByName(namespace, name);
    if (!cached) return;
    const hard = canonical(cached.spec?.hard);
    const byResource = new Map<string, { group: string; resource: string }>();
    for (const k of Object.keys(hard)) {
      const gr = resourcesCounted(k);
      if (gr) byResource.set(`${gr.group}/${gr.resource}`, gr);
    }
    const now = this.clock.now();
    const used: ResourceList = {};
    for (const { group, resource } of byResource.values()) {
      const objects = await this.objects(group, resource, namespace);
      Object.assign(used, usageOf(group, resource, objects, cached, now));
    }
    // every hard resource has a used value, even one nothing counts (upstream: zero)
    for (const k of Object.keys(hard)) used[k] ??= '0';
    if (deepEqual(canonical(cached.status?.hard), hard) && deepEqual(canonical(cached.status?.used), used))
      return;
    // written against the version the usage was computed for: a charge by admission in the meantime makes this
    // a conflict, and the sync runs again (rate-limited) on the fresh quota
    try {
      await this.client
        .resource<ResourceQuota>('', 'v1', 'resourcequotas')
        .updateStatus({ ...cached, status: { hard, used } });
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return;
      throw err;
    }
  }
}
