// EtcdStorage on a real 3-member etcd cluster (Debian's etcd-server, compressed election timeouts): consistent
// reads across two apiservers, the cache relisting after etcd compacted past a partitioned feed, and 2 of 3 members
// down (no quorum) failing writes and consistent reads within a bounded time, then resuming when one returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../../util/etcd-cluster.js';
import { ensureCommands } from '../../../test/helpers/tools.js';
import { EtcdStorage, REQUEST_TIMEOUT_MESSAGE, type EtcdStorageOptions } from './etcd-storage.js';
import { StorageError } from './storage.js';
import { pod, storageError } from './testdata/storage-contract.js';

let dir: string;
let cluster: EtcdCluster;
let prefixes = 0;
const opened: EtcdStorage[] = [];

beforeAll(async () => {
  ensureCommands([['etcd', 'etcd-server']]);
  dir = mkdtempSync(join(tmpdir(), 'kubemu-etcd-cluster-'));
  cluster = await startEtcdCluster({ dir, heartbeatMs: 20, electionMs: 200 });
}, 900_000);
afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const fresh = () => `/cluster-test-${process.pid}-${++prefixes}`;
async function open(opts: Partial<EtcdStorageOptions> = {}): Promise<EtcdStorage> {
  const s = await EtcdStorage.open({ endpoints: cluster.endpoints, freezeObjects: true, ...opts });
  opened.push(s);
  return s;
}

/** a TCP forwarder in front of one member: `cut()` drops every connection and refuses new ones (a partition) */
async function partitionable(
  target: string,
): Promise<{ endpoint: string; cut(): void; heal(): void; close(): void }> {
  const port = Number(new URL(target).port);
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  const cut = (): void => {
    open = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    cut,
    heal() {
      open = true;
    },
    close() {
      cut();
      server.close();
    },
  };
}

describe('EtcdStorage on a 3-member etcd cluster', () => {
  it('a list or get with resourceVersion "" on one apiserver sees every write another acknowledged before it', async () => {
    const keyPrefix = fresh();
    const writer = await open({ keyPrefix });
    const reader = await open({ keyPrefix });
    for (let i = 0; i < 25; i++) {
      const created = await writer.create(`/k/p${i}`, pod(`p${i}`));
      // no poll: the read itself waits for the reader's cache to reach etcd's revision
      const listed = await reader.list('/k/', { consistent: true });
      expect(listed.items.map((x) => x.key)).toContain(`/k/p${i}`);
      expect(listed.rv).toBeGreaterThanOrEqual(created.rv);
      const got = await reader.get(`/k/p${i}`, { consistent: true });
      expect(got?.rv).toBe(created.rv);
    }
  });

  it('relists after etcd compacted past its partitioned feed: old watches end, a watch from before is 410, the cache has every write', async () => {
    const keyPrefix = fresh();
    const proxy = await partitionable(cluster.endpoints[0]);
    try {
      const writer = await open({ keyPrefix, compactionIntervalMs: 0 });
      const cut = await open({ keyPrefix, endpoints: [proxy.endpoint], compactionIntervalMs: 0 });
      const a = await writer.create('/k/a', pod('a'));
      await expect.poll(async () => (await cut.get('/k/a'))?.rv).toBe(a.rv);
      let ended = false;
      cut.watch(
        '/k/',
        a.rv,
        () => {},
        () => (ended = true),
      );

      proxy.cut(); // the apiserver loses etcd; meanwhile others write and etcd compacts
      const b = await writer.create('/k/b', pod('b'));
      await writer.update('/k/a', pod('a', { v: 2 }), a.rv);
      await writer.delete('/k/b', b.rv);
      const c = await writer.create('/k/c', pod('c'));
      await writer.compact(c.rv);
      proxy.heal();

      // the feed resumes from a compacted revision: the cache relists, ends its watches
      await expect.poll(() => ended, { timeout: 20_000, interval: 100 }).toBe(true);
      const listed = await cut.list('/k/', { consistent: true });
      expect(listed.items.map((x) => [x.key, x.object.v ?? 1])).toEqual([
        ['/k/a', 2],
        ['/k/c', 1],
      ]);
      // a client resuming from before the relist: upstream's "too old resource version"
      let err: unknown;
      try {
        cut.watch('/k/', a.rv, () => {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ code: 'Gone' });
      expect((err as Error).message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
      // a watch from the relisted revision gets what follows
      // (a client resumes when its watch ends: a relist retried under load ends the watches opened meanwhile)
      const seen: string[] = [];
      const follow = (from: number): void => {
        let last = from;
        cut.watch(
          '/k/',
          from,
          (ev) => {
            last = ev.rv;
            seen.push(`${ev.type} ${ev.key}`);
          },
          () => follow(last),
        );
      };
      follow(listed.rv);
      await writer.create('/k/d', pod('d'));
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['ADDED /k/d']);
    } finally {
      proxy.close();
    }
  });

  it('with 2 of 3 members down writes and consistent reads fail within the deadline, and resume when one returns', async () => {
    const keyPrefix = fresh();
    const s = await open({ keyPrefix, requestTimeoutMs: 8000 });
    const a = await s.create('/k/a', pod('a'));
    await expect(s.checkHealth()).resolves.toBeUndefined();
    const leader = await cluster.leader();
    expect(leader).toBeGreaterThanOrEqual(0);
    const down = [0, 1, 2]
      .filter((i) => i !== leader)
      .slice(0, 1)
      .concat([leader]);
    for (const i of down) await cluster.kill(i);
    try {
      const write = await storageError(s.create('/k/b', pod('b')));
      const read = await storageError(s.list('/k/', { consistent: true }));
      for (const err of [write, read]) {
        // etcd's own answer without quorum (upstream passes it on as a 500), or our deadline (upstream's 504)
        if (err.code === 'Timeout') expect(err.message).toBe(REQUEST_TIMEOUT_MESSAGE);
        else
          expect([err.code, err.message]).toEqual([
            'Unavailable',
            expect.stringMatching(/^(etcdserver: request timed out|context deadline exceeded)$/),
          ]);
      }
      // a read that may be served from the cache (resourceVersion "0") still answers
      expect((await s.get('/k/a'))?.rv).toBe(a.rv);
      // the apiserver's etcd health check (/readyz): a linearizable read, failed within its 2 s deadline (the
      // answer of the last second may be reused: wait that out)
      await new Promise((r) => setTimeout(r, 1_100));
      await expect(s.checkHealth()).rejects.toThrow(/^error getting data from etcd: /);
    } finally {
      await cluster.start(down[0]);
    }
    await expect
      .poll(
        async () =>
          await s.create('/k/c', pod('c')).then(
            () => 'ok',
            (e: Error) => e.message,
          ),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe('ok');
    expect((await s.list('/k/', { consistent: true })).items.map((x) => x.key)).toEqual(['/k/a', '/k/c']);
    await expect
      .poll(() =>
        s.checkHealth().then(
          () => 'healthy',
          (e: Error) => e.message,
        ),
      )
      .toBe('healthy');
    await cluster.start(down[1]);
  }, 120_000);
});
