// Benchmarks of the internal face under big answers (issue #17 items 1 and 4): /healthz p99 and the apiserver's
// peak RSS while a cluster-wide list of ~80 MB is served, and while one message asks for 950 lists of 512 KiB.
import { WebSocket } from 'ws';
import { decodeServerFrames, encodeFrame, WS_PATH } from '../api/wire.js';
import { connectKubeClient } from '../client/index.js';
import { peakRssMb, percentile, startBenchApiServer, type BenchApiServer } from './apiserver-process.js';
import { startHealthzProbe } from './healthz-probe.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const HEALTHZ_TARGET_MS = 100;

/** /healthz latencies, sorted, for as long as `load` runs */
async function healthzDuring(server: BenchApiServer, load: () => Promise<unknown>): Promise<number[]> {
  const probe = startHealthzProbe(server);
  try {
    await load();
  } catch (err) {
    await probe.stop();
    throw err;
  }
  return probe.stop();
}

/** one message of `count` list requests on a fresh connection; resolves once every list was answered */
async function listFlood(server: BenchApiServer, namespace: string, count: number): Promise<void> {
  const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}${WS_PATH}`, {
    ca: server.ca,
    headers: { authorization: `Bearer ${server.token}` },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let answered = 0;
  const all = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      for (const f of decodeServerFrames(data)) {
        if ((f.t === 'items' && f.done) || f.t === 'err') answered++;
        if (f.t === 'err' && f.status.code !== 429) reject(new Error(f.status.message));
      }
      if (answered === count) resolve();
    });
    ws.once('close', () => reject(new Error(`connection closed after ${answered} answers`)));
  });
  ws.send(
    Buffer.concat(
      Array.from({ length: count }, (_, i) =>
        encodeFrame({
          t: 'req',
          id: i + 1,
          req: { verb: 'list', group: '', version: 'v1', resource: 'configmaps', namespace },
        }),
      ),
    ),
  );
  try {
    await all;
  } finally {
    ws.terminate();
  }
}

registerSuite('wire', async (): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  const server = await startBenchApiServer();
  const { client, connection } = connectKubeClient({
    server: server.url,
    token: server.token,
    ca: server.ca,
  });
  const healthz = (what: string, sorted: number[]): void => {
    results.push({
      name: `/healthz p99 while ${what}`,
      value: percentile(sorted, 99),
      unit: 'ms',
      target: { op: '<=', value: HEALTHZ_TARGET_MS },
      note: `${sorted.length} /healthz requests, one after another`,
    });
  };
  try {
    // 0. the same probe with nothing else going on: what this machine's load alone costs /healthz
    results.push({
      name: '/healthz p99 idle (for comparison)',
      value: percentile(
        await healthzDuring(server, () => new Promise((resolve) => setTimeout(resolve, 3_000))),
        99,
      ),
      unit: 'ms',
    });

    // 1. one message of 950 list requests, each answered with a 512 KiB ConfigMap (475 MiB in all)
    await client.namespaces.create({ metadata: { name: 'flood' } });
    await client.configMaps.create({
      metadata: { name: 'flood', namespace: 'flood' },
      data: { blob: 'f'.repeat(512 * 1024) },
    });
    const before = peakRssMb(server.pid);
    let t0 = performance.now();
    healthz(
      'one WebSocket message asks for 950 lists of 512 KiB',
      await healthzDuring(server, () => listFlood(server, 'flood', 950)),
    );
    results.push({
      name: 'one message of 950 lists of 512 KiB, all answered in',
      value: Math.round(performance.now() - t0),
      unit: 'ms',
    });
    results.push({
      name: 'apiserver peak RSS growth during the 950 lists',
      value: Math.round(peakRssMb(server.pid) - before),
      unit: 'MB',
      note: `peak ${Math.round(peakRssMb(server.pid))} MB`,
    });

    // 2. a cluster-wide list of 90 ConfigMaps of 900 KB (~80 MB), over the internal face, five times
    await client.namespaces.create({ metadata: { name: 'big' } });
    const value = 'x'.repeat(900 * 1024);
    for (let i = 0; i < 90; i += 5) {
      await Promise.all(
        Array.from({ length: 5 }, (_, j) =>
          client.configMaps.create({
            metadata: { name: `big-${i + j}`, namespace: 'big' },
            data: { blob: value },
          }),
        ),
      );
    }
    const beforeList = peakRssMb(server.pid);
    const listTimes: number[] = [];
    const lists = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        t0 = performance.now();
        const list = await client.configMaps.list();
        if (list.items.length < 90) throw new Error(`listed ${list.items.length} ConfigMaps`);
        listTimes.push(performance.now() - t0);
      }
    };
    healthz(
      'a cluster-wide list of ~80 MB is served over the internal face',
      await healthzDuring(server, lists),
    );
    listTimes.sort((a, b) => a - b);
    results.push({
      name: 'cluster-wide list of ~80 MB over the internal face, p50',
      value: percentile(listTimes, 50),
      unit: 'ms',
    });
    results.push({
      name: 'apiserver peak RSS growth during the ~80 MB lists',
      value: Math.round(peakRssMb(server.pid) - beforeList),
      unit: 'MB',
      note: `peak ${Math.round(peakRssMb(server.pid))} MB`,
    });
  } finally {
    await connection.close();
    await server.stop();
  }
  return results;
});
