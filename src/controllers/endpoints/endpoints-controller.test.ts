import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { fakeCluster, settle, until, type FakeCluster } from '../../testing/fake-cluster.js';
import { ns, podIn, service, setReady } from '../endpointslice/test-fixtures.js';
import { EndpointsController } from './endpoints-controller.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster): Promise<EndpointsController> {
  const ctl = new EndpointsController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const endpointsOf = (c: FakeCluster, name: string): Endpoints | undefined =>
  c.objects<Endpoints>('endpoints', ns).find((e) => e.metadata?.name === name);

const ips = (addrs: { ip: string }[] | undefined): string[] => (addrs ?? []).map((a) => a.ip);

describe('EndpointsController', () => {
  it('lists ready pods in addresses, unready ones in notReadyAddresses, and leaves terminating ones out', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('web', [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]),
    );
    await podIn(c, 'web-a', 'web', { ip: '127.244.1.3' });
    await podIn(c, 'web-b', 'web', { ip: '127.244.1.2' });
    await podIn(c, 'web-c', 'web', { ip: '127.244.2.2', ready: false, node: 'node-2' });
    await podIn(c, 'web-d', 'web', { ip: '127.244.1.4', terminating: true });
    await until(() => ips(endpointsOf(c, 'web')?.subsets?.[0]?.notReadyAddresses).length === 1, 'endpoints');
    await settle();
    const ep = endpointsOf(c, 'web')!;
    expect(ep.metadata?.labels).toEqual({ team: 'web' });
    expect(ep.subsets).toHaveLength(1);
    expect(ips(ep.subsets![0].addresses)).toEqual(['127.244.1.2', '127.244.1.3']);
    expect(ips(ep.subsets![0].notReadyAddresses)).toEqual(['127.244.2.2']);
    expect(ep.subsets![0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep.subsets![0].addresses![0]).toMatchObject({
      nodeName: 'node-1',
      targetRef: { kind: 'Pod', namespace: ns, name: 'web-b' },
    });
    await setReady(c, 'web-c', true);
    await until(() => ips(endpointsOf(c, 'web')?.subsets?.[0]?.addresses).length === 3, 'web-c ready');
    expect(endpointsOf(c, 'web')!.subsets![0].notReadyAddresses).toBeUndefined();
  });

  it('splits pods resolving different ports into subsets and honours publishNotReadyAddresses', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('api', [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], {
        publishNotReadyAddresses: true,
      }),
    );
    await podIn(c, 'api-a', 'api', { ip: '127.244.1.2', httpPort: 8080, ready: false });
    await podIn(c, 'api-b', 'api', { ip: '127.244.1.3', httpPort: 9090, terminating: true });
    await until(() => (endpointsOf(c, 'api')?.subsets ?? []).length === 2, 'two subsets');
    const subsets = endpointsOf(c, 'api')!.subsets!.map((s) => [
      s.ports?.[0]?.port,
      ips(s.addresses),
      s.notReadyAddresses,
    ]);
    expect(subsets.sort()).toEqual([
      [8080, ['127.244.1.2'], undefined],
      [9090, ['127.244.1.3'], undefined],
    ]);
  });

  it('leaves selectorless Services alone and deletes Endpoints with their Service', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('manual', [{ name: 'http', port: 80, protocol: 'TCP' }], { selector: undefined }),
    );
    const manual = await c.client.endpoints.create({
      metadata: { name: 'manual', namespace: ns },
      subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 6443, protocol: 'TCP' }] }],
    });
    await c.client.services.create(
      service('web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    );
    await until(() => endpointsOf(c, 'web') !== undefined, 'empty endpoints for web');
    await settle();
    expect(endpointsOf(c, 'web')!.subsets ?? []).toEqual([]);
    expect(endpointsOf(c, 'manual')).toEqual(manual);
    await c.client.services.delete('web', { namespace: ns });
    await until(() => endpointsOf(c, 'web') === undefined, 'endpoints deleted');
  });
});
