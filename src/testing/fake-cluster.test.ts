// The controllers' fake cluster is the apiserver's own registry: what it refuses, resets and fills in is upstream's
// API behaviour, not an approximation (the Map-backed fake it replaces stored whatever it was given).
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { errors } from '../api/errors.js';
import { rfc3339 } from '../util/objects.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  setPodStatus,
  settle,
  until,
} from './fake-cluster.js';

const podSpec = { containers: [{ name: 'c', image: 'hello' }] };

describe('fakeCluster: the API rules are the registry’s', () => {
  it('resets status on create, fills generateName, uid and creationTimestamp from the fake clock', async () => {
    const c = await fakeCluster();
    c.clock.advance(60_000);
    const pod = await c.client.pods.create({
      metadata: { generateName: 'web-', namespace: 'default' },
      spec: podSpec,
      status: { phase: 'Running' },
    });
    expect(pod.metadata?.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(pod.metadata?.creationTimestamp).toBe(rfc3339(c.clock.now()));
    expect(pod.status?.phase).toBe('Pending');
    // ServiceAccount admission found the namespace's default ServiceAccount
    expect(pod.spec?.serviceAccountName).toBe('default');
    const ready = await setPodStatus(c, pod.metadata!.name!, 'default', { phase: 'Running' });
    expect(ready.status?.phase).toBe('Running');
  });

  it('refuses invalid objects, objects in a missing namespace and spec changes a pod may not make', async () => {
    const c = await fakeCluster();
    await expect(
      c.client.pods.create({ metadata: { name: 'p', namespace: 'default' } }),
    ).rejects.toMatchObject({ code: 422, reason: 'Invalid' });
    await expect(
      c.client.pods.create({ metadata: { name: 'p', namespace: 'nowhere' }, spec: podSpec }),
    ).rejects.toMatchObject({ code: 404 });
    await c.createNamespace('team');
    const pod = await c.client.pods.create({ metadata: { name: 'p', namespace: 'team' }, spec: podSpec });
    await expect(
      c.client.pods.update({ ...pod, spec: { ...pod.spec!, nodeName: 'n1' } }),
    ).rejects.toMatchObject({
      code: 422,
    });
    await markPodReady(c, pod, 'n1');
    expect(c.objects<Pod>('pods', 'team')[0].spec?.nodeName).toBe('n1');
  });

  it('bumps generation on spec changes only, and deletes bound pods gracefully until their kubelet is done', async () => {
    const c = await fakeCluster();
    const d = await c.client.deployments.create({
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: podSpec },
      },
    });
    expect(d.metadata?.generation).toBe(1);
    const labelled = await c.client.deployments.update({
      ...d,
      metadata: { ...d.metadata, labels: { a: 'b' } },
    });
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await c.client.deployments.update({
      ...labelled,
      spec: { ...labelled.spec!, replicas: 3 },
    });
    expect(scaled.metadata?.generation).toBe(2);
    // status goes through the status subresource only
    const ignored = await c.client.deployments.update({ ...scaled, status: { replicas: 9 } });
    expect(ignored.status?.replicas).toBeUndefined();

    const pod = await c.client.pods.create({ metadata: { name: 'p', namespace: 'default' }, spec: podSpec });
    await markPodReady(c, pod);
    await c.client.pods.delete('p', { namespace: 'default' });
    expect(c.objects<Pod>('pods', 'default')[0].metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(await finishTerminatingPods(c)).toBe(1);
    expect(c.objects('pods', 'default')).toEqual([]);
    expect(c.changes.filter((x) => x.resource === 'pods').map((x) => x.type)).toEqual([
      'ADDED',
      'MODIFIED',
      'MODIFIED',
      'MODIFIED',
      'DELETED',
    ]);
  });
});

describe('fakeCluster: test controls', () => {
  const stops: (() => void)[] = [];
  afterEach(() => stops.splice(0).forEach((stop) => stop()));

  it('logs requests, fails them from onRequest, and holds watch events while paused', async () => {
    const c = await fakeCluster();
    const informer = c.informers.pods();
    stops.push(() => c.informers.stop());
    c.informers.start();
    await c.informers.waitForSync();
    c.onRequest = (req) => {
      if (req.verb === 'create' && req.resource === 'pods') throw errors.internal('etcd is on fire');
    };
    await expect(
      c.client.pods.create({ metadata: { name: 'p', namespace: 'default' }, spec: podSpec }),
    ).rejects.toMatchObject({ code: 500 });
    c.onRequest = undefined;
    c.pauseWatches();
    await c.client.pods.create({ metadata: { name: 'p', namespace: 'default' }, spec: podSpec });
    expect(c.objects('pods', 'default')).toHaveLength(1);
    await settle();
    expect(informer.store.size()).toBe(0);
    c.resumeWatches();
    await until(() => informer.store.size() === 1, 'the held event');
    expect(c.requests.filter((r) => r.verb === 'create').map((r) => r.resource)).toEqual(['pods', 'pods']);
  });
});
