// A client nobody here wrote: @kubernetes/client-node against the apiserver, with the kubeconfig it wrote.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';

let server: ApiServerProcess;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  server = await startApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfig);
});

afterAll(async () => {
  await server?.cleanup();
});

describe('@kubernetes/client-node', () => {
  it('uses the kubemu context the server wrote', () => {
    expect(kc.getCurrentContext()).toBe('kubemu-kubemu');
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
  });

  it('creates, reads, lists and deletes Pods', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'cn-pod', labels: { app: 'cn' } },
        spec: { containers: [{ name: 'c', image: 'kubemu/hello:v1' }] },
      },
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    const read = await core.readNamespacedPod({ name: 'cn-pod', namespace: 'default' });
    expect(read.metadata?.name).toBe('cn-pod');
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=cn' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['cn-pod']);
    await core.deleteNamespacedPod({ name: 'cn-pod', namespace: 'default' });
    await expect(core.readNamespacedPod({ name: 'cn-pod', namespace: 'default' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('creates, patches and lists Deployments', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const d = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'cn-deploy' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'cn-deploy' } },
          template: {
            metadata: { labels: { app: 'cn-deploy' } },
            spec: { containers: [{ name: 'c', image: 'kubemu/hello:v1' }] },
          },
        },
      },
    });
    expect(d.spec?.strategy?.type).toBe('RollingUpdate');
    const patched = await apps.patchNamespacedDeployment(
      { name: 'cn-deploy', namespace: 'default', body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(4);
    expect(patched.metadata?.generation).toBe(2);
    const all = await apps.listDeploymentForAllNamespaces();
    expect(all.items.map((x) => x.metadata?.name)).toContain('cn-deploy');
  });

  it('watches Pods and Deployments', async () => {
    const watch = new k8s.Watch(kc);
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch saw only ${seen.join(',')}`)), 10_000);
      const check = (): void => {
        if (
          seen.includes('ADDED pod/cn-w') &&
          seen.includes('MODIFIED pod/cn-w') &&
          seen.includes('DELETED pod/cn-w') &&
          seen.includes('ADDED deployment/cn-dw')
        ) {
          clearTimeout(timer);
          resolve();
        }
      };
      void watch.watch(
        '/api/v1/namespaces/default/pods',
        {},
        (phase, obj: k8s.V1Pod) => {
          seen.push(`${phase} pod/${obj.metadata?.name}`);
          check();
        },
        () => undefined,
      );
      void watch.watch(
        '/apis/apps/v1/namespaces/default/deployments',
        {},
        (phase, obj: k8s.V1Deployment) => {
          seen.push(`${phase} deployment/${obj.metadata?.name}`);
          check();
        },
        () => undefined,
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'cn-w' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    await core.patchNamespacedPod(
      { name: 'cn-w', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedPod({ name: 'cn-w', namespace: 'default' });
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'cn-dw' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: {
            metadata: { labels: { a: 'b' } },
            spec: { containers: [{ name: 'c', image: 'busybox' }] },
          },
        },
      },
    });
    await done;
  });

  it('runs an informer over the list/watch', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'default' }),
    );
    const added: string[] = [];
    informer.on('add', (cm: k8s.V1ConfigMap) => added.push(cm.metadata!.name!));
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before' } } });
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after' } } });
    const deadline = Date.now() + 5000;
    while (!(added.includes('before') && added.includes('after')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await informer.stop();
    expect(added).toEqual(expect.arrayContaining(['before', 'after']));
  });
});
