// Which nodes a LoadBalancer sends traffic to: Ready nodes not being deleted or excluded; for
// externalTrafficPolicy Local only those with a ready endpoint of the Service (upstream's health-check outcome).
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** upstream's opt-out label: such nodes never receive load-balancer traffic */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** the label tying an EndpointSlice to its Service */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface Backend {
  node: string;
  ip: string;
}

export function nodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** the address kube-proxy serves NodePorts on: the InternalIP (kubemu's 127.0.1.N) */
export function nodeAddress(node: Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  return (
    addresses.find((a) => a.type === 'InternalIP')?.address ??
    addresses.find((a) => a.type === 'ExternalIP')?.address
  );
}

export function nodeEligible(node: Node): boolean {
  return (
    nodeReady(node) &&
    !node.metadata?.deletionTimestamp &&
    node.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] === undefined &&
    nodeAddress(node) !== undefined
  );
}

/** nodes holding a ready endpoint of `svc`, from its EndpointSlices (an unset `ready` means ready) */
export function nodesWithReadyEndpoints(svc: Service, slices: EndpointSlice[]): Set<string> {
  const nodes = new Set<string>();
  for (const slice of slices) {
    if (slice.metadata?.namespace !== svc.metadata?.namespace) continue;
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== svc.metadata?.name) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || !ep.nodeName) continue;
      nodes.add(ep.nodeName);
    }
  }
  return nodes;
}

/** the Service's backend nodes, sorted by name so the result is stable */
export function backendNodes(svc: Service, nodes: Node[], slices: EndpointSlice[]): Backend[] {
  const local =
    svc.spec?.externalTrafficPolicy === 'Local' ? nodesWithReadyEndpoints(svc, slices) : undefined;
  return nodes
    .filter((n) => nodeEligible(n) && (!local || local.has(n.metadata?.name ?? '')))
    .map((n) => ({ node: n.metadata?.name ?? '', ip: nodeAddress(n)! }))
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}
