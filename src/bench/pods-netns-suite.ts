// Pod startup for a burst of 100 pods, each in a network namespace of its own (#19), against the same kubelets'
// shared-loopback pods in the same run: three kubelets with --pod-network=netns and three with
// --pod-network=loopback, each in a node namespace of a cluster sandbox this suite makes (src/netns), the apiserver
// on the host brought into each node at 127.0.0.1 (the netns publisher's importFromHost). Bursts alternate between
// the two sets of nodes (each set goes first as often), so both meet the same load; the difference is the pod
// network. No scheduler here: the pods are bound to their set's nodes round-robin (nor ServiceAccount admission,
// off here: no controller-manager). Create request → Ready seen by a watch, as in the `pods` suite. Also the CPU
// a pod costs its kubelet (user + system of the kubelet and everything it started and reaped: pause, ip,
// containers), per mode, over each burst's create and delete.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectKubeClient, type ApiConnection, type KubeClient } from '../client/index.js';
import { ipBatch } from '../netns/holder.js';
import { NodeNet } from '../netns/node-net.js';
import { Publisher } from '../netns/publisher.js';
import { Sandbox } from '../netns/sandbox.js';
import { percentile, startBenchApiServer, treeCpuMs } from './apiserver-process.js';
import { oneBurst, waitGone } from './pods-suite.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';
import { stopChild } from '../util/stop-child.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODES = 3;
const BURST = 100;
/** measured bursts per mode, after a cold one each */
const BURSTS = 2;

type Mode = 'netns' | 'loopback';

interface Measured {
  latencies: number[];
  perBurst: string[];
  cpuPerPodMs: number[];
}

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
    const sets: Record<Mode, { names: string[]; pids: number[] }> = {
      netns: { names: [], pids: [] },
      loopback: { names: [], pids: [] },
    };
    for (let n = 1; n <= 2 * NODES; n++) {
      const mode: Mode = n <= NODES ? 'netns' : 'loopback';
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
        ...['--pod-cidr', podCidr, '--root-dir', join(root, name), '--port', '0', '--pod-network', mode],
      ];
      const kubelet = spawn(argv[0], argv.slice(1), {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn' },
      });
      kubelets.push(kubelet);
      sets[mode].names.push(name);
      // nsenter execs the kubelet: this PID is the kubelet's
      sets[mode].pids.push(kubelet.pid!);
    }
    // the kubelets have registered their Nodes
    const deadline = Date.now() + 60_000;
    while ((await client.nodes.list()).items.length < 2 * NODES) {
      if (Date.now() > deadline) throw new Error(`${2 * NODES} kubelets did not register within a minute`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const kubeletCpu = (mode: Mode): number => sets[mode].pids.reduce((sum, pid) => sum + treeCpuMs(pid), 0);
    const burst = async (mode: Mode, ns: string): Promise<{ latencies: number[]; cpuPerPodMs: number }> => {
      const cpu0 = kubeletCpu(mode);
      const latencies = await burstOf(client, connection, ns, sets[mode].names);
      return { latencies, cpuPerPodMs: (kubeletCpu(mode) - cpu0) / BURST };
    };
    const cold: Record<Mode, number[]> = {
      netns: (await burst('netns', 'cold-netns')).latencies.sort((a, b) => a - b),
      loopback: (await burst('loopback', 'cold-loopback')).latencies.sort((a, b) => a - b),
    };
    const measured: Record<Mode, Measured> = {
      netns: { latencies: [], perBurst: [], cpuPerPodMs: [] },
      loopback: { latencies: [], perBurst: [], cpuPerPodMs: [] },
    };
    for (let b = 0; b < BURSTS; b++) {
      const order: Mode[] = b % 2 === 0 ? ['netns', 'loopback'] : ['loopback', 'netns'];
      for (const mode of order) {
        const m = await burst(mode, `burst-${b}-${mode}`);
        const sorted = [...m.latencies].sort((x, y) => x - y);
        const figures = `${Math.round(percentile(sorted, 50))}/${Math.round(percentile(sorted, 99))}`;
        measured[mode].latencies.push(...m.latencies);
        measured[mode].perBurst.push(figures);
        measured[mode].cpuPerPodMs.push(Math.round(m.cpuPerPodMs));
        process.stderr.write(
          `  pods-netns burst ${b + 1}/${BURSTS} ${mode}: p50/p99 ${figures} ms, kubelet CPU ${m.cpuPerPodMs.toFixed(0)} ms a pod\n`,
        );
      }
    }
    for (const m of Object.values(measured)) m.latencies.sort((a, b) => a - b);
    const describe = (mode: Mode): string => {
      const m = measured[mode];
      return `${m.latencies.length}/${BURST * BURSTS} pods Ready; p50/p99 ms of each burst: ${m.perBurst.join(', ')}; cold burst ${Math.round(percentile(cold[mode], 50))}/${Math.round(percentile(cold[mode], 99))} ms; kubelet CPU a pod (kubelet, pause, ip, the container; create and delete) per burst: ${m.cpuPerPodMs.join(', ')} ms`;
    };
    const setup = `kubemu/hello:v1, ${NODES} kubelets --pod-network=netns and ${NODES} --pod-network=loopback in node namespaces, pods bound round-robin (no scheduler), bursts alternating between the two (${BURSTS} each, after a cold one each)`;
    const netns = `netns: ${describe('netns')}; loopback in the same run: ${describe('loopback')}; ${setup}`;
    const median = (xs: number[]): number =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    return [
      {
        name: 'pod startup with a network namespace each, burst of 100: p50',
        value: percentile(measured.netns.latencies, 50),
        unit: 'ms',
        target: { op: '<=', value: 300 },
        note: netns,
      },
      {
        name: 'pod startup with a network namespace each, burst of 100: p99',
        value: percentile(measured.netns.latencies, 99),
        unit: 'ms',
        target: { op: '<=', value: 2000 },
        note: netns,
      },
      {
        name: 'pod startup on the shared loopback, same run: p50 / p99',
        value: percentile(measured.loopback.latencies, 50),
        unit: 'ms',
        note: `p99 ${Math.round(percentile(measured.loopback.latencies, 99))} ms; reported, no target (the reference for the rows above)`,
      },
      {
        name: 'pod startup: kubelet CPU a pod, netns / loopback',
        value: median(measured.netns.cpuPerPodMs),
        unit: 'ms',
        note: `loopback ${median(measured.loopback.cpuPerPodMs)} ms (medians of the bursts); the difference is what a pod's network costs`,
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
): Promise<number[]> {
  const latencies = await oneBurst(client, connection, namespace, BURST, names);
  await client.pods.deleteCollection({ namespace, gracePeriodSeconds: 0 });
  await waitGone(client, namespace);
  return latencies;
}
