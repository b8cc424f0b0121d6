// Node failure: the time from SIGKILL of one node of three to a 6-replica Deployment being 6/6 Ready again, twice:
// as a user sees it (from typing `npx kubemu chaos kill-node node-2` to `kubectl get pods -w` showing six Ready pods
// elsewhere) and as the cluster does (from the kill command's start to the API listing them, in process).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { upBenchCluster } from './cluster.js';
import { watchPods } from './kubectl-watch.js';
import { npxKubemu } from './up-suite.js';

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
    const readyOff = (dead: string) => (pods: Pod[]) =>
      pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp && p.spec?.nodeName !== dead).length ===
      6;
    const kubectl = watchPods(cluster.kubeconfig, 'app=six', cluster.env);
    try {
      await kubectl.until(readyOff('none'), 30_000);
      // the user's clock starts when they type the command: npx, the CLI, pm2, then SIGKILL
      const t0 = performance.now();
      const seenByKubectl = kubectl.until(readyOff('node-2'), 60_000);
      const kill = await npxKubemu(['chaos', 'kill-node', 'node-2', ...cluster.flags], cluster.env);
      await until('6/6 Ready on the other nodes', async () => (await readyElsewhere('node-2')) === 6);
      const recovery = performance.now() - t0;
      const userMs = (await seenByKubectl) - t0;
      return [
        {
          name: 'node failure: npx kubemu chaos kill-node → 6/6 Ready elsewhere, as kubectl -w sees it',
          value: Math.round(userMs),
          unit: 'ms',
          target: { op: '<=', value: 5000 },
          note: `the kill command itself took ${Math.round(kill.ms)} ms (npx included) to exit`,
        },
        {
          name: 'node failure: kill → 6/6 Ready elsewhere, as the API lists them',
          value: Math.round(recovery),
          unit: 'ms',
          target: { op: '<=', value: 5000 },
          note: 'kubemu defaults: lease 2 s, node-monitor-grace 2 s, toleration 2 s (upstream 40 s + 300 s); polled every 50 ms',
        },
      ];
    } finally {
      kubectl.stop();
    }
  } finally {
    await cluster.down();
  }
});
