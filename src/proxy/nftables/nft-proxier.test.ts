// The nftables proxier's control loop against a fake apiserver and a fake nft: first a full sync, then partial
// ones for each change, and a full one again after a failed transaction.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../client/index.js';
import { fakeCluster } from '../../testing/fake-cluster.js';
import { FakeNft } from './fake-nft.js';
import type { ExistingObjects } from './generator.js';
import type { NftApplier } from './nft-host.js';
import { NftProxier } from './nft-proxier.js';

class FakeRunner implements NftApplier {
  readonly nft = new FakeNft('ip', 'kube-proxy');
  readonly scripts: string[] = [];
  failNext = false;

  apply(script: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('Error: Could not process rule: No such file or directory'));
    }
    this.scripts.push(script);
    this.nft.run(script);
    return Promise.resolve();
  }

  list(): Promise<ExistingObjects> {
    return Promise.resolve({ chains: this.nft.chainNames(), sets: this.nft.setNames() });
  }
}

async function eventually(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const slice = (ips: string[]): EndpointSlice => ({
  metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node-1', conditions: { ready: true } })),
});

async function setup(): Promise<{ client: KubeClient; runner: FakeRunner; proxier: NftProxier }> {
  const { client } = await fakeCluster({ serviceCidr: '10.96.0.0/12' });
  await client.services.create(
    {
      metadata: { name: 'web' },
      spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
    { namespace: 'default' },
  );
  await client.endpointSlices.create(slice(['10.244.1.2']), { namespace: 'default' });
  const runner = new FakeRunner();
  const proxier = new NftProxier({
    client,
    nodeName: 'node-1',
    nodeIPs: ['172.31.19.1'],
    clusterCIDRs: ['10.244.0.0/16'],
    minSyncPeriodMs: 0,
    syncPeriodMs: 50,
    runner,
  });
  return { client, runner, proxier };
}

describe('NftProxier', () => {
  it('syncs fully first, then only the Service that changed', async () => {
    const { client, runner, proxier } = await setup();
    try {
      await proxier.start();
      expect(proxier.hasSynced()).toBe(true);
      expect(runner.scripts[0]).toContain('add table ip kube-proxy');
      expect(runner.nft.dump()).toContain('dnat to 10.244.1.2:8080');
      const cur = await client.endpointSlices.get('web-1', 'default');
      await client.endpointSlices.update(
        {
          ...slice(['10.244.1.3']),
          metadata: { ...slice([]).metadata, resourceVersion: cur.metadata!.resourceVersion! },
        },
        { namespace: 'default' },
      );
      await eventually('the new endpoint', () => runner.nft.dump().includes('dnat to 10.244.1.3:8080'));
      const partial = runner.scripts[runner.scripts.length - 1];
      expect(partial).not.toContain('add table');
      expect(partial).toContain('flush chain ip kube-proxy endpoint-');
      // the old endpoint's chain is deleted a second later, by a housekeeping sync
      await eventually(
        'the stale chain deleted',
        () => !runner.nft.chainNames().some((c) => c.includes('10.244.1.2/8080')),
        5000,
      );
    } finally {
      proxier.stop();
    }
  });

  it('after a failed transaction retries with a full sync', async () => {
    const { client, runner, proxier } = await setup();
    try {
      await proxier.start();
      runner.failNext = true;
      await client.services.delete('web', { namespace: 'default' });
      await eventually('the retry', () => runner.scripts.length >= 2);
      const retry = runner.scripts[1];
      expect(retry).toContain('add table ip kube-proxy');
      expect(runner.nft.dump()).not.toContain('10.96.0.20');
    } finally {
      proxier.stop();
    }
  });
});
