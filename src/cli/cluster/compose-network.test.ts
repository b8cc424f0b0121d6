import { describe, expect, it } from 'vitest';
import {
  composeClusterSettings,
  composeControlPlaneIpBatch,
  composeNetPrefix,
  composeNodeIpBatch,
  composeNodeLayout,
  composeNodeMasquerade,
} from './compose-network.js';

describe('compose network plan', () => {
  it('node N: PREFIX.1.N on the compose network, pods in 10.244.N.0/24', () => {
    expect(composeNodeLayout('/s', 4, '172.28')).toEqual({
      name: 'node-4',
      ip: '172.28.1.4',
      podCidr: '10.244.4.0/24',
      rootDir: '/s/nodes/node-4',
    });
    expect(() => composeNodeLayout('/s', 0, '172.28')).toThrow(/1\.\.254/);
  });

  it('KUBEMU_NET_PREFIX is two octets, else a clear error', () => {
    expect(composeNetPrefix({})).toBe('172.28');
    expect(composeNetPrefix({ KUBEMU_NET_PREFIX: '10.77' })).toBe('10.77');
    expect(() => composeNetPrefix({ KUBEMU_NET_PREFIX: '10.77.0' })).toThrow(/KUBEMU_NET_PREFIX=10\.77\.0/);
  });

  it("node N's batch: cni0 at its podCIDR's gateway, a route to every other node's podCIDR via that node", () => {
    const batch = composeNodeIpBatch('172.28', 2);
    expect(batch.slice(0, 3)).toEqual([
      'link add cni0 type bridge',
      'address add 10.244.2.1/24 dev cni0',
      'link set cni0 up',
    ]);
    expect(batch).toContain('route replace 10.244.1.0/24 via 172.28.1.1');
    expect(batch).toContain('route replace 10.244.254.0/24 via 172.28.1.254');
    expect(batch.some((l) => l.includes('10.244.2.0/24'))).toBe(false);
    expect(composeControlPlaneIpBatch('172.28')).toHaveLength(254);
  });

  it('masquerades only what pods send beyond the pod network', () => {
    expect(composeNodeMasquerade()).toContain(
      'ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname "eth0" masquerade',
    );
  });

  it('netns settings with the control plane at PREFIX.0.2, the host at 127.0.0.1', () => {
    const s = composeClusterSettings({
      name: 'kubemu',
      stateDir: '/s',
      prefix: '172.28',
      port: 6443,
      kubeletPort: 10250,
      nodes: [composeNodeLayout('/s', 1, '172.28')],
      cpu: '2',
      memory: '4Gi',
    });
    expect(s.apiServerUrl).toBe('https://127.0.0.1:6443');
    expect(s.innerApiServerUrl).toBe('https://172.28.0.2:6443');
    expect(s.netns).toMatchObject({ gateway: '172.28.0.2', lbPool: '127.0.2.0/24' });
  });
});
