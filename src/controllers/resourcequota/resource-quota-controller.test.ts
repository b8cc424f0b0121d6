import { afterEach, describe, expect, it } from 'vitest';
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, setPodStatus, settle, type FakeCluster } from '../../testing/fake-cluster.js';
import { ResourceQuotaController } from './resource-quota-controller.js';

/** create a pod and report it in `phase`, as its kubelet would */
async function pod(c: FakeCluster, name: string, memory: string, phase = 'Running'): Promise<void> {
  await c.client.pods.create({
    metadata: { name, namespace: 'ns' },
    spec: {
      containers: [{ name: 'c', image: 'nginx', resources: { requests: { memory }, limits: { memory } } }],
    },
  });
  await setPodStatus(c, name, 'ns', { phase });
}

describe('ResourceQuotaController', () => {
  let ctrl: ResourceQuotaController | undefined;
  afterEach(() => ctrl?.stop());

  it('copies spec.hard to status.hard and recomputes status.used, giving back what a delete frees', async () => {
    const c = await fakeCluster();
    const quotas = c.client.resource<ResourceQuota>('', 'v1', 'resourcequotas');
    await c.createNamespace('ns');
    await pod(c, 'a', '600Mi');
    await pod(c, 'b', '100Mi');
    // a finished pod uses no compute resources, but still counts as an object
    await pod(c, 'done', '1Gi', 'Succeeded');
    await quotas.create({
      metadata: { name: 'q', namespace: 'ns' },
      spec: {
        hard: { pods: '10', 'count/pods': '10', 'requests.memory': '1Gi', 'limits.cpu': '2', secrets: '5' },
      },
    });
    ctrl = new ResourceQuotaController({ client: c.client, informers: c.informers, logger: silentLogger() });
    await ctrl.run();
    await settle();
    const status = async (): Promise<ResourceQuota['status']> => (await quotas.get('q', 'ns')).status;
    expect(await status()).toEqual({
      hard: { pods: '10', 'count/pods': '10', 'requests.memory': '1Gi', 'limits.cpu': '2', secrets: '5' },
      used: { pods: '2', 'count/pods': '3', 'requests.memory': '700Mi', 'limits.cpu': '0', secrets: '0' },
    });
    await c.client.pods.delete('a', { namespace: 'ns' });
    await settle();
    expect((await status())?.used).toEqual({
      pods: '1',
      'count/pods': '2',
      'requests.memory': '100Mi',
      'limits.cpu': '0',
      secrets: '0',
    });
  });
});
