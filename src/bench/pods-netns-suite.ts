// Pod startup for a burst of 100 pods, each in a network namespace of its own (#19), against the same kubelets'
// shared-loopback pods in the same run: three kubelets with --pod-network=netns and three with
// --pod-network=loopback, each in a node namespace of a cluster sandbox this suite makes (src/netns), the apiserver
// on the host brought into each node at 127.0.0.1 (the netns publisher's importFromHost). Bursts alternate between
// the two sets of nodes (each set goes first as often), so both meet the same load; the difference is the pod
// network. No scheduler here: the pods are bound to their set's nodes round-robin (nor ServiceAccount admission,
// off here: no controller-manager). Create request → Ready seen by a watch, as in the `pods` suite, and beside it
// the span of upstream's SLI (create response → all containers started, seen by the watch: BurstTimes). Also the
// CPU a pod costs its kubelet (user + system of the kubelet and everything it started and reaped: pause helper,
// pauses, ip, containers), per mode, over each burst's create and delete. KUBEMU_BENCH_PAUSE_AB=1 adds three
// kubelets whose pauses are made the plain way (KUBEMU_PAUSE_HELPER=0: setpriv, unshare, sh, ip a pod), their
// bursts alternating with the others: the pause helper's A/B in one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../client/index.js';
import { ipBatch } from '../netns/holder.js';
import { NodeNet } from '../netns/node-net.js';
import { Publisher } from '../netns/publisher.js';
import { Sandbox } from '../netns/sandbox.js';
import { percentile, startBenchApiServer, treeCpuMs } from './apiserver-process.js';
import { oneBurstTimes, waitGone, type BurstTimes } from './pods-suite.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';
import { stopChild } from '../util/stop-child.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODES = 3;
const BURST = 100;
/** measured bursts per mode, after a cold one each */
const BURSTS = 2;

type Mode = 'netns' | 'loopback' | 'netns-chain';

interface Measured {
  latencies: number[];
  started: number[];
  perBurst: string[];
  cpuPerPodMs: number[];
}

