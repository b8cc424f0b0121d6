// The cluster DNS of a netns cluster, as kubeadm's CoreDNS add-on presents it: Service kube-system/kube-dns on
// ClusterIP 10.96.0.10 (53/UDP and 53/TCP), whose endpoint is kubemu's DNS server on the sandbox's bridge; every
// node's kube-proxy sends the pods' queries there.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { createIfAbsent, getJson, replaceObject, type ApiTarget } from './api.js';
import { NETNS_DNS_IP } from './network.js';

const PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
];

export function kubeDnsService(): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        'k8s-app': 'kube-dns',
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'CoreDNS',
      },
    },
    spec: { clusterIP: NETNS_DNS_IP, ports: PORTS.map((p) => ({ ...p, targetPort: 53 })) },
  };
}

export function kubeDnsEndpointSlice(dnsAddress: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kube-dns-kubemu',
      namespace: 'kube-system',
      labels: {
        'kubernetes.io/service-name': 'kube-dns',
        'endpointslice.kubernetes.io/managed-by': 'kubemu',
        'k8s-app': 'kube-dns',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [dnsAddress], conditions: { ready: true } }],
    ports: PORTS,
  };
}

/** Makes (or, after a restart on another slot, replaces) the kube-dns Service's endpoint. */
export async function ensureKubeDns(target: ApiTarget, dnsAddress: string): Promise<void> {
  // a warm restart finds it there: a second create would be refused for its taken ClusterIP (422), not as a 409
  const exists = await getJson(target, '/api/v1/namespaces/kube-system/services/kube-dns').then(
    () => true,
    (err: unknown) => {
      if (/HTTP 404/.test((err as Error).message)) return false;
      throw err;
    },
  );
  if (!exists) await createIfAbsent(target, '/api/v1/namespaces/kube-system/services', kubeDnsService());
  await replaceObject(
    target,
    '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices',
    'kube-dns-kubemu',
    kubeDnsEndpointSlice(dnsAddress),
  );
}
