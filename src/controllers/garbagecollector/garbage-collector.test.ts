import { describe, it, expect, afterEach } from 'vitest';
import { errors } from '../../api/errors.js';
import type { ApiRequest, ApiResult, KubeObject } from '../../api/request.js';
import { FakeApiHandler, KubeClient, handlerTransport } from '../../client/index.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { until } from '../common/fake-cluster.js';
import { GarbageCollector } from './garbage-collector.js';

/** The fake plus the apiserver's deletion semantics: propagationPolicy → finalizers, last finalizer gone → deleted. */
class FinalizingFake extends FakeApiHandler {
  readonly deleted: string[] = [];

  private storeKey(req: ApiRequest): string {
    return `${req.group}/${req.resource}/${req.namespace ?? ''}/${req.name ?? ''}`;
  }

  override async handle(req: ApiRequest): Promise<ApiResult> {
    if (req.verb === 'delete') {
      const cur = this.objects.get(this.storeKey(req));
      if (cur && req.options.preconditions?.uid && req.options.preconditions.uid !== cur.metadata?.uid)
        throw errors.conflict(
          { group: req.group, kind: req.resource, resource: req.resource, name: req.name ?? '' },
          'uid precondition',
        );
      const finalizers = new Set(cur?.metadata?.finalizers ?? []);
      if (req.options.propagationPolicy === 'Orphan') finalizers.add('orphan');
      if (req.options.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
      if (cur && finalizers.size > 0) {
        this.requests.push(req);
        const next: KubeObject = {
          ...cur,
          metadata: {
            ...cur.metadata,
            deletionTimestamp: '2024-01-01T00:00:00Z',
            finalizers: [...finalizers],
          },
        };
        return { code: 200, body: this.put(req, next) };
      }
      const r = await super.handle(req);
      this.deleted.push(`${req.resource}/${req.name}`);
      return r;
    }
    const r = await super.handle(req);
    const obj = r.body as KubeObject;
    if (req.verb === 'update' && obj.metadata?.deletionTimestamp && !obj.metadata.finalizers?.length) {
      await super.handle({ ...req, verb: 'delete', options: {} });
      this.deleted.push(`${req.resource}/${req.name}`);
    }
    return r;
  }
}

const apps = { group: 'apps', version: 'v1' };
const core = { group: '', version: 'v1' };

function setup() {
  const handler = new FinalizingFake();
  const client = new KubeClient(handlerTransport(handler));
  const clock = new FakeClock();
  const gc = new GarbageCollector({ client, logger: silentLogger(), clock });
  const put = (
    kind: 'Deployment' | 'ReplicaSet' | 'Pod',
    name: string,
    owners: { kind: string; name: string; uid: string; block?: boolean }[] = [],
  ): KubeObject => {
    const resource = kind === 'Pod' ? 'pods' : kind === 'Deployment' ? 'deployments' : 'replicasets';
    const gv = kind === 'Pod' ? core : apps;
    return handler.put(
      { ...gv, resource, namespace: 'default' },
      {
        metadata: {
          name,
          namespace: 'default',
          uid: `uid-${name}`,
          ownerReferences: owners.map((o) => ({
            apiVersion: o.kind === 'Pod' ? 'v1' : 'apps/v1',
            kind: o.kind,
            name: o.name,
            uid: o.uid,
            controller: true,
            blockOwnerDeletion: o.block ?? true,
          })),
        },
      },
    );
  };
  const chain = (): void => {
    put('Deployment', 'web');
    put('ReplicaSet', 'web-1', [{ kind: 'Deployment', name: 'web', uid: 'uid-web' }]);
    put('Pod', 'web-1-a', [{ kind: 'ReplicaSet', name: 'web-1', uid: 'uid-web-1' }]);
    put('Pod', 'web-1-b', [{ kind: 'ReplicaSet', name: 'web-1', uid: 'uid-web-1' }]);
  };
  const has = (resource: string, name: string): boolean =>
    handler.objects.has(`${resource === 'pods' ? '' : 'apps'}/${resource}/default/${name}`);
  const get = (resource: string, name: string): KubeObject | undefined =>
    handler.objects.get(`${resource === 'pods' ? '' : 'apps'}/${resource}/default/${name}`);
  return { handler, client, gc, put, chain, has, get };
}

describe('GarbageCollector', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('background: deleting a Deployment removes its ReplicaSet and pods', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.chain();
    await t.gc.run();
    // a live owner chain is left alone
    await new Promise((r) => setTimeout(r, 20));
    expect(t.has('replicasets', 'web-1')).toBe(true);
    await t.client.deployments.delete('web', { namespace: 'default' });
    await until(
      () => !t.has('replicasets', 'web-1') && !t.has('pods', 'web-1-a') && !t.has('pods', 'web-1-b'),
      'cascade',
    );
    expect(t.handler.deleted).toEqual(
      expect.arrayContaining(['replicasets/web-1', 'pods/web-1-a', 'pods/web-1-b']),
    );
    const rsDelete = t.handler.requests.find((r) => r.verb === 'delete' && r.name === 'web-1');
    expect(rsDelete?.options.propagationPolicy).toBe('Background');
    expect(rsDelete?.options.preconditions?.uid).toBe('uid-web-1');
  });

