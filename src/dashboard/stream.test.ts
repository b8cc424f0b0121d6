// The dashboard's multiplexed watch stream over a fake API: SYNC per kind, then events, relist after 410.
import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { errors } from '../api/errors.js';
import { FakeApiHandler } from '../testing/fake-api-handler.js';
import { silentLogger } from '../util/logger.js';
import { serveWatchStream } from './stream.js';
import type { StreamLine } from './model.js';

const user = { username: 'admin', groups: ['system:masters'] };

function fakeRes() {
  const res = Object.assign(new EventEmitter(), {
    out: '',
    ended: false,
    writableLength: 0,
    writeHead: () => res,
    flushHeaders: () => undefined,
    write(chunk: string) {
      res.out += chunk;
      return true;
    },
    end() {
      res.ended = true;
    },
  });
  const lines = (): StreamLine[] =>
    res.out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StreamLine);
  return { res, lines };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

const createPod = (api: FakeApiHandler, name: string) =>
  api.handle({
    verb: 'create',
    group: '',
    version: 'v1',
    resource: 'pods',
    namespace: 'default',
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [] },
    },
    options: {},
    user,
  });

describe('dashboard watch stream', () => {
  it('lists every kind, then streams its events, and relists after the watch expired', async () => {
    const api = new FakeApiHandler();
    await createPod(api, 'a');
    const { res, lines } = fakeRes();
    serveWatchStream(
      { handler: api, logger: silentLogger(), rewatchDelayMs: 1 },
      res as unknown as ServerResponse,
      user,
    );
    await tick();
    const syncs = lines().filter((l) => l.type === 'SYNC');
    expect(syncs.map((l) => l.kind).sort()).toEqual([
      'deployments',
      'endpoints',
      'events',
      'hpas',
      'ingresses',
      'nodes',
      'pods',
      'replicasets',
      'services',
    ]);
    const podSync = syncs.find((l) => l.kind === 'pods');
    expect(podSync?.type === 'SYNC' && podSync.items.map((i) => i.metadata?.name)).toEqual(['a']);

    await createPod(api, 'b');
    await tick();
    expect(lines().at(-1)).toMatchObject({
      kind: 'pods',
      type: 'ADDED',
      object: { metadata: { name: 'b' } },
    });

    const before = lines().length;
    api.endWatches(errors.gone('too old resource version'));
    await tick();
    const relisted = lines()
      .slice(before)
      .filter((l) => l.type === 'SYNC' && l.kind === 'pods');
    expect(relisted).toHaveLength(1);
    expect(relisted[0].type === 'SYNC' && relisted[0].items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);

    // the page went away: every watch stops
    res.emit('close');
    await tick();
    expect(res.ended).toBe(true);
    expect(api.watcherCount()).toBe(0);
  });

  it('re-watches from where it was when the server ends a watch cleanly', async () => {
    const api = new FakeApiHandler();
    const { res, lines } = fakeRes();
    serveWatchStream(
      { handler: api, logger: silentLogger(), rewatchDelayMs: 1 },
      res as unknown as ServerResponse,
      user,
    );
    await tick();
    api.endWatches();
    await tick();
    await createPod(api, 'c');
    await tick();
    expect(
      lines()
        .filter((l) => l.kind === 'pods')
        .map((l) => l.type),
    ).toEqual(['SYNC', 'ADDED']);
    res.emit('close');
  });
});
