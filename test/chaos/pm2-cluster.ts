// The chaos suite's target for a local cluster from `kubemu up` (pm2), on either network: chaos-pm2.test.ts
// (loopback) and chaos-netns.test.ts (`--network=netns`) each start one in their beforeAll.
import { readFileSync } from 'node:fs';
import { componentLog } from '../../src/cli/cluster/layout.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import { spawnNode, type ChaosTarget } from './scenarios.js';

/** `kubemu up` with 3 nodes on the given network, and the scenarios' view of it */
export async function upPm2Target(
  network: 'loopback' | 'netns',
): Promise<{ cluster: TestCluster; target: ChaosTarget }> {
  const c = await upCluster({
    nodes: 3,
    extraArgs: [`--network=${network}`, '--timeout', '180'],
    upTimeoutMs: 200_000,
  });
  const status = await c.status();
  if (!status.ingress.http) throw new Error('kubemu status shows no ingress address');
  const nodeIPs: Record<string, string> = {};
  for (const n of status.nodes) if (n.internalIP) nodeIPs[n.name] = n.internalIP;
  const target: ChaosTarget = {
    kubectl: (args, input) => c.kubectl(args, input === undefined ? {} : { input }),
    chaos: (args) =>
      c.kubemu(['chaos', ...args, '--mode', 'pm2', '--name', c.name, '--state-dir', c.stateDir]),
    spawnNode: (args, env) => spawnNode([], args, { ...env, HOME: c.home }),
    kubeconfig: c.kubeconfig,
    ingressUrl: status.ingress.http,
    nodeIPs,
    logTail: (component, names) => {
      try {
        const lines = readFileSync(componentLog(c.stateDir, component), 'utf8').split('\n');
        const wanted = names.length ? lines.filter((l) => names.some((n) => l.includes(n))) : lines;
        return wanted.slice(-60).join('\n');
      } catch {
        return '';
      }
    },
  };
  return { cluster: c, target };
}
