// The apiserver's headline figures, measured against one running apiserver process: durable creates/s over the
// WebSocket (32 writers), list 10,000 Pods over REST and the WebSocket, watch delivery to 100 watchers.
// Shared by the `apiserver` suite (one build) and `apiserver-compare` (this build against a baseline).
import { request, Agent } from 'node:https';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { connectKubeClient } from '../client/index.js';
import { cpuMs, rssMb, type BenchApiServer } from './apiserver-process.js';

export const CREATES = 10_000;
export const WRITERS = 32;
export const LISTS = 30;
export const WATCHERS = 100;
export const WATCH_EVENTS = 300;

export interface ApiServerFigures {
  createsPerSec: number;
  /** the apiserver's CPU time per 1,000 creates (user + system), ms: steadier than wall time on a busy machine */
  createCpuMsPer1000: number;
  /** sorted, ms */
  restListMs: number[];
  /** sorted, ms */
  wsListMs: number[];
  /** the apiserver's CPU time per list (REST and WebSocket together), ms */
  listCpuMs: number;
  /** the size of one REST/JSON list's body, bytes: two builds' list times compare only at the same size */
  listBytes: number;
  rssMb: number;
  /** sorted, ms: from the create request to receipt, so it includes the durable write */
  watchMs: number[];
  delivered: number;
}

/**
 * The Pod every side stores. It opts out of the ServiceAccount token mount: builds with ServiceAccount admission
 * add a projected volume and its mount to each Pod (upstream's behaviour), 440 of 2,455 bytes, which builds
 * from before it (the baseline of apiserver-compare) do not; with it, an A/B compared lists of 24.5 MB with
 * lists of 20 MB and called the difference a regression.
 */
export const podBody = (name: string, annotations: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench', tier: 'web' }, annotations },
  spec: {
    automountServiceAccountToken: false,
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
): Promise<{ ms: number; items: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      `${url}${path}`,
      { agent, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const body = JSON.parse(raw.toString('utf8')) as { items: unknown[] };
          resolve({ ms: performance.now() - t0, items: body.items.length, bytes: raw.length });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ascending = (xs: number[]): number[] => xs.sort((a, b) => a - b);

/** what the measurement needs of a running apiserver (its pid: for its CPU time) */
export type MeasuredApiServer = Pick<BenchApiServer, 'url' | 'token' | 'ca' | 'pid'>;

/** Runs the three workloads against `server`, in a new namespace `bench` with its default ServiceAccount. */
export async function measureApiServer(server: MeasuredApiServer): Promise<ApiServerFigures> {
  const { client, connection } = connectKubeClient({
    server: server.url,
    token: server.token,
    ca: server.ca,
  });
  try {
    await client.namespaces.create({ metadata: { name: 'bench' } });
    // what the controller-manager's serviceaccount controller makes: ServiceAccount admission looks it up per
    // pod (an apiserver without that admission gets it too, so both sides of an A/B store the same objects)
    await client.serviceAccounts.create({ metadata: { name: 'default' } }, { namespace: 'bench' });

    // 1. durable creates/s over the WebSocket, 32 concurrent writers
    let next = 0;
    const cpu0 = cpuMs(server.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (next < CREATES) {
          const i = next++;
          await client.pods.create(podBody(`p-${String(i).padStart(5, '0')}`), { namespace: 'bench' });
        }
      }),
    );
    const createsPerSec = CREATES / ((performance.now() - t0) / 1000);
    const createCpuMsPer1000 = ((cpuMs(server.pid) - cpu0) * 1000) / CREATES;

    // 2. list 10,000 pods over the REST face (JSON, as kubectl gets it) and the WebSocket
    const cpu1 = cpuMs(server.pid);
    const agent = new Agent({ keepAlive: true });
    const restListMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < LISTS; i++) {
      const r = await listOnce(server.url, server.token, server.ca, agent, '/api/v1/namespaces/bench/pods');
      if (r.items !== CREATES) throw new Error(`listed ${r.items} pods, expected ${CREATES}`);
      restListMs.push(r.ms);
      listBytes = r.bytes;
    }
    agent.destroy();
    const wsListMs: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const s = performance.now();
      const l = await client.pods.list({ namespace: 'bench' });
      if (l.items.length !== CREATES) throw new Error(`listed ${l.items.length} pods, expected ${CREATES}`);
      wsListMs.push(performance.now() - s);
    }
    const listCpuMs = (cpuMs(server.pid) - cpu1) / (2 * LISTS);
    const rss = rssMb(server.pid);

    // 3. watch delivery latency to 100 watchers (10 connections × 10 watches)
    const watchConns = Array.from({ length: WATCHERS / 10 }, () =>
      connectKubeClient({ server: server.url, token: server.token, ca: server.ca }),
    );
    const watchMs: number[] = [];
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
                watchMs.push(performance.now() - at);
                delivered++;
              }
            },
            () => undefined,
          ),
        );
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < WATCH_EVENTS; i++) {
      const name = `w-${i}`;
      sentAt.set(name, performance.now());
      await client.configMaps.create({ metadata: { name }, data: { i: String(i) } }, { namespace: 'bench' });
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (delivered < WATCH_EVENTS * WATCHERS && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    subs.forEach((s) => s.stop());
    await Promise.all(watchConns.map((wc) => wc.connection.close()));
    return {
      createsPerSec,
      createCpuMsPer1000,
      restListMs: ascending(restListMs),
      wsListMs: ascending(wsListMs),
      listCpuMs,
      listBytes,
      rssMb: rss,
      watchMs: ascending(watchMs),
      delivered,
    };
  } finally {
    await connection.close();
  }
}
