import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startTestEtcd, type TestEtcd } from '../../../test/helpers/etcd.js';
import { EncryptionAtRest } from './encryption/encryption-at-rest.js';
import { CONTINUE_EXPIRED, EtcdStorage, type EtcdStorageOptions } from './etcd-storage.js';
import { StorageError, type StorageEvent } from './storage.js';
import { pod, storageContract, storageError } from './testdata/storage-contract.js';

let etcd: TestEtcd;
let prefixes = 0;

beforeAll(async () => {
  etcd = await startTestEtcd();
}, 900_000);
afterAll(async () => {
  await etcd?.cleanup();
});

storageContract('EtcdStorage', () => {
  let prefix = '';
  return {
    reset: () => {
      prefix = `/contract-${process.pid}-${++prefixes}`;
    },
    open: (opts) =>
      EtcdStorage.open({ endpoints: [etcd.endpoint], keyPrefix: prefix, freezeObjects: true, ...opts }),
  };
});

describe('EtcdStorage on etcd', () => {
  const opened: EtcdStorage[] = [];
  let raw: Etcd3 | undefined;
  const open = async (opts: Partial<EtcdStorageOptions> = {}): Promise<EtcdStorage> => {
    const s = await EtcdStorage.open({ endpoints: [etcd.endpoint], freezeObjects: true, ...opts });
    opened.push(s);
    return s;
  };
  const fresh = () => `/etcd-test-${process.pid}-${++prefixes}`;
  const etcdClient = (): Etcd3 => (raw ??= new Etcd3({ hosts: [etcd.endpoint] }));
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  afterAll(() => raw?.close());

  it('stores each object under its key, its resourceVersion being the key mod revision', async () => {
    const keyPrefix = fresh();
    const s = await open({ keyPrefix });
    const a = await s.create('/registry/pods/default/a', pod('a'));
    const kv = await etcdClient().get(`${keyPrefix}/registry/pods/default/a`).exec();
    expect(Number(kv.kvs[0].mod_revision)).toBe(a.rv);
    expect(Number(kv.header.revision)).toBeGreaterThanOrEqual(a.rv);
    expect(JSON.parse(kv.kvs[0].value.toString())).toMatchObject({ metadata: { name: 'a' } });
  });

  it('two stores on one etcd (two apiservers) see each other’s writes and never overwrite them', async () => {
    const keyPrefix = fresh();
    const one = await open({ keyPrefix });
    const two = await open({ keyPrefix });
    const seenByTwo: StorageEvent[] = [];
    two.watch('/k/', two.currentRV(), (ev) => seenByTwo.push(ev));
    const a = await one.create('/k/a', pod('a'));
    await expect.poll(() => seenByTwo.map((e) => [e.type, e.rv])).toEqual([['ADDED', a.rv]]);
    expect((await two.get('/k/a'))?.rv).toBe(a.rv);
    // two updates from the same read: the second is a Conflict naming the winner's revision
    const won = await one.update('/k/a', pod('a', { v: 1 }), a.rv);
    const lost = await storageError(two.update('/k/a', pod('a', { v: 2 }), a.rv));
    expect(lost.code).toBe('Conflict');
    expect(lost.message).toContain(`the object is at ${won.rv}`);
    expect((await storageError(two.create('/k/a', pod('a')))).code).toBe('AlreadyExists');
    expect((await storageError(two.delete('/k/a', a.rv))).code).toBe('Conflict');
    await expect.poll(async () => (await two.get('/k/a'))?.object).toMatchObject({ v: 1 });
  });

  it('lists a continued page at its first page’s revision, and 410 once that revision is compacted', async () => {
    const keyPrefix = fresh();
    const s = await open({ keyPrefix });
    for (const n of ['a', 'b', 'c', 'd']) await s.create(`/k/${n}`, pod(n));
    const page1 = await s.list('/k/', { limit: 2 });
    expect(page1.items.map((i) => i.key)).toEqual(['/k/a', '/k/b']);
    // changes after the first page do not show in the rest of that list
    const c = (await s.get('/k/c'))!;
    await s.update('/k/c', pod('c', { v: 2 }), c.rv);
    await s.delete('/k/d');
    await s.create('/k/e', pod('e'));
    const page2 = await s.list('/k/', { limit: 2, startAfter: page1.continueKey!, atRV: page1.rv });
    expect(page2.rv).toBe(page1.rv);
    expect(page2.items.map((i) => [i.key, i.rv])).toEqual([
      ['/k/c', c.rv],
      ['/k/d', page1.items[0].rv + 3],
    ]);
    expect(page2.continueKey).toBeUndefined();
    // a list of the current state sees them
    expect((await s.list('/k/')).items.map((i) => i.key)).toEqual(['/k/a', '/k/b', '/k/c', '/k/e']);

    await s.compact(s.currentRV());
    const err = await storageError(s.list('/k/', { limit: 2, startAfter: '/k/b', atRV: page1.rv }));
    expect(err).toMatchObject({ code: 'Gone', message: CONTINUE_EXPIRED });
  });

  it('compaction ends the watch window: a watch from before it is 410 Gone, from after it is served', async () => {
    const keyPrefix = fresh();
    const s = await open({ keyPrefix });
    const a = await s.create('/k/a', pod('a'));
    const b = await s.create('/k/b', pod('b'));
    const c = await s.create('/k/c', pod('c'));
    await s.compact(c.rv);
    let err: unknown;
    try {
      s.watch('/k/', a.rv, () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'Gone', message: `too old resource version: ${a.rv} (${c.rv - 1})` });
    // etcd keeps revision c.rv itself: a watch from just before it still gets it
    const seen: number[] = [];
    s.watch('/k/', c.rv - 1, (ev) => seen.push(ev.rv));
    const d = await s.create('/k/d', pod('d'));
    await expect.poll(() => seen).toEqual([c.rv, d.rv]);
    expect(b.rv).toBeLessThan(c.rv);
    // etcd's own history is compacted too
    await expect(etcdClient().get(`${keyPrefix}/k/a`).revision(a.rv).exec()).rejects.toThrow(/compacted/);
  });

  it('runs upstream’s compactor: each interval compacts at the revision seen the interval before', async () => {
    const keyPrefix = fresh();
    const s = await open({ keyPrefix, compactionIntervalMs: 300 });
    // another apiserver on the same etcd, its own compactor off: it learns of the compaction from compact_rev_key
    const other = await open({ keyPrefix, compactionIntervalMs: 0 });
    const a = await s.create('/k/a', pod('a'));
    const watchFromBeforeA = (store: EtcdStorage) => () => {
      try {
        store.watch('/k/', a.rv - 1, () => {}).stop();
        return 'served';
      } catch (e) {
        return (e as StorageError).code;
      }
    };
    expect(watchFromBeforeA(other)()).toBe('served');
    // the first tick records a revision, a later one compacts at it
    await expect.poll(watchFromBeforeA(s), { timeout: 15_000, interval: 200 }).toBe('Gone');
    await expect.poll(watchFromBeforeA(other), { timeout: 5_000, interval: 100 }).toBe('Gone');
    const key = await etcdClient().get('compact_rev_key').exec();
    expect(Number(key.kvs[0].version)).toBeGreaterThanOrEqual(2);
  });

  it('encrypts values at rest in etcd and reads them back', async () => {
    const keyPrefix = fresh();
    const transformer = EncryptionAtRest.fromConfig({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [
        {
          resources: ['secrets'],
          providers: [{ aescbc: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }],
        },
      ],
    });
    const s = await open({ keyPrefix, transformer });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { x: 'c2VjcmV0' } };
    await s.create('/registry/secrets/default/s', secret);
    const value = await etcdClient().get(`${keyPrefix}/registry/secrets/default/s`).buffer();
    expect(value!.subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
    expect(value!.includes(Buffer.from('c2VjcmV0'))).toBe(false);
    await s.close();
    const again = await open({ keyPrefix, transformer });
    expect((await again.get('/registry/secrets/default/s'))?.object).toMatchObject({
      data: { x: 'c2VjcmV0' },
    });
    // without the configuration the apiserver refuses to start rather than serve around the value
    await expect(open({ keyPrefix })).rejects.toThrow(/encrypted at rest.*--encryption-provider-config/);
  });

  it('fails to open with a clear error when no etcd answers', async () => {
    const { freeLocalPort } = await import('../../util/etcd-member.js');
    const port = await freeLocalPort();
    await expect(EtcdStorage.open({ endpoints: [`http://127.0.0.1:${port}`] })).rejects.toThrow(
      new RegExp(`etcd at http://127.0.0.1:${port}`),
    );
  }, 60_000);
});
