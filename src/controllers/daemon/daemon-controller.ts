// The DaemonSet controller (upstream pkg/controller/daemon/daemon_controller.go): one pod per eligible node, each
// pinned to its node by a `metadata.name` node affinity term for the scheduler to bind, RollingUpdate/OnDelete
// updates over a ControllerRevision history, and the DaemonSet's status.
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
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
import { claimObjects, getControllerOf, isNotFound, newControllerRef } from '../common/controller-ref.js';
import { ControllerExpectations } from '../common/expectations.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';
import { selectorMatches, selectsEverything } from '../common/selectors.js';
import { isNamespaceTerminating, slowStartBatch } from '../replicaset/replicaset-controller.js';
import { cleanupHistory, constructHistory, type HistoryContext } from './history.js';
import { rollingUpdate } from './rolling-update.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  allowsSurge,
  byCreationAndPhase,
  createPodTemplate,
  isPodUpdated,
  nodeShouldRunDaemonPod,
  replaceNodeNameAffinity,
  targetNodeName,
  templateGeneration,
} from './util.js';

export const DAEMONSET_CONTROLLER_NAME = 'daemonset-controller';

/** upstream's BurstReplicas for DaemonSets: at most this many creates or deletes per sync */
const BURST_REPLICAS = 250;
/** upstream's failedPodsBackoff: 1 s doubling to 15 min per DaemonSet and node */
const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000;

export interface DaemonSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** concurrent syncs (upstream --concurrent-daemonset-syncs, default 2) */
  workers?: number;
  burstReplicas?: number;
  recorder?: EventRecorder;
}

/** flowcontrol.Backoff as the DaemonSet controller uses it for failed pods */
class FailedPodBackoff {
  private readonly entries = new Map<string, { delay: number; last: number }>();
  constructor(private readonly clock: Clock) {}

  inBackoffSinceUpdate(key: string): boolean {
    const e = this.entries.get(key);
    return !!e && this.clock.now() - e.last < e.delay;
  }

  delay(key: string): number {
    return this.entries.get(key)?.delay ?? 0;
  }

  next(key: string): void {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (!e || now - e.last > 2 * FAILED_POD_BACKOFF_MAX_MS)
      this.entries.set(key, { delay: FAILED_POD_BACKOFF_INITIAL_MS, last: now });
    else this.entries.set(key, { delay: Math.min(e.delay * 2, FAILED_POD_BACKOFF_MAX_MS), last: now });
  }
}

export class DaemonSetController {
  readonly expectations: ControllerExpectations;
  readonly queue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly dsClient: ResourceClient<DaemonSet>;
  private readonly revisionClient: ResourceClient<ControllerRevision>;
  private readonly dsInformer: Informer<DaemonSet>;
  private readonly revisionInformer: Informer<ControllerRevision>;
  private readonly podInformer: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly burstReplicas: number;
  private readonly failedPodsBackoff: FailedPodBackoff;
  private workersDone: Promise<void> | undefined;

