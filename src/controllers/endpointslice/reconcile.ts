// The EndpointSlice controller's decision, as a pure function: a Service, its pods and its current slices in, the writes to make out.
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { deepEqual } from '../../util/objects.js';
import {
  HEADLESS_LABEL,
  findPort,
  isHeadless,
  isPodReady,
  podIPv4,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from './service-pods.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** upstream --max-endpoints-per-slice default */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** the labels every managed slice of the Service carries (upstream setEndpointSliceLabels) */
export function desiredSliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {}))
    if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) labels[k] = v;
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata?.name ?? '';
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

/** upstream getEndpointPorts: one slice port per Service port the pod can resolve */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** upstream podToEndpoint */
export function podToEndpoint(svc: Service, pod: Pod): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  // for compatibility, ready is never true for a terminating pod unless publishNotReadyAddresses is set
  const ready = !!svc.spec?.publishNotReadyAddresses || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [podIPv4(pod)!],
    conditions: { ready, serving, terminating },
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
    },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname!;
  return ep;
}

const portsKey = (ports: readonly EndpointPort[] | undefined): string =>
  JSON.stringify(
    [...(ports ?? [])]
      .map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? ''])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1])),
  );

/** identifies "the same endpoint" across syncs: the pod (by uid) at its address */
const endpointKey = (ep: Endpoint): string => `${ep.targetRef?.uid ?? ''}/${ep.addresses[0] ?? ''}`;

function ownerRef(svc: Service) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    name: svc.metadata?.name ?? '',
    uid: svc.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function newSlice(svc: Service, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  // upstream truncates the prefix so generated names fit 63 characters
  const prefix = `${(svc.metadata?.name ?? '').slice(0, 57)}-`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: prefix,
      namespace: svc.metadata?.namespace ?? '',
      labels: desiredSliceLabels(svc),
      ownerReferences: [ownerRef(svc)],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

/** does the slice's metadata (labels, owner) still match what the Service wants? */
function metaUpToDate(slice: EndpointSlice, svc: Service): boolean {
  const owners = slice.metadata?.ownerReferences ?? [];
  return (
    deepEqual(slice.metadata?.labels ?? {}, desiredSliceLabels(svc)) &&
    owners.some((o) => o.uid === svc.metadata?.uid && o.controller)
  );
}

function withChanges(slice: EndpointSlice, svc: Service, endpoints: Endpoint[]): EndpointSlice {
  const copy = structuredClone(slice);
  copy.metadata!.labels = desiredSliceLabels(svc);
  const others = (copy.metadata!.ownerReferences ?? []).filter((o) => o.uid !== svc.metadata?.uid);
  copy.metadata!.ownerReferences = [...others, ownerRef(svc)];
  copy.endpoints = endpoints;
  return copy;
}

interface PortGroup {
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

/**
 * What to write so the Service's managed slices hold exactly its pods' endpoints, grouped by resolved port
 * set, at most `maxPerSlice` per slice, touching as few existing slices as possible (endpoints stay in
 * the slice they are in). A Service without endpoints keeps one empty placeholder slice, as upstream.
 */
export function reconcileSlices(
  svc: Service,
  pods: readonly Pod[],
  existing: readonly EndpointSlice[],
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): SliceChanges {
  const changes: SliceChanges = { create: [], update: [], delete: [] };
  const desired = new Map<string, PortGroup>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(svc, pod);
    const key = portsKey(ports);
    let group = desired.get(key);
    if (!group) desired.set(key, (group = { ports, endpoints: new Map() }));
    const ep = podToEndpoint(svc, pod);
    group.endpoints.set(endpointKey(ep), ep);
  }

  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    if (slice.addressType !== 'IPv4') {
      changes.delete.push(slice);
      continue;
    }
    const key = portsKey(slice.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }

  if (desired.size === 0) {
    // keep one placeholder (no ports, no endpoints) and nothing else
    const placeholderKey = portsKey([]);
    let kept: EndpointSlice | undefined;
    for (const slice of existing) {
      if (slice.addressType !== 'IPv4') continue;
      if (!kept && portsKey(slice.ports) === placeholderKey) {
        kept = slice;
        if (slice.endpoints.length > 0 || !metaUpToDate(slice, svc))
          changes.update.push(withChanges(slice, svc, []));
      } else changes.delete.push(slice);
    }
    if (!kept) changes.create.push(newSlice(svc, [], []));
    return changes;
  }

  for (const [key, slices] of existingByPorts) {
    if (!desired.has(key)) changes.delete.push(...slices);
  }

  for (const [key, group] of desired) {
    const slices = existingByPorts.get(key) ?? [];
    const remaining = new Map(group.endpoints);
    // first pass: each existing slice keeps (the current version of) the endpoints it already has
    const kept: { slice: EndpointSlice; endpoints: Endpoint[]; changed: boolean }[] = [];
    for (const slice of slices) {
      const endpoints: Endpoint[] = [];
      let changed = !metaUpToDate(slice, svc);
      for (const ep of slice.endpoints) {
        const k = endpointKey(ep);
        const want = remaining.get(k);
        if (!want || endpoints.length >= maxPerSlice) {
          changed = true;
          continue;
        }
        remaining.delete(k);
        if (!deepEqual(ep, want)) changed = true;
        endpoints.push(want);
      }
      kept.push({ slice, endpoints, changed });
    }
    // second pass: new endpoints go into slices being rewritten anyway, then any with room, then new slices
    const left = [...remaining.values()];
    const order = [...kept.filter((k) => k.changed), ...kept.filter((k) => !k.changed)];
    for (const k of order) {
      while (left.length && k.endpoints.length < maxPerSlice) {
        k.endpoints.push(left.shift()!);
        k.changed = true;
      }
    }
    for (const k of kept) {
      if (k.endpoints.length === 0) changes.delete.push(k.slice);
      else if (k.changed) changes.update.push(withChanges(k.slice, svc, k.endpoints));
    }
    while (left.length) changes.create.push(newSlice(svc, group.ports, left.splice(0, maxPerSlice)));
  }
  return changes;
}
