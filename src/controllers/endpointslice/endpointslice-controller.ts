// The EndpointSlice controller (upstream pkg/controller/endpointslice): keeps each selector Service's discovery.k8s.io/v1 slices equal to its pods.
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { WorkQueue, keyOf, splitKey, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual } from '../../util/objects.js';
import { isNotFound } from '../common/controller-ref.js';
import { SharedInformerFactory } from '../common/informers.js';
import {
  CONTROLLER_NAME,
  MANAGED_BY_LABEL,
  MAX_ENDPOINTS_PER_SLICE,
  SERVICE_NAME_LABEL,
  reconcileSlices,
} from './reconcile.js';
import { podsForService, serviceSelector, servicesForPodLabels } from './service-pods.js';
import { SliceTracker } from './slice-tracker.js';

export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller';

export interface EndpointSliceControllerOptions {
  client: KubeClient;
  /** shared informers; one is made from `client` when absent */
  informers?: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-service-endpoint-syncs, default 5) */
  workers?: number;
  maxEndpointsPerSlice?: number;
}

function managedServiceKey(slice: EndpointSlice): string | undefined {
  const labels = slice.metadata?.labels;
  if (labels?.[MANAGED_BY_LABEL] !== CONTROLLER_NAME) return undefined;
  const svc = labels[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata?.namespace ?? ''}/${svc}` : undefined;
}

export class EndpointSliceController {
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly maxPerSlice: number;
  private readonly tracker = new SliceTracker();
  private workersDone: Promise<void> | undefined;

  constructor(opts: EndpointSliceControllerOptions) {
    if (!opts.client) throw new TypeError('EndpointSliceController needs a client');
    this.client = opts.client;
    const clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: ENDPOINTSLICE_CONTROLLER_NAME });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ?? new SharedInformerFactory({ client: opts.client, clock, logger: this.log });
    this.workers = opts.workers ?? 5;
    this.maxPerSlice = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.queue = new WorkQueue<string>({ name: 'endpointslice', clock, logger: this.log });
    this.services = this.informers.forResource('services', this.client.services);
    this.pods = this.informers.pods();
    this.slices = this.informers.forResource('endpointslices.discovery.k8s.io', this.client.endpointSlices);
    this.services.addEventHandler({
      onAdd: (svc) => this.queue.add(keyOf(svc)),
      onUpdate: (_old, cur) => this.queue.add(keyOf(cur)),
      onDelete: (svc) => this.queue.add(keyOf(svc)),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.onPod([pod]),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.onPod([old, cur]);
      },
      onDelete: (pod) => this.onPod([pod]),
    });
    const onSlice = (slice: EndpointSlice): void => {
      const key = managedServiceKey(slice);
      if (key) this.queue.add(key);
    };
    this.slices.addEventHandler({
      onAdd: onSlice,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        onSlice(cur);
        // a slice relabelled away from a Service leaves that Service short
        if (managedServiceKey(old) !== managedServiceKey(cur)) onSlice(old);
      },
      onDelete: (slice) => {
        const key = managedServiceKey(slice);
        if (key) this.tracker.observedDeletion(key, slice);
        onSlice(slice);
      },
    });
  }

  /** start the informers, wait for their caches, start the workers */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.services.waitForSync(), this.pods.waitForSync(), this.slices.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.syncService(key));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  private onPod(versions: Pod[]): void {
    const ns = versions[0].metadata?.namespace ?? '';
    const keys = servicesForPodLabels(
      ns,
      versions.map((p) => p.metadata?.labels),
      this.services.store,
    );
    for (const key of keys) this.queue.add(key);
  }

  /** indexers are fixed when the shared informer is made, so the by-service lookup filters the namespace index */
  private managedSlices(key: string): EndpointSlice[] {
    const { namespace } = splitKey(key);
    return this.slices.store
      .byIndex('namespace', namespace ?? '')
      .filter((s) => managedServiceKey(s) === key);
  }

  /** one pass of the loop for one Service key; throws to be retried with backoff */
  async syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.store.getByName(namespace, name);
    const existing = this.managedSlices(key);
    if (!svc || !serviceSelector(svc) || svc.spec?.type === 'ExternalName') {
      // owner references would let the garbage collector do this; doing it here is quicker and harmless
      if (!svc) {
        for (const slice of existing) await this.deleteSlice(key, slice);
        this.tracker.forget(key);
      }
      return;
    }
    if (this.tracker.stale(key, this.slices.store)) {
      // our last writes are not in the cache yet: acting now would duplicate them. Their watch events
      // re-queue the Service; the delayed add covers a watch that drops them.
      this.queue.addAfter(key, 1000);
      return;
    }
    const changes = reconcileSlices(svc, podsForService(svc, this.pods.store), existing, this.maxPerSlice);
    if (!changes.create.length && !changes.update.length && !changes.delete.length) return;
    this.log.debug(
      {
        service: key,
        create: changes.create.length,
        update: changes.update.length,
        delete: changes.delete.length,
      },
      'reconciling endpoint slices',
    );
    // create before delete, so consumers never see the Service without its endpoints in between
    for (const slice of changes.create) {
      const created = await this.client.endpointSlices.create(slice, { namespace: namespace ?? '' });
      this.tracker.wrote(key, created);
    }
    for (const slice of changes.update) {
      if (deepEqual(slice, this.slices.store.get(keyOf(slice)))) continue;
      const updated = await this.client.endpointSlices.update(slice);
      this.tracker.wrote(key, updated);
    }
    for (const slice of changes.delete) await this.deleteSlice(key, slice);
  }

  private async deleteSlice(key: string, slice: EndpointSlice): Promise<void> {
    try {
      await this.client.endpointSlices.delete(slice.metadata?.name ?? '', {
        namespace: slice.metadata?.namespace ?? '',
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.tracker.deleted(key, slice);
  }
}
