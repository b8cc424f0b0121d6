// The disruption controller (upstream pkg/controller/disruption, "disruption-controller"): keeps each
// PodDisruptionBudget's status — currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, disruptedPods,
// observedGeneration and the DisruptionAllowed condition — equal to its pods and the scale of their controllers,
// which is what the eviction subresource decides by.
import type { Pod, PodCondition, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Condition, OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  referenceTo,
  splitKey,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import { findByKind, parseApiVersion } from '../../api/resources.js';
import {
  DISRUPTION_ALLOWED_CONDITION,
  SYNC_FAILED_REASON,
  conditionsAreUpToDate,
  setStatusCondition,
  updateDisruptionAllowedCondition,
} from '../../api/poddisruptionbudget.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { isNotFound } from '../common/controller-ref.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { isPodReady } from '../common/pods.js';
import { selectorMatches } from '../common/selectors.js';
import { scaledValue } from '../deployment/util.js';

export const DISRUPTION_CONTROLLER_NAME = 'disruption-controller';
/** upstream's DeletionTimeout: how long an evicted pod may take to be seen terminating */
export const DELETION_TIMEOUT_MS = 2 * 60_000;
/** upstream's stalePodDisruptionTimeout: a DisruptionTarget condition on a pod that was never deleted is reset */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

export interface DisruptionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  recorder?: EventRecorder;
}

type DisruptedPods = Record<string, string>;

/** (controller uid, scale) of a pod's controller, or undefined when the finder does not know the kind */
type ControllerScale = { uid: string; scale: number } | undefined;
type ControllerFinder = (
  ref: OwnerReference,
  namespace: string,
) => ControllerScale | Promise<ControllerScale>;

function groupOf(ref: OwnerReference): string {
  return parseApiVersion(ref.apiVersion).group;
}

function isKind(ref: OwnerReference, kind: string, groups: string[]): boolean {
  return ref.kind === kind && groups.includes(groupOf(ref));
}

const pdbRef = (pdb: PodDisruptionBudget) => referenceTo(pdb, 'policy/v1', 'PodDisruptionBudget');

const controllerOf = (obj: {
  metadata?: { ownerReferences?: OwnerReference[] };
}): OwnerReference | undefined => obj.metadata?.ownerReferences?.find((r) => r.controller);

export class DisruptionController {
  readonly queue: WorkQueue<string>;
  /** pods whose DisruptionTarget condition may have gone stale */
  readonly staleQueue: WorkQueue<string>;
  private readonly client: KubeClient;
  private readonly informers: SharedInformerFactory;
  private readonly pdbClient: ResourceClient<PodDisruptionBudget>;
  private readonly pdbs: Informer<PodDisruptionBudget>;
  private readonly pods: Informer<Pod>;
  private readonly rcs: Informer<ReplicationController>;
  private readonly rss: Informer<ReplicaSet>;
  private readonly deployments: Informer<Deployment>;
  private readonly statefulSets: Informer<StatefulSet>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private workersDone: Promise<void> | undefined;
  private staleDone: Promise<void> | undefined;

