// What the nftables proxier knows of one Service port (upstream's BaseServicePortInfo + endpoints), read from a
// Service and its EndpointSlices for one IP family.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { endpointsForPort, proxiable } from '../rules.js';
import type { ServicePortName } from './names.js';

export type IPFamily = 'IPv4' | 'IPv6';

export interface NftEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** on this proxy's node */
  isLocal: boolean;
}

export interface ServicePortInfo extends ServicePortName {
  clusterIP: string;
  port: number;
  /** 0 when the port has none */
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  /** sessionAffinity ClientIP: the sticky timeout in seconds; undefined without affinity */
  stickyMaxAgeSeconds?: number;
  endpoints: NftEndpoint[];
}

/** upstream's default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours) */
const DEFAULT_STICKY_SECONDS = 10800;

export const isIPv6 = (ip: string): boolean => ip.includes(':');
const ofFamily = (family: IPFamily) => (ip: string) => isIPv6(ip) === (family === 'IPv6');

/** upstream ExternallyAccessible: reachable by NodePort, LoadBalancer IP or externalIP */
export const externallyAccessible = (p: ServicePortInfo): boolean =>
  p.nodePort !== 0 || p.loadBalancerVIPs.length > 0 || p.externalIPs.length > 0;
/** Cluster endpoints are needed for Cluster internal policy, and for any external traffic (short-circuiting) */
export const usesClusterEndpoints = (p: ServicePortInfo): boolean =>
  !p.internalPolicyLocal || externallyAccessible(p);
export const usesLocalEndpoints = (p: ServicePortInfo): boolean =>
  p.internalPolicyLocal || (p.externalPolicyLocal && externallyAccessible(p));

/** `namespace/name`: the unit of partial syncs */
export const serviceKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

/**
 * The Service's ports for one family, with their endpoints; none for a headless, ExternalName or
 * other-proxy Service, or one without a ClusterIP of this family.
 */
export function servicePorts(
  svc: Service,
  slices: readonly EndpointSlice[],
  family: IPFamily,
  nodeName: string,
): ServicePortInfo[] {
  if (!proxiable(svc)) return [];
  const spec = svc.spec!;
  const inFamily = ofFamily(family);
  const clusterIP = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP!]).find(inFamily);
  if (!clusterIP) return [];
  const externalIPs = (spec.externalIPs ?? []).map((s) => s.trim()).filter(inFamily);
  // an ingress with ipMode Proxy is reached through the load balancer, not captured on the node (KEP-1860)
  const loadBalancerVIPs = (svc.status?.loadBalancer?.ingress ?? [])
    .filter((i) => i.ip && (i as { ipMode?: string }).ipMode !== 'Proxy')
    .map((i) => i.ip!)
    .filter(inFamily);
  const loadBalancerSourceRanges = (spec.loadBalancerSourceRanges ?? [])
    .map((s) => s.trim())
    .filter((s) => s && inFamily(s));
  const exposesNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const ns = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  const out: ServicePortInfo[] = [];
  for (const sp of spec.ports ?? []) {
    const protocol = (sp.protocol ?? 'TCP').toLowerCase();
    const nodePort = exposesNodePorts ? (sp.nodePort ?? 0) : 0;
    const info: ServicePortInfo = {
      namespace: ns,
      name,
      portName: sp.name ?? '',
      port: sp.port,
      protocol,
      clusterIP,
      nodePort,
      externalIPs,
      loadBalancerVIPs: spec.type === 'LoadBalancer' ? loadBalancerVIPs : [],
      loadBalancerSourceRanges,
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      externalPolicyLocal: false,
      endpoints: endpointsForPort(sp, slices, family).map((e) => ({
        ip: e.ip,
        port: e.port,
        ready: e.ready,
        serving: e.serving,
        terminating: e.terminating,
        isLocal: e.nodeName === nodeName,
      })),
    };
    info.externalPolicyLocal = externallyAccessible(info) && spec.externalTrafficPolicy === 'Local';
    if (spec.sessionAffinity === 'ClientIP')
      info.stickyMaxAgeSeconds =
        spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_SECONDS;
    out.push(info);
  }
  return out;
}
