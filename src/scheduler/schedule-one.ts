// One scheduling decision: filter every node, score the feasible ones, pick one — or explain, in upstream's words, why none fits.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './cache.js';
import { podContext, runFilters, type FilterFailure } from './filters.js';
import { scoreNodes, selectHost } from './scores.js';
import { volumeBindingPreFilter, type PodVolumeState, type VolumeListers } from './volume-binding.js';

/** upstream ErrNoNodesAvailable */
export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

export type ScheduleResult =
  | { node: string; feasible: number; evaluated: number; volumes?: PodVolumeState }
  | {
      unschedulable: true;
      message: string;
      failures: Map<string, FilterFailure>;
      /** a PreFilter's rejection (VolumeBinding), which preemption's message keeps in place of per-node reasons */
      preFilterMessage?: string;
    };

function histogram(numNodes: number, counts: Map<string, number>): string {
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${numNodes} nodes are available: ${parts.join(', ')}`;
}

/**
 * framework.FitError.Error(): the sorted reason histogram, then the preemption (PostFilter) message — each part
 * followed by ". ", so the preemption message ends in ".." exactly as upstream's does.
 */
export function fitErrorMessage(
  pod: Pod,
  numNodes: number,
  failures: ReadonlyMap<string, FilterFailure>,
  /** what preemption (PostFilter) said, '' when it nominated a node; by default: no victims anywhere */
  postFilterMsg?: string,
  /** a PreFilter's rejection, which names no per-node reasons */
  preFilterMessage?: string,
): string {
  const reasons = new Map<string, number>();
  for (const failure of failures.values())
    for (const r of failure.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  // a PreFilter rejection names no per-node reasons (upstream FitError.Error: "0/X nodes are available: <PreFilterMsg>.")
  const filterMsg = preFilterMessage
    ? `0/${numNodes} nodes are available: ${preFilterMessage}`
    : histogram(numNodes, reasons);
  if (postFilterMsg !== undefined) return `${filterMsg}.${postFilterMsg ? ` ${postFilterMsg}.` : ''}`;
  const preemption = new Map<string, number>();
  for (const failure of failures.values()) {
    // no preemption ran: every pod is treated as having no lower-priority victims to evict
    const p = failure.unresolvable ? PREEMPTION_NOT_HELPFUL : NO_PREEMPTION_VICTIMS;
    preemption.set(p, (preemption.get(p) ?? 0) + 1);
  }
  const postFilter =
    pod.spec?.preemptionPolicy === 'Never'
      ? 'preemption: not eligible due to preemptionPolicy=Never.'
      : `preemption: ${histogram(numNodes, preemption)}.`;
  return `${filterMsg}. ${postFilter}.`;
}

/**
 * Filter, score and select a node for `pod` among `infos` (nodes that exist); `volumes` (the claim, PV and class
 * caches) turns the VolumeBinding plugin on. Pure: no I/O, no mutation.
 */
export function scheduleOne(
  pod: Pod,
  infos: readonly NodeInfo[],
  random: () => number,
  volumes?: VolumeListers,
): ScheduleResult {
  if (infos.length === 0)
    return { unschedulable: true, message: ERR_NO_NODES_AVAILABLE, failures: new Map() };
  let volumeState: PodVolumeState | undefined;
  if (volumes) {
    const pre = volumeBindingPreFilter(pod, volumes);
    if ('rejected' in pre) {
      // upstream marks every node with the PreFilter's UnschedulableAndUnresolvable status
      const failures = new Map<string, FilterFailure>();
      for (const info of infos)
        failures.set(info.name, { plugin: 'VolumeBinding', reasons: [pre.rejected], unresolvable: true });
      return {
        unschedulable: true,
        message: fitErrorMessage(pod, infos.length, failures, undefined, pre.rejected),
        failures,
        preFilterMessage: pre.rejected,
      };
    }
    if ('state' in pre) volumeState = pre.state;
  }
  const ctx = podContext(pod, volumeState);
  const feasible: NodeInfo[] = [];
  const failures = new Map<string, FilterFailure>();
  for (const info of infos) {
    const failure = runFilters(ctx, info);
    if (failure) failures.set(info.name, failure);
    else feasible.push(info);
  }
  if (feasible.length === 0) {
    return { unschedulable: true, message: fitErrorMessage(pod, infos.length, failures), failures };
  }
  const node = feasible.length === 1 ? feasible[0].name : selectHost(scoreNodes(pod, feasible), random)!;
  return {
    node,
    feasible: feasible.length,
    evaluated: infos.length,
    ...(volumeState ? { volumes: volumeState } : {}),
  };
}
