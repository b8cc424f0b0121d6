// upstream's CategorizeEndpoints (pkg/proxy/topology.go): which endpoints the Cluster and Local traffic policies use.
// Ready endpoints by default; serving-and-terminating ones only when no ready one is left (independently for
// Cluster and Local). Topology hints are not read (kubemu nodes carry no zones).
import {
  usesClusterEndpoints,
  usesLocalEndpoints,
  type NftEndpoint,
  type ServicePortInfo,
} from './service-ports.js';

export interface Categorized {
  /** the Cluster policy's endpoints; empty when the port never uses Cluster policy */
  clusterEndpoints: NftEndpoint[];
  /** the Local policy's endpoints; empty when the port never uses Local policy */
  localEndpoints: NftEndpoint[];
  /** the union: every endpoint this node may forward to */
  allReachableEndpoints: NftEndpoint[];
  /** a usable endpoint exists somewhere in the cluster (even if not on this node) */
  hasAnyEndpoints: boolean;
}

const servingTerminating = (e: NftEndpoint): boolean => e.serving && e.terminating;

export function categorizeEndpoints(svc: ServicePortInfo): Categorized {
  const endpoints = svc.endpoints;
  const out: Categorized = {
    clusterEndpoints: [],
    localEndpoints: [],
    allReachableEndpoints: [],
    hasAnyEndpoints: false,
  };
  if (!endpoints.length) return out;
  const usesCluster = usesClusterEndpoints(svc);
  if (usesCluster) {
    out.clusterEndpoints = endpoints.filter((e) => e.ready);
    if (!out.clusterEndpoints.length) out.clusterEndpoints = endpoints.filter(servingTerminating);
    out.hasAnyEndpoints = out.clusterEndpoints.length > 0;
  }
  if (!usesLocalEndpoints(svc)) {
    out.allReachableEndpoints = out.clusterEndpoints;
    return out;
  }
  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      out.hasAnyEndpoints = true;
      if (e.isLocal) localReady = true;
    } else if (servingTerminating(e)) {
      out.hasAnyEndpoints = true;
      if (e.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) out.localEndpoints = endpoints.filter((e) => e.isLocal && e.ready);
  else if (localServingTerminating)
    out.localEndpoints = endpoints.filter((e) => e.isLocal && servingTerminating(e));
  if (!usesCluster) {
    out.allReachableEndpoints = out.localEndpoints;
    return out;
  }
  if (!localServingTerminating || localReady) {
    // local endpoints are all ready, and every ready endpoint is a Cluster one: a superset
    out.allReachableEndpoints = out.clusterEndpoints;
    return out;
  }
  const merged = new Map<string, NftEndpoint>();
  for (const e of [...out.clusterEndpoints, ...out.localEndpoints]) merged.set(`${e.ip}:${e.port}`, e);
  out.allReachableEndpoints = [...merged.values()];
  return out;
}
