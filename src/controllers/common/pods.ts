// Pod predicates and upstream's deletion ranking (controller_utils.go: IsPodActive, IsPodReady, ActivePodsWithRanks).
import type { Pod } from 'kubernetes-types/core/v1.js';

/** not finished and not being deleted: counts towards a ReplicaSet's replicas */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** when the pod became ready (ms), undefined when not ready or unknown */
export function podReadyTime(pod: Pod): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  return Date.parse(c.lastTransitionTime);
}

/** ready for at least minReadySeconds (podutil.IsPodAvailable) */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function phaseOrdinal(pod: Pod): number {
  // upstream's map lookup gives 0 for phases outside the map
  return PHASE_ORDINAL[pod.status?.phase ?? ''] ?? 0;
}

function deletionCost(pod: Pod): number {
  const raw = pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) ? n : 0;
}

function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])])
    max = Math.max(max, s.restartCount ?? 0);
  return max;
}

function creationTime(pod: Pod): number | undefined {
  const t = pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : undefined;
}

/** floor(log2(age in ns)), -1 for a non-positive age: LogarithmicScaleDown's buckets */
function logRank(t: number, now: number): number {
  const d = (now - t) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

/** afterOrZero: the zero time first, then the later time */
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

function newerFirst(a: Pod, b: Pod, ta: number | undefined, tb: number | undefined, now: number): number {
  if (ta === tb) return 0;
  if (ta === undefined || tb === undefined) return afterOrZero(ta, tb) ? -1 : 1;
  const diff = logRank(ta, now) - logRank(tb, now);
  if (diff === 0) {
    const ua = a.metadata?.uid ?? '';
    const ub = b.metadata?.uid ?? '';
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  }
  return diff;
}

/**
 * Sort pods so the ones to delete first come first (ActivePodsWithRanks with LogarithmicScaleDown and
 * PodDeletionCost, both on by default): unassigned < assigned; Pending < Unknown < Running; not ready <
 * ready; lower deletion cost; more co-located pods (rank); ready more recently; more restarts; newer.
 * `rank(pod)` is how many related active pods share the pod's node.
 */
export function sortPodsForDeletion(pods: Pod[], rank: (pod: Pod) => number, nowMs: number): Pod[] {
  const ranks = new Map(pods.map((p) => [p, rank(p)]));
  const cmp = (a: Pod, b: Pod): number => {
    const na = a.spec?.nodeName ?? '';
    const nb = b.spec?.nodeName ?? '';
    if (na !== nb && (!na || !nb)) return !na ? -1 : 1;
    const pa = phaseOrdinal(a);
    const pb = phaseOrdinal(b);
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a);
    const rb = isPodReady(b);
    if (ra !== rb) return ra ? 1 : -1;
    const ca = deletionCost(a);
    const cb = deletionCost(b);
    if (ca !== cb) return ca - cb;
    const ka = ranks.get(a)!;
    const kb = ranks.get(b)!;
    if (ka !== kb) return kb - ka;
    if (ra && rb) {
      const byReady = newerFirst(a, b, podReadyTime(a), podReadyTime(b), nowMs);
      if (byReady !== 0) return byReady;
    }
    const restarts = maxContainerRestarts(b) - maxContainerRestarts(a);
    if (restarts !== 0) return restarts;
    return newerFirst(a, b, creationTime(a), creationTime(b), nowMs);
  };
  return [...pods].sort(cmp);
}
