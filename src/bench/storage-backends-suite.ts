// `npm run bench -- --only storage-backends`: the storage layer on SQLite, on one local etcd member and on a
// 3-member etcd cluster, same run, rounds alternating: durable creates/s from 32 writers, list of 10,000 pods p99,
// and watch latency p99 (a write's call to its event reaching a watcher). Then the failover time of the 3-member
// cluster: SIGKILL of the raft leader → first write acknowledged, p50 of 5 trials, with compressed election
// timeouts (heartbeat 10 ms, election 100 ms) and with etcd's defaults (100 ms, 1 s), as upstream runs it.
// Needs Debian's etcd-server (`apt-get install etcd-server`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPod } from '../apiserver/storage/bench.js';
import { EtcdStorage } from '../apiserver/storage/etcd-storage.js';
import { SqliteStorage } from '../apiserver/storage/sqlite-storage.js';
import type { Storage } from '../apiserver/storage/storage.js';
import { startEtcdCluster, type EtcdCluster } from '../util/etcd-cluster.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const WRITERS = 32;
const CREATES = 4000;
const LIST_OBJECTS = 10_000;
const LIST_RUNS = 30;
const WATCHED_WRITES = 500;
const ROUNDS = 2;
const FAILOVER_TRIALS = 5;

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

/** the write that first succeeds after the leader's SIGKILL: a new attempt every 20 ms, each on its own */
async function failoverOnce(cluster: EtcdCluster, storage: Storage, trial: number): Promise<number> {
  const leader = await cluster.leader();
  if (leader < 0) throw new Error('the etcd cluster has no leader before the trial');
  let n = 0;
  const t0 = performance.now();
  await cluster.kill(leader);
  const ms = await new Promise<number>((resolve, reject) => {
    let done = false;
    const deadline = setTimeout(() => {
      done = true;
      clearInterval(timer);
      reject(new Error('no write succeeded within 60 s of the leader being killed'));
    }, 60_000);
    const attempt = (): void => {
      const name = `f-${trial}-${n++}`;
      storage.create(`/registry/pods/failover/${name}`, benchPod(name, 'failover')).then(
        () => {
          if (done) return;
          done = true;
          clearInterval(timer);
          clearTimeout(deadline);
          resolve(performance.now() - t0);
        },
        () => undefined,
      );
    };
    const timer = setInterval(attempt, 20);
    attempt();
  });
  await cluster.start(leader);
  return ms;
}

async function failover(dir: string, heartbeatMs?: number, electionMs?: number): Promise<number[]> {
  const cluster = await startEtcdCluster({ dir, heartbeatMs, electionMs });
  const storage = await EtcdStorage.open({
    endpoints: cluster.endpoints,
    compactionIntervalMs: 0,
    requestTimeoutMs: 2000,
  });
  try {
    const times: number[] = [];
    for (let t = 0; t < FAILOVER_TRIALS; t++) {
      times.push(await failoverOnce(cluster, storage, t));
      // the returned member catches up and the cluster settles before the next kill
      await new Promise((r) => setTimeout(r, 1000));
    }
    return times;
  } finally {
    await storage.close();
    await cluster.stop();
  }
}

type Backend = 'sqlite' | 'etcd1' | 'etcd3';
const BACKENDS: readonly Backend[] = ['sqlite', 'etcd1', 'etcd3'];

registerSuite('storage-backends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-storage-backends-'));
  const one = await startEtcdCluster({ dir: join(dir, 'one'), size: 1 });
  const three = await startEtcdCluster({ dir: join(dir, 'three') });
  const stores: Record<Backend, Storage> = {
    sqlite: SqliteStorage.open({ path: join(dir, 'state.db') }),
    etcd1: await EtcdStorage.open({ endpoints: one.endpoints, compactionIntervalMs: 0 }),
    etcd3: await EtcdStorage.open({ endpoints: three.endpoints, compactionIntervalMs: 0 }),
  };
  try {
    const runs: Record<Backend, Figures[]> = { sqlite: [], etcd1: [], etcd3: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // rotate which goes first, so none always meets another's leftovers (page cache, GC)
      for (let i = 0; i < BACKENDS.length; i++) {
        const backend = BACKENDS[(i + round) % BACKENDS.length];
        runs[backend].push(await measure(stores[backend], round));
      }
    }
    const results: BenchResult[] = [];
    for (const backend of BACKENDS) {
      const note = `storage layer, ${ROUNDS} rounds (median), etcd members local; same run`;
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
    for (const [label, heartbeat, election] of [
      ['compressed', 10, 100],
      ['etcd_defaults', undefined, undefined],
    ] as const) {
      const times = await failover(join(dir, `failover-${label}`), heartbeat, election);
      results.push({
        name: `storage.etcd3.failover_p50_${label}`,
        value: Math.round(median(times)),
        unit: 'ms',
        note: `SIGKILL of the etcd leader -> first acknowledged write, ${FAILOVER_TRIALS} trials (${times
          .map((t) => Math.round(t))
          .join(', ')} ms); heartbeat/election ${heartbeat ?? 100}/${election ?? 1000} ms`,
      });
    }
    return results;
  } finally {
    for (const s of Object.values(stores)) await s.close();
    await one.stop();
    await three.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
