// A Job of 100 completions, 10 at a time (issue #22): wall time from create to the Complete condition, and the
// startup latency of its pods (create → container started, seen by a watch: upstream's pod startup SLI, ≤ 5 s).
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiConnection, KubeClient } from '../client/index.js';
import { jobClient } from '../controllers/job/job-controller.js';
import { percentile } from './apiserver-process.js';
import { upBenchCluster } from './cluster.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const COMPLETIONS = 100;
const PARALLELISM = 10;

const started = (p: Pod): boolean =>
  (p.status?.containerStatuses ?? []).some((s) => s.state?.running || s.state?.terminated) ||
  p.status?.phase === 'Running' ||
  p.status?.phase === 'Succeeded';

const complete = (j: Job): boolean =>
  j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;

/** one Job run: ms to Complete and each pod's create → started latency */
async function runJob(
  client: KubeClient,
  connection: ApiConnection,
  namespace: string,
): Promise<{ wallMs: number; startups: number[]; pods: number }> {
  await client.namespaces.create({ metadata: { name: namespace } });
  const seen = new Map<string, number>();
  const startups: number[] = [];
  let doneAt: number | undefined;
  const watch = (resource: 'pods' | 'jobs', group: string, rv: string, onObject: (o: unknown) => void) =>
    connection.watch(
      { verb: 'watch', group, version: 'v1', resource, namespace, options: { resourceVersion: rv } },
      (ev) => onObject(ev.object),
      () => undefined,
    );
  const podsRv = (await client.pods.list({ namespace, limit: 1 })).metadata?.resourceVersion ?? '0';
  const podSub = watch('pods', '', podsRv, (o) => {
    const p = o as Pod;
    const name = p.metadata?.name ?? '';
    const now = performance.now();
    if (!seen.has(name)) seen.set(name, now);
    if (seen.get(name)! >= 0 && started(p)) {
      startups.push(now - seen.get(name)!);
      seen.set(name, -1);
    }
  });
  const jobsRv = (await jobClient(client).list({ namespace, limit: 1 })).metadata?.resourceVersion ?? '0';
  const jobSub = watch('jobs', 'batch', jobsRv, (o) => {
    if (doneAt === undefined && complete(o as Job)) doneAt = performance.now();
  });
  const t0 = performance.now();
  await jobClient(client).create(
    {
      metadata: { name: 'hundred' },
      spec: {
        completions: COMPLETIONS,
        parallelism: PARALLELISM,
        template: {
          spec: {
            containers: [{ name: 'work', image: 'busybox', command: ['sh', '-c', 'echo done'] }],
            restartPolicy: 'Never',
          },
        },
      },
    },
    { namespace },
  );
  const deadline = Date.now() + 300_000;
  while (doneAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  podSub.stop();
  jobSub.stop();
  if (doneAt === undefined)
    throw new Error(`the Job of ${COMPLETIONS} completions did not complete in 5 minutes`);
  return { wallMs: doneAt - t0, startups, pods: seen.size };
}

registerSuite('jobs', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(3);
  try {
    const { wallMs, startups, pods } = await runJob(cluster.client, cluster.connection, 'bench-jobs');
    startups.sort((a, b) => a - b);
    const note = `Job of ${COMPLETIONS} completions, parallelism ${PARALLELISM}, busybox \`sh -c 'echo done'\`, 3 nodes, ${pods} pods made`;
    return [
      {
        name: 'Job 100 completions / parallelism 10: create → Complete',
        value: wallMs / 1000,
        unit: 's',
        note,
      },
      {
        name: 'Job pods: startup (create → container started) p50',
        value: percentile(startups, 50),
        unit: 'ms',
        note: `${startups.length} pods; seen by a watch`,
      },
      {
        name: 'Job pods: startup (create → container started) p99',
        value: percentile(startups, 99),
        unit: 'ms',
        target: { op: '<=', value: 5000 },
        note: "upstream's pod startup SLO: p99 ≤ 5 s",
      },
    ];
  } finally {
    await cluster.down();
  }
});
