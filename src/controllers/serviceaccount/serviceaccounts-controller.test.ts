import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, settle, type FakeCluster } from '../common/fake-cluster.js';
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
    const c = fakeCluster();
    await c.client.namespaces.create({ metadata: { name: 'a' }, status: { phase: 'Active' } });
    await c.client.namespaces.create({
      metadata: { name: 'going', deletionTimestamp: '2024-01-01T00:00:00Z' },
      status: { phase: 'Terminating' },
    });
    ctrl = new ServiceAccountsController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
    });
    await ctrl.run();
    await settle();
    expect(accounts(c)).toEqual(['a/default']);
    await c.client.namespaces.create({ metadata: { name: 'b' } });
    await settle();
    expect(accounts(c)).toEqual(['a/default', 'b/default']);
    await c.client.serviceAccounts.delete('default', { namespace: 'a' });
    await settle();
    expect(accounts(c)).toEqual(['a/default', 'b/default']);
  });
});
