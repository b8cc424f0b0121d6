// networking.k8s.io/v1 and discovery.k8s.io/v1 defaulting (upstream defaults.go of each group).
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';

/** SetDefaults_EndpointPort: name "" and protocol TCP */
export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) {
    if (p.name === undefined) p.name = '';
    if (p.protocol === undefined) p.protocol = 'TCP';
  }
}

/** Ingress has no defaults upstream (pathType is required in v1); IngressStatus is a non-pointer struct. */
export function defaultIngress(ing: Ingress): void {
  ing.status ??= {};
  ing.status.loadBalancer ??= {};
}

/** SetDefaults_IngressClass: parameters scope defaults to Cluster */
export function defaultIngressClass(ic: IngressClass): void {
  const params = ic.spec?.parameters;
  if (params && params.scope === undefined) params.scope = 'Cluster';
}
