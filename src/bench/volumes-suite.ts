// How soon a running pod's ConfigMap volume shows a ConfigMap update (issue #16: upstream's kubelet takes up to its
// sync period plus its cache TTL; kubemu aims at about 2 s in compressed time).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { percentile } from './apiserver-process.js';
import { upBenchCluster } from './cluster.js';
import { pollUntil } from './poll.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const UPDATES = 30;
const POLL_MS = 5;

const isReady = (p: Pod | undefined): boolean =>
  p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Polls `check` every POLL_MS; a failed read (the pod not there yet) counts as "not yet". */
const until = <T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, ms, () => check().catch(() => undefined), POLL_MS);

registerSuite('volumes', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(1);
  try {
    const { client } = cluster;
    const namespace = 'default';
    await client.configMaps.create(
      { metadata: { name: 'bench-config' }, data: { key: 'v0' } },
      { namespace },
    );
    await client.pods.create(
      {
        metadata: { name: 'reader' },
        spec: {
          containers: [
            {
              name: 'reader',
              image: 'busybox',
              command: ['sh', '-c', 'while true; do sleep 1; done'],
              volumeMounts: [{ name: 'config', mountPath: '/etc/config' }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: 'bench-config' } }],
        },
      },
      { namespace },
    );
    const pod = await until('the reader pod to be Ready', 60_000, async () => {
      const p = await client.pods.get('reader', namespace);
      return isReady(p) ? p : undefined;
    });
    // the file the container's bind mount shows: <node root>/pods/<uid>/volumes/<volume>/<key>
    const file = join(
      cluster.stateDir,
      'nodes',
      pod.spec!.nodeName!,
      'pods',
      pod.metadata!.uid!,
      'volumes',
      'config',
      'key',
    );
    const latencies: number[] = [];
    for (let i = 1; i <= UPDATES; i++) {
      const value = `v${i}`;
      const start = performance.now();
      await client.configMaps.patch('bench-config', { data: { key: value } }, 'merge', { namespace });
      await until(`${value} in the volume`, 30_000, async () =>
        (await readFile(file, 'utf8')) === value ? true : undefined,
      );
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const note = `${UPDATES} merge patches of a ConfigMap, one after another; patch request → new value in the running pod's volume (polled every ${POLL_MS} ms)`;
    return [
      {
        name: 'ConfigMap update → volume: p50',
        value: percentile(latencies, 50),
        unit: 'ms',
        target: { op: '<=', value: 1000 },
        note,
      },
      {
        name: 'ConfigMap update → volume: p99',
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