  it('keeps a dependent that still has a live owner, dropping the dangling reference', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.put('ReplicaSet', 'a');
    t.put('Pod', 'shared', [
      { kind: 'ReplicaSet', name: 'a', uid: 'uid-a' },
      { kind: 'ReplicaSet', name: 'gone', uid: 'uid-gone' },
    ]);
    await t.gc.run();
    await until(() => (t.get('pods', 'shared')?.metadata?.ownerReferences?.length ?? 0) === 1, 'ref removed');
    expect(t.get('pods', 'shared')!.metadata!.ownerReferences![0].uid).toBe('uid-a');
  });

  it('a same-name owner with another uid does not adopt: the dependent is collected', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.put('ReplicaSet', 'web-1'); // uid-web-1
    t.put('Pod', 'stale', [{ kind: 'ReplicaSet', name: 'web-1', uid: 'uid-of-an-older-web-1' }]);
    t.put('Pod', 'fresh', [{ kind: 'ReplicaSet', name: 'web-1', uid: 'uid-web-1' }]);
    await t.gc.run();
    await until(() => !t.has('pods', 'stale'), 'stale pod collected');
    expect(t.has('pods', 'fresh')).toBe(true);
  });

  it('orphan: removes ownerReferences from dependents, then the orphan finalizer', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.chain();
    await t.gc.run();
    await t.client.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Orphan' });
    await until(() => !t.has('deployments', 'web'), 'deployment finalized');
    expect(t.has('replicasets', 'web-1')).toBe(true);
    expect(t.get('replicasets', 'web-1')!.metadata!.ownerReferences).toBeUndefined();
    // the pods still belong to the ReplicaSet, which lives on
    expect(t.get('pods', 'web-1-a')!.metadata!.ownerReferences![0].uid).toBe('uid-web-1');
    await new Promise((r) => setTimeout(r, 20));
    expect(t.has('pods', 'web-1-a')).toBe(true);
  });

  it('foreground: dependents go first (pods, then the ReplicaSet), then the owner', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.chain();
    await t.gc.run();
    await t.client.deployments.delete('web', { namespace: 'default', propagationPolicy: 'Foreground' });
    await until(() => !t.has('deployments', 'web'), 'deployment gone');
    const order = t.handler.deleted;
    expect(order.indexOf('pods/web-1-a')).toBeLessThan(order.indexOf('replicasets/web-1'));
    expect(order.indexOf('pods/web-1-b')).toBeLessThan(order.indexOf('replicasets/web-1'));
    expect(order.indexOf('replicasets/web-1')).toBeLessThan(order.indexOf('deployments/web'));
    // the ReplicaSet, having dependents of its own, was deleted in foreground too
    const rsDelete = t.handler.requests.find((r) => r.verb === 'delete' && r.name === 'web-1');
    expect(rsDelete?.options.propagationPolicy).toBe('Foreground');
  });

  it('foreground: a non-blocking dependent does not hold the owner back', async () => {
    const t = setup();
    stop = () => t.gc.stop();
    t.put('ReplicaSet', 'rs');
    t.put('Pod', 'p', [{ kind: 'ReplicaSet', name: 'rs', uid: 'uid-rs', block: false }]);
    // the pod cannot be deleted in this test: every delete of it fails
    t.handler.hook = (req) => {
      if (req.verb === 'delete' && req.resource === 'pods') throw errors.internal('etcd is on fire');
    };
    await t.gc.run();
    await t.client.replicaSets.delete('rs', { namespace: 'default', propagationPolicy: 'Foreground' });
    await until(() => !t.has('replicasets', 'rs'), 'owner finalized despite the live non-blocking pod');
    expect(t.has('pods', 'p')).toBe(true);
  });
});
