// Two apiservers on one storage (an HA control plane): each picks ClusterIPs and NodePorts from its own memory,
// and storage decides. Before reservations both started at the same address and port and gave them to two Services.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from './registry.js';

let storage: SqliteStorage;
let a: Registry;
let b: Registry;
const user = { username: 'admin', groups: ['system:masters'] };

const registry = async (now?: () => number): Promise<Registry> => {
  const r = new Registry({
    storage,
    ...(now ? { clock: { now, setTimeout: () => ({ cancel() {} }) } } : {}),
  });
  await r.init();
  return r;
};

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  a = await registry();
  b = await registry();
});

afterEach(async () => {
  a.stop();
  b.stop();
  await storage.close();
});

const handle = (r: Registry, req: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): Promise<KubeObject> =>
  r
    .handle({
      group: '',
      version: 'v1',
      resource: 'services',
      namespace: 'default',
      options: {},
      user,
      ...req,
    })
    .then((res) => res.body as KubeObject);

const service = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { type: 'NodePort', ports: [{ port: 80 }], ...spec },
});

const create = (
  r: Registry,
  name: string,
  spec?: Record<string, unknown>,
  dryRun = false,
): Promise<KubeObject> =>
  handle(r, { verb: 'create', body: service(name, spec), options: dryRun ? { dryRun: true } : {} });

const specOf = (s: KubeObject): { clusterIP: string; ports: { port?: number; nodePort: number }[] } =>
  s['spec'] as { clusterIP: string; ports: { port?: number; nodePort: number }[] };

const ipAddresses = async (r: Registry): Promise<KubeObject[]> =>
  (
    (
      await r.handle({
        verb: 'list',
        group: 'networking.k8s.io',
        version: 'v1',
        resource: 'ipaddresses',
        options: {},
        user,
      })
    ).body as { items: KubeObject[] }
  ).items;

const rejection = async (p: Promise<unknown>): Promise<ApiError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};

describe('ClusterIPs and NodePorts shared by apiservers on one storage', () => {
  it('never gives two Services the same ClusterIP or NodePort, however the creates interleave', async () => {
    const made = await Promise.all(Array.from({ length: 24 }, (_, i) => create(i % 2 ? b : a, `svc-${i}`)));
    const ips = made.map((s) => specOf(s).clusterIP);
    const ports = made.map((s) => specOf(s).ports[0].nodePort);
    expect(new Set(ips).size).toBe(24);
    expect(new Set(ports).size).toBe(24);
    // and sequentially, each apiserver starting from what it thinks is free
    const x = await create(a, 'x');
    const y = await create(b, 'y');
    expect(specOf(x).clusterIP).not.toBe(specOf(y).clusterIP);
    expect(specOf(x).ports[0].nodePort).not.toBe(specOf(y).ports[0].nodePort);
  });

  it("each ClusterIP is an IPAddress object with the Service as its parentRef, as upstream's allocator writes", async () => {
    const s = await create(a, 'web');
    const ip = specOf(s).clusterIP;
    const found = (await ipAddresses(b)).find((o) => o.metadata?.name === ip);
    expect(found).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: {
        name: ip,
        labels: {
          'ipaddress.kubernetes.io/ip-family': 'IPv4',
          'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
        },
      },
      spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'web' } },
    });
    // the `kubernetes` Service's too
    expect((await ipAddresses(a)).map((o) => o.metadata?.name)).toContain('127.96.0.1');
  });

  it('a requested ClusterIP or NodePort another apiserver gave away is refused with upstream wording', async () => {
    const s = await create(a, 'first', { clusterIP: '127.96.7.7', ports: [{ port: 80, nodePort: 30777 }] });
    expect(specOf(s).clusterIP).toBe('127.96.7.7');
    const ipErr = await rejection(create(b, 'second', { clusterIP: '127.96.7.7' }));
    expect(ipErr.details?.causes).toEqual([
      expect.objectContaining({
        field: 'spec.clusterIPs',
        message: expect.stringContaining(
          'failed to allocate IP 127.96.7.7: provided IP is already allocated',
        ),
      }),
    ]);
    const portErr = await rejection(create(b, 'third', { ports: [{ port: 80, nodePort: 30777 }] }));
    expect(portErr.details?.causes).toEqual([
      expect.objectContaining({
        field: 'spec.ports[0].nodePort',
        message: expect.stringContaining('provided port is already allocated'),
      }),
    ]);
    // nothing of the refused creates stays held
    expect((await ipAddresses(a)).filter((o) => o.metadata?.name !== '127.96.7.7').length).toBe(1);
  });

  it('what one apiserver frees, the other can give again', async () => {
    await create(a, 'first', { clusterIP: '127.96.7.8', ports: [{ port: 80, nodePort: 30778 }] });
    await handle(b, { verb: 'delete', name: 'first' });
    expect((await ipAddresses(a)).map((o) => o.metadata?.name)).not.toContain('127.96.7.8');
    // a still thinks 127.96.7.8 and 30778 are taken; storage says they are free
    const again = await create(a, 'again', {
      clusterIP: '127.96.7.8',
      ports: [{ port: 80, nodePort: 30778 }],
    });
    expect(specOf(again)).toMatchObject({ clusterIP: '127.96.7.8', ports: [{ nodePort: 30778 }] });
  });

  it('a dry run takes nothing in storage', async () => {
    const before = (await ipAddresses(a)).length;
    const dry = await create(a, 'dry', { clusterIP: '127.96.7.9' }, true);
    expect(specOf(dry).clusterIP).toBe('127.96.7.9');
    expect((await ipAddresses(a)).length).toBe(before);
    expect(specOf(await create(b, 'real', { clusterIP: '127.96.7.9' })).clusterIP).toBe('127.96.7.9');
  });

  it("an update's new NodePort is held, and the one it drops is freed", async () => {
    const s = await create(a, 'web', { ports: [{ port: 80, nodePort: 30801 }] });
    const next = structuredClone(s);
    specOf(next).ports = [{ port: 80, nodePort: 30802 }];
    await handle(b, { verb: 'update', name: 'web', body: next });
    const err = await rejection(create(a, 'other', { ports: [{ port: 80, nodePort: 30802 }] }));
    expect(err.reason).toBe('Invalid');
    const freed = await create(a, 'freed', { ports: [{ port: 80, nodePort: 30801 }] });
    expect(specOf(freed).ports[0].nodePort).toBe(30801);
  });

  it('at start, Services stored without reservations get them, and old orphans go', async () => {
    // a Service written before reservations existed, and an orphan left by an apiserver that died mid-create
    await storage.create('/registry/services/default/legacy', {
      ...service('legacy'),
      metadata: { name: 'legacy', namespace: 'default', uid: 'u1' },
      spec: { type: 'NodePort', clusterIP: '127.96.9.9', ports: [{ port: 80, nodePort: 30999 }] },
    });
    await create(a, 'doomed', { clusterIP: '127.96.9.10' });
    await storage.delete('/registry/services/default/doomed');
    const later = await registry(() => Date.now() + 120_000);
    const names = (await ipAddresses(later)).map((o) => o.metadata?.name);
    expect(names).toContain('127.96.9.9');
    expect(names).not.toContain('127.96.9.10');
    expect((await rejection(create(b, 'clash', { ports: [{ port: 80, nodePort: 30999 }] }))).reason).toBe(
      'Invalid',
    );
    later.stop();
  });
});
