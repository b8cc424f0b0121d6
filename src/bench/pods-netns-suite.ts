// Pod startup for a burst of 100 pods, each in a network namespace of its own (#19): three kubelets with
// --pod-network=netns, each in a node namespace of a cluster sandbox this suite makes (src/netns), the apiserver on
// the host brought into each node at 127.0.0.1 (the netns publisher's importFromHost). No scheduler here: the pods
// are bound to the nodes round-robin, so against the `pods` suite (shared network, scheduler included) the
// difference is the pod network and not scheduling (nor ServiceAccount admission, off here: no controller-manager). Create request → Ready seen by a watch, as there.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectKubeClient } from '../client/index.js';
import { NodeNet } from '../netns/node-net.js';
import { Publisher } from '../netns/publisher.js';
import { Sandbox } from '../netns/sandbox.js';
import { percentile, startBenchApiServer } from './apiserver-process.js';
import { oneBurst, waitGone } from './pods-suite.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';
import { stopChild } from '../util/stop-child.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODES = 3;
const BURST = 100;
const BURSTS = 2;

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
    const names: string[] = [];
    for (let n = 1; n <= NODES; n++) {
      const name = `node-${n}`;
      const podCidr = `10.244.${n}.0/24`;
      const node = await NodeNet.create(sandbox, { name, address: `127.0.1.${n}`, podCidr });
      nodes.push(node);
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
        ...['--pod-cidr', podCidr, '--root-dir', join(root, name), '--port', '0', '--pod-network', 'netns'],
      ];
      kubelets.push(
        spawn(argv[0], argv.slice(1), {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn' },
        }),
      );
      names.push(name);
    }
    // the kubelets have registered their Nodes
    const deadline = Date.now() + 60_000;
    while ((await client.nodes.list()).items.length < NODES) {
      if (Date.now() > deadline) throw new Error(`${NODES} kubelets did not register within a minute`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const cold = (await oneBurst(client, connection, 'cold', BURST, names)).sort((a, b) => a - b);
    await client.pods.deleteCollection({ namespace: 'cold', gracePeriodSeconds: 0 });
    await waitGone(client, 'cold');
    const latencies: number[] = [];
    const perBurst: string[] = [];
    for (let b = 0; b < BURSTS; b++) {
      const ns = `burst-${b}`;
      const measured = await oneBurst(client, connection, ns, BURST, names);
      latencies.push(...measured);
      const sorted = [...measured].sort((x, y) => x - y);
      perBurst.push(`${Math.round(percentile(sorted, 50))}/${Math.round(percentile(sorted, 99))}`);
      await client.pods.deleteCollection({ namespace: ns, gracePeriodSeconds: 0 });
      await waitGone(client, ns);
    }
    latencies.sort((a, b) => a - b);
    const note = `${latencies.length}/${BURST * BURSTS} pods Ready (kubemu/hello:v1, ${NODES} kubelets --pod-network=netns in node namespaces, pods bound round-robin, no scheduler; ${BURSTS} bursts of ${BURST} pooled after a cold one (p50/p99 ${Math.round(percentile(cold, 50))}/${Math.round(percentile(cold, 99))} ms); p50/p99 ms of each: ${perBurst.join(', ')})`;
    return [
      {
        name: 'pod startup with a network namespace each, burst of 100: p50',
        value: percentile(latencies, 50),
        unit: 'ms',
        target: { op: '<=', value: 300 },
        note,
      },
      {
        name: 'pod startup with a network namespace each, burst of 100: p99',
        value: percentile(latencies, 99),
        unit: 'ms',
        target: { op: '<=', value: 2000 },
        note,
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
