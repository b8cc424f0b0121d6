// One sync of one Deployment (upstream deployment/{sync,rolling,recreate,progress}.go): works on a private
// copy of the deployment and its ReplicaSets, writes through the API, and keeps what it wrote as current.
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import type { EventRecorder, KubeClient } from '../../client/index.js';
import type { Logger } from '../../util/logger.js';
import { isNotFound, newControllerRef } from '../common/controller-ref.js';
import { selectorWithLabel } from '../common/selectors.js';
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DESIRED_REPLICAS_ANNOTATION,
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  NEW_RS_AVAILABLE_REASON,
  NEW_RS_REASON,
  PAUSED_DEPLOY_REASON,
  RESUMED_DEPLOY_REASON,
  REVISION_ANNOTATION,
  RS_UPDATED_REASON,
  TIMED_OUT_REASON,
  activeReplicaSets,
  byCreation,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  computeHash,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  getProportion,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  sumActualReplicas,
  sumAvailableReplicas,
  sumReadyReplicas,
  sumSpecReplicas,
} from './util.js';

export interface SyncDeps {
  client: KubeClient;
  recorder: EventRecorder;
  log: Logger;
  now: () => number;
  /** look at this deployment again after `ms` (progress deadline checks) */
  requeueAfter: (ms: number) => void;
  /** a ReplicaSet from the informer's cache, for AlreadyExists on create */
  cachedReplicaSet: (namespace: string, name: string) => ReplicaSet | undefined;
}

const asDeployment = (d: Deployment): Deployment => ({ ...d, apiVersion: 'apps/v1', kind: 'Deployment' });
const quote = (s: string | undefined): string => JSON.stringify(s ?? '');

export class DeploymentSync {
  /** the deployment as we last wrote it (a private copy: free to change) */
  private readonly d: Deployment;
  /** the deployment's ReplicaSets, replaced by what the API returned after each of our writes */
  private rsList: ReplicaSet[];
  private persistedRevision: string | undefined;

  constructor(
    private readonly deps: SyncDeps,
    deployment: Deployment,
    rsList: ReplicaSet[],
    private readonly podsByRS: Map<string, Pod[]>,
  ) {
    this.d = structuredClone(deployment);
    this.rsList = rsList;
    this.persistedRevision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  }

  /** syncDeployment after the ReplicaSets have been claimed */
  async run(): Promise<void> {
    const d = this.d;
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly();
    await this.checkPausedConditions();
    if (d.spec?.paused) return this.sync();
    if (await this.isScalingEvent()) return this.sync();
    if (isRollingUpdate(d)) return this.rolloutRolling();
    return this.rolloutRecreate();
  }

  // ---- writes ------------------------------------------------------------------------------------

  /**
   * Upstream writes the deployment's revision annotation with its status update (the status strategy
   * keeps metadata); here the annotation goes through the main resource first, then the status.
   */
  private async writeStatus(): Promise<void> {
    const d = this.d;
    const revision = d.metadata?.annotations?.[REVISION_ANNOTATION];
    if (revision !== this.persistedRevision) {
      const written = await this.deps.client.deployments.update(d);
      d.metadata = { ...d.metadata, resourceVersion: written.metadata?.resourceVersion };
      this.persistedRevision = revision;
    }
    const written = await this.deps.client.deployments.updateStatus(d);
    d.metadata = { ...d.metadata, resourceVersion: written.metadata?.resourceVersion };
  }

