// A StatefulSet of 10 replicas (OrderedReady, the default) from create to all Ready, with one PersistentVolumeClaim
// per pod (issue #22's Show 3), and each pod's startup as a watch sees it: ADDED → Ready. Upstream's pod startup SLO
// (p99 ≤ 5 s) holds per pod. Without a default StorageClass the suite brings a static hostPath PV per claim, as a
// user would. A run without claims comes first, so the claim-free cost of ordered start is on its own row.
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolume, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { join } from 'node:path';
import type { KubeClient } from '../client/index.js';
import { percentile } from './apiserver-process.js';
import { upBenchCluster, type BenchCluster } from './cluster.js';
import { pollUntil } from './poll.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const REPLICAS = 10;
const namespace = 'default';

const isReady = (p: Pod): boolean =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

function statefulSet(name: string, withClaims: boolean): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: {
      serviceName: name,
      replicas: REPLICAS,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: 'kubemu/hello:v1',
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              ...(withClaims ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}),
            },
          ],
        },
      },
      ...(withClaims
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
              },
            ],
          }
        : {}),
    },
  };
}

/** static hostPath PVs, one per claim, when the cluster has no default StorageClass to provision them */
async function staticVolumesIfNeeded(cluster: BenchCluster, name: string): Promise<boolean> {
  const classes = await cluster.client
    .resource<StorageClass>('storage.k8s.io', 'v1', 'storageclasses')
    .list();
  const hasDefault = classes.items.some(
    (s) => s.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
  );
  if (hasDefault) return false;
  const pvs = cluster.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
  for (let i = 0; i < REPLICAS; i++)
    await pvs.create({
      metadata: { name: `${name}-pv-${i}` },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: join(cluster.stateDir, `${name}-pv-${i}`), type: 'DirectoryOrCreate' },
      },
    });
  return true;
}

interface Run {
  totalMs: number;
  startupsMs: number[];
  /** per ordinal > 0: its predecessor Ready → it ADDED, the controller's share of an ordered start */
  gapsMs: number[];
}

/** create the set, watch its pods: create → all Ready, and per pod ADDED → first Ready */
async function measure(client: KubeClient, set: StatefulSet): Promise<Run> {
  const name = set.metadata!.name!;
  const listed = await client.pods.list({ namespace, labelSelector: `app=${name}`, limit: 1 });
  const added = new Map<string, number>();
  const ready = new Map<string, number>();
  const sub = client.pods.watch(
    { namespace, labelSelector: `app=${name}`, resourceVersion: listed.metadata.resourceVersion ?? '0' },
    (ev) => {
      const pod = ev.object;
      const podName = pod.metadata?.name ?? '';
      const now = performance.now();
      if (!added.has(podName)) added.set(podName, now);
      if (isReady(pod) && !ready.has(podName)) ready.set(podName, now);
    },
    () => undefined,
  );
  try {
    const start = performance.now();
    await client.resource<StatefulSet>('apps', 'v1', 'statefulsets').create(set);
    await pollUntil(
      `${REPLICAS} Ready pods of StatefulSet ${name}`,
      180_000,
      () => Promise.resolve(ready.size >= REPLICAS ? true : undefined),
      20,
    );
    const totalMs = performance.now() - start;
    const startupsMs = [...ready].map(([pod, t]) => t - (added.get(pod) ?? t)).sort((a, b) => a - b);
    const gapsMs: number[] = [];
    for (let i = 1; i < REPLICAS; i++) {
      const prev = ready.get(`${name}-${i - 1}`);
      const next = added.get(`${name}-${i}`);
      if (prev !== undefined && next !== undefined) gapsMs.push(next - prev);
    }
    gapsMs.sort((a, b) => a - b);
    return { totalMs, startupsMs, gapsMs };
  } finally {
    sub.stop();
  }
}

function rows(label: string, run: Run, note: string): BenchResult[] {
  return [
    {
      name: `StatefulSet ${REPLICAS} replicas ${label}: create → all Ready`,
      value: run.totalMs / 1000,
      unit: 's',
      note,
    },
    {
      name: `StatefulSet ${REPLICAS} replicas ${label}: pod startup p50`,
      value: percentile(run.startupsMs, 50) / 1000,
      unit: 's',
      note: 'per pod, pod ADDED → Ready as a watch sees them',
    },
    {
      name: `StatefulSet ${REPLICAS} replicas ${label}: pod startup p99`,
      value: percentile(run.startupsMs, 99) / 1000,
      unit: 's',
      target: { op: '<=', value: 5 },
      note: "upstream's pod startup SLO, per pod",
    },
    {
      name: `StatefulSet ${REPLICAS} replicas ${label}: predecessor Ready → next pod created, p50`,
      value: percentile(run.gapsMs, 50) / 1000,
      unit: 's',
      note: "the controller's own share of an ordered start, as a watch sees it",
    },
  ];
}

registerSuite('statefulset', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(3);
  try {
    const results: BenchResult[] = [];
    const plain = await measure(cluster.client, statefulSet('plain', false));
    results.push(
      ...rows('without claims', plain, 'OrderedReady: each pod starts once its predecessor is Ready'),
    );
    const staticPvs = await staticVolumesIfNeeded(cluster, 'data');
    try {
      const withClaims = await measure(cluster.client, statefulSet('data', true));
      results.push(
        ...rows(
          'with PVCs',
          withClaims,
          `OrderedReady, one claim per pod (${staticPvs ? 'static hostPath PVs made by the suite' : 'the default StorageClass provisions them'})`,
        ),
      );
    } catch (err) {
      results.push({
        name: `StatefulSet ${REPLICAS} replicas with PVCs: create → all Ready`,
        value: NaN,
        unit: 's',
        note: `did not come up: ${(err as Error).message}`,
      });
    }
    return results;
  } finally {
    await cluster.down();
  }
});
