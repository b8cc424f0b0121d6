import { describe, it, expect, afterEach } from 'vitest';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { errors } from '../../api/errors.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, settle, until } from '../common/fake-cluster.js';
import { NamespaceController } from './namespace-controller.js';

const pod = (name: string, namespace: string): Pod => ({
  metadata: { name, namespace },
  spec: { containers: [{ name: 'c', image: 'hello' }] },
});

describe('NamespaceController', () => {
  let ctrl: NamespaceController | undefined;
  afterEach(() => ctrl?.stop());

  it('deletes every object in a terminating namespace, waits for them to go, then finalizes', async () => {
    const c = fakeCluster();
    await c.client.namespaces.create({ metadata: { name: 'keep' }, spec: { finalizers: ['kubernetes'] } });
    await c.client.pods.create(pod('a', 'team'));
    await c.client.pods.create(pod('slow', 'team'));
    await c.client.pods.create(pod('other', 'keep'));
    await c.client.configMaps.create({ metadata: { name: 'cfg', namespace: 'team' }, data: { k: 'v' } });
    await c.client.deployments.create({
      metadata: { name: 'web', namespace: 'team' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } },
    });
    // the apiserver's state after `kubectl delete ns team`
    c.handler.put(
      { group: '', version: 'v1', resource: 'namespaces' },
      {
        metadata: { name: 'team', uid: 'uid-team', deletionTimestamp: '2024-01-01T00:00:00Z' },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Terminating' },
      },
    );
    // the `slow` pod stays (as a pod in its grace period would) until released
    let holdSlow = true;
    c.onRequest = (req) => {
      if (holdSlow && req.verb === 'delete' && req.name === 'slow')
        throw errors.notFound({ group: '', kind: 'Pod', resource: 'pods', name: 'slow' });
    };
    ctrl = new NamespaceController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
      clock: c.clock,
    });
    await ctrl.run();
    await until(
      () => c.objects('configmaps', 'team').length === 0 && c.objects('deployments', 'team').length === 0,
      'content deleted',
    );
    await settle();
    expect(c.objects<Pod>('pods', 'team').map((p) => p.metadata!.name)).toEqual(['slow']);
    expect(c.objects<Pod>('pods', 'keep')).toHaveLength(1);
    expect(c.handler.requests.some((r) => r.subresource === 'finalize')).toBe(false);
    const ns = c.objects<Namespace>('namespaces').find((n) => n.metadata?.name === 'team')!;
    expect(ns.status?.conditions?.find((x) => x.type === 'NamespaceContentRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: pods. has 1 resource instances',
    });

    holdSlow = false;
    c.clock.advance(1_000);
    await until(() => c.handler.requests.some((r) => r.subresource === 'finalize'), 'finalize');
    const finalize = c.handler.requests.find((r) => r.subresource === 'finalize')!;
    expect(finalize.verb).toBe('update');
    expect(finalize.name).toBe('team');
    expect((finalize.body as Namespace).spec?.finalizers).toEqual([]);
    expect(c.objects<Pod>('pods', 'team')).toHaveLength(0);
    expect(c.objects<Pod>('pods', 'keep')).toHaveLength(1);
  });

  it('leaves namespaces that are not being deleted alone', async () => {
    const c = fakeCluster();
    await c.client.namespaces.create({ metadata: { name: 'live' }, spec: { finalizers: ['kubernetes'] } });
    await c.client.pods.create(pod('a', 'live'));
    ctrl = new NamespaceController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
      clock: c.clock,
    });
    await ctrl.run();
    await settle();
    c.clock.advance(5_000);
    await settle();
    expect(c.objects('pods', 'live')).toHaveLength(1);
    expect(c.handler.requests.filter((r) => r.verb === 'delete' || r.subresource === 'finalize')).toEqual([]);
  });
});
