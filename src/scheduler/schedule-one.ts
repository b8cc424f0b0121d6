// One scheduling decision: filter every node, score the feasible ones, pick one — or explain, in upstream's words, why none fits.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './cache.js';
import { podContext, runFilters, type FilterFailure } from './filters.js';
import { scoreNodes, selectHost } from './scores.js';

/** upstream ErrNoNodesAvailable */
export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

export type ScheduleResult =
  | { node: string; feasible: number; evaluated: number }
  | { unschedulable: true; message: string; failures: Map<string, FilterFailure> };

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
): string {
  if (postFilterMsg !== undefined) {
    const reasons = new Map<string, number>();
    for (const failure of failures.values())
      for (const r of failure.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    return `${histogram(numNodes, reasons)}.${postFilterMsg ? ` ${postFilterMsg}.` : ''}`;
  }
  const reasons = new Map<string, number>();
  const preemption = new Map<string, number>();
  for (const failure of failures.values()) {
    for (const r of failure.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    // Nothing here preempts: every pod is treated as having no lower-priority victims to evict.
    const p = failure.unresolvable ? PREEMPTION_NOT_HELPFUL : NO_PREEMPTION_VICTIMS;
    preemption.set(p, (preemption.get(p) ?? 0) + 1);
  }
  const postFilter =
    pod.spec?.preemptionPolicy === 'Never'
      ? 'preemption: not eligible due to preemptionPolicy=Never.'
      : `preemption: ${histogram(numNodes, preemption)}.`;
  return `${histogram(numNodes, reasons)}. ${postFilter}.`;
}

/** Filter, score and select a node for `pod` among `infos` (nodes that exist). Pure: no I/O, no mutation. */
export function scheduleOne(pod: Pod, infos: readonly NodeInfo[], random: () => number): ScheduleResult {
  if (infos.length === 0)
    return { unschedulable: true, message: ERR_NO_NODES_AVAILABLE, failures: new Map() };
  const ctx = podContext(pod);
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
  return { node, feasible: feasible.length, evaluated: infos.length };
}
