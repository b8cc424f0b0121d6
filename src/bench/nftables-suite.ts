// kube-proxy's nftables mode at scale: with 1,000 Services × 3 endpoints programmed, the time from an
// EndpointSlice write to its DNAT rule being in the kernel (seen by `nft monitor`, so the kernel's own commit is
// the end), and kube-proxy's RSS. kube-proxy runs in a network namespace made here, with upstream's default
// --min-sync-period (1 s, burst 2): changes are made 1.1 s apart, as that limit spaces syncs anyway.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { connectKubeClient } from '../client/index.js';
import { peakRssMb, percentile, rssMb, startBenchApiServer } from './apiserver-process.js';
import { bridgeIntoNetns } from './netns-bridge.js';
import type { BenchResult } from './report.js';
import { createManyServices } from './services-suite.js';
import { registerSuite } from './suites.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = 1000;
const SAMPLES = 40;
const GAP_MS = 1100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

registerSuite('nftables', async (): Promise<BenchResult[]> => {
  execFileSync('nft', ['--version']); // a clear ENOENT when nftables is not installed
  const netns = `kubemu-bench-nft-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  const inNs = (cmd: string, args: string[]): string[] => ['netns', 'exec', netns, cmd, ...args];
  const children: ChildProcess[] = [];
  const server = await startBenchApiServer();
  const { client, connection } = connectKubeClient({
    server: server.url,
    token: server.token,
    ca: server.ca,
  });
  let bridge: Awaited<ReturnType<typeof bridgeIntoNetns>> | undefined;
  try {
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const port = Number(new URL(server.url).port);
    bridge = await bridgeIntoNetns(netns, port);
    await createManyServices(client, 'many');

    const monitor = spawn('ip', inNs('nft', ['monitor', 'rules']), { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(monitor);
    /** DNAT targets as they are committed, with when */
    const seen = new Map<string, number>();
    createInterface({ input: monitor.stdout }).on('line', (line) => {
      const m = / dnat to (\S+)$/.exec(line);
      if (m) seen.set(m[1], performance.now());
    });
    await sleep(300);

    const t0 = performance.now();
    const proxy = spawn(
      'ip',
      inNs(process.execPath, [
        join(DIST, 'cmd/kube-proxy.js'),
        '--kubeconfig',
        server.kubeconfig,
        '--node-name',
        'node-1',
        '--node-ip',
        '172.31.30.1',
        '--proxy-mode',
        'nftables',
        '--cluster-cidr',
        '10.244.0.0/16',
      ]),
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn' } },
    );
    children.push(proxy);
    const countRules = (): number =>
      (
        execFileSync('ip', inNs('nft', ['list', 'map', 'ip', 'kube-proxy', 'service-ips']), {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).match(/: goto /g) ?? []
      ).length;
    for (;;) {
      if (proxy.exitCode !== null) throw new Error(`kube-proxy exited with ${proxy.exitCode}`);
      if (performance.now() - t0 > 120_000)
        throw new Error('kube-proxy did not program 1,000 Services in 120 s');
      const n = await Promise.resolve().then(() => {
        try {
          return countRules();
        } catch {
          return 0;
        }
      });
      if (n >= SERVICES) break;
      await sleep(200);
    }
    const firstSyncS = (performance.now() - t0) / 1000;
    await sleep(2000);
    const rss = rssMb(proxy.pid!);

    // one endpoint of a Service replaced by a new address per sample; its DNAT rule appearing ends the sample
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const name = `s-${(i * 37) % SERVICES}`;
      const slice: EndpointSlice = await client.endpointSlices.get(name, 'many');
      const ip = `10.250.${Math.floor(i / 250)}.${1 + (i % 250)}`;
      const endpoints = [...(slice.endpoints ?? [])];
      endpoints[0] = { ...endpoints[0], addresses: [ip] };
      const target = `${ip}:8080`;
      const start = performance.now();
      await client.endpointSlices.update({ ...slice, endpoints }, { namespace: 'many' });
      const deadline = start + 10_000;
      while (!seen.has(target) && performance.now() < deadline) await sleep(1);
      const at = seen.get(target);
      if (at === undefined) throw new Error(`the rule for ${target} did not appear within 10 s`);
      latencies.push(at - start);
      await sleep(GAP_MS);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const peak = peakRssMb(proxy.pid!);
    const setup = `${SERVICES} Services × 3 endpoints, kube-proxy --proxy-mode=nftables in its own network namespace`;
    return [
      {
        name: 'nftables: EndpointSlice write → DNAT rule in the kernel, p99',
        value: Number(percentile(sorted, 99).toFixed(1)),
        unit: 'ms',
        target: { op: '<=', value: 100 },
        note: `p50 ${percentile(sorted, 50).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms; ${SAMPLES} changes ${GAP_MS} ms apart (--min-sync-period 1s, upstream's default); ${setup}`,
      },
      {
        name: 'nftables: first full sync of 1,000 Services',
        value: Number(firstSyncS.toFixed(2)),
        unit: 's',
        note: 'from kube-proxy start (informers listing included) to 1,000 service-ips elements',
      },
      {
        name: 'nftables: kube-proxy RSS with 1,000 Services',
        value: Math.round(rss),
        unit: 'MB',
        target: { op: '<=', value: 150 },
        note: `after the first sync; peak ${Math.round(peak)} MB after ${SAMPLES} partial syncs`,
      },
    ];
  } finally {
    for (const c of children.reverse()) await stop(c);
    await bridge?.close();
    await connection.close();
    await server.stop();
    try {
      execFileSync('ip', ['netns', 'del', netns]);
    } catch {
      /* already gone */
    }
  }
});
