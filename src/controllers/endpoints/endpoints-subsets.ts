// The Endpoints controller's decision, as pure functions: a Service and its pods in, the core/v1 Endpoints subsets out (upstream endpoints.RepackSubsets).
import type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Pod,
  Service,
} from 'kubernetes-types/core/v1.js';
import {
  HEADLESS_LABEL,
  findPort,
  isHeadless,
  isPodReady,
  podIPv4,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from '../endpointslice/service-pods.js';

/** the labels of a Service's Endpoints: the Service's own, plus the headless marker */
export function desiredEndpointsLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

function podAddress(svc: Service, pod: Pod): EndpointAddress {
  const addr: EndpointAddress = {
    ip: podIPv4(pod)!,
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
    },
  };
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec!.hostname!;
  return addr;
}

const portsKey = (ports: EndpointPort[]): string => JSON.stringify(ports);

const byPort = (a: EndpointPort, b: EndpointPort): number =>
  (a.name ?? '').localeCompare(b.name ?? '') ||
  a.port - b.port ||
  (a.protocol ?? '').localeCompare(b.protocol ?? '');

const byAddress = (a: EndpointAddress, b: EndpointAddress): number =>
  a.ip.localeCompare(b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');

/**
 * The subsets of a selector Service's Endpoints: each pod that should be in endpoints (terminating pods only
 * with publishNotReadyAddresses) under the ports it resolves, ready ones in `addresses`, the others in
 * `notReadyAddresses`; pods resolving the same ports share a subset. Sorted, so equal inputs give equal output.
 */
export function computeSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const tolerateUnready = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<
    string,
    { ports: EndpointPort[]; ready: Map<string, EndpointAddress>; notReady: Map<string, EndpointAddress> }
  >();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    // only headless Services list pods without ports; otherwise a pod resolving no port is left out
    if (ports.length === 0 && ((svc.spec?.ports ?? []).length > 0 || !isHeadless(svc))) continue;
    ports.sort(byPort);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: new Map(), notReady: new Map() }));
    const addr = podAddress(svc, pod);
    const addrKey = `${addr.ip}/${addr.targetRef?.uid ?? ''}`;
    if (tolerateUnready || isPodReady(pod)) g.ready.set(addrKey, addr);
    else g.notReady.set(addrKey, addr);
  }
  const subsets: EndpointSubset[] = [];
  for (const g of groups.values()) {
    // an address both ready and not ready (two pods, one IP) counts as ready, as in RepackSubsets
    for (const k of g.ready.keys()) g.notReady.delete(k);
    const subset: EndpointSubset = {};
    if (g.ready.size) subset.addresses = [...g.ready.values()].sort(byAddress);
    if (g.notReady.size) subset.notReadyAddresses = [...g.notReady.values()].sort(byAddress);
    if (g.ports.length) subset.ports = g.ports;
    subsets.push(subset);
  }
  return subsets.sort((a, b) => portsKey(a.ports ?? []).localeCompare(portsKey(b.ports ?? [])));
}
