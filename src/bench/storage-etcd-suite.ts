// `npm run bench -- --only storage-etcd`: the storage layer on SQLite and on one local etcd member, same run,
// rounds alternating: durable creates/s from 32 writers, list of 10,000 pods p99, and watch latency p99 (a write's
// call to its event reaching a watcher). Needs Debian's etcd-server (`apt-get install etcd-server`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPod } from '../apiserver/storage/bench.js';
import { EtcdStorage } from '../apiserver/storage/etcd-storage.js';
import { SqliteStorage } from '../apiserver/storage/sqlite-storage.js';
import type { Storage } from '../apiserver/storage/storage.js';
import { startEtcdMember } from '../util/etcd-member.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const WRITERS = 32;
const CREATES = 4000;
const LIST_OBJECTS = 10_000;
const LIST_RUNS = 30;
const WATCHED_WRITES = 500;
const ROUNDS = 2;

function p(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)];
}

interface Figures {
  createsPerSec: number;
  listP99: number;
  watchP99: number;
}

async function measure(storage: Storage, round: number): Promise<Figures> {
  const ns = `bench-${round}-${process.pid}`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < CREATES) {
        const name = `w-${String(next++).padStart(6, '0')}`;
        await storage.create(`/registry/pods/${ns}-w/${name}`, benchPod(name, `${ns}-w`));
      }
    }),
  );
  const createsPerSec = CREATES / ((performance.now() - t0) / 1000);

  for (let i = 0; i < LIST_OBJECTS; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, LIST_OBJECTS - i) }, (_, j) => {
        const name = `p-${String(i + j).padStart(6, '0')}`;
        return storage.create(`/registry/pods/${ns}-l/${name}`, benchPod(name, `${ns}-l`));
      }),
    );
  }
  const lists: number[] = [];
  for (let r = 0; r < LIST_RUNS; r++) {
    const t = performance.now();
    const res = await storage.list(`/registry/pods/${ns}-l/`);
    if (res.items.length !== LIST_OBJECTS) throw new Error(`list returned ${res.items.length} items`);
    lists.push(performance.now() - t);
  }

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const watcher = storage.watch(`/registry/pods/${ns}-x/`, storage.currentRV(), (ev) => {
    const t = sentAt.get(ev.key);
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  for (let i = 0; i < WATCHED_WRITES; i++) {
    const key = `/registry/pods/${ns}-x/x-${i}`;
    sentAt.set(key, performance.now());
    await storage.create(key, benchPod(`x-${i}`, `${ns}-x`));
  }
  watcher.stop();
  return {
    createsPerSec,
    listP99: p(
      lists.sort((a, b) => a - b),
      99,
    ),
    watchP99: p(
      latencies.sort((a, b) => a - b),
      99,
    ),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

registerSuite('storage-etcd', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-storage-etcd-'));
  const member = await startEtcdMember({ dataDir: join(dir, 'etcd') });
  const sqlite = SqliteStorage.open({ path: join(dir, 'state.db') });
  const etcd = await EtcdStorage.open({ endpoints: [member.endpoint], compactionIntervalMs: 0 });
  try {
    const runs: Record<'sqlite' | 'etcd', Figures[]> = { sqlite: [], etcd: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // alternate which goes first, so neither always meets the other's leftovers (page cache, GC)
      const order = round % 2 === 0 ? (['sqlite', 'etcd'] as const) : (['etcd', 'sqlite'] as const);
      for (const backend of order)
        runs[backend].push(await measure(backend === 'sqlite' ? sqlite : etcd, round));
    }
    const results: BenchResult[] = [];
    for (const backend of ['sqlite', 'etcd'] as const) {
      const note = `storage layer, ${ROUNDS} rounds (median), 1 local etcd member; same run`;
      results.push(
        {
          name: `storage.${backend}.durable_creates_per_sec`,
          value: Math.round(median(runs[backend].map((f) => f.createsPerSec))),
          unit: '/s',
          note,
        },
        {
          name: `storage.${backend}.list_10k_p99`,
          value: Math.round(median(runs[backend].map((f) => f.listP99)) * 100) / 100,
          unit: 'ms',
          note,
        },
        {
          name: `storage.${backend}.watch_p99`,
          value: Math.round(median(runs[backend].map((f) => f.watchP99)) * 100) / 100,
          unit: 'ms',
          note,
        },
      );
    }
    return results;
  } finally {
    await etcd.close();
    await sqlite.close();
    await member.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