const figures = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${Math.round(percentile(sorted, 50))}/${Math.round(percentile(sorted, 99))}`;
};

registerSuite('pods-netns', async (): Promise<BenchResult[]> => {
  // no controller-manager here to make each namespace's `default` ServiceAccount, which that admission wants
  const server = await startBenchApiServer(['--disable-admission-plugins', 'ServiceAccount']);
  const port = Number(new URL(server.url).port);
  const { client, connection } = connectKubeClient({
    server: server.url,
    token: server.token,
    ca: server.ca,
  });
  const root = mkdtempSync(join(tmpdir(), 'kubemu-bench-podnet-'));
  const kubelets: ChildProcess[] = [];
  const publishers: Publisher[] = [];
  const nodes: NodeNet[] = [];
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await Sandbox.create({ name: `bench-podnet-${process.pid}`, bridgeAddress: '127.0.1.254/24' });
    const modes: Mode[] =
      process.env['KUBEMU_BENCH_PAUSE_AB'] === '1'
        ? ['netns', 'loopback', 'netns-chain']
        : ['netns', 'loopback'];
    const sets = Object.fromEntries(modes.map((m) => [m, { names: [] as string[], pids: [] as number[] }]));
    for (let n = 1; n <= modes.length * NODES; n++) {
      const mode = modes[Math.floor((n - 1) / NODES)];
      const name = `node-${n}`;
      const podCidr = `10.244.${n}.0/24`;
      const node = await NodeNet.create(sandbox, { name, address: `127.0.1.${n}`, podCidr });
      nodes.push(node);
      // loopback pods bind their pod IP on the node's own loopback, as 127.244.N.x are on a host: the podCIDR local
      if (mode === 'loopback')
        await ipBatch(node.prefix(), [`route add local ${podCidr} dev lo table local`]);
      const publisher = await Publisher.start({
        sandboxPrefix: node.prefix(),
        forwarderScript: join(DIST, 'cmd/netns-forwarder.js'),
      });
      publishers.push(publisher);
      const loopback = { host: '127.0.0.1', port };
      await publisher.importFromHost(loopback, loopback);
      const argv = [
        ...node.prefix(),
        process.execPath,
        join(DIST, 'cmd/kubelet.js'),
        ...['--kubeconfig', server.kubeconfig, '--node-name', name, '--node-ip', node.address],
        ...['--pod-cidr', podCidr, '--root-dir', join(root, name), '--port', '0'],
        ...['--pod-network', mode === 'loopback' ? 'loopback' : 'netns'],
      ];
      const kubelet = spawn(argv[0], argv.slice(1), {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          KUBEMU_LOG_LEVEL: 'warn',
          ...(mode === 'netns-chain' ? { KUBEMU_PAUSE_HELPER: '0' } : {}),
        },
      });
      kubelets.push(kubelet);
      sets[mode].names.push(name);
      // nsenter execs the kubelet: this PID is the kubelet's
      sets[mode].pids.push(kubelet.pid!);
    }
    // the kubelets have registered their Nodes
    const deadline = Date.now() + 60_000;
    while ((await client.nodes.list()).items.length < modes.length * NODES) {
      if (Date.now() > deadline)
        throw new Error(`${modes.length * NODES} kubelets did not register within a minute`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const kubeletCpu = (mode: Mode): number => sets[mode].pids.reduce((sum, pid) => sum + treeCpuMs(pid), 0);
    const burst = async (mode: Mode, ns: string): Promise<BurstTimes & { cpuPerPodMs: number }> => {
      const cpu0 = kubeletCpu(mode);
      const times = await burstOf(client, connection, ns, sets[mode].names);
      return { ...times, cpuPerPodMs: (kubeletCpu(mode) - cpu0) / BURST };
    };
    const cold: Partial<Record<Mode, number[]>> = {};
    for (const mode of modes) cold[mode] = (await burst(mode, `cold-${mode}`)).ready;
    const measured = Object.fromEntries(
      modes.map((m): [Mode, Measured] => [m, { latencies: [], started: [], perBurst: [], cpuPerPodMs: [] }]),
    ) as Partial<Record<Mode, Measured>>;
    for (let b = 0; b < BURSTS; b++) {
      // each mode goes first as often (rotated)
      const order = modes.map((_, i) => modes[(i + b) % modes.length]);
      for (const mode of order) {
        const m = await burst(mode, `burst-${b}-${mode}`);
        const load = loadAverage();
        measured[mode]!.latencies.push(...m.ready);
        measured[mode]!.started.push(...m.started);
        measured[mode]!.perBurst.push(figures(m.ready));
        measured[mode]!.cpuPerPodMs.push(Math.round(m.cpuPerPodMs));
        process.stderr.write(
          `  pods-netns burst ${b + 1}/${BURSTS} ${mode}: p50/p99 ${figures(m.ready)} ms (SLI span ${figures(m.started)}), kubelet CPU ${m.cpuPerPodMs.toFixed(0)} ms a pod, load ${load}\n`,
        );
      }
    }
    for (const m of Object.values(measured)) m.latencies.sort((a, b) => a - b);
    const describe = (mode: Mode): string => {
      const m = measured[mode]!;
      return `${m.latencies.length}/${BURST * BURSTS} pods Ready; p50/p99 ms of each burst: ${m.perBurst.join(', ')}; SLI span (created → containers started) ${figures(m.started)} ms; cold burst ${figures(cold[mode]!)} ms; kubelet CPU a pod (kubelet, pause helper, pauses, ip, the container; create and delete) per burst: ${m.cpuPerPodMs.join(', ')} ms`;
    };
    const setup = `kubemu/hello:v1, ${NODES} kubelets --pod-network=netns and ${NODES} --pod-network=loopback in node namespaces, pods bound round-robin (no scheduler), bursts alternating between the two (${BURSTS} each, after a cold one each)`;
    const netns = `netns: ${describe('netns')}; loopback in the same run: ${describe('loopback')}${measured['netns-chain'] ? `; netns with the pauses made the plain way (KUBEMU_PAUSE_HELPER=0): ${describe('netns-chain')}` : ''}; ${setup}; load ${loadAverage()} at the end`;
    const median = (xs: number[]): number =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    return [
      {
        name: 'pod startup with a network namespace each, burst of 100: p50',
        value: percentile(measured.netns!.latencies, 50),
        unit: 'ms',
        target: { op: '<=', value: 300 },
        note: netns,
      },
      {
        name: 'pod startup with a network namespace each, burst of 100: p99',
        value: percentile(measured.netns!.latencies, 99),
        unit: 'ms',
        target: { op: '<=', value: 2000 },
        note: netns,
      },
      {
        name: 'pod startup on the shared loopback, same run: p50 / p99',
        value: percentile(measured.loopback!.latencies, 50),
        unit: 'ms',
        note: `p99 ${Math.round(percentile(measured.loopback!.latencies, 99))} ms; reported, no target (the reference for the rows above)`,
      },
      {
        name: "pod startup with a network namespace each, upstream's SLI span (created → containers started): p50",
        value: percentile(
          [...measured.netns!.started].sort((a, b) => a - b),
          50,
        ),
        unit: 'ms',
        note: `p50/p99 ${figures(measured.netns!.started)} ms; loopback ${figures(measured.loopback!.started)} ms; reported, no target: from the create response (the pod stored) rather than the request, to every container started rather than Ready`,
      },
      {
        name: 'pod startup: kubelet CPU a pod, netns / loopback',
        value: median(measured.netns!.cpuPerPodMs),
        unit: 'ms',
        note: `loopback ${median(measured.loopback!.cpuPerPodMs)} ms${measured['netns-chain'] ? `, netns with the plain pauses ${median(measured['netns-chain'].cpuPerPodMs)} ms` : ''} (medians of the bursts); the difference is what a pod's network costs`,
      },
    ];
  } finally {
    await Promise.all(kubelets.map((k) => stopChild(k)));
    for (const p of publishers) await p.close();
    for (const n of nodes) await n.destroy().catch(() => undefined);
    await sandbox?.destroy().catch(() => undefined);
    await connection.close();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

/** one burst on `names`, its latencies; its pods deleted and gone before it returns (their CPU counted) */
async function burstOf(
  client: KubeClient,
  connection: ApiConnection,
  namespace: string,
  names: string[],
): Promise<BurstTimes> {
  const times = await oneBurstTimes(client, connection, namespace, BURST, names);
  await client.pods.deleteCollection({ namespace, gracePeriodSeconds: 0 });
  await waitGone(client, namespace);
  return times;
}

/** the 1-minute load average, said beside each figure (a shared machine) */
function loadAverage(): string {
  return loadavg()[0].toFixed(1);
}
