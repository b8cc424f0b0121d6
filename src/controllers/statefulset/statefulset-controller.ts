// The StatefulSet controller (upstream pkg/controller/statefulset/stateful_set.go): watches StatefulSets, their pods,
// claims and ControllerRevisions, adopts and releases pods and revisions, and runs one pass of the control logic
// (./control.ts) per StatefulSet key.
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual } from '../../util/objects.js';
import { claimObjects, getControllerOf, isNotFound } from '../common/controller-ref.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { isPodReady } from '../common/pods.js';
import { selectorMatches, selectsEverything } from '../common/selectors.js';
import { History, controllerRevisionInformer } from '../history/controller-history.js';
import { StatefulSetControl } from './control.js';
import { StatefulPodControl } from './pod-control.js';
import { STS_API_VERSION, STS_KIND, isMemberOf, replicasOf } from './utils.js';

export const STATEFULSET_CONTROLLER_NAME = 'statefulset-controller';

export function statefulSetsClient(client: KubeClient): ResourceClient<StatefulSet> {
  return client.resource<StatefulSet>('apps', 'v1', 'statefulsets');
}

export interface StatefulSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-statefulset-syncs, default 5) */
  workers?: number;
  recorder?: EventRecorder;
}

export class StatefulSetController {
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly sets: ResourceClient<StatefulSet>;
  private readonly setInformer: Informer<StatefulSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly claimInformer: Informer<PersistentVolumeClaim>;
  private readonly revisionInformer: Informer<ControllerRevision>;
  private readonly control: StatefulSetControl;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private workersDone: Promise<void> | undefined;

  constructor(opts: StatefulSetControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('StatefulSetController needs client and informers');
    this.client = opts.client;
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: STATEFULSET_CONTROLLER_NAME });
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({ name: 'statefulset', clock: this.clock, logger: this.log });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: STATEFULSET_CONTROLLER_NAME,
        clock: this.clock,
        logger: this.log,
      });
    this.sets = statefulSetsClient(this.client);
    this.setInformer = this.informers.forResource('statefulsets.apps', this.sets);
    this.podInformer = this.informers.pods();
    this.claimInformer = this.informers.forResource(
      'persistentvolumeclaims',
      this.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims'),
    );
    this.revisionInformer = controllerRevisionInformer(this.informers);
    const podControl = new StatefulPodControl(
      this.client,
      this.podInformer,
      this.claimInformer,
      this.recorder,
    );
    this.control = new StatefulSetControl({
      client: this.client,
      sets: this.sets,
      podControl,
      history: new History(this.client, this.revisionInformer),
      clock: this.clock,
      log: this.log,
    });
    this.setInformer.addEventHandler({
      onAdd: (set) => this.enqueue(set),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (set) => this.enqueue(set),
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
  }

  /** start the informers, wait for their caches, start the workers; resolves once syncing has begun */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([
      this.setInformer.waitForSync(),
      this.podInformer.waitForSync(),
      this.claimInformer.waitForSync(),
      this.revisionInformer.waitForSync(),
    ]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.sync(key));
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

  private enqueue(set: StatefulSet): void {
    this.queue.add(keyOf(set));
  }

  private resolveControllerRef(namespace: string | undefined, ref: OwnerReference): StatefulSet | undefined {
    if (ref.kind !== STS_KIND) return undefined;
    const set = this.setInformer.store.getByName(namespace, ref.name);
    return set?.metadata?.uid === ref.uid ? set : undefined;
  }

  /** getStatefulSetsForPod: the sets whose selector matches an orphan */
  private setsMatching(pod: Pod): StatefulSet[] {
    const sets = this.setInformer.store
      .byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')
      .filter(
        (s) =>
          !selectsEverything(s.spec?.selector) && selectorMatches(s.spec?.selector, pod.metadata?.labels),
      );
    if (sets.length > 1)
      this.log.warn(
        { pod: keyOf(pod), sets: sets.map((s) => s.metadata?.name) },
        'user error: more than one StatefulSet is selecting pods with labels',
      );
    return sets;
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const set = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (set) this.enqueue(set);
      return;
    }
    for (const set of this.setsMatching(pod)) this.enqueue(set);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const oldSet = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (oldSet) this.enqueue(oldSet);
    }
    if (curRef) {
      const set = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (!set) return;
      this.enqueue(set);
      // a pod that just became ready becomes available minReadySeconds later: look again then
      const minReady = set.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0)
        this.queue.addAfter(keyOf(set), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const set of this.setsMatching(cur)) this.enqueue(set);
  }

  private deletePod(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const set = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (set) this.enqueue(set);
  }

  /** RecheckDeletionTimestamp: a fresh read of the set before adopting anything */
  private async canAdopt(set: StatefulSet): Promise<boolean> {
    try {
      const fresh = await this.sets.get(set.metadata?.name ?? '', set.metadata?.namespace);
      return fresh.metadata?.uid === set.metadata?.uid && !fresh.metadata?.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** one pass for one StatefulSet key; throws to be retried with backoff */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = this.setInformer.store.getByName(namespace, name);
    if (!set) {
      this.log.debug({ set: key }, 'StatefulSet has been deleted');
      return;
    }
    await this.adoptOrphanRevisions(set);
    const pods = await this.podsForStatefulSet(set);
    const status = await this.control.updateStatefulSet(set, pods);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status && (status.availableReplicas ?? 0) !== replicasOf(set))
      this.queue.addAfter(key, minReady * 1000);
  }

  private async adoptOrphanRevisions(set: StatefulSet): Promise<void> {
    const orphans = this.control.listRevisions(set).filter((r) => !getControllerOf(r));
    if (orphans.length === 0) return;
    if (!(await this.canAdopt(set)))
      throw new Error(`can't adopt ControllerRevisions: StatefulSet ${keyOf(set)} is gone or being deleted`);
    await this.control.adoptOrphanRevisions(set, orphans);
  }

  /**
   * getPodsForStatefulSet: every pod of the namespace named `<set>-<ordinal>` that matches the selector (adopted if
   * orphaned), plus those that still point at the set but no longer match (released).
   */
  private async podsForStatefulSet(set: StatefulSet): Promise<Pod[]> {
    const candidates = this.podInformer.store
      .byIndex(NAMESPACE_INDEX, set.metadata?.namespace ?? '')
      .filter((p) => isMemberOf(set, p));
    return claimObjects<Pod>({
      owner: set,
      ownerApiVersion: STS_API_VERSION,
      ownerKind: STS_KIND,
      selector: set.spec?.selector,
      objects: candidates,
      client: this.client.pods,
      canAdopt: () => this.canAdopt(set),
    });
  }
}
