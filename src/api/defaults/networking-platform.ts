// networking.k8s.io/v1 NetworkPolicy defaults (upstream's pkg/apis/networking/v1/defaults.go).
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';

export function defaultNetworkPolicy(np: NetworkPolicy): void {
  const spec = np.spec;
  if (!spec) return;
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])])
    for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
  if (!spec.policyTypes?.length) {
    spec.policyTypes = ['Ingress'];
    if (spec.egress?.length) spec.policyTypes.push('Egress');
  }
}
