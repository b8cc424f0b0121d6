import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { KubeClient, handlerTransport, type ApiTransport } from '../../client/index.js';
import { SharedInformerFactory } from '../common/informers.js';
import { fakeCluster, settle, until, type FakeCluster } from '../../testing/fake-cluster.js';
import { EndpointSliceController } from './endpointslice-controller.js';
import { reconcileSlices } from './reconcile.js';
import { ns, podIn, service, setReady } from './test-fixtures.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster): Promise<EndpointSliceController> {
  const ctl = new EndpointSliceController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const slices = (c: FakeCluster, svc: string): EndpointSlice[] =>
  c
    .objects<EndpointSlice>('endpointslices', ns)
    .filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc);

const byPod = (s: EndpointSlice[]): Record<string, unknown> =>
  Object.fromEntries(s.flatMap((x) => x.endpoints).map((e) => [e.targetRef?.name, e.conditions]));

describe('EndpointSliceController', () => {
  it('builds one slice per Service from its pods, with upstream labels, owner, ports and conditions', async () => {
    const c = await fakeCluster();
    await start(c);
    const svc = await c.client.services.create(
      service('web', [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]),
    );
    await podIn(c, 'web-a', 'web', { ip: '127.244.1.2' });
    await podIn(c, 'web-b', 'web', { ip: '127.244.2.2', ready: false, node: 'node-2' });
    await podIn(c, 'web-c', 'web', { ip: '127.244.1.3', terminating: true });
    await podIn(c, 'web-d', 'web', { ip: '' }); // no IP yet: not an endpoint
    await podIn(c, 'web-e', 'web', { ip: '127.244.1.4', phase: 'Succeeded' }); // terminal: not an endpoint
    await podIn(c, 'other', 'other', { ip: '127.244.1.5' });
    await until(() => slices(c, 'web').some((s) => s.endpoints.length === 3), 'slice with 3 endpoints');
    const [slice] = slices(c, 'web');
    expect(slices(c, 'web')).toHaveLength(1);
    expect(slice.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.metadata?.labels).toEqual({
      team: 'web',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slice.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'web',
        uid: svc.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(byPod([slice])).toEqual({
      'web-a': { ready: true, serving: true, terminating: false },
      'web-b': { ready: false, serving: false, terminating: false },
      'web-c': { ready: false, serving: true, terminating: true },
    });
    const a = slice.endpoints.find((e) => e.targetRef?.name === 'web-a')!;
    expect(a.addresses).toEqual(['127.244.1.2']);
    expect(a.nodeName).toBe('node-1');
    expect(a.targetRef).toMatchObject({ kind: 'Pod', namespace: ns, name: 'web-a' });
    expect(slice.endpoints.find((e) => e.targetRef?.name === 'web-b')!.nodeName).toBe('node-2');
  });

  it('puts pods whose named port resolves differently into different slices', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('api', [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]),
    );
    await podIn(c, 'api-old', 'api', { ip: '127.244.1.2', httpPort: 8080 });
    await podIn(c, 'api-new', 'api', { ip: '127.244.1.3', httpPort: 9090 });
    await until(() => slices(c, 'api').filter((s) => s.endpoints.length).length === 2, 'two slices');
    const ports = slices(c, 'api')
      .map((s) => [s.ports?.[0]?.port, s.endpoints.map((e) => e.targetRef?.name)])
      .sort();
    expect(ports).toEqual([
      [8080, ['api-old']],
      [9090, ['api-new']],
    ]);
  });

  it('marks not-ready pods ready with publishNotReadyAddresses', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('db', [{ name: '', port: 5432, targetPort: 5432, protocol: 'TCP' }], {
        publishNotReadyAddresses: true,
      }),
    );
    await podIn(c, 'db-0', 'db', { ip: '127.244.1.2', ready: false });
    await until(() => slices(c, 'db').length === 1 && slices(c, 'db')[0].endpoints.length === 1, 'endpoint');
    expect(byPod(slices(c, 'db'))).toEqual({ 'db-0': { ready: true, serving: false, terminating: false } });
    expect(slices(c, 'db')[0].ports).toEqual([{ name: '', port: 5432, protocol: 'TCP' }]);
  });

  it('follows readiness changes at once, without waiting for any timer', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    );
    await podIn(c, 'web-a', 'web', { ip: '127.244.1.2' });
    await until(
      () => slices(c, 'web').length === 1 && byPod(slices(c, 'web'))['web-a'] !== undefined,
      'endpoint',
    );
    const name = slices(c, 'web')[0].metadata?.name;
    await setReady(c, 'web-a', false);
    // the FakeClock never advances here: any batching delay would make this time out
    await until(() => (byPod(slices(c, 'web'))['web-a'] as { ready: boolean }).ready === false, 'not ready');
    await setReady(c, 'web-a', true);
    await until(() => (byPod(slices(c, 'web'))['web-a'] as { ready: boolean }).ready === true, 'ready again');
    expect(slices(c, 'web').map((s) => s.metadata?.name)).toEqual([name]);
  });

  it('keeps one empty placeholder slice without endpoints, none for selectorless Services, and cleans up on delete', async () => {
    const c = await fakeCluster();
    await start(c);
    await c.client.services.create(
      service('empty', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    );
    await c.client.services.create(
      service('manual', [{ name: 'http', port: 80, protocol: 'TCP' }], { selector: undefined }),
    );
    await until(() => slices(c, 'empty').length === 1, 'placeholder');
    await settle();
    expect(slices(c, 'empty')[0]).toMatchObject({ endpoints: [], ports: [] });
    expect(slices(c, 'manual')).toHaveLength(0);
    // a pod arrives: the placeholder goes, a real slice comes
    await podIn(c, 'empty-a', 'empty', { ip: '127.244.1.9' });
    await until(
      () => slices(c, 'empty').length === 1 && slices(c, 'empty')[0].endpoints.length === 1,
      'real slice',
    );
    await c.client.services.delete('empty', { namespace: ns });
    await until(() => slices(c, 'empty').length === 0, 'slices deleted with the Service');
  });

  it('never duplicates slices when pod events outrun the watch of its own slice writes', async () => {
    const c = await fakeCluster();
    // a client whose EndpointSlice watch lags behind everything else, as a slow watch would
    const inner = handlerTransport(c.handler);
    let hold = false;
    const held: (() => void)[] = [];
    const transport: ApiTransport = {
      request: (req) => inner.request(req),
      watch: (req, onEvent, onEnd) =>
        inner.watch(
          req,
          (ev) => (hold && req.resource === 'endpointslices' ? held.push(() => onEvent(ev)) : onEvent(ev)),
          onEnd,
        ),
    };
    const client = new KubeClient(transport);
    const informers = new SharedInformerFactory({ client, clock: c.clock });
    const ctl = new EndpointSliceController({ client, informers, clock: c.clock });
    stops.push(() => {
      ctl.stop();
      informers.stop();
    });
    await ctl.run();
    await c.client.services.create(
      service('web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
    );
    await until(() => slices(c, 'web').length === 1, 'placeholder');
    await settle();
    hold = true;
    for (let i = 0; i < 3; i++) {
      await podIn(c, `web-${i}`, 'web', { ip: `127.244.1.${10 + i}` });
      await settle();
    }
    hold = false;
    for (const deliver of held.splice(0)) deliver();
    await until(() => slices(c, 'web').reduce((n, s) => n + s.endpoints.length, 0) === 3, '3 endpoints');
    await settle(100);
    expect(slices(c, 'web')).toHaveLength(1);
  });
});

