// The apiserver identity Lease through the real registry (SQLite in memory): upstream's name for a host, its labels
// and holder, renewal, a restart's takeover, and the collector deleting only expired identity Leases.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ApiRequest } from '../api/request.js';
import { SqliteStorage } from './storage/sqlite-storage.js';
import { Registry } from './registry/registry.js';
import { apiServerId, IdentityLease, IDENTITY_LEASE_SELECTOR } from './identity-lease.js';
import { createLogger } from '../util/logger.js';

let storage: SqliteStorage;
let registry: Registry;
const admin = { username: 'admin', groups: ['system:masters'] };
const log = createLogger('test', 'silent');

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage });
  await registry.init();
});

afterEach(() => storage.close());

/** a request on kube-system's Leases as an admin (a list unless `req` says otherwise) */
const leases = (req: Partial<ApiRequest>): Promise<unknown> =>
  registry
    .handle({
      verb: 'list',
      group: 'coordination.k8s.io',
      version: 'v1',
      resource: 'leases',
      namespace: 'kube-system',
      options: {},
      user: admin,
      ...req,
    })
    .then((r) => r.body);

const identityLeases = async (): Promise<Lease[]> =>
  ((await leases({ options: { labelSelector: IDENTITY_LEASE_SELECTOR } })) as { items: Lease[] }).items;

describe('apiServerId', () => {
  it("is upstream's APIServerID for the host (values computed with Go's crypto/sha256 and encoding/base32)", () => {
    expect(apiServerId('control-plane-1')).toBe('apiserver-ktnciuvxljjqohol43g65rthde');
    expect(apiServerId('master-1')).toBe('apiserver-wj467rbl25eeviqacfhvg2yvnm');
    expect(apiServerId('kubemu')).toBe('apiserver-gh43amgx3mb2n5br66qtedgh7u');
  });
});

describe('IdentityLease', () => {
  it('creates the Lease with upstream labels and holder, then renews it', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const lease = new IdentityLease({ handler: registry, log, host: 'control-plane-2', now: () => now });
    await lease.renew();
    const [created] = await identityLeases();
    expect(created.metadata).toMatchObject({
      name: apiServerId('control-plane-2'),
      namespace: 'kube-system',
      labels: {
        'apiserver.kubernetes.io/identity': 'kube-apiserver',
        'kubernetes.io/hostname': 'control-plane-2',
      },
    });
    expect(created.spec).toEqual({
      holderIdentity: expect.stringMatching(
        new RegExp(
          `^${apiServerId('control-plane-2')}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
        ),
      ) as unknown,
      leaseDurationSeconds: 3600,
      acquireTime: '2026-12-07T10:00:00.000000Z',
      renewTime: '2026-12-07T10:00:00.000000Z',
    });
    now += 10_000;
    await lease.renew();
    const [renewed] = await identityLeases();
    expect(renewed.spec?.renewTime).toBe('2026-12-07T10:00:10.000000Z');
    expect(renewed.spec?.acquireTime).toBe('2026-12-07T10:00:00.000000Z');
    expect(renewed.spec?.holderIdentity).toBe(lease.holderIdentity);
  });

  it("an apiserver restarted on the same host takes its Lease over with a new holder; other hosts' stay", async () => {
    const first = new IdentityLease({ handler: registry, log, host: 'control-plane-1' });
    await first.renew();
    await new IdentityLease({ handler: registry, log, host: 'control-plane-2' }).renew();
    const restarted = new IdentityLease({ handler: registry, log, host: 'control-plane-1' });
    await restarted.renew();
    const all = await identityLeases();
    expect(all.map((l) => l.metadata?.name).sort()).toEqual(
      [apiServerId('control-plane-1'), apiServerId('control-plane-2')].sort(),
    );
    const mine = all.find((l) => l.metadata?.name === apiServerId('control-plane-1'));
    expect(mine?.spec?.holderIdentity).toBe(restarted.holderIdentity);
    expect(restarted.holderIdentity).not.toBe(first.holderIdentity);
  });

  it('the collector deletes identity Leases expired over their duration, and no other Lease', async () => {
    const start = Date.parse('2026-12-07T10:00:00Z');
    await new IdentityLease({ handler: registry, log, host: 'gone', now: () => start }).renew();
    await new IdentityLease({
      handler: registry,
      log,
      host: 'alive',
      now: () => start + 3_000_000,
    }).renew();
    // a leader-election Lease renewed long ago is not the collector's
    await leases({
      verb: 'create',
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'kube-scheduler' },
        spec: { holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: '2026-12-07T09:00:00.000000Z' },
      },
    });
    const collector = new IdentityLease({
      handler: registry,
      log,
      host: 'collector',
      now: () => start + 3_600_000 + 1,
    });
    expect(await collector.collectGarbage()).toBe(1);
    const names = ((await leases({})) as { items: Lease[] }).items.map((l) => l.metadata?.name).sort();
    expect(names).toEqual([apiServerId('alive'), 'kube-scheduler'].sort());
  });
});
