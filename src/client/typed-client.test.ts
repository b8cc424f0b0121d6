import { describe, it, expect } from 'vitest';
import type { ApiResult } from '../api/request.js';
import type { WireRequest } from '../api/wire.js';
import type { ApiTransport } from './connection.js';
import { fakeCluster } from '../testing/fake-cluster.js';
import { handlerTransport } from './local-transport.js';
import { KubeClient, internalFaceUrl } from './typed-client.js';

function recorder(): { transport: ApiTransport; sent: WireRequest[] } {
  const sent: WireRequest[] = [];
  return {
    sent,
    transport: {
      request: (req): Promise<ApiResult> => {
        sent.push(req);
        return Promise.resolve({ code: 200, body: { ok: true } });
      },
      watch: (req) => {
        sent.push(req);
        return { stop: () => undefined };
      },
    },
  };
}

describe('KubeClient', () => {
  it('builds requests from the resource table', async () => {
    const { transport, sent } = recorder();
    const c = new KubeClient(transport);
    await c.pods.create({ metadata: { name: 'p' } });
    await c.deployments.patch('web', { spec: { replicas: 3 } }, 'strategic', {
      namespace: 'prod',
      fieldManager: 'me',
    });
    await c.pods.delete('p', {
      namespace: 'ns',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      preconditions: { uid: 'u1' },
    });
    await c.nodes.list({ labelSelector: 'a=b', limit: 10, continue: 'tok', namespace: 'ignored' });
    await c.deployments.updateScale('web', { spec: { replicas: 5 } }, { namespace: 'prod' });
    await c.replicaSets.updateStatus({ metadata: { name: 'rs', namespace: 'prod', resourceVersion: '7' } });
    c.pods.watch(
      { namespace: 'ns', resourceVersion: '9', allowWatchBookmarks: true },
      () => undefined,
      () => undefined,
    );
    await c.resource('apps', 'v1', 'deployments').get('web', 'prod');
    await c.horizontalPodAutoscalers.get('h', 'ns');
    expect(sent).toEqual([
      {
        verb: 'create',
        group: '',
        version: 'v1',
        resource: 'pods',
        namespace: 'default',
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
        options: {},
      },
      {
        verb: 'patch',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        namespace: 'prod',
        name: 'web',
        body: { spec: { replicas: 3 } },
        patchType: 'strategic',
        options: { fieldManager: 'me' },
      },
      {
        verb: 'delete',
        group: '',
        version: 'v1',
        resource: 'pods',
        namespace: 'ns',
        name: 'p',
        options: { gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u1' } },
      },
      // nodes are cluster-scoped: no namespace even if one is given
      {
        verb: 'list',
        group: '',
        version: 'v1',
        resource: 'nodes',
        options: { labelSelector: 'a=b', limit: 10, continue: 'tok' },
      },
      {
        verb: 'update',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        namespace: 'prod',
        name: 'web',
        subresource: 'scale',
        body: { apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 5 } },
        options: {},
      },
      {
        verb: 'update',
        group: 'apps',
        version: 'v1',
        resource: 'replicasets',
        namespace: 'prod',
        name: 'rs',
        subresource: 'status',
        body: {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { name: 'rs', namespace: 'prod', resourceVersion: '7' },
        },
        options: {},
      },
      {
        verb: 'watch',
        group: '',
        version: 'v1',
        resource: 'pods',
        namespace: 'ns',
        options: { resourceVersion: '9', allowWatchBookmarks: true },
      },
      {
        verb: 'get',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        namespace: 'prod',
        name: 'web',
        options: {},
      },
      {
        verb: 'get',
        group: 'autoscaling',
        version: 'v2',
        resource: 'horizontalpodautoscalers',
        namespace: 'ns',
        name: 'h',
        options: {},
      },
    ]);
  });

  it('round-trips through an ApiHandler (the registry in memory), with ApiErrors for failures', async () => {
    const cluster = await fakeCluster();
    await cluster.createNamespace('ns');
    const c = new KubeClient(handlerTransport(cluster.handler));
    const created = await c.configMaps.create({
      metadata: { name: 'cm', namespace: 'ns' },
      data: { a: '1' },
    });
    expect(created).toMatchObject({ kind: 'ConfigMap', metadata: { resourceVersion: expect.any(String) } });
    await expect(c.configMaps.create({ metadata: { name: 'cm', namespace: 'ns' } })).rejects.toMatchObject({
      reason: 'AlreadyExists',
      code: 409,
    });
    await expect(
      c.configMaps.update({ ...created, metadata: { ...created.metadata, resourceVersion: '0' } }),
    ).rejects.toMatchObject({
      reason: 'Conflict',
    });
    const list = await c.configMaps.list({ namespace: 'ns' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['cm']);
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThanOrEqual(
      Number(created.metadata?.resourceVersion),
    );
  });

  it('derives the internal face URL from a kubeconfig server', () => {
    expect(internalFaceUrl('https://127.0.0.1:6443')).toBe('wss://127.0.0.1:6443/kubemu/v1/ws');
    expect(internalFaceUrl('http://localhost:8080/')).toBe('ws://localhost:8080/kubemu/v1/ws');
  });
});
