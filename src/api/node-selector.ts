// Node selector terms (component-helpers/scheduling/corev1/nodeaffinity): a pod's nodeSelector and required node
// affinity (the scheduler's NodeAffinity filter, the DaemonSet controller) and a PersistentVolume's nodeAffinity
// all match nodes with them.
import type {
  Node,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
} from 'kubernetes-types/core/v1.js';

/** one NodeSelectorRequirement against a label set (or the node's fields, for matchFields) */
export function matchesRequirement(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value!);
    case 'NotIn':
      return !has || !values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const intRe = /^[+-]?\d+$/;
      if (!intRe.test(value!) || !intRe.test(values[0])) return false;
      const l = BigInt(value!);
      const r = BigInt(values[0]);
      return req.operator === 'Gt' ? l > r : l < r;
    }
    default:
      return false;
  }
}

/** a term matches when all its expressions and fields do; an empty term matches nothing */
export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  const nodeFields = { 'metadata.name': node.metadata?.name ?? '' };
  return (
    exprs.every((r) => matchesRequirement(r, labels)) &&
    fields.every((r) => matchesRequirement(r, nodeFields))
  );
}

/** a NodeSelector matches when any of its terms does (a PV's `spec.nodeAffinity.required`) */
export function matchesNodeSelector(selector: NodeSelector, node: Node): boolean {
  return selector.nodeSelectorTerms.some((t) => matchesTerm(t, node));
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms are ORed) */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => matchesTerm(t, node));
}
