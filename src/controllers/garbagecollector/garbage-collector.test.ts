import { describe, it, expect, afterEach } from 'vitest';
import { errors } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, until } from '../../testing/fake-cluster.js';
import { GarbageCollector } from './garbage-collector.js';

type Kind = 'Deployment' | 'ReplicaSet' | 'Pod';

const podSpec = { containers: [{ name: 'c', image: 'hello' }] };
const workload = {
  selector: { matchLabels: { app: 'x' } },
  template: { metadata: { labels: { app: 'x' } }, spec: podSpec },
};

/** a cluster on the real registry (which turns propagationPolicy into finalizers) and a garbage collector on it */
async function setup() {
  const c = await fakeCluster();
  const gc = new GarbageCollector({ client: c.client, logger: silentLogger(), clock: c.clock });
  const uids = new Map<string, string>();
  /** create an object owned by `owners` (by the uid of the object of that name created here, or `uid`) */
  const put = async (
    kind: Kind,
    name: string,
    owners: { kind: Kind; name: string; uid?: string; block?: boolean; controller?: boolean }[] = [],
  ): Promise<void> => {
    const metadata = {
      name,
      namespace: 'default',
      ...(owners.length
        ? {
            ownerReferences: owners.map((o) => ({
              apiVersion: o.kind === 'Pod' ? 'v1' : 'apps/v1',
              kind: o.kind,
              name: o.name,
              uid: o.uid ?? uids.get(o.name)!,
              controller: o.controller ?? true,
              blockOwnerDeletion: o.block ?? true,
            })),
          }
        : {}),
    };
    const created: { metadata?: { uid?: string } } =
      kind === 'Pod'
        ? await c.client.pods.create({ metadata, spec: podSpec })
        : kind === 'Deployment'
          ? await c.client.deployments.create({ metadata, spec: workload })
          : await c.client.replicaSets.create({ metadata, spec: workload });
    uids.set(name, created.metadata!.uid!);
  };
  const chain = async (): Promise<void> => {
    await put('Deployment', 'web');
    await put('ReplicaSet', 'web-1', [{ kind: 'Deployment', name: 'web' }]);
    await put('Pod', 'web-1-a', [{ kind: 'ReplicaSet', name: 'web-1' }]);
    await put('Pod', 'web-1-b', [{ kind: 'ReplicaSet', name: 'web-1' }]);
  };
  const get = (resource: string, name: string): KubeObject | undefined =>
    c.objects(resource, 'default').find((o) => o.metadata?.name === name);
  const has = (resource: string, name: string): boolean => get(resource, name) !== undefined;
  /** `resource/name` of every object deleted from storage, in order */
  const deleted = (): string[] =>
    c.changes.filter((x) => x.type === 'DELETED').map((x) => `${x.resource}/${x.name}`);
  return { c, client: c.client, gc, put, chain, has, get, deleted, uids };
}

