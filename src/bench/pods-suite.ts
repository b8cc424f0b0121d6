// Pod startup latency for a burst of 100 pods (create → Ready, as seen by a watch), upstream's SLI.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { percentile } from './apiserver-process.js';
import { upBenchCluster } from './cluster.js';

const BURST = 100;

const isReady = (p: Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

registerSuite('pods', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(3);
  try {
    const { client, connection } = cluster;
    await client.namespaces.create({ metadata: { name: 'burst' } });
    const created = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const rv = (await client.pods.list({ namespace: 'burst', limit: 1 })).metadata?.resourceVersion ?? '0';
    const sub = connection.watch(
      {
        verb: 'watch',
        group: '',
        version: 'v1',
        resource: 'pods',
        namespace: 'burst',
        options: { resourceVersion: rv },
      },
      (ev) => {
        const p = ev.object as Pod;
        const name = p.metadata?.name ?? '';
        if (!readyAt.has(name) && isReady(p)) readyAt.set(name, performance.now());
      },
      () => undefined,
    );
    await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const name = `p-${i}`;
        created.set(name, performance.now());
        await client.pods.create(
          { metadata: { name }, spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] } },
          { namespace: 'burst' },
        );
      }),
    );
    const deadline = Date.now() + 60_000;
    while (readyAt.size < BURST && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.stop();
    const latencies = [...readyAt].map(([name, t]) => t - created.get(name)!).sort((a, b) => a - b);
    const note = `${readyAt.size}/${BURST} pods Ready (kubemu/hello:v1, 3 nodes); create request → Ready seen by a watch`;
    return [
      {
        name: 'pod startup, burst of 100: p50',
        value: percentile(latencies, 50),
        unit: 'ms',
        target: { op: '<=', value: 300 },
        note,
      },
      {
        name: 'pod startup, burst of 100: p99',
        value: percentile(latencies, 99),
        unit: 'ms',
        target: { op: '<=', value: 2000 },
        note,
      },
    ];
  } finally {
    await cluster.down();
  }
});
