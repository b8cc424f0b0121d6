import { describe, it, expect, afterEach } from 'vitest';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, finishTerminatingPods, settle, until } from '../../testing/fake-cluster.js';
import { NamespaceController } from './namespace-controller.js';

const pod = (name: string, namespace: string): Pod => ({
  metadata: { name, namespace },
  spec: { containers: [{ name: 'c', image: 'hello' }] },
});

describe('NamespaceController', () => {
  let ctrl: NamespaceController | undefined;
  afterEach(() => ctrl?.stop());

  it('deletes every object in a terminating namespace, waits for them to go, then finalizes', async () => {
    const c = await fakeCluster();
    await c.createNamespace('keep');
    await c.createNamespace('team');
    await c.client.pods.create(pod('a', 'team'));
    // the `slow` pod runs on a node: its delete is graceful, and it stays until its kubelet has stopped it
    await c.client.pods.create({
      ...pod('slow', 'team'),
      spec: { ...pod('slow', 'team').spec!, nodeName: 'n1' },
    });
    await c.client.pods.create(pod('other', 'keep'));
    await c.client.configMaps.create({ metadata: { name: 'cfg', namespace: 'team' }, data: { k: 'v' } });
    await c.client.deployments.create({
      metadata: { name: 'web', namespace: 'team' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: pod('x', 'team').spec },
      },
    });
    // `kubectl delete ns team`: the namespace stays Terminating until its `kubernetes` finalizer is removed
    await c.client.namespaces.delete('team');
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
    expect(c.requests.some((r) => r.subresource === 'finalize')).toBe(false);
    const ns = c.objects<Namespace>('namespaces').find((n) => n.metadata?.name === 'team')!;
    expect(ns.status?.conditions?.find((x) => x.type === 'NamespaceContentRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: pods. has 1 resource instances',
    });

    expect(c.objects<Pod>('pods', 'team')[0].metadata?.deletionTimestamp).toBeDefined();
    expect(await finishTerminatingPods(c, 'team')).toBe(1);
    c.clock.advance(1_000);
    await until(() => c.requests.some((r) => r.subresource === 'finalize'), 'finalize');
    const finalize = c.requests.find((r) => r.subresource === 'finalize')!;
    expect(finalize.verb).toBe('update');
    expect(finalize.name).toBe('team');
    expect((finalize.body as Namespace).spec?.finalizers).toEqual([]);
    expect(c.objects<Pod>('pods', 'team')).toHaveLength(0);
    expect(c.objects<Pod>('pods', 'keep')).toHaveLength(1);
    // the last finalizer gone, the apiserver deletes the namespace
    await until(
      () => !c.objects<Namespace>('namespaces').some((n) => n.metadata?.name === 'team'),
      'ns gone',
    );
  });

  it('leaves namespaces that are not being deleted alone', async () => {
    const c = await fakeCluster();
    await c.createNamespace('live');
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
    expect(c.requests.filter((r) => r.verb === 'delete' || r.subresource === 'finalize')).toEqual([]);
  });
});
