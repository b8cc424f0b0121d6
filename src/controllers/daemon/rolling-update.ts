// The DaemonSet RollingUpdate step (upstream pkg/controller/daemon/update.go rollingUpdate and findUpdatedPodsOnNode),
// as a decision: which old pods to delete and on which nodes to surge a new pod. The manage loop creates the
// replacements on nodes left without a pod.
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isPodAvailable } from '../common/pods.js';
import {
  isPodUpdated,
  nodeShouldRunDaemonPod,
  surgeCount,
  templateGeneration,
  unavailableCount,
} from './util.js';

export interface RollingUpdateInput {
  ds: DaemonSet;
  nodes: readonly Node[];
  /** node name → the DaemonSet's pods there (terminal pods being deleted left out) */
  nodeToDaemonPods: ReadonlyMap<string, Pod[]>;
  hash: string;
  nowMs: number;
}

export interface RollingUpdateDecision {
  podsToDelete: string[];
  nodesToCreate: string[];
}

/** findUpdatedPodsOnNode: the node's one new and one old pod; ok=false when it has more than one of either */
export function updatedPodsOnNode(
  ds: DaemonSet,
  pods: readonly Pod[],
  hash: string,
): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  const generation = templateGeneration(ds);
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { ok: true, ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

/**
 * updatedDesiredNodeCounts: maxSurge and maxUnavailable of the nodes that should run the daemon (percentages round
 * up); both zero would stall the update, so maxUnavailable is then 1.
 */
export function desiredNodeCounts(
  ds: DaemonSet,
  nodes: readonly Node[],
): { maxSurge: number; maxUnavailable: number; desired: number } {
  const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
  const maxUnavailable = unavailableCount(ds, desired);
  const maxSurge = surgeCount(ds, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) return { maxSurge, maxUnavailable: 1, desired };
  return { maxSurge, maxUnavailable, desired };
}

export function rollingUpdate(input: RollingUpdateInput): RollingUpdateDecision {
  const { ds, hash, nowMs } = input;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (pod: Pod): boolean => isPodAvailable(pod, minReady, nowMs);
  const { maxSurge, maxUnavailable, desired } = desiredNodeCounts(ds, input.nodes);
  const nodesByName = new Map(input.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const shouldRun = (nodeName: string): boolean => {
    const node = nodesByName.get(nodeName);
    return !!node && nodeShouldRunDaemonPod(node, ds).shouldRun;
  };

  if (maxSurge === 0) {
    // delete just enough old pods to stay within maxUnavailable; the manage loop creates their replacements
    let numUnavailable = 0;
    const allowedReplacements: string[] = [];
    const candidates: string[] = [];
    for (const pods of input.nodeToDaemonPods.values()) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(ds, pods, hash);
      if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
        // the manage loop cleans up or fills this node: count it as unavailable
        numUnavailable++;
      } else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) {
          // an old pod that is not available anyway is replaced at once
          allowedReplacements.push(oldPod.metadata?.name ?? '');
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) {
          candidates.push(oldPod.metadata?.name ?? '');
        }
      }
    }
    const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
    return { podsToDelete: [...allowedReplacements, ...candidates.slice(0, remaining)], nodesToCreate: [] };
  }

  // surging: a new pod beside each old one (at most maxSurge at a time), the old one deleted once the new is available
  const oldPodsToDelete: string[] = [];
  const shouldNotRunPodsToDelete: string[] = [];
  const candidateNewNodes: string[] = [];
  const allowedNewNodes: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const [nodeName, pods] of input.nodeToDaemonPods) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(ds, pods, hash);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod) {
      if (available(oldPod)) numAvailable++;
    } else if (newPod && available(newPod)) numAvailable++;

    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun(nodeName)) {
          oldPodsToDelete.push(oldPod.metadata?.name ?? '');
          continue;
        }
        allowedNewNodes.push(nodeName);
      } else {
        if (!shouldRun(nodeName)) {
          shouldNotRunPodsToDelete.push(oldPod.metadata?.name ?? '');
          continue;
        }
        if (numSurge >= maxSurge) continue;
        candidateNewNodes.push(nodeName);
      }
      continue;
    }
    // surged already: wait for the new pod, then retire the old one
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    oldPodsToDelete.push(oldPod.metadata?.name ?? '');
  }
  // with maxSurge the owner expects full availability: a pod on a node that no longer qualifies goes only once
  // enough pods are available elsewhere
  const deletable = Math.min(Math.max(numAvailable - desired, 0), shouldNotRunPodsToDelete.length);
  oldPodsToDelete.push(...shouldNotRunPodsToDelete.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNewNodes.length);
  return {
    podsToDelete: oldPodsToDelete,
    nodesToCreate: [...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge)],
  };
}
