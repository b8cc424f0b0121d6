// DaemonSet helpers (upstream pkg/controller/daemon/util/daemonset_util.go and the predicates of daemon_controller.go):
// which nodes should run a daemon pod, the tolerations every daemon pod gets, the pod's node-name affinity, and
// whether a pod is of the current template.
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type {
  Affinity,
  Node,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Taint,
  Toleration,
} from 'kubernetes-types/core/v1.js';
import { matchesNodeAffinity } from '../../api/node-selector.js';
import { scaledValue } from '../deployment/util.js';
import { toleratesTaint } from '../nodelifecycle/taints.js';

/** apps.ControllerRevisionHashLabelKey (= DefaultDaemonSetUniqueLabelKey) */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
/** extensions.DaemonSetTemplateGenerationKey: the pod label of the template generation it was made from */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** the annotation the apiserver keeps the DaemonSet's template generation in */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** Toleration.MatchToleration: same key, operator, value and effect (tolerationSeconds aside) */
function sameToleration(a: Toleration, b: Toleration): boolean {
  return (
    (a.key ?? '') === (b.key ?? '') &&
    (a.operator ?? '') === (b.operator ?? '') &&
    (a.value ?? '') === (b.value ?? '') &&
    (a.effect ?? '') === (b.effect ?? '')
  );
}

/** v1helper.AddOrUpdateTolerationInPodSpec: replaces a matching toleration, else appends */
function addOrUpdateToleration(spec: PodSpec, toleration: Toleration): void {
  const current = spec.tolerations ?? [];
  let updated = false;
  const next: Toleration[] = [];
  for (const t of current) {
    if (sameToleration(toleration, t)) {
      next.push(toleration);
      updated = true;
    } else next.push(t);
  }
  if (!updated) next.push(toleration);
  spec.tolerations = next;
}

/**
 * AddOrUpdateDaemonPodTolerations: daemon pods are never evicted for node problems (not-ready and unreachable
 * NoExecute, without tolerationSeconds) and run on nodes under pressure or cordoned; hostNetwork pods also on nodes
 * whose network is not set up yet (they are often what sets it up).
 */
export function addDaemonPodTolerations(spec: PodSpec): void {
  const exists = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  addOrUpdateToleration(spec, exists(TAINT_NOT_READY, 'NoExecute'));
  addOrUpdateToleration(spec, exists(TAINT_UNREACHABLE, 'NoExecute'));
  addOrUpdateToleration(spec, exists(TAINT_DISK_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_MEMORY_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_PID_PRESSURE, 'NoSchedule'));
  addOrUpdateToleration(spec, exists(TAINT_UNSCHEDULABLE, 'NoSchedule'));
  if (spec.hostNetwork) addOrUpdateToleration(spec, exists(TAINT_NETWORK_UNAVAILABLE, 'NoSchedule'));
}

/** GetTemplateGeneration: the apiserver's template generation annotation, undefined when absent or invalid */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const raw = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

/** CreatePodTemplate: the DaemonSet's template with the daemon tolerations, generation and revision-hash labels */
export function createPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const template: PodTemplateSpec = structuredClone(ds.spec?.template ?? {});
  const spec = (template.spec ??= { containers: [] });
  addDaemonPodTolerations(spec);
  const labels = ((template.metadata ??= {}).labels ??= {});
  const generation = templateGeneration(ds);
  if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = String(generation);
  if (hash) labels[CONTROLLER_REVISION_HASH_LABEL] = hash;
  return template;
}

/**
 * ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the one term
 * `metadata.name In [node]`, so the default scheduler binds it to that node (and only there).
 */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const out: Affinity = structuredClone(affinity ?? {});
  const nodeAffinity = (out.nodeAffinity ??= {});
  if (!nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution)
    nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [term] };
  else nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms = [term];
  return out;
}

/**
 * GetTargetNodeName: a bound pod's node, or the node named by the `metadata.name In [node]` term of an
 * unscheduled one; undefined when the pod names no node.
 */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const req of term.matchFields ?? []) {
      if (req.key === 'metadata.name' && req.operator === 'In') {
        return req.values?.length === 1 ? req.values[0] : undefined;
      }
    }
  }
  return undefined;
}

/** NewPod: the pod the DaemonSet would put on `nodeName`, for the predicates (the template plus tolerations) */
function newPod(ds: DaemonSet, nodeName: string): Pod {
  const template = ds.spec?.template ?? {};
  const spec: PodSpec = structuredClone(template.spec ?? { containers: [] });
  spec.nodeName = nodeName;
  addDaemonPodTolerations(spec);
  return { metadata: { ...(template.metadata ?? {}), namespace: ds.metadata?.namespace }, spec };
}

/** FindMatchingUntoleratedTaint, restricted to taints `filter` accepts */
function hasUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  filter: (t: Taint) => boolean,
): boolean {
  return taints.some((taint) => filter(taint) && !tolerations.some((tol) => toleratesTaint(tol, taint)));
}

/**
 * NodeShouldRunDaemonPod: `shouldRun` — a daemon pod should be created on the node (name, nodeSelector/affinity
 * and every NoSchedule/NoExecute taint tolerated); `shouldContinueRunning` — a daemon pod already there may stay
 * (only NoExecute taints must be tolerated).
 */
export function nodeShouldRunDaemonPod(
  node: Node,
  ds: DaemonSet,
): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const nodeName = node.metadata?.name ?? '';
  const pod = newPod(ds, nodeName);
  const wanted = ds.spec?.template?.spec?.nodeName;
  if (wanted && wanted !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = pod.spec?.tolerations ?? [];
  const fitsTaints = !hasUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule',
  );
  if (fitsTaints) return { shouldRun: true, shouldContinueRunning: true };
  return {
    shouldRun: false,
    shouldContinueRunning: !hasUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute'),
  };
}

/** IsPodUpdated: the pod carries the current revision hash, or the current template generation */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const templateMatches =
    generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === String(generation);
  const hashMatches = hash.length > 0 && labels[CONTROLLER_REVISION_HASH_LABEL] === hash;
  return hashMatches || templateMatches;
}

/** AllowsSurge: a RollingUpdate whose maxSurge is not zero */
export function allowsSurge(ds: DaemonSet): boolean {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (ds.spec?.updateStrategy?.type === 'OnDelete' || !ru) return false;
  return scaledValue(ru.maxSurge, 1, true) !== 0;
}

/** SurgeCount: maxSurge of `total` nodes, percentages rounded up; 0 unless a RollingUpdate */
export function surgeCount(ds: DaemonSet, total: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (ds.spec?.updateStrategy?.type === 'OnDelete' || !ru) return 0;
  return scaledValue(ru.maxSurge, total, true);
}

/** UnavailableCount: maxUnavailable of `total` nodes, percentages rounded up; 0 unless a RollingUpdate */
export function unavailableCount(ds: DaemonSet, total: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (ds.spec?.updateStrategy?.type === 'OnDelete' || !ru) return 0;
  return scaledValue(ru.maxUnavailable, total, true);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * podByCreationTimestampAndPhase: oldest first; equal creation times put running before unknown before
 * pending, then by name — the pod kept when a node has too many.
 */
export function byCreationAndPhase(a: Pod, b: Pod): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta === tb) {
    const pa = PHASE_RANK[a.status?.phase ?? ''] ?? 0;
    const pb = PHASE_RANK[b.status?.phase ?? ''] ?? 0;
    if (pa !== pb) return pb - pa;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  }
  return ta - tb;
}
