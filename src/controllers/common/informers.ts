// One informer per resource, shared by every controller of the controller-manager (client-go's SharedInformerFactory).
//
// For L2 / controller-manager: build ONE factory, hand it to every controller's constructor as `informers`,
// construct all controllers (they register their handlers), then call each controller's run(). A controller's
// run() calls `informers.start()` (idempotent: informers already running are left alone) and waits for the
// informers it uses to sync. `informers.stop()` on shutdown.
//   const informers = new SharedInformerFactory({ client, logger, clock });
//   const rs = new ReplicaSetController({ client, informers, logger });
//   await rs.run();
// Standard indexes on every informer: `namespace` (metadata.namespace) and `controllerUid` (the uid of
// the ownerReference with controller=true), so "pods owned by X" is an index lookup.
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { Informer, ResourceClient, type KubeClient, type ObjectWithMeta } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';

export const NAMESPACE_INDEX = 'namespace';
export const CONTROLLER_UID_INDEX = 'controllerUid';

function standardIndexers<T extends ObjectWithMeta>(): Record<string, (obj: T) => string[]> {
  return {
    [NAMESPACE_INDEX]: (o) => [o.metadata?.namespace ?? ''],
    [CONTROLLER_UID_INDEX]: (o) => {
      const ref = o.metadata?.ownerReferences?.find((r) => r.controller);
      return ref ? [ref.uid] : [];
    },
  };
}

export interface SharedInformerFactoryOptions {
  client: KubeClient;
  logger?: Logger;
  clock?: Clock;
  /** periodic onUpdate(obj, obj) of every cached object; 0/undefined: never */
  resyncPeriodMs?: number;
  /** list/watch retry backoff for every informer */
  backoff?: { initialMs?: number; maxMs?: number };
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer<ObjectWithMeta>>();
  private readonly opts: SharedInformerFactoryOptions;
  private started = false;

  constructor(opts: SharedInformerFactoryOptions) {
    this.opts = opts;
  }

  get client(): KubeClient {
    return this.opts.client;
  }

  pods(): Informer<Pod> {
    return this.forResource('pods', this.opts.client.pods);
  }

  replicaSets(): Informer<ReplicaSet> {
    return this.forResource('replicasets.apps', this.opts.client.replicaSets);
  }

  deployments(): Informer<Deployment> {
    return this.forResource('deployments.apps', this.opts.client.deployments);
  }

  nodes(): Informer<Node> {
    return this.forResource('nodes', this.opts.client.nodes);
  }

  namespaces(): Informer<Namespace> {
    return this.forResource('namespaces', this.opts.client.namespaces);
  }

  /** the shared informer of any resource, cluster-wide; `name` identifies it (e.g. `endpointslices.discovery.k8s.io`) */
  forResource<T extends ObjectWithMeta>(name: string, source: ResourceClient<T>): Informer<T> {
    let informer = this.informers.get(name) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>({
        // the factory's client lists and watches, whoever asks: a controller that runs as its own ServiceAccount
        // shares the controller-manager's informers, as upstream's (rootClientBuilder's "shared-informers")
        source: new ResourceClient<T>(this.opts.client.transport, source.descriptor),
        name,
        indexers: standardIndexers<T>(),
        clock: this.opts.clock ?? realClock,
        logger: this.opts.logger ?? silentLogger(),
        ...(this.opts.resyncPeriodMs ? { resyncPeriodMs: this.opts.resyncPeriodMs } : {}),
        ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
      });
      this.informers.set(name, informer as unknown as Informer<ObjectWithMeta>);
      // An informer asked for after start() starts at once, as client-go's factory.Start does on re-call.
      if (this.started) informer.start();
    }
    return informer;
  }

  /** start every informer made so far (and any made later); idempotent */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    for (const informer of this.informers.values()) informer.stop();
  }
}