describe('GarbageCollector', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('background: deleting a Deployment removes its ReplicaSet and pods', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.chain();
    await t.gc.run();
    // a live owner chain is left alone
    await new Promise((r) => setTimeout(r, 20));
    expect(t.has('replicasets', 'web-1')).toBe(true);
    await t.client.deployments.delete('web', { namespace: 'default' });
    await until(
      () => !t.has('replicasets', 'web-1') && !t.has('pods', 'web-1-a') && !t.has('pods', 'web-1-b'),
      'cascade',
    );
    expect(t.deleted()).toEqual(
      expect.arrayContaining(['replicasets/web-1', 'pods/web-1-a', 'pods/web-1-b']),
    );
    const rsDelete = t.c.requests.find((r) => r.verb === 'delete' && r.name === 'web-1');
    expect(rsDelete?.options.propagationPolicy).toBe('Background');
    expect(rsDelete?.options.preconditions?.uid).toBe(t.uids.get('web-1'));
  });

  it('keeps a dependent that still has a live owner, dropping the dangling reference', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.put('ReplicaSet', 'a');
    await t.put('Pod', 'shared', [
      { kind: 'ReplicaSet', name: 'a' },
      // (the apiserver allows one controller reference only)
      { kind: 'ReplicaSet', name: 'gone', uid: 'uid-gone', controller: false },
    ]);
    await t.gc.run();
    await until(() => (t.get('pods', 'shared')?.metadata?.ownerReferences?.length ?? 0) === 1, 'ref removed');
    expect(t.get('pods', 'shared')!.metadata!.ownerReferences![0].uid).toBe(t.uids.get('a'));
  });

  it('a same-name owner with another uid does not adopt: the dependent is collected', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.put('ReplicaSet', 'web-1');
    await t.put('Pod', 'stale', [{ kind: 'ReplicaSet', name: 'web-1', uid: 'uid-of-an-older-web-1' }]);
    await t.put('Pod', 'fresh', [{ kind: 'ReplicaSet', name: 'web-1' }]);
    await t.gc.run();
    await until(() => !t.has('pods', 'stale'), 'stale pod collected');
    expect(t.has('pods', 'fresh')).toBe(true);
  });

  it('orphan: removes ownerReferences from dependents, then the orphan finalizer', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.chain();
    await t.gc.run();
    await t.client.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Orphan' });
    await until(() => !t.has('deployments', 'web'), 'deployment finalized');
    expect(t.has('replicasets', 'web-1')).toBe(true);
    expect(t.get('replicasets', 'web-1')!.metadata!.ownerReferences).toBeUndefined();
    // the pods still belong to the ReplicaSet, which lives on
    expect(t.get('pods', 'web-1-a')!.metadata!.ownerReferences![0].uid).toBe(t.uids.get('web-1'));
    await new Promise((r) => setTimeout(r, 20));
    expect(t.has('pods', 'web-1-a')).toBe(true);
  });

  it('foreground: dependents go first (pods, then the ReplicaSet), then the owner', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.chain();
    await t.gc.run();
    await t.client.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Foreground' });
    await until(() => !t.has('deployments', 'web'), 'deployment gone');
    const order = t.deleted();
    expect(order.indexOf('pods/web-1-a')).toBeLessThan(order.indexOf('replicasets/web-1'));
    expect(order.indexOf('pods/web-1-b')).toBeLessThan(order.indexOf('replicasets/web-1'));
    expect(order.indexOf('replicasets/web-1')).toBeLessThan(order.indexOf('deployments/web'));
    // the ReplicaSet, having dependents of its own, was deleted in foreground too
    const rsDelete = t.c.requests.find((r) => r.verb === 'delete' && r.name === 'web-1');
    expect(rsDelete?.options.propagationPolicy).toBe('Foreground');
  });

  it('foreground: a non-blocking dependent does not hold the owner back', async () => {
    const t = await setup();
    stop = () => t.gc.stop();
    await t.put('ReplicaSet', 'rs');
    await t.put('Pod', 'p', [{ kind: 'ReplicaSet', name: 'rs', block: false }]);
    // the pod cannot be deleted in this test: every delete of it fails
    t.c.onRequest = (req) => {
      if (req.verb === 'delete' && req.resource === 'pods') throw errors.internal('etcd is on fire');
    };
    await t.gc.run();
    await t.client.replicaSets.delete('rs', { namespace: 'default', propagationPolicy: 'Foreground' });
    await until(() => !t.has('replicasets', 'rs'), 'owner finalized despite the live non-blocking pod');
    expect(t.has('pods', 'p')).toBe(true);
  });
});

describe('garbage collector: custom resources', () => {
  it('collects the dependents of a custom resource once it is deleted, and of one whose CRD is deleted', async () => {
    const c = await fakeCluster();
    const gc = new GarbageCollector({ client: c.client, logger: silentLogger(), clock: c.clock });
    afterEach(() => gc.stop());
    const crdClient = c.client.resource<KubeObject>(
      'apiextensions.k8s.io',
      'v1',
      'customresourcedefinitions',
    );
    await crdClient.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'websites.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'websites', singular: 'website', kind: 'Website' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await until(
      () =>
        c
          .objects<any>('customresourcedefinitions')
          .some((d) =>
            d.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True'),
          ),
      'the CRD established',
    );
    await gc.run();
    const websites = c.client.resource<KubeObject>('example.com', 'v1', 'websites');
    const owned = async (site: string, cm: string): Promise<void> => {
      const owner = await websites.create(
        { apiVersion: 'example.com/v1', kind: 'Website', metadata: { name: site, namespace: 'default' } },
        { namespace: 'default' },
      );
      await c.client.configMaps.create({
        metadata: {
          name: cm,
          namespace: 'default',
          ownerReferences: [
            { apiVersion: 'example.com/v1', kind: 'Website', name: site, uid: owner.metadata!.uid! },
          ],
        },
      });
    };
    const has = (name: string): boolean =>
      c.objects('configmaps', 'default').some((o) => o.metadata?.name === name);
    await owned('hello', 'hello-page');
    await owned('other', 'other-page');
    await until(() => has('hello-page') && has('other-page'), 'the dependents');
    for (let i = 0; i < 50; i++) c.clock.advance(100);
    expect(has('hello-page')).toBe(true); // its owner is there: kept
    await websites.delete('hello', { namespace: 'default', propagationPolicy: 'Background' });
    await until(() => !has('hello-page'), 'the dependent of the deleted Website collected');
    expect(has('other-page')).toBe(true);
    // the CRD goes: the apiserver deletes its objects, the GC their dependents
    await crdClient.delete('websites.example.com');
    await until(
      () => c.objects('websites', 'default').length === 0,
      'the Websites deleted with their CRD',
      20_000,
    );
    await until(
      () => !has('other-page'),
      'the dependent of a Website deleted with its CRD collected',
      20_000,
    );
  });
});
