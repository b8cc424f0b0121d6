import { describe, it, expect } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { errors } from '../api/errors.js';
import { FakeClock } from '../util/clock.js';
import { FakeApiHandler } from '../testing/fake-api-handler.js';
import { handlerTransport } from './local-transport.js';
import { Informer, keyOf, splitKey } from './informer.js';
import { KubeClient } from './typed-client.js';

const pods = { group: '', version: 'v1', resource: 'pods' };
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

function pod(name: string, nodeName?: string, ns = 'default'): Pod {
  return { metadata: { name, namespace: ns }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } };
}

function setup(opts: { resyncPeriodMs?: number } = {}) {
  const handler = new FakeApiHandler();
  const client = new KubeClient(handlerTransport(handler));
  const clock = new FakeClock();
  const informer = new Informer<Pod>({
    source: client.pods,
    clock,
    pageSize: 2,
    indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    ...opts,
  });
  const log: string[] = [];
  informer.addEventHandler({
    onAdd: (p) => log.push(`add ${keyOf(p)}`),
    onUpdate: (o, n) =>
      log.push(`update ${keyOf(n)} ${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`),
    onDelete: (p) => log.push(`delete ${keyOf(p)}`),
  });
  const put = (p: Pod) => handler.put({ ...pods, namespace: p.metadata!.namespace! }, p as never);
  return { handler, client, clock, informer, log, put };
}

