// Score plugins: rank the nodes a pod fits on (0–100 each, weighted as upstream's default profile), then pick one.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerOf, type NodeInfo } from './cache.js';
import { effectiveTaints, matchesTerm, tolerated } from './filters.js';
import { nonZeroRequests, podRequests } from './resources.js';

export const MAX_NODE_SCORE = 100;

/** upstream's default plugin weights (pkg/scheduler/apis/config/v1 default_plugins.go) */
export const SCORE_WEIGHTS = {
  NodeResourcesFit: 1,
  NodeResourcesBalancedAllocation: 1,
  PodTopologySpread: 2,
  NodeAffinity: 2,
  TaintToleration: 3,
} as const;

export type ScorePlugin = keyof typeof SCORE_WEIGHTS;

interface CpuMem {
  milliCPU: number;
  memory: number;
}

function usage(pod: CpuMem, info: NodeInfo): { cpu: [number, number]; memory: [number, number] } {
  const alloc = info.allocatable();
  return {
    cpu: [info.nonZeroRequested.milliCPU + pod.milliCPU, alloc.get('cpu') ?? 0],
    memory: [info.nonZeroRequested.memory + pod.memory, alloc.get('memory') ?? 0],
  };
}

/** NodeResourcesFit, LeastAllocated strategy: the node with the most cpu and memory left scores highest */
export function leastAllocatedScore(pod: CpuMem, info: NodeInfo): number {
  const u = usage(pod, info);
  const one = ([requested, allocatable]: [number, number]): number => {
    if (allocatable <= 0 || requested > allocatable) return 0;
    return Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
  };
  return Math.floor((one(u.cpu) + one(u.memory)) / 2);
}

/**
 * NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used in similar proportions. Unlike
 * NodeResourcesFit it counts what pods really request, not the non-zero defaults (upstream's `useRequested`): with
 * the defaults, a node pushed past its allocatable by best-effort pods has both fractions capped at 1, scores a
 * perfect balance and draws every further pod.
 */
export function balancedAllocationScore(pod: CpuMem, info: NodeInfo): number {
  const alloc = info.allocatable();
  const u = {
    cpu: [(info.requested.get('cpu') ?? 0) + pod.milliCPU, alloc.get('cpu') ?? 0] as [number, number],
    memory: [(info.requested.get('memory') ?? 0) + pod.memory, alloc.get('memory') ?? 0] as [number, number],
  };
  const fraction = ([requested, allocatable]: [number, number]): number =>
    allocatable <= 0 ? 1 : Math.min(1, requested / allocatable);
  const std = Math.abs(fraction(u.cpu) - fraction(u.memory)) / 2;
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}

/**
 * PodTopologySpread with the system default constraint (hostname, maxSkew 3, ScheduleAnyway) over the pods of the
 * same controller: fewer siblings on a node → higher score. Raw scores are normalised like upstream's.
 */
export function spreadScores(pod: Pod, infos: readonly NodeInfo[]): number[] {
  const owner = controllerOf(pod);
  if (!owner) return infos.map(() => MAX_NODE_SCORE);
  const weight = Math.log(infos.length + 2);
  const maxSkew = 3;
  const raw = infos.map((i) => (i.ownerCounts.get(owner) ?? 0) * weight + (maxSkew - 1));
  const max = Math.max(...raw);
  const min = Math.min(...raw);
  if (max === 0) return infos.map(() => MAX_NODE_SCORE);
  return raw.map((s) => Math.floor((MAX_NODE_SCORE * (max + min - s)) / max));
}

/** NodeAffinity: the summed weights of matching preferred terms, normalised to 0–100 */
export function nodeAffinityScores(pod: Pod, infos: readonly NodeInfo[]): number[] {
  const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const raw = infos.map((i) =>
    preferred.reduce(
      (sum, p) => (p.weight > 0 && matchesTerm(p.preference, i.node!) ? sum + p.weight : sum),
      0,
    ),
  );
  const max = Math.max(0, ...raw);
  return raw.map((r) => (max === 0 ? 0 : Math.floor((MAX_NODE_SCORE * r) / max)));
}

/** TaintToleration: fewer untolerated PreferNoSchedule taints → higher score */
export function taintTolerationScores(pod: Pod, infos: readonly NodeInfo[]): number[] {
  const tolerations = (pod.spec?.tolerations ?? []).filter(
    (t) => !t.effect || t.effect === 'PreferNoSchedule',
  );
  const raw = infos.map(
    (i) =>
      effectiveTaints(i.node!).filter((t) => t.effect === 'PreferNoSchedule' && !tolerated(tolerations, t))
        .length,
  );
  const max = Math.max(0, ...raw);
  return raw.map((r) =>
    max === 0 ? MAX_NODE_SCORE : Math.floor(MAX_NODE_SCORE - (MAX_NODE_SCORE * r) / max),
  );
}

export interface NodeScore {
  name: string;
  total: number;
  plugins: Record<ScorePlugin, number>;
}

/** every plugin's score for every feasible node, and the weighted total */
export function scoreNodes(pod: Pod, infos: readonly NodeInfo[]): NodeScore[] {
  const nonZero = nonZeroRequests(pod);
  const requests = podRequests(pod);
  const requested = { milliCPU: requests.get('cpu') ?? 0, memory: requests.get('memory') ?? 0 };
  const spread = spreadScores(pod, infos);
  const affinity = nodeAffinityScores(pod, infos);
  const taints = taintTolerationScores(pod, infos);
  return infos.map((info, i) => {
    const plugins: Record<ScorePlugin, number> = {
      NodeResourcesFit: leastAllocatedScore(nonZero, info),
      NodeResourcesBalancedAllocation: balancedAllocationScore(requested, info),
      PodTopologySpread: spread[i],
      NodeAffinity: affinity[i],
      TaintToleration: taints[i],
    };
    let total = 0;
    for (const [name, score] of Object.entries(plugins)) total += score * SCORE_WEIGHTS[name as ScorePlugin];
    return { name: info.name, total, plugins };
  });
}

/** the highest total; ties broken uniformly at random (reservoir sampling, as upstream's selectHost) */
export function selectHost(scores: readonly NodeScore[], random: () => number): string | undefined {
  let best: NodeScore | undefined;
  let ties = 0;
  for (const s of scores) {
    if (!best || s.total > best.total) {
      best = s;
      ties = 1;
    } else if (s.total === best.total) {
      ties++;
      if (random() * ties < 1) best = s;
    }
  }
  return best?.name;
}