  private async updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    const updated = await this.deps.client.replicaSets.update(rs);
    this.rsList = this.rsList.map((r) => (r.metadata?.uid === updated.metadata?.uid ? updated : r));
    return updated;
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.recorder.event(asDeployment(this.d), type, reason, message);
  }

  // ---- new and old replica sets ------------------------------------------------------------------

  /** getAllReplicaSetsAndSyncRevision */
  private async replicaSets(
    create: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const oldRSs = findOldReplicaSets(this.d, this.rsList);
    const newRS = await this.getNewReplicaSet(oldRSs, create);
    return { newRS, oldRSs };
  }

  private setDeploymentRevision(revision: string): boolean {
    const meta = (this.d.metadata ??= {});
    if (meta.annotations?.[REVISION_ANNOTATION] === revision) return false;
    meta.annotations = { ...(meta.annotations ?? {}), [REVISION_ANNOTATION]: revision };
    return true;
  }

  private async getNewReplicaSet(oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const d = this.d;
    const now = this.deps.now();
    const existing = findNewReplicaSet(d, this.rsList);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyChanged) {
        copy.spec = { ...copy.spec!, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        if (!d.spec?.minReadySeconds) delete copy.spec.minReadySeconds;
        return this.updateReplicaSet(copy);
      }
      let needsUpdate = this.setDeploymentRevision(copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const msg = `Found new replica set ${quote(copy.metadata?.name)}`;
        setCondition((d.status ??= {}), newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, msg, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus();
      return copy;
    }
    if (!create) return undefined;

    const template = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash },
    };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name}-${hash}`,
        namespace: d.metadata?.namespace,
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
        labels: { ...template.metadata.labels },
      },
      spec: {
        replicas: 0,
        ...(d.spec?.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
        selector: selectorWithLabel(d.spec?.selector, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, hash),
        template,
      },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.deps.client.replicaSets.create(newRS);
      this.rsList = [...this.rsList, created];
    } catch (err) {
      if (ApiError.isApiError(err) && err.code === 409 && err.reason === 'AlreadyExists') {
        alreadyExists = true;
        const ns = d.metadata?.namespace ?? 'default';
        const name = newRS.metadata!.name!;
        const rs = this.deps.cachedReplicaSet(ns, name) ?? (await this.deps.client.replicaSets.get(name, ns));
        const ref = rs.metadata?.ownerReferences?.find((r) => r.controller);
        if (ref?.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = rs;
        } else {
          // a hash collision with someone else's RS: bump collisionCount so the next hash differs
          const status = (d.status ??= {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus();
          this.deps.log.info(
            { collisionCount: status.collisionCount },
            'hash collision; bumped collisionCount',
          );
          throw err;
        }
      } else {
        const msg = `Failed to create new replica set ${quote(newRS.metadata?.name)}: ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          setCondition(
            (d.status ??= {}),
            newCondition('Progressing', 'False', FAILED_RS_CREATE_REASON, msg, now),
          );
          await this.writeStatus().catch(() => undefined);
        }
        this.event('Warning', FAILED_RS_CREATE_REASON, msg);
        throw err;
      }
    }
    if (!alreadyExists && replicas > 0)
      this.event(
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata?.name} to ${replicas}`,
      );
    let needsUpdate = this.setDeploymentRevision(String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      const msg = `Created new replica set ${quote(created.metadata?.name)}`;
      setCondition((d.status ??= {}), newCondition('Progressing', 'True', NEW_RS_REASON, msg, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus();
    return created;
  }

  // ---- scaling -----------------------------------------------------------------------------------

  private async scaleReplicaSetAndRecordEvent(
    rs: ReplicaSet,
    newScale: number,
  ): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, replicasOf(rs) < newScale ? 'up' : 'down');
  }

  private async scaleReplicaSet(
    rs: ReplicaSet,
    newScale: number,
    operation: string,
  ): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const d = this.d;
    const sizeNeedsUpdate = replicasOf(rs) !== newScale;
    const max = replicasOf(d) + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max))
      return { scaled: false, rs };
    const oldScale = replicasOf(rs);
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    setReplicasAnnotations(copy, replicasOf(d), max);
    const updated = await this.updateReplicaSet(copy);
    if (sizeNeedsUpdate)
      this.event(
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${operation} replica set ${updated.metadata?.name} to ${newScale} from ${oldScale}`,
      );
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /** proportional scaling of every active RS when the deployment is resized mid-rollout (or paused) */
  private async scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const d = this.d;
    const want = replicasOf(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) === want) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, want);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const allRSs = activeReplicaSets([...oldRSs, newRS]);
    const allowedSize = want > 0 ? want + maxSurge(d) : 0;
    const toAdd = allowedSize - sumSpecReplicas(allRSs);
    let operation = '';
    if (toAdd > 0) {
      allRSs.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      allRSs.sort(bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<ReplicaSet, number>();
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = getProportion(rs, d, toAdd, added);
        sizes.set(rs, replicasOf(rs) + proportion);
        added += proportion;
      } else sizes.set(rs, replicasOf(rs));
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i];
      // leftovers (rounding) go to the largest replica set
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added));
      await this.scaleReplicaSet(rs, sizes.get(rs)!, operation);
    }
  }

  private async isScalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.replicaSets(false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = Number(rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
      if (Number.isInteger(desired) && desired !== replicasOf(this.d)) return true;
    }
    return false;
  }

  // ---- strategies --------------------------------------------------------------------------------

  private async sync(): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(false);
    await this.scale(newRS, oldRSs);
    if (this.d.spec?.paused) await this.cleanupDeployment(this.fresh(oldRSs));
    await this.syncDeploymentStatus([...this.fresh(oldRSs), ...this.fresh([newRS])], this.fresh([newRS])[0]);
  }

  private async syncStatusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(false);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  /** the latest version we hold of each RS (after our own writes) */
  private fresh(rss: (ReplicaSet | undefined)[]): ReplicaSet[] {
    const byUid = new Map(this.rsList.map((r) => [r.metadata?.uid, r]));
    return rss.filter((r): r is ReplicaSet => !!r).map((r) => byUid.get(r.metadata?.uid) ?? r);
  }

  private async rolloutRolling(): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(true);
    const allRSs = () => this.fresh([...oldRSs, newRS]);
    const scaledUp = await this.reconcileNewReplicaSet(allRSs(), newRS!);
    if (scaledUp) return this.syncRolloutStatus(allRSs(), this.fresh([newRS])[0]);
    const scaledDown = await this.reconcileOldReplicaSets(
      allRSs(),
      activeReplicaSets(this.fresh(oldRSs)),
      this.fresh([newRS])[0],
    );
    if (scaledDown) return this.syncRolloutStatus(allRSs(), this.fresh([newRS])[0]);
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(this.fresh(oldRSs));
    return this.syncRolloutStatus(allRSs(), this.fresh([newRS])[0]);
  }

  private async reconcileNewReplicaSet(allRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const want = replicasOf(this.d);
    if (replicasOf(newRS) === want) return false;
    if (replicasOf(newRS) > want) return (await this.scaleReplicaSetAndRecordEvent(newRS, want)).scaled;
    const count = newRSNewReplicas(this.d, allRSs, newRS);
    return (await this.scaleReplicaSetAndRecordEvent(newRS, count)).scaled;
  }

  private async reconcileOldReplicaSets(
    allRSs: ReplicaSet[],
    oldRSs: ReplicaSet[],
    newRS: ReplicaSet,
  ): Promise<boolean> {
    const d = this.d;
    if (sumSpecReplicas(oldRSs) === 0) return false;
    const allPods = sumSpecReplicas(allRSs);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newRSUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    // first scale down replicas that are not available anyway: that costs no availability
    const cleaned = await this.cleanupUnhealthyReplicas(oldRSs, maxScaledDown);
    const scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate(
      this.fresh([...oldRSs, newRS]),
      this.fresh(oldRSs),
    );
    return cleaned + scaledDown > 0;
  }

  private async cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], maxCleanup: number): Promise<number> {
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= maxCleanup) break;
      const replicas = replicasOf(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (replicas === 0 || replicas === available) continue;
      const count = Math.min(maxCleanup - total, replicas - available);
      await this.scaleReplicaSetAndRecordEvent(rs, replicas - count);
      total += count;
    }
    return total;
  }

  private async scaleDownOldReplicaSetsForRollingUpdate(
    allRSs: ReplicaSet[],
    oldRSs: ReplicaSet[],
  ): Promise<number> {
    const d = this.d;
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const available = sumAvailableReplicas(allRSs);
    if (available <= minAvailable) return 0;
    const toScaleDown = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= toScaleDown) break;
      if (replicasOf(rs) === 0) continue;
      const count = Math.min(replicasOf(rs), toScaleDown - total);
      await this.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - count);
      total += count;
    }
    return total;
  }

  private async rolloutRecreate(): Promise<void> {
    let { newRS, oldRSs } = await this.replicaSets(false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) {
      if ((await this.scaleReplicaSetAndRecordEvent(rs, 0)).scaled) scaledDown = true;
    }
    const all = () => this.fresh([...oldRSs, newRS]);
    if (scaledDown) return this.syncRolloutStatus(all(), this.fresh([newRS])[0]);
    if (this.oldPodsRunning(newRS, this.fresh(oldRSs)))
      return this.syncRolloutStatus(all(), this.fresh([newRS])[0]);
    if (!newRS) ({ newRS, oldRSs } = await this.replicaSets(true));
    await this.scaleReplicaSetAndRecordEvent(this.fresh([newRS])[0], replicasOf(this.d));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(this.fresh(oldRSs));
    return this.syncRolloutStatus(all(), this.fresh([newRS])[0]);
  }

  /** Recreate waits until no old pod is running (terminal pods don't count) */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (sumActualReplicas(oldRSs) > 0) return true;
    for (const [uid, pods] of this.podsByRS) {
      if (uid === newRS?.metadata?.uid) continue;
      for (const pod of pods) {
        const phase = pod.status?.phase;
        if (phase !== 'Failed' && phase !== 'Succeeded') return true;
      }
    }
    return false;
  }

  /** keep revisionHistoryLimit old RSs; delete older ones that are fully scaled down */
  private async cleanupDeployment(oldRSs: ReplicaSet[]): Promise<void> {
    const limit = this.d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (const rs of cleanable.slice(0, diff)) {
      if (
        (rs.status?.replicas ?? 0) !== 0 ||
        replicasOf(rs) !== 0 ||
        (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)
      )
        continue;
      this.deps.log.debug({ rs: rs.metadata?.name }, 'cleaning up old replica set');
      try {
        await this.deps.client.replicaSets.delete(rs.metadata?.name ?? '', {
          namespace: rs.metadata?.namespace,
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ---- status ------------------------------------------------------------------------------------

  private async checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === TIMED_OUT_REASON) return;
    const pausedExists = cond?.reason === PAUSED_DEPLOY_REASON;
    const now = this.deps.now();
    if (d.spec?.paused && !pausedExists) {
      setCondition(
        (d.status ??= {}),
        newCondition('Progressing', 'Unknown', PAUSED_DEPLOY_REASON, 'Deployment is paused', now),
      );
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(
        (d.status ??= {}),
        newCondition('Progressing', 'Unknown', RESUMED_DEPLOY_REASON, 'Deployment is resumed', now),
      );
    } else return;
    await this.writeStatus();
  }

  private calculateStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const d = this.d;
    const available = sumAvailableReplicas(allRSs);
    const total = sumSpecReplicas(allRSs);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata?.generation ?? 0,
      replicas: sumActualReplicas(allRSs),
      updatedReplicas: sumActualReplicas(newRS ? [newRS] : []),
      readyReplicas: sumReadyReplicas(allRSs),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
      conditions: [...(d.status?.conditions ?? [])],
    };
    const now = this.deps.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(
        status,
        newCondition(
          'Available',
          'True',
          MINIMUM_REPLICAS_AVAILABLE,
          'Deployment has minimum availability.',
          now,
        ),
      );
    } else {
      setCondition(
        status,
        newCondition(
          'Available',
          'False',
          MINIMUM_REPLICAS_UNAVAILABLE,
          'Deployment does not have minimum availability.',
          now,
        ),
      );
    }
    return status;
  }

  private async syncDeploymentStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS);
    if (statusEqual(this.d.status, status)) return;
    this.d.status = status;
    await this.writeStatus();
  }

  /** progress.go syncRolloutStatus: Progressing from what changed since the last status, then write */
  private async syncRolloutStatus(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = this.d;
    const now = this.deps.now();
    const status = this.calculateStatus(allRSs, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete =
      status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE_REASON;
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata?.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName
          ? `ReplicaSet ${quote(rsName)} has successfully progressed.`
          : `Deployment ${quote(d.metadata?.name)} has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName
          ? `ReplicaSet ${quote(rsName)} is progressing.`
          : `Deployment ${quote(d.metadata?.name)} is progressing.`;
        const cond = newCondition('Progressing', 'True', RS_UPDATED_REASON, msg, now);
        // progress refreshes lastUpdateTime even with the same reason, which setCondition would not
        if (current) {
          if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = rsName
          ? `ReplicaSet ${quote(rsName)} has timed out progressing.`
          : `Deployment ${quote(d.metadata?.name)} has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, msg, now));
      }
    }
    const failure = this.replicaFailure(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');

    if (statusEqual(d.status, status)) {
      this.requeueStuckDeployment(status);
      return;
    }
    d.status = status;
    await this.writeStatus();
  }

  /** getReplicaFailures: the new RS's (else an old RS's) ReplicaFailure condition, as the deployment's */
  private replicaFailure(allRSs: ReplicaSet[], newRS: ReplicaSet | undefined) {
    const pick = (rs: ReplicaSet | undefined) =>
      rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    const found = pick(newRS) ?? allRSs.map(pick).find((c) => c);
    if (!found) return undefined;
    const existing = getCondition(this.d.status, 'ReplicaFailure');
    const t = found.lastTransitionTime ?? existing?.lastTransitionTime;
    return {
      type: 'ReplicaFailure',
      status: found.status,
      reason: found.reason,
      message: found.message,
      lastUpdateTime: t,
      lastTransitionTime: t,
    };
  }

  /** look again when the progress deadline would pass, so ProgressDeadlineExceeded is reported on time */
  private requeueStuckDeployment(status: DeploymentStatus): void {
    const d = this.d;
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === TIMED_OUT_REASON) return;
    const deadline = Date.parse(cond.lastUpdateTime ?? '') + (d.spec?.progressDeadlineSeconds ?? 0) * 1000;
    const after = deadline - this.deps.now();
    this.deps.requeueAfter(Math.max(0, after) + 1000);
  }
}
