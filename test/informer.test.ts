// The informer against a real apiserver: watch resume after a lost connection, and 410 → relist when
// what it missed has left the server's watch window.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKubeClient, Informer, type ApiConnection, type KubeClient } from '../src/client/index.js';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';

/** A TCP proxy the test can cut and restore, standing for a flaky network between client and server. */
class CuttableProxy {
  private server!: Server;
  private sockets = new Set<Socket>();
  private open = true;
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let server: ApiServerProcess;
let admin: { client: KubeClient; connection: ApiConnection };

beforeAll(async () => {
  // a small watch window, so that a short outage is enough to fall out of it
  server = await startApiServer({ extraArgs: ['--watch-cache-size', '50'] });
  admin = connectKubeClient({ server: server.url, token: server.token, ca: server.ca });
});

afterAll(async () => {
  await admin?.connection.close();
  await server?.cleanup();
});

async function until(pred: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('informer over the WebSocket face', () => {
  async function runScenario(
    ns: string,
    writesWhileCut: number,
  ): Promise<{ added: Set<string>; deleted: Set<string>; names: string[] }> {
    await admin.client.namespaces.create({ metadata: { name: ns } });
    for (let i = 0; i < 5; i++)
      await admin.client.configMaps.create({ metadata: { name: `before-${i}` } }, { namespace: ns });
    const proxy = new CuttableProxy(server.port);
    await proxy.start();
    const { client, connection } = connectKubeClient({
      server: `https://127.0.0.1:${proxy.port}`,
      token: server.token,
      ca: server.ca,
    });
    const informer = new Informer<ConfigMap>({
      source: client.configMaps,
      namespace: ns,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const added = new Set<string>();
    const deleted = new Set<string>();
    informer.addEventHandler({
      onAdd: (cm) => added.add(cm.metadata!.name!),
      onDelete: (cm) => deleted.add(cm.metadata!.name!),
    });
    try {
      informer.start();
      await informer.waitForSync();
      expect(informer.store.list()).toHaveLength(5);
      proxy.cut();
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < writesWhileCut; i++)
        await admin.client.configMaps.create({ metadata: { name: `during-${i}` } }, { namespace: ns });
      await admin.client.configMaps.delete('before-0', { namespace: ns });
      proxy.restore();
      await until(() => informer.store.list().length === 4 + writesWhileCut);
      const names = informer.store
        .list()
        .map((cm) => cm.metadata!.name!)
        .sort();
      return { added, deleted, names };
    } finally {
      informer.stop();
      await connection.close();
      await proxy.close();
    }
  }

  it('resumes its watch after a lost connection and misses nothing', async () => {
    const { added, deleted, names } = await runScenario('resume', 3);
    expect(names).toEqual([
      'before-1',
      'before-2',
      'before-3',
      'before-4',
      'during-0',
      'during-1',
      'during-2',
    ]);
    expect([...deleted]).toEqual(['before-0']);
    expect(added.has('during-2')).toBe(true);
  });

  it('relists on 410 when it fell out of the watch window, and converges', async () => {
    // 120 writes > the 50-event window: resuming from the old resourceVersion gets 410 Expired
    const { added, deleted, names } = await runScenario('relist', 120);
    expect(names).toHaveLength(124);
    expect(names).not.toContain('before-0');
    expect(deleted.has('before-0')).toBe(true);
    expect(added.has('during-119')).toBe(true);
    // and the server really did answer 410 for that resume
    const gone = await new Promise<string>((resolve) => {
      admin.connection.watch(
        {
          verb: 'watch',
          group: '',
          version: 'v1',
          resource: 'configmaps',
          namespace: 'relist',
          options: { resourceVersion: '1' },
        },
        () => undefined,
        (err) => resolve(err?.reason ?? 'ended without error'),
      );
    });
    expect(gone).toBe('Expired');
  });
});
