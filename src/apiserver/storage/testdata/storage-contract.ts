// The storage contract every backend passes (SQLite, etcd): what the registry relies on, with resourceVersions
// compared by order only (etcd's revisions start at 1 and are shared with keys outside the store).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/request.js';
import { MAX_OBJECT_BYTES, StorageError, type Storage, type StorageEvent } from '../storage.js';

export interface ContractBackend {
  /** a new, empty backing store for the next test (a fresh database file; a fresh etcd key prefix) */
  reset(): Promise<void> | void;
  /** a Storage on the current backing store, objects frozen; several may be open on one backing store */
  open(opts?: { watchCacheSize?: number }): Promise<Storage>;
  /** after each test, once its stores are closed */
  cleanup?(): Promise<void> | void;
}

export const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'hello' }] },
  ...extra,
});

export async function storageError(p: Promise<unknown>): Promise<StorageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

/** until the watcher's replay (a microtask) and anything already queued has run */
const settle = () => new Promise((r) => setTimeout(r, 20));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

export function storageContract(name: string, makeBackend: () => ContractBackend): void {
  describe(`${name}: the storage contract`, () => {
    const backend = makeBackend();
    const opened: Storage[] = [];
    const open = async (opts?: { watchCacheSize?: number }): Promise<Storage> => {
      const s = await backend.open(opts);
      opened.push(s);
      return s;
    };
    beforeEach(async () => {
      await backend.reset();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await backend.cleanup?.();
    });

    it('creates, gets, updates and deletes with increasing resourceVersions', async () => {
      const s = await open();
      const input = pod('a');
      const created = await s.create('/pods/default/a', input);
      expect(created.object.metadata?.resourceVersion).toBe(String(created.rv));
      expect(input.metadata?.resourceVersion).toBeUndefined(); // the caller's object is untouched
      expect((await s.get('/pods/default/a'))?.object).toEqual(created.object);
      expect(s.currentRV()).toBe(created.rv);

      const updated = await s.update(
        '/pods/default/a',
        pod('a', { status: { phase: 'Running' } }),
        created.rv,
      );
      expect(updated.rv).toBeGreaterThan(created.rv);
      expect(updated.object).toMatchObject({
        status: { phase: 'Running' },
        metadata: { resourceVersion: String(updated.rv) },
      });

      const deleted = await s.delete('/pods/default/a', updated.rv);
      expect(deleted.rv).toBeGreaterThan(updated.rv);
      expect(deleted.object).toMatchObject({
        status: { phase: 'Running' },
        metadata: { resourceVersion: String(deleted.rv) },
      });
      expect(await s.get('/pods/default/a')).toBeUndefined();
      expect(s.currentRV()).toBe(deleted.rv);
      expect(() => ((created.object.metadata as { name: string }).name = 'x')).toThrow(); // frozen in tests
    });

    it('rejects AlreadyExists, stale-rv Conflict and NotFound without writing', async () => {
      const s = await open();
      const a = await s.create('/k/a', pod('a'));
      expect((await storageError(s.create('/k/a', pod('a')))).code).toBe('AlreadyExists');
      expect((await storageError(s.update('/k/a', pod('a'), a.rv + 7))).code).toBe('Conflict');
      expect((await storageError(s.update('/k/missing', pod('m'), a.rv))).code).toBe('NotFound');
      expect((await storageError(s.delete('/k/a', a.rv + 5))).code).toBe('Conflict');
      expect((await storageError(s.delete('/k/missing'))).code).toBe('NotFound');
      expect(s.currentRV()).toBe(a.rv);
      expect((await s.get('/k/a'))?.rv).toBe(a.rv);
    });

    it('refuses an object over MAX_OBJECT_BYTES as etcd does, writing nothing', async () => {
      const s = await open();
      const a = await s.create('/k/a', pod('a'));
      const big = pod('a', { data: { x: 'x'.repeat(MAX_OBJECT_BYTES) } });
      const err = await storageError(s.update('/k/a', big, a.rv));
      expect(err.code).toBe('TooLarge');
      expect(err.message).toBe('etcdserver: request is too large');
      expect((await storageError(s.create('/k/b', big))).code).toBe('TooLarge');
      expect(s.currentRV()).toBe(a.rv);
      // multi-byte characters count as bytes, as etcd counts them
      const wide = pod('c', { data: { x: 'é'.repeat(MAX_OBJECT_BYTES / 2) } });
      expect((await storageError(s.create('/k/c', wide))).code).toBe('TooLarge');
    });

    it('lists by prefix in key order with pagination and a consistent rv', async () => {
      const s = await open();
      for (const n of ['c', 'a', 'e', 'b', 'd']) await s.create(`/pods/ns1/${n}`, pod(n));
      await s.create('/pods/ns2/a', pod('a'));
      const last = await s.create('/pods/ns10/a', pod('a'));

      const all = await s.list('/pods/ns1/');
      expect(all.items.map((i) => i.key)).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `/pods/ns1/${n}`));
      expect(all.rv).toBe(last.rv);
      expect(all.continueKey).toBeUndefined();

      const page1 = await s.list('/pods/ns1/', { limit: 2 });
      expect(page1.items.map((i) => i.object.metadata?.name)).toEqual(['a', 'b']);
      expect(page1).toMatchObject({ continueKey: '/pods/ns1/b' });
      const page2 = await s.list('/pods/ns1/', { limit: 2, startAfter: page1.continueKey! });
      expect(page2.items.map((i) => i.object.metadata?.name)).toEqual(['c', 'd']);
      const page3 = await s.list('/pods/ns1/', { limit: 2, startAfter: page2.continueKey! });
      expect(page3.items.map((i) => i.object.metadata?.name)).toEqual(['e']);
      expect(page3.continueKey).toBeUndefined();

      expect((await s.list('/pods/')).items).toHaveLength(7);
      expect((await s.list('/nothing/')).items).toEqual([]);
    });

    it('replays cached events after fromRV, then live ones, filtered by prefix, with prevObject', async () => {
      const s = await open();
      const x1 = await s.create('/pods/a/x', pod('x'));
      await s.create('/svc/a/x', pod('x'));
      const x2 = await s.update('/pods/a/x', pod('x', { v: 2 }), x1.rv);
      const seen: StorageEvent[] = [];
      s.watch('/pods/', x1.rv, (ev) => seen.push(ev));
      expect(seen).toEqual([]); // the replay comes after watch() returned
      const x3 = await s.delete('/pods/a/x');
      await s.create('/svc/a/y', pod('y')); // another prefix
      const y = await s.create('/pods/b/y', pod('y'));
      await settle();
      expect(seen.map((e) => [e.type, e.key, e.rv])).toEqual([
        ['MODIFIED', '/pods/a/x', x2.rv],
        ['DELETED', '/pods/a/x', x3.rv],
        ['ADDED', '/pods/b/y', y.rv],
      ]);
      expect(seen[0].prevObject?.metadata?.resourceVersion).toBe(String(x1.rv));
      expect(seen[1].object).toMatchObject({ v: 2, metadata: { resourceVersion: String(x3.rv) } });
      expect(seen[1].prevObject).toMatchObject({ v: 2, metadata: { resourceVersion: String(x2.rv) } });
      expect(seen[2].prevObject).toBeUndefined();
    });

    it('keeps delivering to other watchers when one callback throws, and stops a stopped one', async () => {
      const s = await open();
      const from = s.currentRV();
      const good: number[] = [];
      const stopped: number[] = [];
      s.watch('/', from, () => {
        throw new Error('broken watcher');
      });
      s.watch('/', from, (ev) => good.push(ev.rv));
      const w = s.watch('/', from, (ev) => stopped.push(ev.rv));
      const a = await s.create('/k/a', pod('a'));
      await settle();
      w.stop();
      const b = await s.create('/k/b', pod('b'));
      await settle();
      expect(good).toEqual([a.rv, b.rv]);
      expect(stopped).toEqual([a.rv]);
    });

    it('throws Gone for a resourceVersion older than the window', async () => {
      const s = await open({ watchCacheSize: 3 });
      const rvs: number[] = [];
      for (let i = 0; i < 5; i++) rvs.push((await s.create(`/k/${i}`, pod(`p${i}`))).rv);
      // the window holds the last 3 events: every event after rvs[1]
      const err = thrown(() => s.watch('/k/', rvs[0], () => {}));
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ code: 'Gone', message: `too old resource version: ${rvs[0]} (${rvs[1]})` });
      const seen: number[] = [];
      s.watch('/k/', rvs[1], (ev) => seen.push(ev.rv));
      await settle();
      expect(seen).toEqual(rvs.slice(2));
    });

    it('commits concurrent writes with distinct resourceVersions, each read back after a reopen', async () => {
      let s = await open();
      const acks = await Promise.all(
        Array.from({ length: 200 }, (_, i) => s.create(`/k/${String(i).padStart(4, '0')}`, pod(`p${i}`))),
      );
      expect(new Set(acks.map((a) => a.rv)).size).toBe(200);
      for (const a of acks) expect(a.object.metadata?.name).toBe(`p${Number(a.key.slice(3))}`);
      const top = Math.max(...acks.map((a) => a.rv));
      await s.close();
      s = await open();
      const listed = await s.list('/k/');
      expect(listed.items.map((i) => [i.key, i.rv])).toEqual(acks.map((a) => [a.key, a.rv]));
      expect(s.currentRV()).toBeGreaterThanOrEqual(top);
      expect((await s.create('/k/next', pod('next'))).rv).toBeGreaterThan(top);
    });

    it('keeps resourceVersions increasing across deletes and reopens', async () => {
      let s = await open();
      await s.create('/k/a', pod('a'));
      await s.create('/k/b', pod('b'));
      await s.delete('/k/b');
      const last = await s.delete('/k/a');
      await s.close();
      s = await open();
      expect(s.currentRV()).toBeGreaterThanOrEqual(last.rv);
      expect((await s.create('/k/a', pod('a'))).rv).toBeGreaterThan(last.rv);
    });

    it('lets one writer win a race on the same resourceVersion, the other gets Conflict', async () => {
      const s = await open();
      const a = await s.create('/k/a', pod('a'));
      const results = await Promise.allSettled([
        s.update('/k/a', pod('a', { v: 1 }), a.rv),
        s.update('/k/a', pod('a', { v: 2 }), a.rv),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({ code: 'Conflict' });
    });

    it('deletes an object written with a TTL once it passes (watchers see DELETED); a later write without one keeps it', async () => {
      const s = await open();
      const seen: string[] = [];
      const w = s.watch('/k/', s.currentRV(), (ev) => seen.push(`${ev.type} ${ev.key}`));
      const a = await s.create('/k/a', pod('a'), { ttlSeconds: 1 });
      await s.create('/k/b', pod('b'), { ttlSeconds: 1 });
      await s.create('/k/c', pod('c'));
      // b is written again without a TTL: it stays
      const b = (await s.get('/k/b'))!;
      await s.update('/k/b', pod('b', { v: 2 }), b.rv);
      const deadline = Date.now() + 15_000;
      while ((await s.get('/k/a')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await s.get('/k/a')).toBeUndefined();
      await settle();
      expect(seen).toEqual(['ADDED /k/a', 'ADDED /k/b', 'ADDED /k/c', 'MODIFIED /k/b', 'DELETED /k/a']);
      expect(s.currentRV()).toBeGreaterThan(a.rv);
      // well past b's TTL: b and c are still there
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await s.get('/k/b'))?.object['v']).toBe(2);
      expect(await s.get('/k/c')).toBeDefined();
      w.stop();
    }, 30_000);

    it('an update with a TTL renews it; an expiry survives a reopen', async () => {
      let s = await open();
      const a = await s.create('/k/a', pod('a'), { ttlSeconds: 1 });
      await new Promise((r) => setTimeout(r, 500));
      await s.update('/k/a', pod('a', { v: 2 }), a.rv, { ttlSeconds: 30 });
      await s.close();
      s = await open();
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await s.get('/k/a'))?.object['v']).toBe(2);
      await s.create('/k/short', pod('short'), { ttlSeconds: 1 });
      await s.close();
      s = await open();
      const deadline = Date.now() + 15_000;
      while ((await s.get('/k/short')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await s.get('/k/short')).toBeUndefined();
    }, 30_000);
  });
}
