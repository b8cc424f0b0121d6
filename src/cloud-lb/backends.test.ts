import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { EXCLUDE_FROM_LB_LABEL, backendNodes } from './backends.js';
import { desiredLoadBalancer, wantsLoadBalancer } from './service-controller.js';

const node = (name: string, ip: string, ready = 'True', extra: Partial<Node['metadata']> = {}): Node => ({
  metadata: { name, ...extra },
  status: {
    addresses: [{ type: 'InternalIP', address: ip }],
    conditions: [{ type: 'Ready', status: ready }],
  },
});

const svc = (spec: Service['spec'] = {}): Service => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }], ...spec },
});

const slice = (endpoints: { node: string; ready?: boolean }[], service = 'web'): EndpointSlice => ({
  metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: endpoints.map((e, i) => ({
    addresses: [`127.244.1.${i + 1}`],
    nodeName: e.node,
    ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
  })),
});

describe('backendNodes', () => {
  const nodes = [
    node('node-2', '127.0.1.2'),
    node('node-1', '127.0.1.1'),
    node('node-3', '127.0.1.3', 'False'),
    node('node-4', '127.0.1.4', 'True', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    node('node-5', '127.0.1.5', 'True', { labels: { [EXCLUDE_FROM_LB_LABEL]: '' } }),
    { metadata: { name: 'node-6' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  ];

  it('takes Ready nodes with an address, not being deleted or excluded, sorted by name', () => {
    expect(backendNodes(svc(), nodes, [])).toEqual([
      { node: 'node-1', ip: '127.0.1.1' },
      { node: 'node-2', ip: '127.0.1.2' },
    ]);
  });

  it('with externalTrafficPolicy Local keeps only nodes holding a ready endpoint of this Service', () => {
    const slices = [
      slice([{ node: 'node-2' }, { node: 'node-1', ready: false }]),
      slice([{ node: 'node-1' }], 'other'),
    ];
    expect(backendNodes(svc({ externalTrafficPolicy: 'Local' }), nodes, slices)).toEqual([
      { node: 'node-2', ip: '127.0.1.2' },
    ]);
    expect(backendNodes(svc({ externalTrafficPolicy: 'Local' }), nodes, [])).toEqual([]);
  });
});

describe('desiredLoadBalancer', () => {
  it('forwards each port to its NodePort', () => {
    const d = desiredLoadBalancer(
      svc({
        ports: [
          { name: 'http', port: 80, nodePort: 30080 },
          { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      }),
    );
    expect('error' in d ? d.error : d.ports).toEqual([
      { protocol: 'TCP', port: 80, nodePort: 30080 },
      { protocol: 'UDP', port: 53, nodePort: 30053 },
    ]);
  });

  it('explains what it cannot do', () => {
    expect(desiredLoadBalancer(svc({ ports: [{ name: 'http', port: 80 }] }))).toEqual({
      error: 'port http/TCP has no nodePort (spec.allocateLoadBalancerNodePorts is false)',
    });
    expect(desiredLoadBalancer(svc({ ports: [{ port: 9, protocol: 'SCTP', nodePort: 30009 }] }))).toEqual({
      error: 'port 9: protocol SCTP is not supported (TCP and UDP are)',
    });
  });

  it('serves only LoadBalancer Services of the default class that are not being deleted', () => {
    expect(wantsLoadBalancer(svc())).toBe(true);
    expect(wantsLoadBalancer(svc({ type: 'NodePort' }))).toBe(false);
    expect(wantsLoadBalancer(svc({ loadBalancerClass: 'example.com/other' }))).toBe(false);
    expect(
      wantsLoadBalancer({ ...svc(), metadata: { name: 'x', deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    ).toBe(false);
  });
});
