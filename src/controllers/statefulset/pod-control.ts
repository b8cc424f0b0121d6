// StatefulPodControl (upstream stateful_pod_control.go): creates a StatefulSet's pods after their claims, repairs a
// pod's identity and storage, keeps the claims' ownerReferences as the retention policy says, and records upstream's
// events for each.
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import type { EventRecorder, Informer, KubeClient, ResourceClient } from '../../client/index.js';
import {
  claimName,
  getOrdinal,
  hasStalePodRef,
  hasUnexpectedController,
  identityMatches,
  isClaimOwnerUpToDate,
  podClaims,
  retentionPolicy,
  storageMatches,
  updateClaimOwnerRefs,
  updateIdentity,
  updateStorage,
} from './utils.js';

const isNotFound = (err: unknown): boolean => ApiError.isApiError(err) && err.code === 404;
const isAlreadyExists = (err: unknown): boolean => ApiError.isApiError(err) && err.code === 409;
const isConflict = isAlreadyExists;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const title = (verb: string): string => verb.charAt(0).toUpperCase() + verb.slice(1);

export class StatefulPodControl {
  private readonly claims: ResourceClient<PersistentVolumeClaim>;

  constructor(
    private readonly client: KubeClient,
    private readonly podInformer: Informer<Pod>,
    private readonly claimInformer: Informer<PersistentVolumeClaim>,
    private readonly recorder: EventRecorder,
  ) {
    this.claims = client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
  }

  private getClaim(namespace: string | undefined, name: string): PersistentVolumeClaim | undefined {
    return this.claimInformer.store.getByName(namespace, name);
  }

