// DefaultPreemption (upstream pkg/scheduler/framework/plugins/defaultpreemption and framework/preemption): when a pod
// fits nowhere, find a node where evicting pods of lower priority makes room — as few and as unimportant as
// possible, PodDisruptionBudgets respected as far as they can be — and say which. Pure: no I/O, no mutation.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { keyOf } from '../client/index.js';
import { selectorMatches } from '../api/labels.js';
import { NodeInfo } from './cache.js';
import { podContext, runFilters, type FilterFailure, type PodContext } from './filters.js';
import { NO_PREEMPTION_VICTIMS, PREEMPTION_NOT_HELPFUL } from './schedule-one.js';

/** v1.PodReasonPreemptionByScheduler */
export const PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

function startTime(pod: Pod): number {
  const t = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : Number.MAX_SAFE_INTEGER;
}

/** util.MoreImportantPod: higher priority first, then the one that started earlier */
export function moreImportant(a: Pod, b: Pod): number {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pb - pa;
  return startTime(a) - startTime(b);
}

/** a pod the scheduler has already preempted and is waiting for */
export function terminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  return !!pod.status?.conditions?.some(
    (c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === PREEMPTION_BY_SCHEDULER,
  );
}

/** a copy of a node's accounting that the dry run may change */
export function cloneNodeInfo(info: NodeInfo): NodeInfo {
  const copy = new NodeInfo(info.name);
  copy.node = info.node;
  for (const [key, entry] of info.pods) copy.addPod(key, entry.pod);
  return copy;
}

export interface Candidate {
  node: string;
  /** most important first */
  victims: Pod[];
  numPDBViolations: number;
}

export type PreemptionOutcome =
  /** preempt these pods and nominate the node */
  | { kind: 'preempt'; candidate: Candidate }
  /** not eligible: keep any nomination; the message goes after `preemption: ` in the fit error */
  | { kind: 'ineligible'; message: string }
  /** no node would do: clear the nomination; the message is the dry run's own fit error */
  | { kind: 'none'; message: string };

/** PodEligibleToPreemptOthers */
export function eligibleToPreempt(
  pod: Pod,
  infos: readonly NodeInfo[],
  failures: ReadonlyMap<string, FilterFailure>,
): string | undefined {
  if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nominated = pod.status?.nominatedNodeName;
  if (!nominated) return undefined;
  // a nominated node that cannot take the pod at all is worth preempting elsewhere
  if (failures.get(nominated)?.unresolvable) return undefined;
  const info = infos.find((i) => i.name === nominated);
  const priority = podPriority(pod);
  for (const { pod: p } of info?.pods.values() ?? []) {
    if (podPriority(p) < priority && terminatingByPreemption(p))
      return 'not eligible due to a terminating pod on the nominated node.';
  }
  return undefined;
}

/** filterPodsWithPDBViolation: which pods' eviction would take a budget below zero */
export function splitByPDBViolation(
  pods: readonly Pod[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: Pod[]; nonViolating: Pod[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const violating: Pod[] = [];
  const nonViolating: Pod[] = [];
  for (const pod of pods) {
    let violated = false;
    if (Object.keys(pod.metadata?.labels ?? {}).length) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata?.namespace !== pod.metadata?.namespace) return;
        const sel = pdb.spec?.selector;
        // a nil or empty selector matches nothing here
        if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length))
          return;
        if (!selectorMatches(sel, pod.metadata?.labels)) return;
        // already counted by the apiserver's eviction
        if (pod.metadata?.name && pdb.status?.disruptedPods?.[pod.metadata.name] !== undefined) return;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}

/**
 * SelectVictimsOnNode: remove every lower-priority pod; if the pod then fits, give back as many as possible, the
 * most important first and those whose eviction would violate a budget before the others.
 */
