// Node failure: the time from SIGKILL of one node of three to a 6-replica Deployment being 6/6 Ready again.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { upBenchCluster } from './cluster.js';

const isReady = (p: Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

registerSuite('node-failure', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(3);
  const { client } = cluster;
  const readyElsewhere = async (dead?: string): Promise<number> => {
    const pods = await client.pods.list({ namespace: 'default', labelSelector: 'app=six' });
    return pods.items.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp && p.spec?.nodeName !== dead)
      .length;
  };
  const until = async (what: string, pred: () => Promise<boolean>, ms = 60_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await client.deployments.create(
      {
        metadata: { name: 'six' },
        spec: {
          replicas: 6,
          selector: { matchLabels: { app: 'six' } },
          template: {
            metadata: { labels: { app: 'six' } },
            spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] },
          },
        },
      },
      { namespace: 'default' },
    );
    await until('6/6 Ready', async () => (await readyElsewhere()) === 6);
    const t0 = performance.now();
    await cluster.kubemu(['chaos', 'kill-node', 'node-2']);
    await until('6/6 Ready on the other nodes', async () => (await readyElsewhere('node-2')) === 6);
    const recovery = performance.now() - t0;
    return [
      {
        name: 'node failure: kill → 6/6 Ready elsewhere',
        value: Math.round(recovery),
        unit: 'ms',
        target: { op: '<=', value: 5000 },
        note: 'kubemu defaults: lease 2 s, node-monitor-grace 2 s, toleration 2 s (upstream 40 s + 300 s)',
      },
    ];
  } finally {
    await cluster.down();
  }
});
