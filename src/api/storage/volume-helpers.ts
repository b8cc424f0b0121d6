// What the PV binder, the scheduler's VolumeBinding plugin, the provisioner and the kubelet agree on about claims and
// volumes: upstream's annotations, component-helpers/storage/volume (class, node affinity) and the PV controller's
// matching rules (pkg/controller/volume/persistentvolume/util, findMatchingVolume).
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { selectorMatches } from '../labels.js';
import { matchesNodeSelector } from '../node-selector.js';
import { compareQuantities } from '../schema/quantity.js';

/** the PV controller's: the claim has been bound once (pv.kubernetes.io/bind-completed) */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** the binding was made by the controller (or the scheduler), not pre-bound by a user */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** on a PV: which provisioner made it */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** on a claim: the provisioner that is to provision it (and its beta twin) */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** on a WaitForFirstConsumer claim: the node the scheduler picked for its first pod */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** storagehelpers.GetPersistentVolumeClaimClass: the beta annotation wins, then spec.storageClassName; "" = none */
export function claimClass(claim: PersistentVolumeClaim): string {
  const beta = claim.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

/** storagehelpers.GetPersistentVolumeClass */
export function volumeClass(pv: PersistentVolume): string {
  const beta = pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  return pv.spec?.storageClassName ?? '';
}

/** is the PV's claimRef this claim (name and namespace; a UID, when set, too)? */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** component-helpers CheckNodeAffinity: a PV without node affinity fits every node */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  if (!required) return true;
  return matchesNodeSelector(required, node);
}

/** the requested storage of a claim ("0" when absent) */
export function requestedStorage(claim: PersistentVolumeClaim): string {
  return String(claim.spec?.resources?.requests?.['storage'] ?? '0');
}

function capacityOf(pv: PersistentVolume): string | undefined {
  const c = pv.spec?.capacity?.['storage'];
  return c === undefined ? undefined : String(c);
}

/** every access mode the claim asks for is one the volume has (CheckAccessModes) */
export function accessModesFit(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const have = new Set(pv.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => have.has(m));
}

/** checkVolumeSatisfyClaim: why a requested (spec.volumeName) volume cannot serve the claim, or undefined */
export function volumeMismatch(pv: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  const cap = capacityOf(pv);
  if (cap === undefined || compareQuantities(cap, requestedStorage(claim)) < 0)
    return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem'))
    return 'incompatible volumeMode';
  if (!accessModesFit(claim, pv)) return 'incompatible accessMode';
  return undefined;
}

/**
 * findMatchingVolume: the smallest Available volume that fits the claim (class, access modes, volume mode,
 * capacity, selector, and — on the scheduler's path, with `node` — node affinity); a volume pre-bound to the claim
 * wins outright. With `delayBinding` and no node, only pre-bound volumes count: the scheduler binds the rest.
 */
export function findMatchingVolume(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  node: Node | undefined,
  excluded: ReadonlySet<string>,
  delayBinding: boolean,
): PersistentVolume | undefined {
  const requested = requestedStorage(claim);
  const wantedClass = claimClass(claim);
  const wantedMode = claim.spec?.volumeMode ?? 'Filesystem';
  let smallest: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (excluded.has(pv.metadata?.name ?? '')) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== wantedMode) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const fitsNode = !node || volumeFitsNode(pv, node);
    if (isVolumeBoundToClaim(pv, claim)) return fitsNode ? pv : undefined;
    if (!node && delayBinding) continue;
    if (pv.status?.phase !== 'Available' || pv.spec?.claimRef) continue;
    if (claim.spec?.selector && !selectorMatches(claim.spec.selector, pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== wantedClass) continue;
    if (!fitsNode || !accessModesFit(claim, pv)) continue;
    const cap = capacityOf(pv);
    if (cap === undefined || compareQuantities(cap, requested) < 0) continue;
    if (!smallest || compareQuantities(capacityOf(smallest)!, cap) > 0) smallest = pv;
  }
  return smallest;
}

/** storagehelpers.IsDelayBindingMode: is the claim's class WaitForFirstConsumer? */
export function isDelayBinding(
  claim: PersistentVolumeClaim,
  classes: (name: string) => StorageClass | undefined,
): boolean {
  const name = claimClass(claim);
  if (!name) return false;
  return classes(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** the claim of a pod volume: `persistentVolumeClaim.claimName`, or `<pod>-<volume>` for a generic ephemeral volume */
export function podVolumeClaimName(pod: Pod, vol: Volume): string | undefined {
  if (vol.persistentVolumeClaim) return vol.persistentVolumeClaim.claimName;
  if (vol.ephemeral) return ephemeralClaimName(pod, vol);
  return undefined;
}

/** ephemeral.VolumeClaimName: `<pod name>-<volume name>` */
export function ephemeralClaimName(pod: Pod, vol: Volume): string {
  return `${pod.metadata?.name ?? ''}-${vol.name}`;
}

/** ephemeral.VolumeIsForPod: a claim named like the pod's ephemeral volume but not owned by the pod is refused */
export function ephemeralClaimOwnedBy(pod: Pod, claim: PersistentVolumeClaim): boolean {
  return (claim.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === pod.metadata?.uid);
}

/** `ns/name` of a claim */
export const claimKey = (claim: PersistentVolumeClaim): string =>
  `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`;
