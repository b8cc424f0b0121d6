// Durability: SIGKILL the apiserver in the middle of a burst of concurrent creates; every create it
// acknowledged is there after the restart, with the same resourceVersion, and resourceVersions go on rising.
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient } from './helpers/http.js';
import { request } from 'node:https';

let server: ApiServerProcess;

beforeAll(async () => {
  server = await startApiServer();
});

afterAll(async () => {
  await server?.cleanup();
});

function post(agent: Agent, path: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${server.url}${path}`,
      {
        method: 'POST',
        agent,
        ca: server.ca,
        headers: {
          Authorization: `Bearer ${server.token}`,
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('durability under SIGKILL', () => {
  it('keeps every acknowledged create across a SIGKILL mid-burst', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const acked = new Map<string, string>();
    let failed = 0;
    let next = 0;
    let killed = false;
    const writer = async (): Promise<void> => {
      while (!killed) {
        const name = `dur-${next++}`;
        try {
          const r = await post(agent, '/api/v1/namespaces/default/configmaps', {
            metadata: { name },
            data: { n: name },
          });
          if (r.status === 201) acked.set(name, r.body.metadata.resourceVersion);
          else failed++;
        } catch {
          failed++;
          if (killed) return;
        }
      }
    };
    const writers = Array.from({ length: 32 }, () => writer());
    // let the burst get going, then pull the plug
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    agent.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const maxAckedRV = Math.max(...[...acked.values()].map(Number));
    expect(acked.size).toBeGreaterThanOrEqual(300);

    await server.restart();
    const api = apiClient(server);
    const list = await api('GET', '/api/v1/namespaces/default/configmaps');
    const stored = new Map<string, string>(
      list.body.items.map((cm: any) => [cm.metadata.name, cm.metadata.resourceVersion]),
    );
    const lost = [...acked].filter(([name, rv]) => stored.get(name) !== rv);
    expect(lost).toEqual([]);
    const after = await api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'after-restart' },
    });
    expect(after.status).toBe(201);
    expect(Number(after.body.metadata.resourceVersion)).toBeGreaterThan(maxAckedRV);
    expect(Number(after.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(list.body.metadata.resourceVersion),
    );
    console.log(
      `durability: ${acked.size} creates acknowledged before SIGKILL, ${lost.length} lost, ${failed} failed in flight`,
    );
  }, 60_000);
});
