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
      'leases',
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

  it("sends the etcd members' status once the user's kube-system Leases are listed, and again when it changes", async () => {
    const api = new FakeApiHandler();
    let members = [
      { endpoint: 'http://127.0.0.1:2379', state: 'leader' as const, raftTerm: '2' },
      { endpoint: 'http://127.0.0.1:2381', state: 'follower' as const, raftTerm: '2' },
    ];
    const { res, lines } = fakeRes();
    serveWatchStream(
      { handler: api, logger: silentLogger(), etcdMembers: () => Promise.resolve(members), etcdPollMs: 5 },
      res as unknown as ServerResponse,
      user,
    );
    await tick();
    const statuses = () => lines().filter((l) => l.type === 'STATUS');
    expect(statuses()).toEqual([{ kind: 'etcd', type: 'STATUS', members }]);
    // unchanged: nothing more
    await tick();
    expect(statuses()).toHaveLength(1);
    members = [
      { endpoint: 'http://127.0.0.1:2379', state: 'not answering' } as never,
      { endpoint: 'http://127.0.0.1:2381', state: 'leader', raftTerm: '3' },
    ];
    await tick();
    expect(statuses().at(-1)).toEqual({ kind: 'etcd', type: 'STATUS', members });
    expect(statuses()).toHaveLength(2);
    res.emit('close');
  });

  it('sends no etcd status to a user who may not read kube-system Leases', async () => {
    const api = new FakeApiHandler();
    const refusing = {
      handle: (req: Parameters<FakeApiHandler['handle']>[0]) =>
        req.resource === 'leases'
          ? Promise.reject(
              errors.forbidden(
                { group: 'coordination.k8s.io', kind: 'Lease', resource: 'leases' },
                'jane',
                'list',
                '',
              ),
            )
          : api.handle(req),
      watch: api.watch.bind(api),
    };
    const { res, lines } = fakeRes();
    let asked = 0;
    serveWatchStream(
      {
        handler: refusing,
        logger: silentLogger(),
        etcdMembers: () => {
          asked++;
          return Promise.resolve([]);
        },
        etcdPollMs: 5,
      },
      res as unknown as ServerResponse,
      { username: 'jane', groups: [] },
    );
    await tick();
    expect(
      lines()
        .filter((l) => l.kind === 'leases')
        .map((l) => l.type),
    ).toEqual(['ERROR']);
    expect(lines().filter((l) => l.type === 'STATUS')).toEqual([]);
    expect(asked).toBe(0);
    res.emit('close');
  });
});
