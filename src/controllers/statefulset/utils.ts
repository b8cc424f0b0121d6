// Pure helpers of the StatefulSet controller (upstream pkg/controller/statefulset/stateful_set_utils.go): ordinals and
// names, a pod's identity and storage, the PVC retention policy's ownerReferences, revisions and status.
import type {
  ControllerRevision,
  StatefulSet,
  StatefulSetPersistentVolumeClaimRetentionPolicy,
  StatefulSetStatus,
} from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { ObjectWithMeta } from '../../client/index.js';
import { newControllerRef } from '../common/controller-ref.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';
import { newControllerRevision } from '../history/controller-history.js';

/** apps.StatefulSetRevisionLabel: the revision a pod was made from */
export const STATEFULSET_REVISION_LABEL = 'controller-revision-hash';
/** apps.StatefulSetPodNameLabel */
export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** apps.PodIndexLabel (PodIndexLabel, on by default since 1.28) */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const STS_API_VERSION = 'apps/v1';
export const STS_KIND = 'StatefulSet';

const STATEFUL_POD_REGEX = /^(.*)-([0-9]+)$/;
const MAX_INT32 = 2147483647;

/** getParentNameAndOrdinal: `web-2` → web, 2; a name without an ordinal → '', -1 */
export function parentNameAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = STATEFUL_POD_REGEX.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1], ordinal: n <= MAX_INT32 ? n : -1 };
}

export const getOrdinal = (pod: Pod): number => parentNameAndOrdinal(pod).ordinal;

export const replicasOf = (set: StatefulSet): number => set.spec?.replicas ?? 1;

/** spec.ordinals.start, else 0 */
export const startOrdinal = (set: StatefulSet): number => set.spec?.ordinals?.start ?? 0;

/** the last ordinal in range (inclusive) */
export const endOrdinal = (set: StatefulSet): number => startOrdinal(set) + replicasOf(set) - 1;

export function podInOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const ord = getOrdinal(pod);
  return ord >= startOrdinal(set) && ord <= endOrdinal(set);
}

export const podName = (set: StatefulSet, ordinal: number): string =>
  `${set.metadata?.name ?? ''}-${ordinal}`;

/** `<template>-<set>-<ordinal>`, e.g. `www-web-0` */
export function claimName(set: StatefulSet, template: PersistentVolumeClaim, ordinal: number): string {
  return `${template.metadata?.name ?? ''}-${set.metadata?.name ?? ''}-${ordinal}`;
}

export const isMemberOf = (set: StatefulSet, pod: Pod): boolean =>
  parentNameAndOrdinal(pod).parent === set.metadata?.name;

/** identityMatches: the pod's name, namespace and pod-name label are its set's */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  const name = pod.metadata?.name;
  return (
    ordinal >= 0 &&
    set.metadata?.name === parent &&
    name === podName(set, ordinal) &&
    pod.metadata?.namespace === set.metadata?.namespace &&
    pod.metadata?.labels?.[STATEFULSET_POD_NAME_LABEL] === name
  );
}

/** storageMatches: a volume per claim template, naming the pod's own claim */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((t) => {
    const v = volumes.get(t.metadata?.name ?? '');
    return v?.persistentVolumeClaim?.claimName === claimName(set, t, ordinal);
  });
}

/** the retention policy, Retain/Retain when unset */
export function retentionPolicy(set: StatefulSet): Required<StatefulSetPersistentVolumeClaimRetentionPolicy> {
  return {
    whenDeleted: set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain',
    whenScaled: set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain',
  };
}

