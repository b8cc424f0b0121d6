// Node failure: the time from SIGKILL of one node of three to a 6-replica Deployment being 6/6 Ready again, twice:
// as a user sees it (from typing `npx kubemu chaos kill-node node-2` to `kubectl get pods -w` showing six Ready pods
// elsewhere) and as the cluster does (from the kill command's start to the API listing them, in process).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { upBenchCluster } from './cluster.js';
import { pollUntil } from './poll.js';
import { watchPods } from './kubectl-watch.js';
import { npxKubemu } from './up-suite.js';

const isReady = (p: Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

registerSuite('node-failure', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(3);
  const { client } = cluster;
  // six Ready pods, none being deleted, none on the dead node: the same test for the API's list and kubectl's watch
  const sixReadyOff =
    (dead?: string) =>
    (pods: Pod[]): boolean =>
      pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp && p.spec?.nodeName !== dead).length ===
      6;
  const readyElsewhere = async (dead?: string): Promise<true | undefined> =>
    sixReadyOff(dead)((await client.pods.list({ namespace: 'default', labelSelector: 'app=six' })).items) ||
    undefined;
  const until = (what: string, check: () => Promise<true | undefined>): Promise<true> =>
    pollUntil(what, 60_000, check, 50);
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
    await until('6/6 Ready', () => readyElsewhere());
    const kubectl = watchPods(cluster.kubeconfig, 'app=six', cluster.env);
    try {
      await kubectl.until(sixReadyOff(), 30_000);
      // the user's clock starts when they type the command: npx, the CLI, pm2, then SIGKILL
      const t0 = performance.now();
      const seenByKubectl = kubectl.until(sixReadyOff('node-2'), 60_000);
      const kill = await npxKubemu(['chaos', 'kill-node', 'node-2', ...cluster.flags], cluster.env);
      await until('6/6 Ready on the other nodes', () => readyElsewhere('node-2'));
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
