// The VolumeBinding plugin (upstream pkg/scheduler/framework/plugins/volumebinding): PreFilter keeps a pod whose
// claims are missing or unbound-and-Immediate out of scheduling; Filter checks a bound claim's PV node affinity and
// that every WaitForFirstConsumer claim finds a static PV on the node or can be provisioned there; PreBind binds the
// chosen static PVs (claimRef), asks for provisioning (`volume.kubernetes.io/selected-node`), and waits until every
// claim is bound before the pod is bound to the node.
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { matchesRequirement } from '../api/node-selector.js';
import {
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  claimClass,
  ephemeralClaimOwnedBy,
  findMatchingVolume,
  isDelayBinding,
  podVolumeClaimName,
  volumeFitsNode,
} from '../api/storage/volume-helpers.js';
import type { FilterFailure } from './filters.js';

export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_PV_NOT_EXIST =
  'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** what the plugin reads: the scheduler's informer caches */
export interface VolumeListers {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

/** the bindings PreBind makes for one node */
export interface PodVolumeBindings {
  /** static PVs chosen for WaitForFirstConsumer claims */
  staticBindings: { claim: PersistentVolumeClaim; volume: PersistentVolume }[];
  /** claims to provision on the node */
  provisions: PersistentVolumeClaim[];
}

export type PreFilterResult = { skip: true } | { state: PodVolumeState } | { rejected: string };

/** per-pod state of one scheduling cycle (upstream's stateData) */
export class PodVolumeState {
  constructor(
    private readonly listers: VolumeListers,
    /** claims with a volumeName */
    readonly bound: PersistentVolumeClaim[],
    /** unbound WaitForFirstConsumer claims */
    readonly toBind: PersistentVolumeClaim[],
  ) {}

  /** Filter: the node's failure, or undefined when the pod's volumes can be on it */
  filter(node: Node): FilterFailure | undefined {
    const reasons: string[] = [];
    for (const claim of this.bound) {
      const pv = this.listers.volume(claim.spec!.volumeName!);
      if (!pv) {
        reasons.push(ERR_REASON_PV_NOT_EXIST);
        break;
      }
      if (!volumeFitsNode(pv, node)) {
        reasons.push(ERR_REASON_NODE_CONFLICT);
        break;
      }
    }
    if (reasons.length === 0 && !this.bindingsFor(node)) reasons.push(ERR_REASON_BIND_CONFLICT);
    if (reasons.length === 0) return undefined;
    return { plugin: 'VolumeBinding', reasons, unresolvable: true };
  }

  /** FindPodVolumes for one node: a static PV per claim (smallest first, each used once) or provisioning */
  bindingsFor(node: Node): PodVolumeBindings | undefined {
    const out: PodVolumeBindings = { staticBindings: [], provisions: [] };
    if (this.toBind.length === 0) return out;
    const chosen = new Set<string>();
    // upstream sorts claims by requested size, so the smallest claim takes the smallest fitting volume first
    const volumes = this.listers.volumes();
    for (const claim of this.toBind) {
      const pv = findMatchingVolume(claim, volumes, node, chosen, true);
      if (pv) {
        chosen.add(pv.metadata!.name!);
        out.staticBindings.push({ claim, volume: pv });
        continue;
      }
      const sc = this.listers.storageClass(claimClass(claim));
      if (!sc?.provisioner || sc.provisioner === NO_PROVISIONER) return undefined;
      if (!allowedTopologiesMatch(sc, node)) return undefined;
      out.provisions.push(claim);
    }
    return out;
  }
}

/** the class's allowedTopologies (terms ORed, expressions ANDed, values ORed) admit the node */
function allowedTopologiesMatch(sc: StorageClass, node: Node): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every((e) =>
      matchesRequirement({ key: e.key, operator: 'In', values: e.values }, labels),
    ),
  );
}

/** PreFilter: undefined-free answer for pods with no claims (`skip`), a rejection message, or the cycle's state */
export function volumeBindingPreFilter(pod: Pod, listers: VolumeListers): PreFilterResult {
  const namespace = pod.metadata?.namespace ?? 'default';
  const bound: PersistentVolumeClaim[] = [];
  const toBind: PersistentVolumeClaim[] = [];
  let immediate = false;
  let any = false;
  for (const vol of pod.spec?.volumes ?? []) {
    const name = podVolumeClaimName(pod, vol);
    if (name === undefined) continue;
    any = true;
    const claim = listers.claim(namespace, name);
    if (!claim) {
      if (vol.ephemeral)
        return {
          rejected: `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"`,
        };
      return { rejected: `persistentvolumeclaim "${name}" not found` };
    }
    if (vol.ephemeral && !ephemeralClaimOwnedBy(pod, claim))
      return {
        rejected: `PVC ${namespace}/${name} was not created for pod ${namespace}/${pod.metadata?.name ?? ''} (pod is not owner)`,
      };
    if (claim.metadata?.deletionTimestamp)
      return { rejected: `persistentvolumeclaim "${name}" is being deleted` };
    if (claim.spec?.volumeName) bound.push(claim);
    else if (isDelayBinding(claim, (n) => listers.storageClass(n))) toBind.push(claim);
    else immediate = true;
  }
  if (!any) return { skip: true };
  if (immediate) return { rejected: ERR_UNBOUND_IMMEDIATE };
  return { state: new PodVolumeState(listers, bound, toBind) };
}

/** what PreBind writes through */
export interface VolumeBindingWriter {
  updateVolume(pv: PersistentVolume): Promise<unknown>;
  updateClaim(claim: PersistentVolumeClaim): Promise<unknown>;
}

/** BindPodVolumes' API updates: claimRef on the chosen static PVs, selected-node on the claims to provision */
export async function writeVolumeBindings(
  bindings: PodVolumeBindings,
  node: string,
  writer: VolumeBindingWriter,
): Promise<void> {
  for (const { claim, volume } of bindings.staticBindings) {
    const meta = claim.metadata!;
    await writer.updateVolume({
      ...volume,
      metadata: {
        ...volume.metadata,
        annotations: { ...volume.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' },
      },
      spec: {
        ...volume.spec,
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: meta.namespace!,
          name: meta.name!,
          uid: meta.uid!,
          resourceVersion: meta.resourceVersion!,
        },
      },
    });
  }
  for (const claim of bindings.provisions) {
    if (claim.metadata?.annotations?.[ANN_SELECTED_NODE] === node) continue;
    await writer.updateClaim({
      ...claim,
      metadata: {
        ...claim.metadata,
        annotations: { ...claim.metadata?.annotations, [ANN_SELECTED_NODE]: node },
      },
    });
  }
}

/** checkBindings: every claim of the pod bound to an existing PV (the PV controller and the provisioner are done) */
export function podVolumesBound(pod: Pod, listers: VolumeListers): boolean {
  const namespace = pod.metadata?.namespace ?? 'default';
  for (const vol of pod.spec?.volumes ?? []) {
    const name = podVolumeClaimName(pod, vol);
    if (name === undefined) continue;
    const claim = listers.claim(namespace, name);
    const pvName = claim?.spec?.volumeName;
    if (!claim || !pvName || claim.metadata?.annotations?.['pv.kubernetes.io/bind-completed'] === undefined)
      return false;
    const pv = listers.volume(pvName);
    if (!pv?.spec?.claimRef || pv.spec.claimRef.uid !== claim.metadata?.uid) return false;
  }
  return true;
}
