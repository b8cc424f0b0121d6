// The Deployment controller (upstream pkg/controller/deployment): rolls a Deployment's pod template out through ReplicaSets.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual } from '../../util/objects.js';
import { claimObjects, getControllerOf, isNotFound } from '../common/controller-ref.js';
import { CONTROLLER_UID_INDEX, NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { selectorMatches, selectsEverything } from '../common/selectors.js';
import { DeploymentSync } from './sync.js';

export const DEPLOYMENT_CONTROLLER_NAME = 'deployment-controller';

export interface DeploymentControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-deployment-syncs, default 5) */
  workers?: number;
  recorder?: EventRecorder;
}

export class DeploymentController {
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly dInformer: Informer<Deployment>;
  private readonly rsInformer: Informer<ReplicaSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private workersDone: Promise<void> | undefined;

  constructor(opts: DeploymentControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('DeploymentController needs client and informers');
    this.client = opts.client;
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: DEPLOYMENT_CONTROLLER_NAME });
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({ name: 'deployment', clock: this.clock, logger: this.log });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: DEPLOYMENT_CONTROLLER_NAME,
        clock: this.clock,
        logger: this.log,
      });
    this.dInformer = this.informers.deployments();
    this.rsInformer = this.informers.replicaSets();
    this.podInformer = this.informers.pods();
    this.dInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (d) => this.enqueue(d),
    });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.addReplicaSet(rs),
      onUpdate: (old, cur) => this.updateReplicaSet(old, cur),
      onDelete: (rs) => this.deleteReplicaSet(rs),
    });
    this.podInformer.addEventHandler({ onDelete: (pod) => this.deletePod(pod) });
  }

  /** start the informers, wait for their caches, start the workers; resolves once syncing has begun */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([
      this.dInformer.waitForSync(),
      this.rsInformer.waitForSync(),
      this.podInformer.waitForSync(),
    ]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.syncDeployment(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  private enqueue(d: Deployment): void {
    this.queue.add(keyOf(d));
  }

  private resolveControllerRef(namespace: string | undefined, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== 'Deployment') return undefined;
    const d = this.dInformer.store.getByName(namespace, ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  /** deployments whose selector matches an orphan ReplicaSet (getDeploymentsForReplicaSet) */
  private deploymentsMatching(rs: ReplicaSet): Deployment[] {
    return this.dInformer.store
      .byIndex(NAMESPACE_INDEX, rs.metadata?.namespace ?? '')
      .filter(
        (d) => !selectsEverything(d.spec?.selector) && selectorMatches(d.spec?.selector, rs.metadata?.labels),
      );
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp) return this.deleteReplicaSet(rs);
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata?.namespace, ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsMatching(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (d) this.enqueue(d);
      return;
    }
    const labelsChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const d of this.deploymentsMatching(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(rs: ReplicaSet): void {
    const ref = getControllerOf(rs);
    if (!ref) return;
    const d = this.resolveControllerRef(rs.metadata?.namespace, ref);
    if (d) this.enqueue(d);
  }

  /** Recreate waits for the old pods to be gone: their deletion is what lets it go on */
  private deletePod(pod: Pod): void {
    const rsRef = getControllerOf(pod);
    if (rsRef?.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.store.getByName(pod.metadata?.namespace, rsRef.name);
    if (!rs || rs.metadata?.uid !== rsRef.uid) return;
    const dRef = getControllerOf(rs);
    const d = dRef && this.resolveControllerRef(rs.metadata?.namespace, dRef);
    if (d && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  /** one pass of the control loop for one Deployment key; throws to be retried with backoff */
  async syncDeployment(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInformer.store.getByName(namespace, name);
    if (!cached) return;
    if (selectsEverything(cached.spec?.selector)) {
      this.recorder.event(
        { ...cached, apiVersion: 'apps/v1', kind: 'Deployment' },
        'Warning',
        'SelectingAll',
        'This deployment is selecting all pods. A non-empty selector is required.',
      );
      const generation = cached.metadata?.generation ?? 0;
      if ((cached.status?.observedGeneration ?? 0) < generation) {
        await this.client.deployments.updateStatus({
          ...structuredClone(cached),
          status: { ...structuredClone(cached.status ?? {}), observedGeneration: generation },
        });
      }
      return;
    }
    const rsList = await claimObjects<ReplicaSet>({
      owner: cached,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector: cached.spec?.selector,
      objects: this.rsInformer.store.byIndex(NAMESPACE_INDEX, namespace ?? ''),
      client: this.client.replicaSets,
      canAdopt: () => this.canAdopt(cached),
    });
    // pods per owned RS: Recreate must know whether old pods still run
    const podsByRS = new Map<string, Pod[]>();
    for (const rs of rsList) {
      const uid = rs.metadata?.uid ?? '';
      podsByRS.set(uid, this.podInformer.store.byIndex(CONTROLLER_UID_INDEX, uid));
    }
    const sync = new DeploymentSync(
      {
        client: this.client,
        recorder: this.recorder,
        log: this.log.child({ deployment: key }),
        now: () => this.clock.now(),
        requeueAfter: (ms) => this.queue.addAfter(key, ms),
        cachedReplicaSet: (ns, n) => this.rsInformer.store.getByName(ns, n),
      },
      cached,
      rsList,
      podsByRS,
    );
    await sync.run();
  }

  private async canAdopt(d: Deployment): Promise<boolean> {
    try {
      const fresh = await this.client.deployments.get(d.metadata?.name ?? '', d.metadata?.namespace);
      return fresh.metadata?.uid === d.metadata?.uid && !fresh.metadata?.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