describe('reconcileSlices', () => {
  const base = service('big', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
  const svc = { ...base, metadata: { ...base.metadata, uid: 'svc-uid' } };
  const pod = (i: number): Pod => ({
    metadata: { name: `p${i}`, namespace: ns, uid: `u${i}`, labels: { app: 'big' } },
    spec: { nodeName: 'node-1', containers: [] },
    status: { phase: 'Running', podIP: `127.244.1.${i}`, conditions: [{ type: 'Ready', status: 'True' }] },
  });

  it('splits at maxEndpointsPerSlice and leaves endpoints in the slice they are in', () => {
    const pods = Array.from({ length: 5 }, (_, i) => pod(i + 1));
    const first = reconcileSlices(svc, pods, [], 2);
    expect(first.create.map((s) => s.endpoints.length)).toEqual([2, 2, 1]);
    expect(first.update).toHaveLength(0);
    const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `big-${i}` } }));
    expect(reconcileSlices(svc, pods, existing, 2)).toEqual({ create: [], update: [], delete: [] });
    // p1 goes, p6 comes: only the first slice (which lost p1) changes, and p6 takes its place
    const next = reconcileSlices(svc, [...pods.slice(1), pod(6)], existing, 2);
    expect(next.create).toHaveLength(0);
    expect(next.delete).toHaveLength(0);
    expect(next.update.map((s) => [s.metadata?.name, s.endpoints.map((e) => e.targetRef?.name)])).toEqual([
      ['big-0', ['p2', 'p6']],
    ]);
  });

  it('deletes slices of port sets no pod resolves any more', () => {
    const existing = reconcileSlices(svc, [pod(1)], []).create.map((s) => ({
      ...s,
      metadata: { ...s.metadata, name: 'big-x' },
    }));
    const moved = service('big', [{ name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' }]);
    const changes = reconcileSlices(moved, [pod(1)], existing);
    expect(changes.delete.map((s) => s.metadata?.name)).toEqual(['big-x']);
    expect(changes.create[0].ports).toEqual([{ name: 'http', port: 9090, protocol: 'TCP' }]);
  });
});
