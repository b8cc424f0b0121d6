import { describe, expect, it } from 'vitest';
import { netnsNodeLayout, slotAddresses } from './network.js';

describe('netns cluster addresses', () => {
  it('slot 0 keeps the addresses the README documents; slot S moves them to 127.S.x.y', () => {
    expect(slotAddresses(0)).toEqual({
      slot: 0,
      hostApiIp: '127.0.0.1',
      gateway: '127.0.1.254',
      lbPool: '127.0.2.0/24',
      ingressIp: '127.0.3.1',
    });
    expect(slotAddresses(2)).toMatchObject({
      hostApiIp: '127.2.0.1',
      gateway: '127.2.1.254',
      ingressIp: '127.2.3.1',
    });
  });

  it("node N: 127.S.1.N inside and on the host, upstream's podCIDR", () => {
    expect(netnsNodeLayout('/s', 3, 1)).toEqual({
      name: 'node-3',
      ip: '127.1.1.3',
      podCidr: '10.244.3.0/24',
      rootDir: '/s/nodes/node-3',
    });
  });
});
