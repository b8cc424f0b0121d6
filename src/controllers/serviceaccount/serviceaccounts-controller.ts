// The serviceaccounts controller (upstream pkg/controller/serviceaccount/serviceaccounts_controller.go): every
// active namespace has a `default` ServiceAccount; it is created with the namespace and again if deleted.
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { WorkQueue, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { SharedInformerFactory } from '../common/informers.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export interface ServiceAccountsControllerOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --concurrent-serviceaccount-token-syncs is for tokens; this controller runs 1 worker upstream */
  workers?: number;
  /** the ServiceAccounts every namespace gets (upstream's ServiceAccounts option: `default`) */
  names?: readonly string[];
}

export class ServiceAccountsController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly names: readonly string[];
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly namespaces: Informer<Namespace>;
  private readonly serviceAccounts: Informer<ServiceAccount>;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(opts: ServiceAccountsControllerOptions) {
    if (!opts.client) throw new TypeError('ServiceAccountsController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'serviceaccount' });
    const clock = opts.clock ?? realClock;
    this.workers = opts.workers ?? 1;
    this.names = opts.names ?? [DEFAULT_SERVICE_ACCOUNT];
    this.queue = new WorkQueue<string>({ name: 'serviceaccount', clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ?? new SharedInformerFactory({ client: this.client, clock, logger: this.log });
    this.namespaces = this.informers.namespaces();
    this.serviceAccounts = this.informers.forResource('serviceaccounts', this.client.serviceAccounts);
    const enqueueNs = (ns: Namespace): void => this.queue.add(ns.metadata?.name ?? '');
    this.namespaces.addEventHandler({ onAdd: enqueueNs, onUpdate: (_old, ns) => enqueueNs(ns) });
    this.serviceAccounts.addEventHandler({
      onDelete: (sa) => {
        if (sa.metadata?.namespace && this.names.includes(sa.metadata.name ?? ''))
          this.queue.add(sa.metadata.namespace);
      },
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.namespaces.waitForSync(), this.serviceAccounts.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (ns) => this.sync(ns));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** syncNamespace: create the missing ServiceAccounts of an active namespace */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.store.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of this.names) {
      if (this.serviceAccounts.store.getByName(namespace, name)) continue;
      try {
        await this.client.serviceAccounts.create(
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
          { namespace },
        );
        this.log.debug({ namespace, name }, 'created ServiceAccount');
      } catch (err) {
        // already there (the cache lags), or the namespace is going away: nothing to do
        if (err instanceof ApiError && (err.reason === 'AlreadyExists' || err.reason === 'Forbidden'))
          continue;
        if (err instanceof ApiError && err.reason === 'NotFound') continue;
        throw err;
      }
    }
  }
}