/** getPersistentVolumeClaims: template name → the pod's claim, labelled with the set's selector's matchLabels */
export function podClaims(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = getOrdinal(pod);
  const out = new Map<string, PersistentVolumeClaim>();
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const claim: PersistentVolumeClaim = structuredClone(t);
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    const meta = (claim.metadata ??= {});
    delete (meta as Record<string, unknown>)['creationTimestamp'];
    meta.name = claimName(set, t, ordinal);
    meta.namespace = set.metadata?.namespace;
    meta.labels = { ...(meta.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
    delete (claim as { status?: unknown }).status;
    out.set(t.metadata?.name ?? '', claim);
  }
  return out;
}

/** updateStorage: the claim volumes first (in template order), then the pod's other volumes */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = podClaims(set, pod);
  const volumes: Volume[] = [];
  for (const [name, claim] of claims)
    volumes.push({ name, persistentVolumeClaim: { claimName: claim.metadata!.name!, readOnly: false } });
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec!.volumes = volumes;
}

/** updateIdentity: name, namespace, the pod-name and pod-index labels */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  const meta = (pod.metadata ??= {});
  meta.name = podName(set, ordinal);
  meta.namespace = set.metadata?.namespace;
  meta.labels = {
    ...(meta.labels ?? {}),
    [STATEFULSET_POD_NAME_LABEL]: meta.name,
    [POD_INDEX_LABEL]: String(ordinal),
  };
}

/** initIdentity: updateIdentity plus the immutable hostname and subdomain, set only at creation */
function initIdentity(set: StatefulSet, pod: Pod): void {
  updateIdentity(set, pod);
  pod.spec!.hostname = pod.metadata!.name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
}

export const isCreated = (pod: Pod): boolean => !!pod.status?.phase;
export const isPending = (pod: Pod): boolean => pod.status?.phase === 'Pending';
export const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: Pod): boolean => !!pod.metadata?.deletionTimestamp;

export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);

export const isRunningAndAvailable = (pod: Pod, minReadySeconds: number, nowMs: number): boolean =>
  isPodAvailable(pod, minReadySeconds, nowMs);

/** isUnavailable: not yet available, or on its way out */
export const isUnavailable = (pod: Pod, minReadySeconds: number, nowMs: number): boolean =>
  !isRunningAndAvailable(pod, minReadySeconds, nowMs) || isTerminating(pod);

/** Parallel pod management: create and delete without waiting for predecessors */
export const allowsBurst = (set: StatefulSet): boolean => set.spec?.podManagementPolicy === 'Parallel';

export function setPodRevision(pod: Pod, revision: string): void {
  const meta = (pod.metadata ??= {});
  meta.labels = { ...(meta.labels ?? {}), [STATEFULSET_REVISION_LABEL]: revision };
}

export const podRevision = (pod: Pod): string => pod.metadata?.labels?.[STATEFULSET_REVISION_LABEL] ?? '';

/** newStatefulSetPod: controller.GetPodFromTemplate with the set's controllerRef, the identity and the claims */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): Pod {
  const tmeta = set.spec?.template?.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      namespace: set.metadata?.namespace,
      ...(tmeta.labels ? { labels: { ...tmeta.labels } } : {}),
      ...(tmeta.annotations ? { annotations: { ...tmeta.annotations } } : {}),
      ...(tmeta.finalizers ? { finalizers: [...tmeta.finalizers] } : {}),
      ownerReferences: [newControllerRef(set, STS_API_VERSION, STS_KIND)],
    },
    spec: structuredClone(set.spec?.template?.spec ?? { containers: [] }),
  };
  initIdentity(set, pod);
  updateStorage(set, pod);
  return pod;
}

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without a rollingUpdate, below currentReplicas) are
 * made at the current revision, the others at the update revision.
 */
