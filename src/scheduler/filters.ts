// Filter plugins: can this pod run on this node? Upstream plugin names, order and failure reasons.
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { matchesNodeAffinity } from '../api/node-selector.js';
import type { NodeInfo } from './cache.js';
import { podRequests, type ResourceAmounts } from './resources.js';
import type { PodVolumeState } from './volume-binding.js';

/** Why a node was filtered out; `unresolvable` failures cannot be fixed by preempting pods. */
export interface FilterFailure {
  plugin: string;
  reasons: string[];
  unresolvable: boolean;
}

/** Per-pod data computed once per scheduling cycle, not once per node. */
export interface PodContext {
  pod: Pod;
  requests: ResourceAmounts;
  /** the VolumeBinding plugin's state, for a pod with claims */
  volumes?: PodVolumeState;
}

export function podContext(pod: Pod, volumes?: PodVolumeState): PodContext {
  return { pod, requests: podRequests(pod), ...(volumes ? { volumes } : {}) };
}

// node affinity matching is shared with the DaemonSet controller and the volume binder
export { matchesNodeAffinity, matchesRequirement, matchesTerm } from '../api/node-selector.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export const ERR_NODE_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_NODE_NAME = "node(s) didn't match the requested node name";
export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const ERR_TOO_MANY_PODS = 'Too many pods';

/** v1helper.TolerationsTolerateTaint: does one toleration match the taint? */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  // an empty key with Exists matches every taint
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerated(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/**
 * The node's taints, plus the not-ready/unreachable NoSchedule taint the node lifecycle controller would put on a
 * node whose Ready condition is not True — a safety net for when that controller has not caught up yet.
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = readyStatus(node);
  if (ready !== 'True') {
    const key = ready === 'Unknown' ? TAINT_NODE_UNREACHABLE : TAINT_NODE_NOT_READY;
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule'))
      taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

function nodeUnschedulable(ctx: PodContext, node: Node): FilterFailure | undefined {
  if (!node.spec?.unschedulable) return undefined;
  if (tolerated(ctx.pod.spec?.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' }))
    return undefined;
  return { plugin: 'NodeUnschedulable', reasons: [ERR_NODE_UNSCHEDULABLE], unresolvable: true };
}

function nodeName(ctx: PodContext, node: Node): FilterFailure | undefined {
  const wanted = ctx.pod.spec?.nodeName;
  if (!wanted || wanted === node.metadata?.name) return undefined;
  return { plugin: 'NodeName', reasons: [ERR_NODE_NAME], unresolvable: true };
}

function taintToleration(ctx: PodContext, node: Node): FilterFailure | undefined {
  for (const taint of effectiveTaints(node)) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (tolerated(ctx.pod.spec?.tolerations, taint)) continue;
    return {
      plugin: 'TaintToleration',
      reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
      unresolvable: true,
    };
  }
  return undefined;
}

function nodeAffinity(ctx: PodContext, node: Node): FilterFailure | undefined {
  if (matchesNodeAffinity(ctx.pod, node)) return undefined;
  return { plugin: 'NodeAffinity', reasons: [ERR_NODE_AFFINITY], unresolvable: true };
}

function nodeResourcesFit(ctx: PodContext, _node: Node, info: NodeInfo): FilterFailure | undefined {
  const allocatable = info.allocatable();
  const reasons: string[] = [];
  if (info.pods.size + 1 > (allocatable.get('pods') ?? 0)) reasons.push(ERR_TOO_MANY_PODS);
  for (const [resource, wanted] of ctx.requests) {
    if (wanted <= 0 || resource === 'pods') continue;
    const free = (allocatable.get(resource) ?? 0) - (info.requested.get(resource) ?? 0);
    if (wanted > free) reasons.push(`Insufficient ${resource}`);
  }
  // upstream reports cpu, memory, ephemeral-storage, then extended resources; the histogram sorts them anyway
  if (reasons.length === 0) return undefined;
  return { plugin: 'NodeResourcesFit', reasons, unresolvable: false };
}

function volumeBinding(ctx: PodContext, node: Node): FilterFailure | undefined {
  return ctx.volumes?.filter(node);
}

type FilterPlugin = (ctx: PodContext, node: Node, info: NodeInfo) => FilterFailure | undefined;

/** in upstream's default order: the first failing plugin decides the node's reasons */
const FILTERS: readonly FilterPlugin[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodeResourcesFit,
  volumeBinding,
];

/** undefined if the pod fits the node */
export function runFilters(ctx: PodContext, info: NodeInfo): FilterFailure | undefined {
  const node = info.node!;
  for (const filter of FILTERS) {
    const failure = filter(ctx, node, info);
    if (failure) return failure;
  }
  return undefined;
}
