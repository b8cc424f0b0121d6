// ResourceQuota admission: what is charged to status.used, upstream's messages when a quota refuses.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { resourceQuotaPlugin } from './resource-quota.js';
import { MemoryStore, attrs, pod, rejection } from './testdata/memory-store.js';

function quota(
  hard: Record<string, string>,
  used?: Record<string, string>,
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'mem-cpu-demo', namespace: 'ns' },
    spec: { hard, ...spec },
    ...(used ? { status: { hard, used } } : {}),
  };
}

const HARD = { 'requests.cpu': '1', 'requests.memory': '1Gi', 'limits.cpu': '2', 'limits.memory': '2Gi' };
const ZERO = { 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0', 'limits.memory': '0' };
const demo = (name: string, reqMem: string, limMem: string): KubeObject =>
  pod(name, [
    {
      name: `${name}-ctr`,
      image: 'nginx',
      resources: { limits: { memory: limMem, cpu: '800m' }, requests: { memory: reqMem, cpu: '400m' } },
    },
  ]);
const used = async (store: MemoryStore): Promise<unknown> =>
  ((await store.get('', 'resourcequotas', 'ns', 'mem-cpu-demo'))?.['status'] as { used: unknown }).used;

describe('ResourceQuota admission', () => {
  it('charges a pod to status.used, then refuses the one that would exceed the quota with upstream message', async () => {
    const store = new MemoryStore().put('', 'resourcequotas', quota(HARD, ZERO));
    await resourceQuotaPlugin.validate!(
      attrs('CREATE', 'pods', demo('quota-mem-cpu-demo', '600Mi', '800Mi')),
      store,
    );
    expect(await used(store)).toEqual({
      'requests.cpu': '400m',
      'requests.memory': '600Mi',
      'limits.cpu': '800m',
      'limits.memory': '800Mi',
    });
    const e = await rejection(
      resourceQuotaPlugin.validate!(
        attrs('CREATE', 'pods', demo('quota-mem-cpu-demo-2', '700Mi', '1Gi')),
        store,
      ),
    );
    expect(e.code).toBe(403);
    expect(e.message).toBe(
      'pods "quota-mem-cpu-demo-2" is forbidden: exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, used: requests.memory=600Mi, limited: requests.memory=1Gi',
    );
  });

  it('a dry run is checked but charges nothing', async () => {
    const store = new MemoryStore().put('', 'resourcequotas', quota(HARD, ZERO));
    await resourceQuotaPlugin.validate!(
      attrs('CREATE', 'pods', demo('p', '600Mi', '800Mi'), { dryRun: true }),
      store,
    );
    expect(await used(store)).toEqual(ZERO);
    expect(store.writes).toBe(0);
  });

  it('refuses a container that does not set what the quota limits (failed quota)', async () => {
    const store = new MemoryStore().put('', 'resourcequotas', quota(HARD, ZERO));
    const e = await rejection(
      resourceQuotaPlugin.validate!(
        attrs(
          'CREATE',
          'pods',
          pod('p', [{ name: 'a' }, { name: 'b', resources: { limits: { cpu: '1', memory: '1Mi' } } }]),
        ),
        store,
      ),
    );
    expect(e.message).toBe(
      'pods "p" is forbidden: failed quota: mem-cpu-demo: must specify limits.cpu for: a; must specify limits.memory for: a; must specify requests.cpu for: a,b; must specify requests.memory for: a,b',
    );
  });

  it('counts objects: pods, count/pods, services, configmaps, count/<resource>.<group>', async () => {
    const store = new MemoryStore().put(
      '',
      'resourcequotas',
      quota(
        { pods: '1', 'count/pods': '5', services: '1', configmaps: '1', 'count/deployments.apps': '1' },
        { pods: '0', 'count/pods': '0', services: '0', configmaps: '0', 'count/deployments.apps': '0' },
      ),
    );
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', pod('a', [{ name: 'c' }])), store);
    expect(
      (
        await rejection(
          resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', pod('b', [{ name: 'c' }])), store),
        )
      ).message,
    ).toBe(
      'pods "b" is forbidden: exceeded quota: mem-cpu-demo, requested: pods=1, used: pods=1, limited: pods=1',
    );
    const svc = { metadata: { name: 's', namespace: 'ns' }, spec: { type: 'ClusterIP' } };
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'services', svc), store);
    await resourceQuotaPlugin.validate!(
      attrs('CREATE', 'configmaps', { metadata: { name: 'c', namespace: 'ns' } }),
      store,
    );
    const deploy = { metadata: { name: 'd', namespace: 'ns' } };
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'deployments', deploy, { group: 'apps' }), store);
    expect(
      (
        await rejection(
          resourceQuotaPlugin.validate!(
            attrs('CREATE', 'deployments', { metadata: { name: 'e' } }, { group: 'apps' }),
            store,
          ),
        )
      ).message,
    ).toBe(
      'deployments.apps "e" is forbidden: exceeded quota: mem-cpu-demo, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
    );
    expect(await used(store)).toEqual({
      pods: '1',
      'count/pods': '1',
      services: '1',
      configmaps: '1',
      'count/deployments.apps': '1',
    });
  });

  it('ignores a quota the controller has not filled in yet, and refuses while a limited resource has no usage', async () => {
    const fresh = new MemoryStore().put('', 'resourcequotas', quota(HARD));
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', demo('p', '600Mi', '800Mi')), fresh);
    const partial = new MemoryStore().put('', 'resourcequotas', {
      ...quota(HARD),
      status: { hard: HARD, used: { 'requests.cpu': '0' } },
    });
    expect(
      (
        await rejection(
          resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', demo('p', '600Mi', '800Mi')), partial),
        )
      ).message,
    ).toBe(
      'pods "p" is forbidden: status unknown for quota: mem-cpu-demo, resources: limits.cpu,limits.memory,requests.cpu,requests.memory',
    );
  });

  it('scopes: a BestEffort quota counts only best-effort pods', async () => {
    const store = new MemoryStore().put(
      '',
      'resourcequotas',
      quota({ pods: '1' }, { pods: '0' }, { scopes: ['BestEffort'] }),
    );
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', demo('burstable', '1Mi', '1Mi')), store);
    expect(await used(store)).toEqual({ pods: '0' });
    await resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', pod('be', [{ name: 'c' }])), store);
    expect(await used(store)).toEqual({ pods: '1' });
  });

  it('rechecks against the fresh quota when it writes (a concurrent charge used the room up)', async () => {
    const store = new MemoryStore().put('', 'resourcequotas', quota({ pods: '1' }, { pods: '0' }));
    const original = store.update.bind(store);
    // another create is charged between this one's check and its write
    store.update = async (g, r, n, name, mutate) => {
      store.put('', 'resourcequotas', quota({ pods: '1' }, { pods: '1' }));
      return original(g, r, n, name, mutate);
    };
    const e = await rejection(
      resourceQuotaPlugin.validate!(attrs('CREATE', 'pods', pod('late', [{ name: 'c' }])), store),
    );
    expect(e.message).toContain(
      'exceeded quota: mem-cpu-demo, requested: pods=1, used: pods=1, limited: pods=1',
    );
  });
});