  constructor(opts: DaemonSetControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('DaemonSetController needs client and informers');
    this.client = opts.client;
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: DAEMONSET_CONTROLLER_NAME });
    this.workers = opts.workers ?? 2;
    this.burstReplicas = opts.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new ControllerExpectations(this.clock);
    this.failedPodsBackoff = new FailedPodBackoff(this.clock);
    this.queue = new WorkQueue<string>({ name: 'daemonset', clock: this.clock, logger: this.log });
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: DAEMONSET_CONTROLLER_NAME,
        clock: this.clock,
        logger: this.log,
      });
    this.dsClient = this.client.resource<DaemonSet>('apps', 'v1', 'daemonsets');
    this.revisionClient = this.client.resource<ControllerRevision>('apps', 'v1', 'controllerrevisions');
    this.dsInformer = this.informers.forResource('daemonsets.apps', this.dsClient);
    this.revisionInformer = this.informers.forResource('controllerrevisions.apps', this.revisionClient);
    this.podInformer = this.informers.pods();
    this.nodeInformer = this.informers.nodes();

    this.dsInformer.addEventHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (ds) => {
        this.expectations.delete(keyOf(ds));
        this.enqueue(ds);
      },
    });
    this.revisionInformer.addEventHandler({
      onAdd: (r) => this.enqueueOwnerOf(r),
      onUpdate: (_old, cur) => this.enqueueOwnerOf(cur),
      onDelete: (r) => this.enqueueOwnerOf(r),
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (node) => {
        for (const ds of this.dsInformer.store.list())
          if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(ds);
      },
      onUpdate: (old, cur) => this.updateNode(old, cur),
      // upstream leaves a deleted node's pods to the pod GC; resyncing at once keeps the status right meanwhile
      onDelete: () => {
        for (const ds of this.dsInformer.store.list()) this.enqueue(ds);
      },
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([
      this.dsInformer.waitForSync(),
      this.revisionInformer.waitForSync(),
      this.podInformer.waitForSync(),
      this.nodeInformer.waitForSync(),
    ]);
    if (this.queue.shuttingDown()) return;
    this.log.info({ workers: this.workers }, 'caches synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.syncDaemonSet(key));
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

  private enqueue(ds: DaemonSet): void {
    this.queue.add(keyOf(ds));
  }

  private enqueueOwnerOf(revision: ControllerRevision): void {
    const ref = getControllerOf(revision);
    if (!ref) return;
    const ds = this.resolveControllerRef(revision.metadata?.namespace, ref);
    if (ds) this.enqueue(ds);
  }

  private resolveControllerRef(namespace: string | undefined, ref: OwnerReference): DaemonSet | undefined {
    if (ref.kind !== 'DaemonSet') return undefined;
    const ds = this.dsInformer.store.getByName(namespace, ref.name);
    return ds?.metadata?.uid === ref.uid ? ds : undefined;
  }

  /** getDaemonSetsForPod: DaemonSets whose selector matches an orphan pod */
  private daemonSetsMatching(pod: Pod): DaemonSet[] {
    return this.dsInformer.store
      .byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')
      .filter(
        (ds) =>
          !selectsEverything(ds.spec?.selector) && selectorMatches(ds.spec?.selector, pod.metadata?.labels),
      );
  }

  private addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const ds = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!ds) return;
      this.expectations.creationObserved(keyOf(ds));
      this.enqueue(ds);
      return;
    }
    for (const ds of this.daemonSetsMatching(pod)) this.enqueue(ds);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      this.deletePod(cur);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !deepEqual(curRef ?? null, oldRef ?? null);
    if (refChanged && oldRef) {
      const oldDs = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (oldDs) this.enqueue(oldDs);
    }
    if (curRef) {
      const ds = this.resolveControllerRef(cur.metadata?.namespace, curRef);
      if (!ds) return;
      this.enqueue(ds);
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0)
        this.queue.addAfter(keyOf(ds), minReady * 1000 + 1000);
      return;
    }
    const labelsChanged = !deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const ds of this.daemonSetsMatching(cur)) this.enqueue(ds);
  }

  private deletePod(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const ds = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (!ds) return;
    this.expectations.deletionObserved(keyOf(ds), keyOf(pod));
    this.enqueue(ds);
  }

  /** updateNode: only a change in what a DaemonSet cares about (labels, taints, spec, conditions) is a reason to sync */
  private updateNode(old: Node, cur: Node): void {
    const conditions = (n: Node) => (n.status?.conditions ?? []).map((c) => [c.type, c.status]);
    if (
      deepEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {}) &&
      deepEqual(old.spec ?? {}, cur.spec ?? {}) &&
      deepEqual(conditions(old), conditions(cur))
    )
      return;
    for (const ds of this.dsInformer.store.list()) {
      const before = nodeShouldRunDaemonPod(old, ds);
      const after = nodeShouldRunDaemonPod(cur, ds);
      if (
        before.shouldRun !== after.shouldRun ||
        before.shouldContinueRunning !== after.shouldContinueRunning
      )
        this.enqueue(ds);
    }
  }

  /** one pass of the control loop for one DaemonSet key; throws to be retried with backoff */
  async syncDaemonSet(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dsInformer.store.getByName(namespace, name);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const nodes = this.nodeInformer.store.list();
    if (selectsEverything(ds.spec?.selector)) {
      this.recorder.event(
        asDaemonSet(ds),
        'Warning',
        'SelectingAll',
        'This daemon set is selecting all pods. A non-empty selector is required.',
      );
      return;
    }
    // a DaemonSet being deleted is left to the garbage collector, history included
    if (ds.metadata?.deletionTimestamp) return;

    const { current, old } = await constructHistory(this.historyContext(), ds);
    const hash = current.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    if (!this.expectations.satisfied(key)) {
      // only the status: observedGeneration stays, as this generation was not acted on
      await this.updateStatus(ds, nodes, hash, false);
      return;
    }
    let syncError: unknown;
    try {
      await this.manage(ds, nodes, hash);
      if (this.expectations.satisfied(key) && ds.spec?.updateStrategy?.type !== 'OnDelete') {
        const decision = rollingUpdate({
          ds,
          nodes,
          nodeToDaemonPods: await this.nodesToDaemonPods(ds, false),
          hash,
          nowMs: this.clock.now(),
        });
        await this.syncNodes(ds, decision.podsToDelete, decision.nodesToCreate, hash);
      }
      await cleanupHistory(this.historyContext(), ds, old);
    } catch (err) {
      syncError = err;
    }
    await this.updateStatus(ds, nodes, hash, true);
    if (syncError !== undefined) throw asError(syncError);
  }

  private historyContext(): HistoryContext {
    return {
      revisions: this.revisionClient,
      daemonSets: this.dsClient,
      controlled: (ds) =>
        this.revisionInformer.store
          .byIndex(NAMESPACE_INDEX, ds.metadata?.namespace ?? '')
          .filter(
            (r) =>
              getControllerOf(r)?.uid === ds.metadata?.uid &&
              selectorMatches(ds.spec?.selector, r.metadata?.labels),
          ),
      pods: (ds) =>
        this.podInformer.store
          .byIndex(NAMESPACE_INDEX, ds.metadata?.namespace ?? '')
          .filter((p) => getControllerOf(p)?.uid === ds.metadata?.uid),
      relabelPod: async (pod, hash) => {
        const copy = structuredClone(pod);
        (copy.metadata!.labels ??= {})[CONTROLLER_REVISION_HASH_LABEL] = hash;
        await this.client.pods.update(copy);
      },
    };
  }

  /** getDaemonPods: claim the namespace's pods matching the selector (adopting orphans, releasing mismatches) */
  private async daemonPods(ds: DaemonSet): Promise<Pod[]> {
    return claimObjects<Pod>({
      owner: ds,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'DaemonSet',
      selector: ds.spec?.selector,
      objects: this.podInformer.store.byIndex(NAMESPACE_INDEX, ds.metadata?.namespace ?? ''),
      client: this.client.pods,
      canAdopt: () => this.canAdopt(ds),
    });
  }

  private async canAdopt(ds: DaemonSet): Promise<boolean> {
    try {
      const fresh = await this.dsClient.get(ds.metadata?.name ?? '', ds.metadata?.namespace);
      return fresh.metadata?.uid === ds.metadata?.uid && !fresh.metadata?.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * getNodesToDaemonPods: the DaemonSet's pods by the node they are on or meant for (an unscheduled pod's
   * `metadata.name` affinity term); terminal pods being deleted are left out unless `includeDeletedTerminal`.
   */
  private async nodesToDaemonPods(
    ds: DaemonSet,
    includeDeletedTerminal: boolean,
  ): Promise<Map<string, Pod[]>> {
    const out = new Map<string, Pod[]>();
    for (const pod of await this.daemonPods(ds)) {
      const phase = pod.status?.phase;
      if (
        !includeDeletedTerminal &&
        (phase === 'Succeeded' || phase === 'Failed') &&
        pod.metadata?.deletionTimestamp
      )
        continue;
      const nodeName = targetNodeName(pod);
      if (nodeName === undefined) {
        this.log.warn({ pod: keyOf(pod) }, 'daemon pod names no target node');
        continue;
      }
      const list = out.get(nodeName);
      if (list) list.push(pod);
      else out.set(nodeName, [pod]);
    }
    return out;
  }

  /** manage: create the pods nodes lack, delete the ones that should not be where they are */
  private async manage(ds: DaemonSet, nodes: readonly Node[], hash: string): Promise<void> {
    const nodeToDaemonPods = await this.nodesToDaemonPods(ds, false);
    const nodesNeeding: string[] = [];
    const podsToDelete: string[] = [];
    for (const node of nodes) {
      const r = this.podsShouldBeOnNode(node, nodeToDaemonPods, ds, hash);
      nodesNeeding.push(...r.nodesNeeding);
      podsToDelete.push(...r.podsToDelete);
    }
    // getUnscheduledPodsWithoutNode: pods still waiting for a node that no longer exists
    const known = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const [nodeName, pods] of nodeToDaemonPods) {
      if (known.has(nodeName)) continue;
      for (const pod of pods) if (!pod.spec?.nodeName) podsToDelete.push(pod.metadata?.name ?? '');
    }
    await this.syncNodes(ds, podsToDelete, nodesNeeding, hash);
  }

  /** podsShouldBeOnNode: what the node needs — a pod created, or some of its daemon pods deleted */
  private podsShouldBeOnNode(
    node: Node,
    nodeToDaemonPods: ReadonlyMap<string, Pod[]>,
    ds: DaemonSet,
    hash: string,
  ): { nodesNeeding: string[]; podsToDelete: string[] } {
    const nodeName = node.metadata?.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const daemonPods = nodeToDaemonPods.get(nodeName);
    const nodesNeeding: string[] = [];
    const podsToDelete: string[] = [];
    if (shouldRun && !daemonPods) {
      nodesNeeding.push(nodeName);
    } else if (shouldContinueRunning && daemonPods) {
      const running: Pod[] = [];
      for (const pod of daemonPods) {
        if (pod.metadata?.deletionTimestamp) continue;
        const phase = pod.status?.phase;
        if (phase === 'Failed') {
          // the kubelet rejected or lost it: replace it, but back off so a node that keeps failing it is not hot-looped
          const backoffKey = `${ds.metadata?.uid ?? ''}/${nodeName}`;
          if (this.failedPodsBackoff.inBackoffSinceUpdate(backoffKey)) {
            this.queue.addAfter(keyOf(ds), this.failedPodsBackoff.delay(backoffKey));
            continue;
          }
          this.failedPodsBackoff.next(backoffKey);
          this.recorder.event(
            asDaemonSet(ds),
            'Warning',
            'FailedDaemonPod',
            `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${nodeName}, will try to kill it`,
          );
          podsToDelete.push(pod.metadata?.name ?? '');
        } else if (phase === 'Succeeded') {
          podsToDelete.push(pod.metadata?.name ?? '');
        } else {
          running.push(pod);
        }
      }
      running.sort(byCreationAndPhase);
      if (!allowsSurge(ds)) {
        // one pod a node: keep the oldest
        for (const pod of running.slice(1)) podsToDelete.push(pod.metadata?.name ?? '');
      } else if (running.length === 0) {
        if (shouldRun) nodesNeeding.push(nodeName);
      } else if (running.length > 1) {
        // surging: the oldest new pod and the oldest old pod may both stay while the new one is not available yet
        let oldestNew: Pod | undefined;
        let oldestOld: Pod | undefined;
        for (const pod of running) {
          const isNew = pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
          if (isNew && !oldestNew) oldestNew = pod;
          else if (!isNew && !oldestOld) oldestOld = pod;
          else podsToDelete.push(pod.metadata?.name ?? '');
        }
        if (oldestNew && oldestOld) {
          if (
            !isPodReady(oldestOld) ||
            isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.clock.now())
          )
            podsToDelete.push(oldestOld.metadata?.name ?? '');
        }
      }
    } else if (!shouldContinueRunning && daemonPods) {
      for (const pod of daemonPods)
        if (!pod.metadata?.deletionTimestamp) podsToDelete.push(pod.metadata?.name ?? '');
    }
    return { nodesNeeding, podsToDelete };
  }

  /** syncNodes: delete and create (in slow-start batches), with expectations set first */
  private async syncNodes(
    ds: DaemonSet,
    podsToDelete: readonly string[],
    nodesNeeding: readonly string[],
    hash: string,
  ): Promise<void> {
    const key = keyOf(ds);
    const creates = nodesNeeding.slice(0, this.burstReplicas);
    const deletes = podsToDelete.slice(0, this.burstReplicas);
    if (nodesNeeding.length > creates.length || podsToDelete.length > deletes.length)
      this.log.debug(
        { ds: key, creates: nodesNeeding.length, deletes: podsToDelete.length },
        'burst limit reached',
      );
    if (creates.length === 0 && deletes.length === 0) return;
    const namespace = ds.metadata?.namespace ?? '';
    this.expectations.expectCreations(key, creates.length);
    this.expectations.expectDeletions(
      key,
      deletes.map((name) => `${namespace}/${name}`),
    );
    const errors: Error[] = [];
    if (creates.length > 0) {
      const template = createPodTemplate(ds, hash);
      let next = 0;
      const { succeeded, error } = await slowStartBatch(creates.length, 1, () =>
        this.createPod(ds, template, creates[next++]),
      );
      for (let i = succeeded; i < creates.length; i++) this.expectations.creationObserved(key);
      if (error) errors.push(error);
    }
    const results = await Promise.allSettled(deletes.map((name) => this.deletePodOf(ds, name, key)));
    for (const r of results) if (r.status === 'rejected') errors.push(asError(r.reason));
    if (errors.length) throw errors[0];
  }

  private async createPod(
    ds: DaemonSet,
    template: ReturnType<typeof createPodTemplate>,
    nodeName: string,
  ): Promise<void> {
    const meta = template.metadata ?? {};
    const spec = structuredClone(template.spec ?? { containers: [] });
    spec.affinity = replaceNodeNameAffinity(spec.affinity, nodeName);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata?.name ?? ''}-`,
        namespace: ds.metadata?.namespace,
        ...(meta.labels ? { labels: { ...meta.labels } } : {}),
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
        ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      spec,
    };
    try {
      const created = await this.client.pods.create(pod);
      this.recorder.event(
        asDaemonSet(ds),
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata?.name}`,
      );
    } catch (err) {
      if (isNamespaceTerminating(err)) return;
      this.recorder.event(
        asDaemonSet(ds),
        'Warning',
        'FailedCreate',
        `Error creating: ${asError(err).message}`,
      );
      throw err;
    }
  }

  private async deletePodOf(ds: DaemonSet, name: string, dsKey: string): Promise<void> {
    const namespace = ds.metadata?.namespace ?? '';
    try {
      await this.client.pods.delete(name, { namespace });
      this.recorder.event(asDaemonSet(ds), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      this.expectations.deletionObserved(dsKey, `${namespace}/${name}`);
      if (isNotFound(err)) return;
      this.recorder.event(
        asDaemonSet(ds),
        'Warning',
        'FailedDelete',
        `Error deleting: ${asError(err).message}`,
      );
      throw err;
    }
  }

  /** updateDaemonSetStatus: count, per node, what should run and what runs; observedGeneration only when acted on */
  private async updateStatus(
    ds: DaemonSet,
    nodes: readonly Node[],
    hash: string,
    updateObservedGeneration: boolean,
  ): Promise<void> {
    const nodeToDaemonPods = await this.nodesToDaemonPods(ds, false);
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    let desired = 0;
    let currentScheduled = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let available = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = nodeToDaemonPods.get(node.metadata?.name ?? '');
      const scheduled = !!pods && pods.length > 0;
      if (shouldRun) {
        desired++;
        if (!scheduled) continue;
        currentScheduled++;
        // the oldest pod decides the node's readiness
        const pod = [...pods].sort(byCreationAndPhase)[0];
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, minReady, now)) available++;
        }
        if (isPodUpdated(pod, hash, generation)) updated++;
      } else if (scheduled) {
        misscheduled++;
      }
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {
        currentNumberScheduled: 0,
        desiredNumberScheduled: 0,
        numberMisscheduled: 0,
        numberReady: 0,
      }),
      desiredNumberScheduled: desired,
      currentNumberScheduled: currentScheduled,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (updateObservedGeneration) status.observedGeneration = ds.metadata?.generation ?? 0;
    if (!deepEqual(stripZero(ds.status), stripZero(status))) await this.storeStatus(ds, status);
    // a pod that is ready but not yet available becomes so minReadySeconds later: look again then
    if (minReady > 0 && ready !== available) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }

  /** storeDaemonSetStatus: write it; on a conflict, read the DaemonSet afresh once and write again */
  private async storeStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    try {
      await this.dsClient.updateStatus({ ...structuredClone(ds), status });
    } catch (err) {
      if (isNotFound(err)) return;
      const fresh = await this.dsClient.get(ds.metadata?.name ?? '', ds.metadata?.namespace);
      await this.dsClient.updateStatus({
        ...fresh,
        status: {
          ...status,
          ...(fresh.status?.collisionCount !== undefined
            ? { collisionCount: fresh.status.collisionCount }
            : {}),
        },
      });
    }
  }
}

/** the status without fields that are zero (omitempty): the stored form */
function stripZero(status: DaemonSetStatus | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status ?? {})) if (v !== 0 && v !== undefined) out[k] = v;
  return out;
}

const asDaemonSet = (ds: DaemonSet): DaemonSet => ({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' });

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
