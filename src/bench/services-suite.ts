// Service data path: keep-alive HTTP throughput and p99 through a NodePort and a ClusterIP versus straight to
// the pod (same load, same run), and kube-proxy's memory with 1,000 Services of 3 endpoints.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import { percentile, rssMb } from './apiserver-process.js';
import { closedLoop, type LoadStats } from './load.js';
import { upBenchCluster } from './cluster.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const CONCURRENCY = 16;
const DURATION_MS = 5000;
/** rounds of direct / NodePort / ClusterIP (order alternating): this machine's speed drifts between runs */
const ROUNDS = 5;
const ROUND_MS = 2000;
const MANY_SERVICES = 1000;

/** `concurrency` keep-alive loops of GET / for `durationMs`; latencies of successful requests only */
export async function httpLoad(
  host: string,
  port: number,
  concurrency = CONCURRENCY,
  durationMs = DURATION_MS,
): Promise<LoadStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await closedLoop(concurrency, durationMs, () => http.get({ host, port, path: '/', agent }));
  } finally {
    agent.destroy();
  }
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** TCP sockets listening on 127.96.x.x (ClusterIPs), from /proc/net/tcp */
function clusterIPListeners(): number {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[3] === '0A' && /^[0-9A-F]{4}607F:/.test(f[1] ?? '');
    }).length;
}

/** 1,000 selector-less Services, each with a hand-made EndpointSlice of 3 endpoints (what kube-proxy sees) */
export async function createManyServices(client: KubeClient, namespace: string): Promise<void> {
  await client.namespaces.create({ metadata: { name: namespace } });
  const one = async (i: number): Promise<void> => {
    const name = `s-${i}`;
    await client.services.create(
      { metadata: { name }, spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      { namespace },
    );
    await client.endpointSlices.create(
      {
        metadata: { name, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [{ name: '', port: 8080, protocol: 'TCP' }],
        endpoints: [0, 1, 2].map((j) => ({
          addresses: [`127.244.${1 + j}.${1 + (i % 250)}`],
          conditions: { ready: true },
          nodeName: `node-${1 + j}`,
        })),
      },
      { namespace },
    );
  };
  for (let i = 0; i < MANY_SERVICES; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, MANY_SERVICES - i) }, (_, k) => one(i + k)));
}

registerSuite('services', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(1);
  try {
    const { client } = cluster;
    const ns = 'default';
    await client.pods.create(
      {
        metadata: { name: 'target', labels: { app: 'target' } },
        spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] },
      },
      { namespace: ns },
    );
    const svc = await client.services.create(
      {
        metadata: { name: 'target' },
        spec: { type: 'NodePort', selector: { app: 'target' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
      { namespace: ns },
    );
    const podIP = await waitFor('the pod Ready', async () => {
      const p: Pod = await client.pods.get('target', ns);
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? p.status?.podIP : undefined;
    });
    const nodePort = svc.spec!.ports![0].nodePort!;
    const clusterIP = svc.spec!.clusterIP!;
    const nodeIP = '127.0.1.1';
    await waitFor('the Service proxied', async () =>
      (await httpLoad(clusterIP, 80, 1, 50)).requests > 0 &&
      (await httpLoad(nodeIP, nodePort, 1, 50)).requests > 0
        ? true
        : undefined,
    );
    // warm up every path (JIT, connections), then measure each in turn
    for (const [h, p] of [
      [podIP, 8080],
      [nodeIP, nodePort],
      [clusterIP, 80],
    ] as const)
      await httpLoad(h, p, CONCURRENCY, 1000);
    const paths = [
      ['direct', podIP, 8080],
      ['NodePort', nodeIP, nodePort],
      ['ClusterIP', clusterIP, 80],
    ] as const;
    const runs = new Map<string, LoadStats[]>(paths.map(([label]) => [label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [...paths] : [...paths].reverse();
      for (const [label, h, p] of order) runs.get(label)!.push(await httpLoad(h, p, CONCURRENCY, ROUND_MS));
    }
    const med = (xs: number[]): number =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const summary = (label: string): LoadStats => {
      const r = runs.get(label)!;
      return {
        requests: r.reduce((n, x) => n + x.requests, 0),
        errors: r.reduce((n, x) => n + x.errors, 0),
        rps: med(r.map((x) => x.rps)),
        p50Ms: med(r.map((x) => x.p50Ms)),
        p99Ms: med(r.map((x) => x.p99Ms)),
      };
    };
    const direct = summary('direct');
    const setup = `kubemu/hello:v1, 1 node, ${CONCURRENCY} keep-alive connections; median of ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s`;
    const rows = (label: string, s: LoadStats): BenchResult[] => [
      {
        name: `HTTP ${label}: throughput`,
        value: Math.round(s.rps),
        unit: 'req/s',
        note: `${s.requests} ok, ${s.errors} errors; ${setup}`,
      },
      {
        name: `HTTP ${label}: p99`,
        value: Number(s.p99Ms.toFixed(2)),
        unit: 'ms',
        note: `p50 ${s.p50Ms.toFixed(2)} ms`,
      },
    ];
    const relative = (label: string): BenchResult[] => {
      const via = runs.get(label)!;
      const d = runs.get('direct')!;
      const ratios = via.map((v, i) => v.rps / d[i].rps);
      const added = via.map((v, i) => v.p99Ms - d[i].p99Ms);
      const range = (xs: number[]): string =>
        `rounds ${Math.min(...xs).toFixed(2)} to ${Math.max(...xs).toFixed(2)}`;
      return [
        {
          name: `HTTP via ${label}: throughput / direct`,
          value: Number(med(ratios).toFixed(3)),
          unit: 'ratio',
          target: { op: '>=', value: 0.7 },
          note: `median of per-round ratios; ${range(ratios)}`,
        },
        {
          name: `HTTP via ${label}: added p99`,
          value: Number(med(added).toFixed(2)),
          unit: 'ms',
          target: { op: '<=', value: 1 },
          note: `median of per-round differences; ${range(added)}`,
        },
      ];
    };
    const results: BenchResult[] = [
      ...rows('direct to pod', direct),
      ...rows('via NodePort', summary('NodePort')),
      ...rows('via ClusterIP', summary('ClusterIP')),
      ...relative('NodePort'),
      ...relative('ClusterIP'),
    ];

    const proxy = (await cluster.processes()).find((p) => p.name === 'kube-proxy-node-1');
    const before = proxy ? rssMb(proxy.pid) : NaN;
    const listenersBefore = clusterIPListeners();
    await createManyServices(client, 'many');
    await waitFor(
      `${MANY_SERVICES} ClusterIPs bound`,
      () => Promise.resolve(clusterIPListeners() - listenersBefore >= MANY_SERVICES ? true : undefined),
      120_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const after = proxy ? rssMb(proxy.pid) : NaN;
    results.push({
      name: `kube-proxy RSS, ${MANY_SERVICES} Services × 3 endpoints`,
      value: Number(after.toFixed(1)),
      unit: 'MB',
      target: { op: '<=', value: 150 },
      note: `${before.toFixed(1)} MB before; every ClusterIP bound by the one node's kube-proxy`,
    });
    return results;
  } finally {
    await cluster.down();
  }
});