  constructor(opts: DisruptionControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('DisruptionController needs client and informers');
    this.client = opts.client;
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: DISRUPTION_CONTROLLER_NAME });
    this.queue = new WorkQueue<string>({ name: 'disruption', clock: this.clock, logger: this.log });
    this.staleQueue = new WorkQueue<string>({
      name: 'stale_pod_disruption',
      clock: this.clock,
      logger: this.log,
    });
    // upstream's recorder reports as the controller-manager
    this.recorder =
      opts.recorder ??
      new EventRecorder({
        client: this.client,
        component: 'controllermanager',
        clock: this.clock,
        logger: this.log,
      });
    this.pdbClient = this.client.resource<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets');
    this.pdbs = this.informers.forResource('poddisruptionbudgets.policy', this.pdbClient);
    this.pods = this.informers.pods();
    this.rss = this.informers.replicaSets();
    this.deployments = this.informers.deployments();
    this.rcs = this.informers.forResource(
      'replicationcontrollers',
      this.client.resource<ReplicationController>('', 'v1', 'replicationcontrollers'),
    );
    this.statefulSets = this.informers.forResource(
      'statefulsets.apps',
      this.client.resource<StatefulSet>('apps', 'v1', 'statefulsets'),
    );
    this.pdbs.addEventHandler({
      onAdd: (pdb) => this.queue.add(keyOf(pdb)),
      onUpdate: (_old, cur) => this.queue.add(keyOf(cur)),
      onDelete: (pdb) => this.queue.add(keyOf(pdb)),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.onPod(pod),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.onPod(cur);
      },
      onDelete: (pod) => this.onPod(pod),
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all(
      [this.pdbs, this.pods, this.rcs, this.rss, this.deployments, this.statefulSets].map((i) =>
        i.waitForSync(),
      ),
    );
    if (this.queue.shuttingDown()) return;
    this.log.info('caches synced; starting workers');
    // upstream runs one worker
    this.workersDone = this.queue.runWorkers(1, (key) => this.sync(key));
    this.staleDone = this.staleQueue.runWorkers(1, (key) => this.syncStalePodDisruption(key));
  }

  stop(): void {
    this.queue.shutDown();
    this.staleQueue.shutDown();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.workersDone, this.staleDone]);
  }

  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  /** the budgets selecting a pod (upstream's GetPodPodDisruptionBudgets) */
  private budgetsFor(pod: Pod): PodDisruptionBudget[] {
    const ns = pod.metadata?.namespace ?? '';
    return this.pdbs.store
      .byIndex(NAMESPACE_INDEX, ns)
      .filter((pdb) => selectorMatches(pdb.spec?.selector, pod.metadata?.labels));
  }

  private onPod(pod: Pod): void {
    const stale = this.staleDisruptionWait(pod);
    if (stale !== undefined) this.staleQueue.addAfter(keyOf(pod), stale);
    const budgets = this.budgetsFor(pod);
    if (budgets.length > 1) {
      const msg = `Pod "${pod.metadata?.namespace}"/"${pod.metadata?.name}" matches multiple PodDisruptionBudgets.  Chose "${budgets[0].metadata?.name}" arbitrarily.`;
      this.log.info({ pod: keyOf(pod) }, msg);
      this.recorder.event(referenceTo(pod, 'v1', 'Pod'), 'Warning', 'MultiplePodDisruptionBudgets', msg);
    }
    if (budgets.length) this.queue.add(keyOf(budgets[0]));
  }

  /**
   * nonTerminatingPodHasStaleDisruptionCondition: ms until a DisruptionTarget=True condition of a pod that is not
   * terminating counts as stale (the eviction or preemption that set it never deleted the pod); undefined if none.
   * The kubelet's own (TerminationByKubelet) and those of finished pods never go stale.
   */
  private staleDisruptionWait(pod: Pod): number | undefined {
    if (pod.metadata?.deletionTimestamp) return undefined;
    const cond = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    const phase = pod.status?.phase;
    if (!cond || cond.status !== 'True' || cond.reason === 'TerminationByKubelet') return undefined;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    const since = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : 0;
    return Math.max(0, STALE_POD_DISRUPTION_TIMEOUT_MS - (this.clock.now() - since));
  }

  /** syncStalePodDisruption: reset the stale condition to False */
  async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.store.getByName(namespace, name);
    if (!pod) return;
    const wait = this.staleDisruptionWait(pod);
    if (wait === undefined) return;
    if (wait > 0) {
      this.staleQueue.addAfter(key, wait);
      return;
    }
    const reset: PodCondition = {
      type: 'DisruptionTarget',
      status: 'False',
      lastTransitionTime: rfc3339(this.clock.now()),
    };
    const next: Pod = {
      ...pod,
      status: {
        ...pod.status,
        conditions: (pod.status?.conditions ?? []).map((c) => (c.type === 'DisruptionTarget' ? reset : c)),
      },
    };
    await this.client.pods.updateStatus(next);
    this.log.info({ pod: key }, 'Reset stale DisruptionTarget condition to False');
  }

  /** one pass of the loop for one budget; throws to be retried with backoff */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.pdbs.store.getByName(namespace, name);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (err) {
      // a conflict only means the cache was stale: retry without the fail-safe
      if ((err as { code?: number; reason?: string }).reason === 'Conflict') throw err;
      this.log.error({ err, pdb: key }, 'Failed to sync PDB');
      await this.failSafe(pdb, err as Error);
    }
  }

  private podsFor(pdb: PodDisruptionBudget): Pod[] {
    return this.pods.store
      .byIndex(NAMESPACE_INDEX, pdb.metadata?.namespace ?? '')
      .filter((pod) => selectorMatches(pdb.spec?.selector, pod.metadata?.labels));
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<void> {
    const pods = this.podsFor(pdb);
    if (pods.length === 0) this.recorder.event(pdbRef(pdb), 'Normal', 'NoPods', 'No matching pods found');
    let counts: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      counts = await this.expectedPodCount(pdb, pods);
    } catch (err) {
      this.recorder.event(
        pdbRef(pdb),
        'Warning',
        'CalculateExpectedPodCountFailed',
        `Failed to calculate the number of expected pods: ${(err as Error).message}`,
      );
      throw err;
    }
    if (counts.unmanaged.length) {
      this.log.debug(
        { pdb: keyOf(pdb), pods: counts.unmanaged },
        'Found unmanaged pods associated with this PDB',
      );
      this.recorder.event(
        pdbRef(pdb),
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${selectorString(pdb)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = this.clock.now();
    const { disrupted, recheckAt } = this.buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, currentHealthy, counts.desiredHealthy, counts.expectedCount, disrupted);
    if (recheckAt !== undefined) this.queue.addAfter(keyOf(pdb), Math.max(0, recheckAt - now));
  }

  /** getExpectedPodCount: maxUnavailable and percentage minAvailable scale with the pods' controllers */
  private async expectedPodCount(
    pdb: PodDisruptionBudget,
    pods: Pod[],
  ): Promise<{ expectedCount: number; desiredHealthy: number; unmanaged: string[] }> {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined) {
      const { expectedCount, unmanaged } = await this.expectedScale(pods);
      const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanaged };
    }
    if (spec.minAvailable !== undefined) {
      if (typeof spec.minAvailable === 'number')
        return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
      const { expectedCount, unmanaged } = await this.expectedScale(pods);
      return {
        expectedCount,
        desiredHealthy: scaledValue(spec.minAvailable, expectedCount, true),
        unmanaged,
      };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scales of the pods' controllers, each counted once */
  private async expectedScale(pods: Pod[]): Promise<{ expectedCount: number; unmanaged: string[] }> {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      let found = false;
      for (const finder of this.finders()) {
        const cs = await finder(ref, pod.metadata?.namespace ?? '');
        if (cs) {
          scales.set(cs.uid, cs.scale);
          found = true;
          break;
        }
      }
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanaged };
  }

  private finders(): ControllerFinder[] {
    return [
      (ref, ns) => {
        if (!isKind(ref, 'ReplicationController', [''])) return undefined;
        const rc = this.rcs.store.getByName(ns, ref.name);
        return rc?.metadata?.uid === ref.uid ? { uid: ref.uid, scale: rc.spec?.replicas ?? 1 } : undefined;
      },
      (ref, ns) => {
        // a ReplicaSet of a Deployment: the Deployment's scale
        if (!isKind(ref, 'ReplicaSet', ['apps', 'extensions'])) return undefined;
        const rs = this.rss.store.getByName(ns, ref.name);
        if (rs?.metadata?.uid !== ref.uid) return undefined;
        const owner = controllerOf(rs);
        if (!owner || !isKind(owner, 'Deployment', ['apps', 'extensions'])) return undefined;
        const d = this.deployments.store.getByName(ns, owner.name);
        return d?.metadata?.uid === owner.uid ? { uid: owner.uid, scale: d.spec?.replicas ?? 1 } : undefined;
      },
      (ref, ns) => {
        if (!isKind(ref, 'ReplicaSet', ['apps', 'extensions'])) return undefined;
        const rs = this.rss.store.getByName(ns, ref.name);
        if (rs?.metadata?.uid !== ref.uid) return undefined;
        if (controllerOf(rs)?.kind === 'Deployment') return undefined;
        return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
      },
      (ref, ns) => {
        if (!isKind(ref, 'StatefulSet', ['apps'])) return undefined;
        const ss = this.statefulSets.store.getByName(ns, ref.name);
        return ss?.metadata?.uid === ref.uid ? { uid: ref.uid, scale: ss.spec?.replicas ?? 1 } : undefined;
      },
      (ref, ns) => this.scaleOf(ref, ns),
    ];
  }

  /** getScaleController: any other kind through its scale subresource */
  private async scaleOf(
    ref: OwnerReference,
    ns: string,
  ): Promise<{ uid: string; scale: number } | undefined> {
    const { group, version } = parseApiVersion(ref.apiVersion);
    const ri = findByKind(group, ref.kind);
    if (!ri) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    if (!ri.subresources.some((s) => s.name === 'scale'))
      throw new Error(
        `${ri.group ? `${ri.resource}.${ri.group}` : ri.resource} does not implement the scale subresource`,
      );
    try {
      const scale = await this.client.resource(group, version, ri.resource).getScale(ref.name, ns);
      return scale.metadata?.uid === ref.uid ? { uid: ref.uid, scale: scale.spec?.replicas ?? 0 } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** buildDisruptedPodMap: keep the evicted pods not yet seen terminating, for DeletionTimeout at most */
  private buildDisruptedPodMap(
    pods: Pod[],
    pdb: PodDisruptionBudget,
    now: number,
  ): { disrupted: DisruptedPods; recheckAt: number | undefined } {
    const previous = pdb.status?.disruptedPods ?? {};
    const disrupted: DisruptedPods = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata?.name ?? '';
      const at = previous[name];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now) {
        this.log.info({ pod: keyOf(pod), pdb: keyOf(pdb) }, 'pod was expected to be deleted but it was not');
        this.recorder.event(
          referenceTo(pod, 'v1', 'Pod'),
          'Warning',
          'NotDeleted',
          // upstream's message names the namespace twice
          `Pod was expected by PDB ${pdb.metadata?.namespace}/${pdb.metadata?.namespace} to be deleted but it wasn't`,
        );
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disrupted[name] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  private async updateStatus(
    pdb: PodDisruptionBudget,
    currentHealthy: number,
    desiredHealthy: number,
    expectedPods: number,
    disruptedPods: DisruptedPods,
  ): Promise<void> {
    // expectedPods > 0 keeps a budget that matches no pods yet safe when its first pods appear
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const s = pdb.status;
    const generation = pdb.metadata?.generation ?? 0;
    if (
      s &&
      s.currentHealthy === currentHealthy &&
      s.desiredHealthy === desiredHealthy &&
      s.expectedPods === expectedPods &&
      s.disruptionsAllowed === disruptionsAllowed &&
      deepEqual(s.disruptedPods ?? {}, disruptedPods) &&
      (s.observedGeneration ?? 0) === generation &&
      conditionsAreUpToDate(pdb)
    )
      return;
    const next: PodDisruptionBudget = structuredClone(pdb);
    next.status = {
      currentHealthy,
      desiredHealthy,
      expectedPods,
      disruptionsAllowed,
      ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
      observedGeneration: generation,
      conditions: [...(pdb.status?.conditions ?? [])],
    };
    updateDisruptionAllowedCondition(next, this.clock.now());
    await this.pdbClient.updateStatus(next);
  }

  /** failSafe: at least allow no disruption, with SyncFailed saying why */
  private async failSafe(pdb: PodDisruptionBudget, err: Error): Promise<void> {
    const next: PodDisruptionBudget = structuredClone(pdb);
    const status = (next.status ??= {
      currentHealthy: 0,
      desiredHealthy: 0,
      disruptionsAllowed: 0,
      expectedPods: 0,
    });
    status.disruptionsAllowed = 0;
    const conditions = ((status as { conditions?: Condition[] }).conditions ??= []);
    setStatusCondition(
      conditions,
      {
        type: DISRUPTION_ALLOWED_CONDITION,
        status: 'False',
        reason: SYNC_FAILED_REASON,
        message: err.message,
        observedGeneration: status.observedGeneration ?? 0,
      },
      this.clock.now(),
    );
    await this.pdbClient.updateStatus(next);
  }
}

/** countHealthyPods: ready pods that are neither terminating nor just evicted */
export function countHealthyPods(pods: Pod[], disrupted: DisruptedPods, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** the selector as upstream's %v of a *metav1.LabelSelector prints it, near enough for an event */
function selectorString(pdb: PodDisruptionBudget): string {
  const sel = pdb.spec?.selector;
  const labels = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}: ${v},`);
  return `&LabelSelector{MatchLabels:map[string]string{${labels.join('')}},MatchExpressions:[]LabelSelectorRequirement{},}`;
}