  /** CreateStatefulPod: the claims first, then the pod; an existing pod of that name is an error (AlreadyExists) */
  async createStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.createPersistentVolumeClaims(set, pod);
    } catch (err) {
      this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    try {
      await this.client.pods.create(pod);
    } catch (err) {
      if (isAlreadyExists(err)) throw err;
      this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    // set the claims' ownerReferences as far as possible now (the pod's uid is known once it is observed)
    try {
      await this.updatePodClaimForRetentionPolicy(set, pod);
    } catch (err) {
      this.recordPodEvent('update', set, pod, err);
      throw err;
    }
    this.recordPodEvent('create', set, pod, undefined);
  }

  /** UpdateStatefulPod: restore identity and storage, fix claim refs; one update, retried on conflicts */
  async updateStatefulPod(set: StatefulSet, original: Pod): Promise<void> {
    let pod: Pod = structuredClone(original);
    let attempted = false;
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      let consistent = true;
      if (!identityMatches(set, pod)) {
        updateIdentity(set, pod);
        consistent = false;
      }
      if (!storageMatches(set, pod)) {
        updateStorage(set, pod);
        consistent = false;
        try {
          await this.createPersistentVolumeClaims(set, pod);
        } catch (err) {
          this.recordPodEvent('update', set, pod, err);
          throw err;
        }
      }
      if (!this.claimsMatchRetentionPolicy(set, pod)) {
        try {
          await this.updatePodClaimForRetentionPolicy(set, pod);
        } catch (err) {
          this.recordPodEvent('update', set, pod, err);
          throw err;
        }
        consistent = false;
      }
      if (consistent) return;
      attempted = true;
      try {
        await this.client.pods.update(pod);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        if (!isConflict(err)) break;
        const fresh = this.podInformer.store.getByName(set.metadata?.namespace, pod.metadata?.name ?? '');
        if (fresh) pod = structuredClone(fresh);
      }
    }
    if (attempted) this.recordPodEvent('update', set, pod, lastErr);
    if (lastErr) throw lastErr instanceof Error ? lastErr : new Error(message(lastErr));
  }

  /** DeleteStatefulPod */
  async deleteStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.client.pods.delete(pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace });
      this.recordPodEvent('delete', set, pod, undefined);
    } catch (err) {
      this.recordPodEvent('delete', set, pod, err);
      throw err;
    }
  }

  /** ClaimsMatchRetentionPolicy: every existing claim of the pod has the refs the policy asks for */
  claimsMatchRetentionPolicy(set: StatefulSet, pod: Pod): boolean {
    const ordinal = getOrdinal(pod);
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const claim = this.getClaim(set.metadata?.namespace, claimName(set, t, ordinal));
      if (claim && !isClaimOwnerUpToDate(claim, set, pod)) return false;
    }
    return true;
  }

  /** UpdatePodClaimForRetentionPolicy */
  async updatePodClaimForRetentionPolicy(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = getOrdinal(pod);
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const name = claimName(set, t, ordinal);
      const cached = this.getClaim(set.metadata?.namespace, name);
      if (!cached) continue; // picked up in a later sync
      if (hasUnexpectedController(cached, set, pod))
        this.recorder.event(
          asStatefulSet(set),
          'Warning',
          'ConflictingController',
          `PersistentVolumeClaim ${name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim`,
        );
      if (isClaimOwnerUpToDate(cached, set, pod)) continue;
      const claim: PersistentVolumeClaim = structuredClone(cached);
      updateClaimOwnerRefs(claim, set, pod);
      try {
        await this.claims.update(claim);
      } catch (err) {
        throw new Error(`could not update claim ${name} for delete policy ownerRefs: ${message(err)}`);
      }
    }
  }

  /** PodClaimIsStale: with whenScaled Delete, a claim still owned by an earlier pod of this name blocks creation */
  podClaimIsStale(set: StatefulSet, pod: Pod): boolean {
    if (retentionPolicy(set).whenScaled === 'Retain') return false;
    for (const claim of podClaims(set, pod).values()) {
      const pvc = this.getClaim(claim.metadata?.namespace, claim.metadata?.name ?? '');
      if (pvc && hasStalePodRef(pvc, pod)) return true;
    }
    return false;
  }

  /** createMissingPersistentVolumeClaims (a Pending pod's claims, e.g. deleted by hand) plus their refs */
  async createMissingPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    await this.createPersistentVolumeClaims(set, pod);
    try {
      await this.updatePodClaimForRetentionPolicy(set, pod);
    } catch (err) {
      this.recordPodEvent('update', set, pod, err);
      throw err;
    }
  }

  /** createPersistentVolumeClaims: each missing claim is created; one being deleted is an error until it is gone */
  async createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: string[] = [];
    for (const claim of podClaims(set, pod).values()) {
      const name = claim.metadata?.name ?? '';
      const existing = this.getClaim(claim.metadata?.namespace, name);
      if (!existing) {
        try {
          await this.claims.create(claim);
          this.recordClaimEvent('create', set, pod, claim, undefined);
        } catch (err) {
          if (isAlreadyExists(err)) continue; // the cache was behind; it exists
          errors.push(`failed to create PVC ${name}: ${message(err)}`);
          this.recordClaimEvent('create', set, pod, claim, err);
        }
      } else if (existing.metadata?.deletionTimestamp) {
        errors.push(`pvc ${name} is being deleted`);
      }
    }
    if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
  }

  private recordPodEvent(verb: string, set: StatefulSet, pod: Pod, err: unknown): void {
    const name = pod.metadata?.name ?? '';
    const setName = set.metadata?.name ?? '';
    if (err === undefined)
      this.recorder.event(
        asStatefulSet(set),
        'Normal',
        `Successful${title(verb)}`,
        `${verb} Pod ${name} in StatefulSet ${setName} successful`,
      );
    else
      this.recorder.event(
        asStatefulSet(set),
        'Warning',
        `Failed${title(verb)}`,
        `${verb} Pod ${name} in StatefulSet ${setName} failed error: ${message(err)}`,
      );
  }

  private recordClaimEvent(
    verb: string,
    set: StatefulSet,
    pod: Pod,
    claim: PersistentVolumeClaim,
    err: unknown,
  ): void {
    const c = claim.metadata?.name ?? '';
    const p = pod.metadata?.name ?? '';
    const s = set.metadata?.name ?? '';
    if (err === undefined)
      this.recorder.event(
        asStatefulSet(set),
        'Normal',
        `Successful${title(verb)}`,
        `${verb} Claim ${c} Pod ${p} in StatefulSet ${s} success`,
      );
    else
      this.recorder.event(
        asStatefulSet(set),
        'Warning',
        `Failed${title(verb)}`,
        `${verb} Claim ${c} for Pod ${p} in StatefulSet ${s} failed error: ${message(err)}`,
      );
  }
}

export const asStatefulSet = (set: StatefulSet): StatefulSet => ({
  ...set,
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
});

export { isNotFound };