export function selectVictimsOnNode(
  ctx: PodContext,
  info: NodeInfo,
  pdbs: readonly PodDisruptionBudget[],
): { candidate: Candidate } | { failure: string[] } {
  const node = cloneNodeInfo(info);
  const priority = podPriority(ctx.pod);
  const potential: Pod[] = [];
  for (const [key, { pod }] of info.pods) {
    if (podPriority(pod) < priority) {
      potential.push(pod);
      node.removePod(key);
    }
  }
  if (potential.length === 0) return { failure: [NO_PREEMPTION_VICTIMS] };
  const fails = runFilters(ctx, node);
  if (fails) return { failure: fails.reasons };
  potential.sort(moreImportant);
  const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
  const victims: Pod[] = [];
  let numPDBViolations = 0;
  const reprieve = (pod: Pod): boolean => {
    const key = keyOf(pod);
    node.addPod(key, pod);
    if (!runFilters(ctx, node)) return true;
    node.removePod(key);
    victims.push(pod);
    return false;
  };
  for (const pod of violating) if (!reprieve(pod)) numPDBViolations++;
  for (const pod of nonViolating) reprieve(pod);
  victims.sort(moreImportant);
  return { candidate: { node: info.name, victims, numPDBViolations } };
}

/** upstream sums priorities offset by MaxInt32+1 so negative priorities still add up to more victims = worse */
function prioritySum(victims: readonly Pod[]): number {
  let sum = 0;
  for (const v of victims) sum += podPriority(v) + 2 ** 31 + 1;
  return sum;
}

/** GetEarliestPodStartTime: the earliest start among the highest-priority victims */
function earliestStartOfHighest(victims: readonly Pod[]): number {
  if (victims.length === 0) return Number.MAX_SAFE_INTEGER;
  const highest = podPriority(victims[0]);
  let earliest = Number.MAX_SAFE_INTEGER;
  for (const v of victims) if (podPriority(v) === highest) earliest = Math.min(earliest, startTime(v));
  return earliest;
}

/** pickOneNodeForPreemption: fewest budget violations, lowest top victim, least priority, fewest, latest start */
export function pickOneNode(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const free = candidates.find((c) => c.victims.length === 0);
  if (free) return free;
  const narrow = (list: Candidate[], score: (c: Candidate) => number): Candidate[] => {
    const best = Math.max(...list.map(score));
    return list.filter((c) => score(c) === best);
  };
  let list = [...candidates];
  list = narrow(list, (c) => -c.numPDBViolations);
  list = narrow(list, (c) => -podPriority(c.victims[0]));
  list = narrow(list, (c) => -prioritySum(c.victims));
  list = narrow(list, (c) => -c.victims.length);
  list = narrow(list, (c) => earliestStartOfHighest(c.victims));
  return list[0];
}

function histogram(numNodes: number, counts: Map<string, number>): string {
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${numNodes} nodes are available: ${parts.join(', ')}`;
}

/**
 * Evaluator.Preempt for `pod`, which fit none of `infos` for `failures`: eligibility, a dry run on every node
 * where preemption might help, then the best candidate.
 */
export function preempt(
  pod: Pod,
  infos: readonly NodeInfo[],
  failures: ReadonlyMap<string, FilterFailure>,
  pdbs: readonly PodDisruptionBudget[],
): PreemptionOutcome {
  const ineligible = eligibleToPreempt(pod, infos, failures);
  if (ineligible) return { kind: 'ineligible', message: ineligible };
  const ctx = podContext(pod);
  const candidates: Candidate[] = [];
  const reasons = new Map<string, number>();
  const count = (r: string): void => void reasons.set(r, (reasons.get(r) ?? 0) + 1);
  for (const info of infos) {
    const failure = failures.get(info.name);
    // only nodes that failed for reasons preemption can change
    if (!failure || failure.unresolvable) {
      count(PREEMPTION_NOT_HELPFUL);
      continue;
    }
    const r = selectVictimsOnNode(ctx, info, pdbs);
    if ('candidate' in r) candidates.push(r.candidate);
    else for (const reason of r.failure) count(reason);
  }
  const best = pickOneNode(candidates);
  if (best) return { kind: 'preempt', candidate: best };
  return { kind: 'none', message: `${histogram(infos.length, reasons)}.` };
}
