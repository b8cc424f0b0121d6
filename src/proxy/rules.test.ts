import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { computeListeners, endpointsForPort, policyEndpoints } from './rules.js';

const node = { nodeName: 'node-1', nodeIP: '127.0.1.1' };

function svc(spec: Service['spec'], name = 'web'): Service {
  return { metadata: { name, namespace: 'default' }, spec: { clusterIP: '127.96.0.10', ...spec } };
}

function ep(
  ip: string,
  nodeName: string,
  c: { ready?: boolean; serving?: boolean; terminating?: boolean } = {},
): Endpoint {
  return {
    addresses: [ip],
    nodeName,
    conditions: {
      ready: c.ready ?? true,
      serving: c.serving ?? c.ready ?? true,
      terminating: c.terminating ?? false,
    },
  };
}

function slice(endpoints: Endpoint[], port = 8080, name = 'http'): EndpointSlice {
  return {
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name, port, protocol: 'TCP' }],
    endpoints,
  };
}

const ips = (eps: { ip: string }[]): string[] => eps.map((e) => e.ip).sort();

describe('computeListeners', () => {
  const ports = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }];

  it('gives a ClusterIP listener, and a NodePort one on this node IP for NodePort Services', () => {
    const slices = [slice([ep('127.244.1.2', 'node-1'), ep('127.244.2.2', 'node-2')])];
    const out = computeListeners([svc({ type: 'NodePort', ports })], () => slices, node);
    expect(out.map((l) => [l.key, l.kind, ips(l.endpoints)])).toEqual([
      ['TCP/127.96.0.10:80', 'ClusterIP', ['127.244.1.2', '127.244.2.2']],
      ['TCP/127.0.1.1:30080', 'NodePort', ['127.244.1.2', '127.244.2.2']],
    ]);
    expect(out[0].endpoints[0].port).toBe(8080);
    expect(out[0].affinityTimeoutMs).toBeUndefined();
  });

  it('gives no listener to a port without usable endpoints, nor to headless or ExternalName Services', () => {
    const notReady = [slice([ep('127.244.1.2', 'node-1', { ready: false })])];
    expect(computeListeners([svc({ ports })], () => notReady, node)).toEqual([]);
    const ready = [slice([ep('127.244.1.2', 'node-1')])];
    expect(computeListeners([svc({ ports, clusterIP: 'None' })], () => ready, node)).toEqual([]);
    expect(
      computeListeners([svc({ type: 'ExternalName', externalName: 'x.example', ports })], () => ready, node),
    ).toEqual([]);
    // a slice port of another name does not serve this Service port
    expect(
      computeListeners([svc({ ports })], () => [slice([ep('127.244.1.2', 'node-1')], 8080, 'other')], node),
    ).toEqual([]);
  });

  it('applies externalTrafficPolicy Local to NodePorts and internalTrafficPolicy Local to the ClusterIP', () => {
    const slices = [slice([ep('127.244.1.2', 'node-1'), ep('127.244.2.2', 'node-2')])];
    const ext = computeListeners(
      [svc({ type: 'NodePort', ports, externalTrafficPolicy: 'Local' })],
      () => slices,
      node,
    );
    expect(ext.map((l) => [l.kind, ips(l.endpoints)])).toEqual([
      ['ClusterIP', ['127.244.1.2', '127.244.2.2']],
      ['NodePort', ['127.244.1.2']],
    ]);
    const int = computeListeners([svc({ ports, internalTrafficPolicy: 'Local' })], () => slices, {
      ...node,
      nodeName: 'node-2',
    });
    expect(int.map((l) => ips(l.endpoints))).toEqual([['127.244.2.2']]);
    // Local with nothing local: no NodePort listener on this node, so connections are refused
    const remoteOnly = [slice([ep('127.244.2.2', 'node-2')])];
    const none = computeListeners(
      [svc({ type: 'NodePort', ports, externalTrafficPolicy: 'Local' })],
      () => remoteOnly,
      node,
    );
    expect(none.map((l) => l.kind)).toEqual(['ClusterIP']);
  });

  it('carries ClientIP affinity with its timeout (default 10800 s)', () => {
    const slices = [slice([ep('127.244.1.2', 'node-1')])];
    const [a] = computeListeners([svc({ ports, sessionAffinity: 'ClientIP' })], () => slices, node);
    expect(a.affinityTimeoutMs).toBe(10_800_000);
    const [b] = computeListeners(
      [
        svc({
          ports,
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        }),
      ],
      () => slices,
      node,
    );
    expect(b.affinityTimeoutMs).toBe(60_000);
  });

  it('makes a UDP listener for UDP ports', () => {
    const udp = [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }];
    const s: EndpointSlice = {
      ...slice([ep('127.244.1.2', 'node-1')]),
      ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
    };
    expect(computeListeners([svc({ ports: udp })], () => [s], node).map((l) => l.key)).toEqual([
      'UDP/127.96.0.10:53',
    ]);
  });
});

describe('policyEndpoints', () => {
  it('uses ready endpoints, falling back to serving terminating ones only when none is ready', () => {
    const all = endpointsForPort({ name: 'http', port: 80, protocol: 'TCP' }, [
      slice([
        ep('127.244.1.2', 'node-1', { ready: false, serving: true, terminating: true }),
        ep('127.244.1.3', 'node-1', { ready: false, serving: false, terminating: true }),
        ep('127.244.2.2', 'node-2'),
      ]),
    ]);
    expect(ips(policyEndpoints(all, 'Cluster', 'node-1'))).toEqual(['127.244.2.2']);
    // locally only terminating pods are left: they still serve rather than drop traffic
    expect(ips(policyEndpoints(all, 'Local', 'node-1'))).toEqual(['127.244.1.2']);
    expect(policyEndpoints(all, 'Local', 'node-3')).toEqual([]);
  });

  it('reads a missing ready condition as ready, as upstream does', () => {
    const all = endpointsForPort({ name: 'http', port: 80, protocol: 'TCP' }, [
      slice([{ addresses: ['127.244.1.9'] }]),
    ]);
    expect(all).toEqual([{ ip: '127.244.1.9', port: 8080, ready: true, serving: true, terminating: false }]);
  });
});