describe('Informer', () => {
  it('lists (paged), syncs, then follows the watch from the list resourceVersion', async () => {
    const s = setup();
    s.put(pod('a', 'n1'));
    s.put(pod('b', 'n2'));
    s.put(pod('c', 'n1'));
    expect(s.informer.hasSynced()).toBe(false);
    s.informer.start();
    await s.informer.waitForSync();
    expect(s.informer.hasSynced()).toBe(true);
    expect(s.log).toEqual(['add default/a', 'add default/b', 'add default/c']);
    expect(s.handler.requests.filter((r) => r.verb === 'list')).toHaveLength(2);
    await flush();
    const watchReq = s.handler.watcherCount();
    expect(watchReq).toBe(1);
    s.put({ ...pod('b', 'n1') });
    await s.client.pods.delete('a', { namespace: 'default' });
    s.put(pod('d'));
    expect(s.log.slice(3)).toEqual(['update default/b 2->4', 'delete default/a', 'add default/d']);
    expect(s.informer.store.byIndex('byNode', 'n1').map(keyOf).sort()).toEqual(['default/b', 'default/c']);
    expect(s.informer.store.byIndex('byNode', 'n2')).toEqual([]);
    expect(s.informer.lastSyncResourceVersion()).toBe('6');
    s.informer.stop();
    expect(s.handler.watcherCount()).toBe(0);
  });

  it('watches from the list resourceVersion with bookmarks', async () => {
    const s = setup();
    s.put(pod('a'));
    s.informer.start();
    await s.informer.waitForSync();
    await flush();
    const watch = s.handler.requests.find((r) => r.verb === 'watch');
    // FakeApiHandler.requests records handle() calls only; check the live watcher instead
    expect(watch).toBeUndefined();
    s.put(pod('b'));
    expect(s.log).toEqual(['add default/a', 'add default/b']);
  });

  it('freezes cached objects so handlers cannot mutate them', async () => {
    const s = setup();
    s.put(pod('a'));
    s.informer.start();
    await s.informer.waitForSync();
    const cached = s.informer.store.getByName('default', 'a')!;
    expect(() => {
      cached.metadata!.labels = { x: 'y' };
    }).toThrow(TypeError);
    expect(Object.isFrozen(cached.spec)).toBe(true);
  });

  it('on 410 relists, emitting deletes for vanished objects and updates for changed ones', async () => {
    const s = setup();
    s.put(pod('keep', 'n1'));
    s.put(pod('change', 'n1'));
    s.put(pod('vanish', 'n1'));
    s.informer.start();
    await s.informer.waitForSync();
    await flush();
    s.log.length = 0;
    // the apiserver's watch cache moved on: the watch ends with 410 and the events in between are never sent
    s.handler.endWatches(errors.gone('too old resource version'));
    s.handler.put({ ...pods, namespace: 'default' }, pod('change', 'n2') as never);
    await s.handler.handle({
      ...pods,
      verb: 'delete',
      namespace: 'default',
      name: 'vanish',
      options: {},
      user: { username: 'x', groups: [] },
    });
    s.put(pod('fresh'));
    await flush();
    expect(s.log.sort()).toEqual(
      ['add default/fresh', 'delete default/vanish', 'update default/change 2->4'].sort(),
    );
    expect(s.informer.store.byIndex('byNode', 'n1').map(keyOf).sort()).toEqual(['default/keep']);
    expect(s.informer.store.byIndex('byNode', 'n2').map(keyOf)).toEqual(['default/change']);
    expect(s.handler.watcherCount()).toBe(1);
  });

  it('re-watches after other errors with backoff 1 s → 30 s', async () => {
    const s = setup();
    s.informer.start();
    await s.informer.waitForSync();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      s.handler.endWatches(errors.internal('boom'));
      await flush();
      expect(s.handler.watcherCount()).toBe(0);
      let waited = 0;
      while (s.handler.watcherCount() === 0 && waited < 60_000) {
        s.clock.advance(250);
        waited += 250;
        await flush();
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    // no relist: the resourceVersion stayed valid
    expect(s.handler.requests.filter((r) => r.verb === 'list')).toHaveLength(1);
  });

  it('retries a failed list with backoff and syncs once it succeeds', async () => {
    const s = setup();
    let fail = true;
    s.handler.hook = () => {
      if (fail) throw errors.internal('db down');
    };
    s.informer.start();
    await flush();
    expect(s.informer.hasSynced()).toBe(false);
    fail = false;
    s.clock.advance(999);
    await flush();
    expect(s.informer.hasSynced()).toBe(false);
    s.clock.advance(1);
    await flush();
    expect(s.informer.hasSynced()).toBe(true);
  });

  it("lists again from the start when a continue token expires (410), as client-go's pager does", async () => {
    const s = setup();
    for (const name of ['a', 'b', 'c', 'd', 'e']) s.put(pod(name));
    let expired = 0;
    s.handler.hook = (req) => {
      // the first continue token is already too old, as after a compaction
      if (req.verb === 'list' && req.options.continue && expired++ === 0) {
        s.put(pod('f')); // written meanwhile: the new list sees it
        throw errors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
    };
    s.informer.start();
    await s.informer.waitForSync();
    const lists = s.handler.requests.filter((r) => r.verb === 'list');
    // page 1, expired page 2, then a whole fresh list of three pages
    expect(lists.map((r) => r.options.continue ?? 'start')).toHaveLength(5);
    expect(lists[2].options.continue).toBeUndefined();
    expect(lists.every((r) => r.options.limit === 2)).toBe(true);
    expect(s.informer.store.keys().sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `default/${n}`));
  });

  it('a second expired continue token fails the list, which is retried with backoff', async () => {
    const s = setup();
    for (const name of ['a', 'b', 'c']) s.put(pod(name));
    let expired = 0;
    s.handler.hook = (req) => {
      if (req.verb === 'list' && req.options.continue && expired++ < 2) throw errors.gone('too old');
    };
    s.informer.start();
    await flush();
    expect(s.informer.hasSynced()).toBe(false);
    s.clock.advance(1_000);
    await s.informer.waitForSync();
    expect(s.informer.store.size()).toBe(3);
  });

  it('resyncs every period with onUpdate(obj, obj)', async () => {
    const s = setup({ resyncPeriodMs: 10_000 });
    s.put(pod('a'));
    s.informer.start();
    await s.informer.waitForSync();
    s.clock.advance(10_000);
    s.clock.advance(10_000);
    expect(s.log).toEqual(['add default/a', 'update default/a 1->1', 'update default/a 1->1']);
  });

  it('tells a handler added after sync about everything cached', async () => {
    const s = setup();
    s.put(pod('a'));
    s.informer.start();
    await s.informer.waitForSync();
    const late: string[] = [];
    s.informer.addEventHandler({ onAdd: (p) => late.push(keyOf(p)) });
    expect(late).toEqual(['default/a']);
  });

  it('keys split back into namespace and name', () => {
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ name: 'node-1' });
    expect(keyOf({ metadata: { name: 'n' } })).toBe('n');
  });
});
