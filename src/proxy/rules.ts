// kube-proxy's "rules": from Services and EndpointSlices, the listeners this node should hold and the endpoints each may use.
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export type Protocol = 'TCP' | 'UDP';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface ListenerSpec {
  /** `TCP/127.96.0.10:80`: one per bound address */
  key: string;
  protocol: Protocol;
  ip: string;
  port: number;
  kind: 'ClusterIP' | 'NodePort';
  /** `namespace/name:portName`, for logs and metrics */
  servicePort: string;
  /** what connections may go to, after readiness and traffic policy; never empty */
  endpoints: ProxyEndpoint[];
  /** sessionAffinity ClientIP: how long a client sticks to its endpoint; undefined: no affinity */
  affinityTimeoutMs?: number;
}

export interface NodeIdentity {
  nodeName: string;
  nodeIP: string;
}

/** upstream kube-proxy skips Services labelled for another proxy */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const endpointKey = (ep: { ip: string; port: number }): string => `${ep.ip}:${ep.port}`;

/** every endpoint of one Service port across its slices, deduplicated; a nil condition reads as upstream reads it */
export function endpointsForPort(
  sp: ServicePort,
  slices: readonly EndpointSlice[],
  addressType: 'IPv4' | 'IPv6' = 'IPv4',
): ProxyEndpoint[] {
  const out = new Map<string, ProxyEndpoint>();
  const name = sp.name ?? '';
  const protocol = sp.protocol ?? 'TCP';
  for (const slice of slices) {
    if (slice.addressType !== addressType) continue;
    const port = slice.ports?.find(
      (p) => (p.name ?? '') === name && (p.protocol ?? 'TCP') === protocol,
    )?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const ready = ep.conditions?.ready ?? true;
      const e: ProxyEndpoint = {
        ip,
        port,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
      };
      if (ep.nodeName) e.nodeName = ep.nodeName;
      out.set(endpointKey(e), e);
    }
  }
  return [...out.values()];
}

/**
 * upstream CategorizeEndpoints, per set: the ready endpoints; when none is ready, the serving-and-terminating
 * ones (so a rolling update that leaves only terminating pods still serves rather than dropping traffic).
 */
export function usableEndpoints(all: readonly ProxyEndpoint[]): ProxyEndpoint[] {
  const ready = all.filter((e) => e.ready);
  if (ready.length) return ready;
  return all.filter((e) => e.serving && e.terminating);
}

/** the endpoints a traffic policy allows: `Local` means only endpoints on this node */
export function policyEndpoints(
  all: readonly ProxyEndpoint[],
  policy: string | undefined,
  nodeName: string,
): ProxyEndpoint[] {
  return usableEndpoints(policy === 'Local' ? all.filter((e) => e.nodeName === nodeName) : all);
}

export function proxiable(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  if (svc.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return false;
  return svc.spec?.type !== 'ExternalName' && !!ip && ip !== 'None';
}

/**
 * The listeners this node's kube-proxy should hold. A Service port with no usable endpoints gets no listener,
 * so a connection to it is refused by the kernel at once, as upstream's REJECT rule does.
 */
export function computeListeners(
  services: readonly Service[],
  slicesOf: (namespace: string, name: string) => readonly EndpointSlice[],
  node: NodeIdentity,
): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  for (const svc of services) {
    if (!proxiable(svc)) continue;
    const spec = svc.spec!;
    const ns = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    const slices = slicesOf(ns, name);
    const affinityTimeoutMs =
      spec.sessionAffinity === 'ClientIP'
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) * 1000
        : undefined;
    const hasNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    for (const sp of spec.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP';
      if (protocol !== 'TCP' && protocol !== 'UDP') continue;
      const all = endpointsForPort(sp, slices);
      const base = { protocol, servicePort: `${ns}/${name}:${sp.name ?? ''}` } as const;
      const add = (
        kind: ListenerSpec['kind'],
        ip: string,
        port: number,
        endpoints: ProxyEndpoint[],
      ): void => {
        if (!endpoints.length) return;
        const l: ListenerSpec = { ...base, key: `${protocol}/${ip}:${port}`, kind, ip, port, endpoints };
        if (affinityTimeoutMs !== undefined) l.affinityTimeoutMs = affinityTimeoutMs;
        out.push(l);
      };
      add(
        'ClusterIP',
        spec.clusterIP!,
        sp.port,
        policyEndpoints(all, spec.internalTrafficPolicy, node.nodeName),
      );
      if (hasNodePorts && sp.nodePort)
        add(
          'NodePort',
          node.nodeIP,
          sp.nodePort,
          policyEndpoints(all, spec.externalTrafficPolicy, node.nodeName),
        );
    }
  }
  return out;
}
