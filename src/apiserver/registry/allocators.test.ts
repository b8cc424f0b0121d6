import { describe, expect, it } from 'vitest';
import { allocateForCreate, allocateForUpdate, releaseService, ServiceAllocator } from './allocators.js';

const alloc = () => new ServiceAllocator({ serviceCidr: '127.96.0.0/16', nodePortRange: [30000, 30002] });

describe('ServiceAllocator', () => {
  it('never hands out .1 (kubernetes) or .10 (DNS) automatically, but allows asking for them', () => {
    const a = alloc();
    const got = new Set<string>();
    for (let i = 0; i < 20; i++) got.add(a.allocateIp(undefined, 'spec.clusterIPs') as string);
    expect(got.has('127.96.0.1')).toBe(false);
    expect(got.has('127.96.0.10')).toBe(false);
    expect(a.allocateIp('127.96.0.10', 'spec.clusterIPs')).toBe('127.96.0.10');
    expect(a.dnsIp()).toBe('127.96.0.10');
  });

  it('rejects a taken or out-of-range ClusterIP with upstream wording', () => {
    const a = alloc();
    a.allocateIp('127.96.5.5', 'spec.clusterIPs');
    expect(a.allocateIp('127.96.5.5', 'spec.clusterIPs')).toMatchObject({
      detail: 'failed to allocate IP 127.96.5.5: provided IP is already allocated',
    });
    expect(a.allocateIp('10.0.0.1', 'spec.clusterIPs')).toMatchObject({
      type: 'FieldValueInvalid',
      detail: expect.stringContaining('is not in the valid range'),
    });
  });

  it('allocates NodePorts, rejects taken and out-of-range ones, and reports a full range', async () => {
    const a = alloc();
    const spec = { type: 'NodePort', ports: [{ port: 80 }, { port: 81, nodePort: 30002 }] };
    expect(await allocateForCreate(a, spec)).toEqual([]);
    expect(spec.ports.map((p) => (p as { nodePort?: number }).nodePort)).toEqual([30000, 30002]);
    const taken = { type: 'NodePort', ports: [{ port: 80, nodePort: 30002 }] };
    expect((await allocateForCreate(a, taken))[0]).toMatchObject({
      field: 'spec.ports[0].nodePort',
      detail: 'provided port is already allocated',
    });
    const outside = { type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] };
    expect((await allocateForCreate(a, outside))[0].detail).toBe(
      'provided port is not in the valid range. The range of valid ports is 30000-30002',
    );
    // a failed create leaves nothing allocated: its ClusterIP is free again
    const before = a.allocateIp(undefined, 'x') as string;
    a.releaseIp(before);
    await releaseService(a, spec);
    expect(
      await allocateForCreate(a, { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }, { port: 3 }] }),
    ).toEqual([]);
  });

  it('a type change back to ClusterIP frees NodePorts and drops type-dependent fields', async () => {
    const a = alloc();
    const old = { type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ port: 80 }] };
    await allocateForCreate(a, old);
    const next = {
      type: 'ClusterIP',
      clusterIP: old['clusterIP' as keyof typeof old] as string,
      externalTrafficPolicy: 'Cluster',
      ports: [{ port: 80, nodePort: (old.ports[0] as { nodePort?: number }).nodePort }],
    };
    expect(await allocateForUpdate(a, next, old)).toEqual([]);
    expect(next.ports[0].nodePort).toBeUndefined();
    expect(next.externalTrafficPolicy).toBeUndefined();
    expect(await allocateForCreate(a, { type: 'NodePort', ports: [{ port: 1, nodePort: 30000 }] })).toEqual(
      [],
    );
  });
});
