// kube-proxy's nftables mode at scale: with 1,000 Services × 3 endpoints programmed, the time from an
// EndpointSlice write to its DNAT rule being in the kernel (seen by `nft monitor`, so the kernel's own commit is
// the end), the CPU time kube-proxy and its nft spend per change, and kube-proxy's RSS. kube-proxy runs in a
// network namespace made here, with upstream's default --min-sync-period (1 s, burst 2): changes are made
// 1.1–1.5 s apart, as that limit spaces syncs anyway. A/B in the same run, alternating rounds: transactions
// through the long-running `nft -i` session (the default) and one `nft -f -` process per sync
// (KUBEMU_NFT_SESSION=off, what kube-proxy did before).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { connectKubeClient } from '../client/index.js';
import { peakRssMb, percentile, rssMb, startBenchApiServer, treeCpuMs } from './apiserver-process.js';
import { bridgeIntoNetns } from './netns-bridge.js';
import type { BenchResult } from './report.js';
import { createManyServices } from './services-suite.js';
import { registerSuite } from './suites.js';
import { stopChild } from '../util/stop-child.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = 1000;
/** changes per round; rounds alternate session / one-shot */
const SAMPLES = 25;
const ROUNDS = 4;
const GAP_MS = 1100;
/** the gap varies by up to this much, so changes do not fall in step with the stale-chain clean-up (1.1 s after a change) */
const GAP_JITTER_MS = 400;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** the running children of `pid` (the session's nft) and their RSS, MB */
function childrenRssMb(pid: number): number {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return children.filter(Boolean).reduce((sum, c) => sum + (rssMb(Number(c)) || 0), 0);
  } catch {
    return NaN;
  }
}

type Variant = 'session' | 'one-shot';

interface Round {
  variant: Variant;
  latencies: number[];
  cpuPerChangeMs: number;
  firstSyncS: number;
  rss: number;
  peak: number;
  nftRss: number;
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
    const countRules = (): number =>
      (
        execFileSync('ip', inNs('nft', ['list', 'map', 'ip', 'kube-proxy', 'service-ips']), {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).match(/: goto /g) ?? []
      ).length;

    let change = 0;
    const oneRound = async (variant: Variant): Promise<Round> => {
      // each round programs the namespace from scratch
      execFileSync('ip', inNs('nft', ['flush', 'ruleset']));
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
        {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: {
            ...process.env,
            KUBEMU_LOG_LEVEL: 'warn',
            KUBEMU_NFT_SESSION: variant === 'session' ? 'on' : 'off',
          },
        },
      );
      children.push(proxy);
      try {
        for (;;) {
          if (proxy.exitCode !== null) throw new Error(`kube-proxy exited with ${proxy.exitCode}`);
          if (performance.now() - t0 > 120_000)
            throw new Error('kube-proxy did not program 1,000 Services in 120 s');
          let n = 0;
          try {
            n = countRules();
          } catch {
            /* not there yet */
          }
          if (n >= SERVICES) break;
          await sleep(200);
        }
        const firstSyncS = (performance.now() - t0) / 1000;
        await sleep(2000);
        const rss = rssMb(proxy.pid!);
        // one endpoint of a Service replaced by a new address per sample; its DNAT rule appearing ends the sample
        const latencies: number[] = [];
        const cpu0 = treeCpuMs(proxy.pid!);
        for (let i = 0; i < SAMPLES; i++, change++) {
          const name = `s-${(change * 37) % SERVICES}`;
          const slice: EndpointSlice = await client.endpointSlices.get(name, 'many');
          const ip = `10.250.${Math.floor(change / 250)}.${1 + (change % 250)}`;
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
          await sleep(GAP_MS + ((change * 7919) % GAP_JITTER_MS));
        }
        const cpuPerChangeMs = (treeCpuMs(proxy.pid!) - cpu0) / SAMPLES;
        return {
          variant,
          latencies,
          cpuPerChangeMs,
          firstSyncS,
          rss,
          peak: peakRssMb(proxy.pid!),
          nftRss: childrenRssMb(proxy.pid!),
        };
      } finally {
        await stopChild(proxy);
      }
    };

    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = await oneRound(r % 2 === 0 ? 'session' : 'one-shot');
      const sorted = [...round.latencies].sort((a, b) => a - b);
      process.stderr.write(
        `  nftables round ${r + 1}/${ROUNDS} ${round.variant}: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, CPU ${round.cpuPerChangeMs.toFixed(1)} ms/change, first sync ${round.firstSyncS.toFixed(2)} s\n`,
      );
      rounds.push(round);
    }
    const pooled = (v: Variant): number[] =>
      rounds
        .filter((r) => r.variant === v)
        .flatMap((r) => r.latencies)
        .sort((a, b) => a - b);
    const cpuOf = (v: Variant): number[] =>
      rounds.filter((r) => r.variant === v).map((r) => Number(r.cpuPerChangeMs.toFixed(1)));
    const session = pooled('session');
    const oneShot = pooled('one-shot');
    const sessionRounds = rounds.filter((r) => r.variant === 'session');
    const first = sessionRounds[0];
    const setup = `${SERVICES} Services × 3 endpoints, kube-proxy --proxy-mode=nftables in its own network namespace`;
    const changes = `${session.length} changes in ${sessionRounds.length} rounds alternating with the one-shot ones, ${GAP_MS}–${GAP_MS + GAP_JITTER_MS} ms apart (--min-sync-period 1s, upstream's default)`;
    const med = (xs: number[]): number =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    return [
      {
        name: 'nftables: EndpointSlice write → DNAT rule in the kernel, p99',
        value: Number(percentile(session, 99).toFixed(1)),
        unit: 'ms',
        target: { op: '<=', value: 100 },
        note: `p50 ${percentile(session, 50).toFixed(1)} ms, max ${session[session.length - 1].toFixed(1)} ms; partial syncs through one long-running nft -i; ${changes}; ${setup}`,
      },
      {
        name: 'nftables: the same with one nft -f process per sync (before), p99',
        value: Number(percentile(oneShot, 99).toFixed(1)),
        unit: 'ms',
        note: `p50 ${percentile(oneShot, 50).toFixed(1)} ms, max ${oneShot[oneShot.length - 1].toFixed(1)} ms; KUBEMU_NFT_SESSION=off, same run, alternating rounds; reported, no target`,
      },
      {
        name: 'nftables: kube-proxy + nft CPU per EndpointSlice change',
        value: Number(med(cpuOf('session')).toFixed(1)),
        unit: 'ms',
        note: `user + system of kube-proxy and its nft processes over a round ÷ changes (the stale-chain clean-up included); per round: session ${cpuOf('session').join(', ')} ms, one nft -f per sync ${cpuOf('one-shot').join(', ')} ms`,
      },
      {
        name: 'nftables: first full sync of 1,000 Services',
        value: Number(first.firstSyncS.toFixed(2)),
        unit: 's',
        note: `from kube-proxy start (informers listing included) to 1,000 service-ips elements; per round: ${rounds.map((r) => r.firstSyncS.toFixed(2)).join(', ')} s`,
      },
      {
        name: 'nftables: kube-proxy RSS with 1,000 Services',
        value: Math.round(first.rss),
        unit: 'MB',
        target: { op: '<=', value: 150 },
        note: `after the first sync; peak ${Math.round(first.peak)} MB after ${SAMPLES} partial syncs; the nft -i session beside it: ${Math.round(first.nftRss)} MB`,
      },
    ];
  } finally {
    for (const c of children.reverse()) await stopChild(c);
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
