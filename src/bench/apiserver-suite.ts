// Benchmarks of the apiserver (issue: durable creates/s, watch latency, list latency), against a real process.
import { request, Agent } from 'node:https';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { connectKubeClient } from '../client/index.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { percentile, rssMb, startBenchApiServer } from './apiserver-process.js';

const podBody = (name: string, annotations: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench', tier: 'web' }, annotations },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'kubemu/hello:v1',
        ports: [{ containerPort: 8080, name: 'http' }],
        env: [{ name: 'GREETING', value: 'hello' }],
        resources: { requests: { cpu: '100m', memory: '64Mi' } },
      },
    ],
  },
});

function listOnce(
  url: string,
  token: string,
  ca: string,
  agent: Agent,
  path: string,
): Promise<{ ms: number; items: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      `${url}${path}`,
      { agent, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: unknown[] };
          resolve({ ms: performance.now() - t0, items: body.items.length });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

registerSuite('apiserver', async (): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  const server = await startBenchApiServer();
  const { client, connection } = connectKubeClient({
    server: server.url,
    token: server.token,
    ca: server.ca,
  });
  try {
    await client.namespaces.create({ metadata: { name: 'bench' } });
    // what the controller-manager's serviceaccount controller makes: ServiceAccount admission looks it up per pod
    await client.serviceAccounts.create({ metadata: { name: 'default' } }, { namespace: 'bench' });
    // 1. durable creates/s over the WebSocket, 32 concurrent writers
    const total = 10_000;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          const i = next++;
          await client.pods.create(podBody(`p-${String(i).padStart(5, '0')}`), { namespace: 'bench' });
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    results.push({
      name: 'durable creates over WebSocket (32 writers, Pods)',
      value: Math.round(total / seconds),
      unit: 'creates/s',
      target: { op: '>=', value: 3000 },
    });

    // 2. list 10,000 pods: p99 over the REST face (JSON, as kubectl gets it) and the WebSocket
    const agent = new Agent({ keepAlive: true });
    const restTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await listOnce(server.url, server.token, server.ca, agent, '/api/v1/namespaces/bench/pods');
      if (r.items !== total) throw new Error(`listed ${r.items} pods, expected ${total}`);
      restTimes.push(r.ms);
    }
    agent.destroy();
    restTimes.sort((a, b) => a - b);
    results.push({
      name: 'list 10,000 Pods, REST/JSON p99',
      value: percentile(restTimes, 99),
      unit: 'ms',
      target: { op: '<=', value: 500 },
    });
    results.push({ name: 'list 10,000 Pods, REST/JSON p50', value: percentile(restTimes, 50), unit: 'ms' });
    const wsTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = performance.now();
      const l = await client.pods.list({ namespace: 'bench' });
      if (l.items.length !== total) throw new Error('short list');
      wsTimes.push(performance.now() - s);
    }
    wsTimes.sort((a, b) => a - b);
    results.push({
      name: 'list 10,000 Pods, WebSocket p99',
      value: percentile(wsTimes, 99),
      unit: 'ms',
      target: { op: '<=', value: 500 },
    });
    results.push({
      name: 'apiserver RSS with 10,000 Pods',
      value: Math.round(rssMb(server.pid)),
      unit: 'MB',
    });

    // 3. watch delivery latency to 100 watchers (10 connections × 10 watches)
    const watchConns = Array.from({ length: 10 }, () =>
      connectKubeClient({ server: server.url, token: server.token, ca: server.ca }),
    );
    const latencies: number[] = [];
    const sentAt = new Map<string, number>();
    let delivered = 0;
    const subs = [];
    const startRV = (await client.configMaps.list({ namespace: 'bench', limit: 1 })).metadata
      ?.resourceVersion;
    for (const wc of watchConns) {
      for (let w = 0; w < 10; w++) {
        subs.push(
          wc.connection.watch(
            {
              verb: 'watch',
              group: '',
              version: 'v1',
              resource: 'configmaps',
              namespace: 'bench',
              options: { resourceVersion: startRV ?? '0' },
            },
            (ev) => {
              if (ev.type !== 'ADDED') return;
              const at = sentAt.get(ev.object.metadata?.name ?? '');
              if (at !== undefined) {
                latencies.push(performance.now() - at);
                delivered++;
              }
            },
            () => undefined,
          ),
        );
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    const events = 300;
    for (let i = 0; i < events; i++) {
      const name = `w-${i}`;
      sentAt.set(name, performance.now());
      await client.configMaps.create({ metadata: { name }, data: { i: String(i) } }, { namespace: 'bench' });
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (delivered < events * 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    subs.forEach((s) => s.stop());
    await Promise.all(watchConns.map((wc) => wc.connection.close()));
    latencies.sort((a, b) => a - b);
    const note = `${delivered}/${events * 100} deliveries; measured from the create request to receipt, so it includes the durable write`;
    results.push({
      name: 'watch delivery to 100 watchers p50',
      value: percentile(latencies, 50),
      unit: 'ms',
      note,
    });
    results.push({
      name: 'watch delivery to 100 watchers p99',
      value: percentile(latencies, 99),
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note,
    });
  } finally {
    await connection.close();
    await server.stop();
  }
  return results;
});