export function newVersionedStatefulSetPod(
  currentSet: StatefulSet,
  updateSet: StatefulSet,
  currentRevision: string,
  updateRevision: string,
  ordinal: number,
): Pod {
  const strategy = currentSet.spec?.updateStrategy;
  const start = startOrdinal(currentSet);
  // upstream's condition, with Go's precedence: (RollingUpdate && no rollingUpdate && below currentReplicas) ||
  // (rollingUpdate && below start+partition)
  const useCurrent =
    (strategy?.type === 'RollingUpdate' &&
      !strategy.rollingUpdate &&
      ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (!!strategy?.rollingUpdate && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
  const pod = newStatefulSetPod(useCurrent ? currentSet : updateSet, ordinal);
  setPodRevision(pod, useCurrent ? currentRevision : updateRevision);
  return pod;
}

/** getPatch: what a revision records, `{"spec":{"template":{...,"$patch":"replace"}}}` */
export function revisionPatch(set: StatefulSet): Record<string, unknown> {
  const template = structuredClone(set.spec?.template ?? {}) as Record<string, unknown>;
  template['$patch'] = 'replace';
  return { spec: { template } };
}

/** newRevision: a revision of the set's template, labelled as the template, annotated as the set */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const cr = newControllerRevision(
    set,
    STS_API_VERSION,
    STS_KIND,
    set.spec?.template?.metadata?.labels,
    revisionPatch(set),
    revision,
    collisionCount,
  );
  if (set.metadata?.annotations) cr.metadata!.annotations = { ...set.metadata.annotations };
  return cr;
}

/**
 * ApplyRevision: the set with the revision's data strategically merged in. Revisions made by this controller (and
 * upstream's) replace `spec.template` whole; other top-level spec fields of the data are merged over the set's.
 */
export function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const clone: StatefulSet = structuredClone(set);
  const data = (revision.data ?? {}) as { spec?: Record<string, unknown> };
  const spec = (clone.spec ??= { selector: {}, template: {}, serviceName: '' }) as unknown as Record<
    string,
    unknown
  >;
  for (const [key, value] of Object.entries(data.spec ?? {})) {
    if (key === 'template' && value && typeof value === 'object') {
      const template = structuredClone(value) as Record<string, unknown>;
      const replace = template['$patch'] === 'replace';
      delete template['$patch'];
      spec['template'] = replace ? template : { ...(spec['template'] as object), ...template };
    } else spec[key] = structuredClone(value);
  }
  return clone;
}

/** nextRevision: one above the highest (revisions sorted), 1 for none */
export function nextRevision(sorted: readonly ControllerRevision[]): number {
  return sorted.length ? sorted[sorted.length - 1].revision + 1 : 1;
}

