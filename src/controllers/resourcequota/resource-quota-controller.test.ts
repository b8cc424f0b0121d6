import { afterEach, describe, expect, it } from 'vitest';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, settle } from '../common/fake-cluster.js';
import { ResourceQuotaController } from './resource-quota-controller.js';

const pod = (name: string, memory: string, phase = 'Running'): Pod => ({
  metadata: { name, namespace: 'ns' },
  spec: {
    containers: [{ name: 'c', image: 'nginx', resources: { requests: { memory }, limits: { memory } } }],
  },
  status: { phase },
});

describe('ResourceQuotaController', () => {
  let ctrl: ResourceQuotaController | undefined;
  afterEach(() => ctrl?.stop());

  it('copies spec.hard to status.hard and recomputes status.used, giving back what a delete frees', async () => {
    const c = fakeCluster();
    const quotas = c.client.resource<ResourceQuota>('', 'v1', 'resourcequotas');
    await c.client.pods.create(pod('a', '600Mi'));
    await c.client.pods.create(pod('b', '100Mi'));
    // a finished pod uses no compute resources, but still counts as an object
    await c.client.pods.create(pod('done', '1Gi', 'Succeeded'));
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
