// What `kubemu up` and `kubemu status` say about degraded modes: the nodes' True *Degraded conditions (the kubelets
// report them, see src/kubelet/degraded.ts), grouped across nodes, plus the ingress gateway off ports 80/443.
import type { Node } from 'kubernetes-types/core/v1.js';
import { DEGRADED_CONDITION_TYPES } from '../../kubelet/degraded.js';
import { DEFAULT_HTTP, DEFAULT_HTTPS } from '../../util/ingress-address.js';
import { unprivilegedPortStart } from '../../util/privileged-ports.js';
import { fallbackMessage } from './network-support.js';

export interface NodeProblemSummary {
  type: string;
  reason: string;
  message: string;
}

export interface Degradation extends NodeProblemSummary {
  /** the nodes (or the one component) that run degraded this way */
  where: string[];
}

/** The Node's True degraded conditions. */
export function nodeDegradations(node: Node): NodeProblemSummary[] {
  return (node.status?.conditions ?? [])
    .filter((c) => (DEGRADED_CONDITION_TYPES as readonly string[]).includes(c.type) && c.status === 'True')
    .map((c) => ({ type: c.type, reason: c.reason ?? '', message: c.message ?? '' }));
}

/**
 * The cluster's network first (loopback because netns could not run here: `networkFallback` says why), then node
 * problems grouped by what they say (three nodes with the same problem: one entry), then the ingress's.
 */
export function clusterDegradations(
  nodes: readonly { name: string; degraded: readonly NodeProblemSummary[] }[],
  ingressRunning: boolean,
  networkFallback?: string,
): Degradation[] {
  const out: Degradation[] = [];
  if (networkFallback)
    out.push({
      type: 'NetworkDegraded',
      reason: 'NoNetworkNamespaces',
      message: fallbackMessage(networkFallback),
      where: ['cluster'],
    });
  for (const n of nodes) {
    for (const p of n.degraded) {
      const same = out.find((d) => d.type === p.type && d.reason === p.reason && d.message === p.message);
      if (same) same.where.push(n.name);
      else out.push({ ...p, where: [n.name] });
    }
  }
  if (ingressRunning && !DEFAULT_HTTP.endsWith(':80')) {
    out.push({
      type: 'PrivilegedPortsDegraded',
      reason: 'NoPrivilegedPorts',
      message:
        `the ingress gateway listens on ${DEFAULT_HTTP} and ${DEFAULT_HTTPS}, not :80 and :443 (not root; ` +
        `net.ipv4.ip_unprivileged_port_start=${unprivilegedPortStart()})`,
      where: ['ingress'],
    });
  }
  return out;
}

/** Lines for a person: `  node-1, node-2: IsolationDegraded (NoNamespaces): ...` */
export function formatDegradations(list: readonly Degradation[], indent = '  '): string[] {
  return list.map((d) => `${indent}${d.where.join(', ')}: ${d.type} (${d.reason}): ${d.message}`);
}