/** inconsistentStatus: the computed status differs from the stored one in anything the controller owns */
export function inconsistentStatus(set: StatefulSet, status: StatefulSetStatus): boolean {
  const s = set.status;
  return (
    (status.observedGeneration ?? 0) > (s?.observedGeneration ?? 0) ||
    status.replicas !== (s?.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (s?.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (s?.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (s?.updatedReplicas ?? 0) ||
    (status.currentRevision ?? '') !== (s?.currentRevision ?? '') ||
    (status.availableReplicas ?? 0) !== (s?.availableReplicas ?? 0) ||
    (status.updateRevision ?? '') !== (s?.updateRevision ?? '') ||
    (status.collisionCount ?? 0) !== (s?.collisionCount ?? 0)
  );
}

/** completeRollingUpdate: every replica updated and ready makes the update revision the current one */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  const want = replicasOf(set);
  if (
    set.spec?.updateStrategy?.type === 'RollingUpdate' &&
    status.updatedReplicas === want &&
    status.readyReplicas === want &&
    status.replicas === want
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

/** getStatefulSetMaxUnavailable: the int or the percentage of replicas rounded down, at least 1 */
export function maxUnavailableOf(set: StatefulSet): number {
  const v = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  const replicas = replicasOf(set);
  let n: number;
  if (typeof v === 'number') n = v;
  else {
    const m = /^(\d+)%$/.exec(v);
    n = m ? Math.floor((Number(m[1]) * replicas) / 100) : Number(v);
  }
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

// ---- the PVC retention policy's ownerReferences ------------------------------------------------

const matchesRef = (ref: OwnerReference, obj: ObjectWithMeta, apiVersion: string, kind: string): boolean =>
  ref.apiVersion === apiVersion && ref.kind === kind && ref.name === obj.metadata?.name;

const matchesSetRef = (ref: OwnerReference, set: StatefulSet): boolean =>
  matchesRef(ref, set, STS_API_VERSION, STS_KIND);
const matchesPodRef = (ref: OwnerReference, pod: Pod): boolean => matchesRef(ref, pod, 'v1', 'Pod');

/** hasUnexpectedController: some other controller of the claim, when the policy is not Retain/Retain */
export function hasUnexpectedController(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const policy = retentionPolicy(set);
  if (policy.whenScaled === 'Retain' && policy.whenDeleted === 'Retain') return false;
  for (const ref of claim.metadata?.ownerReferences ?? []) {
    if (matchesSetRef(ref, set)) {
      if (ref.uid !== set.metadata?.uid) return true;
      continue;
    }
    if (matchesPodRef(ref, pod)) {
      if (ref.uid !== pod.metadata?.uid) return true;
      continue;
    }
    if (ref.controller) return true;
  }
  return false;
}

function hasNonControllerOwner(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  return (claim.metadata?.ownerReferences ?? []).some(
    (r) => (r.uid === set.metadata?.uid || r.uid === pod.metadata?.uid) && !r.controller,
  );
}

export const hasOwnerRef = (target: ObjectWithMeta, owner: ObjectWithMeta): boolean =>
  (target.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.metadata?.uid);

/** hasStaleOwnerRef: a ref naming the object whose uid is not the object's (an earlier pod or set of that name) */
export function hasStaleOwnerRef(
  target: ObjectWithMeta,
  obj: ObjectWithMeta,
  apiVersion: string,
  kind: string,
): boolean {
  for (const ref of target.metadata?.ownerReferences ?? [])
    if (matchesRef(ref, obj, apiVersion, kind)) return ref.uid !== obj.metadata?.uid;
  return false;
}

export const hasStalePodRef = (claim: PersistentVolumeClaim, pod: Pod): boolean =>
  hasStaleOwnerRef(claim, pod, 'v1', 'Pod');

/**
 * isClaimOwnerUpToDate: Retain/Retain no refs; whenDeleted Delete a ref to the set; whenScaled Delete a ref to the pod
 * once it is scaled down (and none to the set then). Claims with stale refs or another controller are left alone.
 */
export function isClaimOwnerUpToDate(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  if (hasStaleOwnerRef(claim, set, STS_API_VERSION, STS_KIND) || hasStalePodRef(claim, pod)) return true;
  if (hasUnexpectedController(claim, set, pod)) return !(hasOwnerRef(claim, set) || hasOwnerRef(claim, pod));
  if (hasNonControllerOwner(claim, set, pod)) return false;
  const { whenScaled, whenDeleted } = retentionPolicy(set);
  const setRef = hasOwnerRef(claim, set);
  const podRef = hasOwnerRef(claim, pod);
  const scaledDown = !podInOrdinalRange(pod, set);
  if (whenScaled === 'Delete' && whenDeleted === 'Delete')
    return scaledDown !== setRef && scaledDown === podRef;
  if (whenScaled === 'Delete') return !setRef && scaledDown === podRef;
  if (whenDeleted === 'Delete') return setRef && !podRef;
  return !setRef && !podRef;
}

/** updateClaimOwnerRefForSetAndPod: scrub the set's and pod's refs, then add what the policy asks for */
export function updateClaimOwnerRefs(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): void {
  const meta = (claim.metadata ??= {});
  const unexpected = hasUnexpectedController(claim, set, pod);
  let refs = (meta.ownerReferences ?? []).filter((r) => !matchesSetRef(r, set) && !matchesPodRef(r, pod));
  if (!unexpected) {
    const { whenScaled, whenDeleted } = retentionPolicy(set);
    const scaledDown = !podInOrdinalRange(pod, set);
    const add = (owner: ObjectWithMeta, apiVersion: string, kind: string): void => {
      if (!refs.some((r) => r.uid === owner.metadata?.uid))
        refs = [...refs, newControllerRef(owner, apiVersion, kind)];
    };
    if (whenScaled === 'Delete' && scaledDown) add(pod, 'v1', 'Pod');
    if (whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown))
      add(set, STS_API_VERSION, STS_KIND);
  }
  if (refs.length) meta.ownerReferences = refs;
  else delete meta.ownerReferences;
}
