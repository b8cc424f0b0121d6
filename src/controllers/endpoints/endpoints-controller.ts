// The Endpoints controller (upstream pkg/controller/endpoint): keeps each selector Service's core/v1 Endpoints equal to its pods.
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { WorkQueue, keyOf, splitKey, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual, rfc3339Micro } from '../../util/objects.js';
import { isNotFound } from '../common/controller-ref.js';
import { SharedInformerFactory } from '../common/informers.js';
import { podsForService, serviceSelector, servicesForPodLabels } from '../endpointslice/service-pods.js';
import { computeSubsets, desiredEndpointsLabels } from './endpoints-subsets.js';

export const ENDPOINTS_CONTROLLER_NAME = 'endpoint-controller';
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface EndpointsControllerOptions {
  client: KubeClient;
  /** shared informers; one is made from `client` when absent */
  informers?: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-endpoint-syncs, default 5) */
  workers?: number;
}

export class EndpointsController {
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;
  private workersDone: Promise<void> | undefined;

  constructor(opts: EndpointsControllerOptions) {
    if (!opts.client) throw new TypeError('EndpointsController needs a client');
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: ENDPOINTS_CONTROLLER_NAME });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: opts.client, clock: this.clock, logger: this.log });
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({ name: 'endpoint', clock: this.clock, logger: this.log });
    this.services = this.informers.forResource('services', this.client.services);
    this.pods = this.informers.pods();
    this.endpoints = this.informers.forResource('endpoints', this.client.endpoints);
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
    // someone else changing or deleting an Endpoints object we manage: put it back
    this.endpoints.addEventHandler({
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.onEndpoints(cur);
      },
      onDelete: (ep) => this.onEndpoints(ep),
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.services.waitForSync(), this.pods.waitForSync(), this.endpoints.waitForSync()]);
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

  private onEndpoints(ep: Endpoints): void {
    const svc = this.services.store.get(keyOf(ep));
    if (svc && serviceSelector(svc)) this.queue.add(keyOf(ep));
  }

  /** one pass of the loop for one Service key; throws to be retried with backoff */
  async syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ns = namespace ?? '';
    const svc = this.services.store.getByName(namespace, name);
    if (!svc) {
      // the Service is gone: so are its Endpoints (user-managed ones of selectorless Services included, as upstream)
      try {
        await this.client.endpoints.delete(name, { namespace: ns });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // Services without a selector have user-managed Endpoints; the `kubernetes` Service is the apiserver's
    if (!serviceSelector(svc) || svc.spec?.type === 'ExternalName') return;

    const subsets = computeSubsets(svc, podsForService(svc, this.pods.store));
    const labels = desiredEndpointsLabels(svc);
    const current = this.endpoints.store.getByName(namespace, name);
    if (
      current &&
      deepEqual(current.subsets ?? [], subsets) &&
      deepEqual(current.metadata?.labels ?? {}, labels)
    )
      return;

    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Micro(this.clock.now());
    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        ...(current ? structuredClone(current.metadata) : {}),
        name,
        namespace: ns,
        labels,
        annotations,
      },
      subsets,
    };
    this.log.debug(
      { service: key, subsets: subsets.length },
      current ? 'updating endpoints' : 'creating endpoints',
    );
    // on a stale cache this fails with Conflict/AlreadyExists and the retry sees what the watch brought
    if (current) await this.client.endpoints.update(desired);
    else await this.client.endpoints.create(desired, { namespace: ns });
  }
}
