import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, settle, type FakeCluster } from '../../testing/fake-cluster.js';
import { ServiceAccountsController } from './serviceaccounts-controller.js';

const accounts = (c: FakeCluster): string[] =>
  c
    .objects<ServiceAccount>('serviceaccounts')
    .map((sa) => `${sa.metadata?.namespace}/${sa.metadata?.name}`)
    .sort();

describe('ServiceAccountsController', () => {
  let ctrl: ServiceAccountsController | undefined;
  afterEach(() => ctrl?.stop());

  it('gives every active namespace a default ServiceAccount, again when it is deleted', async () => {
    const c = await fakeCluster({ defaultServiceAccounts: false });
    await c.client.namespaces.create({ metadata: { name: 'a' } });
    // a deleted namespace stays Terminating (its `kubernetes` finalizer) until the namespace controller is done
    await c.client.namespaces.create({ metadata: { name: 'going' } });
    await c.client.namespaces.delete('going');
    expect((await c.client.namespaces.get('going')).status?.phase).toBe('Terminating');
    ctrl = new ServiceAccountsController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
    });
    await ctrl.run();
    await settle();
    const bootstrap = [
      'default/default',
      'kube-node-lease/default',
      'kube-public/default',
      'kube-system/default',
    ];
    expect(accounts(c)).toEqual(['a/default', ...bootstrap]);
    await c.client.namespaces.create({ metadata: { name: 'b' } });
    await settle();
    expect(accounts(c)).toEqual(['a/default', 'b/default', ...bootstrap]);
    await c.client.serviceAccounts.delete('default', { namespace: 'a' });
    await settle();
    expect(accounts(c)).toEqual(['a/default', 'b/default', ...bootstrap]);
  });
});
