// Storage benchmark for `npm run bench`: durable create throughput under concurrency, and list latency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../api/request.js';
import { SqliteStorage } from './sqlite-storage.js';

export interface StorageBenchOptions {
  /** directory for the database (default: a fresh temp dir, removed afterwards) */
  dir?: string;
  writers?: number;
  creates?: number;
  listObjects?: number;
  listRuns?: number;
}

/** A pod of about 2 KB of JSON, the size of a typical scheduled, running pod. */
export function benchPod(name: string, namespace = 'bench'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`,
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '5d8f7c9b6' },
      annotations: { 'kubemu.io/note': 'x'.repeat(200) },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-5d8f7c9b6',
          uid: 'f1e2d3c4-b5a6-4890-abcd-ef1234567890',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      creationTimestamp: '2024-01-01T00:00:00Z',
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'hello:1.0',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: Array.from({ length: 8 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` })),
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
        },
      ],
      restartPolicy: 'Always',
      nodeName: 'node-1',
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: '127.244.1.5',
      hostIP: '127.0.1.1',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2024-01-01T00:00:01Z',
      })),
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          restartCount: 0,
          image: 'hello:1.0',
          imageID: `sha256:${'ab'.repeat(32)}`,
          state: { running: { startedAt: '2024-01-01T00:00:01Z' } },
        },
      ],
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Durable creates/s from concurrent writers, list p50/p99 over `listObjects` pods, and reopen time. */
export async function benchStorage(opts: StorageBenchOptions = {}): Promise<Record<string, number>> {
  const writers = opts.writers ?? 32;
  const creates = opts.creates ?? 20_000;
  const listObjects = opts.listObjects ?? 10_000;
  const listRuns = opts.listRuns ?? 100;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kubemu-storage-bench-'));
  const path = join(dir, `bench-${process.pid}.db`);
  let storage = SqliteStorage.open({ path });
  try {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < creates) {
          const name = `w-${String(next++).padStart(6, '0')}`;
          await storage.create(`/registry/pods/writes/${name}`, benchPod(name, 'writes'));
        }
      }),
    );
    const createSeconds = (performance.now() - t0) / 1000;
    const { commits } = storage.stats();

    // list: exactly listObjects pods in their own namespace
    for (let i = 0; i < listObjects; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, listObjects - i) }, (_, j) => {
          const name = `p-${String(i + j).padStart(6, '0')}`;
          return storage.create(`/registry/pods/list/${name}`, benchPod(name, 'list'));
        }),
      );
    }
    const durations: number[] = [];
    for (let run = 0; run < listRuns; run++) {
      const t = performance.now();
      const result = await storage.list('/registry/pods/list/');
      if (result.items.length !== listObjects)
        throw new Error(`list returned ${result.items.length} items, want ${listObjects}`);
      durations.push(performance.now() - t);
    }
    durations.sort((a, b) => a - b);

    await storage.close();
    const t1 = performance.now();
    storage = SqliteStorage.open({ path });
    const reopenMs = performance.now() - t1;

    return {
      'storage.creates_per_sec': Math.round(creates / createSeconds),
      'storage.ops_per_commit': Math.round((creates / commits) * 10) / 10,
      'storage.list_10k_p50_ms': Math.round(percentile(durations, 50) * 100) / 100,
      'storage.list_10k_p99_ms': Math.round(percentile(durations, 99) * 100) / 100,
      'storage.reopen_ms': Math.round(reopenMs),
    };
  } finally {
    await storage.close();
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    else for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}
