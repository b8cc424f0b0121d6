// A watch resumed from a resourceVersion the apiserver has already dropped (a watch cache of 5 events), through
// the official clients: 410 Expired, then the relist-and-watch their users write.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { ensurePythonClient, spawnPythonScript } from './helpers/python-client.js';

let server: ApiServerProcess;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;

beforeAll(async () => {
  await ensurePythonClient();
  server = await startApiServer({ extraArgs: ['--watch-cache-size', '5'] });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
}, 900_000);

afterAll(async () => {
  await server?.cleanup();
});

/** A resourceVersion that is no longer in the watch cache: taken, then pushed out by 10 more writes. */
async function expiredResourceVersion(namespace: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const first = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'old' } } });
  for (let i = 0; i < 10; i++)
    await core.patchNamespacedConfigMap(
      { name: 'old', namespace, body: { data: { i: String(i) } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  return first.metadata!.resourceVersion!;
}

describe('410 Gone and relist through the official clients', () => {
  it('Python: the stream raises ApiException 410, the user relists and watches from the list', async () => {
    const old = await expiredResourceVersion('py-relist');
    const w = spawnPythonScript('relist.py', ['py-relist', old, '2'], server.kubeconfig);
    try {
      const [error, relisted] = await w.waitForLines(2);
      expect(error.error).toBe(410);
      expect(error.reason).toMatch(/^Expired: too old resource version: /);
      expect(relisted.relisted).toEqual(['old']);
      await core.createNamespacedConfigMap({ namespace: 'py-relist', body: { metadata: { name: 'new' } } });
      await core.deleteNamespacedConfigMap({ name: 'old', namespace: 'py-relist' });
      const lines = await w.waitForLines(4);
      expect(lines.slice(2)).toEqual([
        { type: 'ADDED', name: 'new' },
        { type: 'DELETED', name: 'old' },
      ]);
      expect(await w.exited()).toBe(0);
    } finally {
      w.stop();
    }
  });

  it('client-node: the watch gets an ERROR event with a 410 Status; list and watch from the list resume it', async () => {
    const namespace = 'node-relist';
    const old = await expiredResourceVersion(namespace);
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      void new k8s.Watch(kc).watch(
        path,
        { resourceVersion: old },
        (type, obj: k8s.V1Status) => {
          if (type === 'ERROR') resolve(obj);
          else reject(new Error(`unexpected ${type}`));
        },
        (err: unknown) => {
          if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        },
      );
    });
    expect(status).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    const list = await core.listNamespacedConfigMap({ namespace });
    expect(list.items.map((x) => x.metadata?.name)).toEqual(['old']);
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch saw only ${seen.join(', ')}`)), 20_000);
      void new k8s.Watch(kc)
        .watch(
          path,
          { resourceVersion: list.metadata?.resourceVersion },
          (type, obj: k8s.V1ConfigMap) => {
            seen.push(`${type} ${obj.metadata?.name}`);
            if (seen.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
          () => undefined,
        )
        .then((controller) => done.finally(() => controller.abort()));
    });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'new' } } });
    await core.deleteNamespacedConfigMap({ name: 'old', namespace });
    await done;
    expect(seen).toEqual(['ADDED new', 'DELETED old']);
  });
});
