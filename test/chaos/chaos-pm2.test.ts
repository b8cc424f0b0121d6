// The chaos suite against a local cluster from `kubemu up` (pm2 mode): see scenarios.ts. Node N is 127.0.1.N on
// the shared loopback, so on a shared machine run it in a network namespace of its own:
//   unshare --net sh -c 'ip link set lo up && npx vitest run --project chaos test/chaos/chaos-pm2.test.ts'
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { componentLog } from '../../src/cli/cluster/layout.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import { chaosScenarios, spawnNode, type ChaosTarget } from './scenarios.js';

let c: TestCluster;
let target: ChaosTarget;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
  const status = await c.status();
  if (!status.ingress.http) throw new Error('kubemu status shows no ingress address');
  target = {
    kubectl: (args, input) => c.kubectl(args, input === undefined ? {} : { input }),
    chaos: (args) =>
      c.kubemu(['chaos', ...args, '--mode', 'pm2', '--name', c.name, '--state-dir', c.stateDir]),
    spawnNode: (args, env) => spawnNode([], args, { ...env, HOME: c.home }),
    kubeconfig: c.kubeconfig,
    ingressUrl: status.ingress.http,
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
}, 180_000);

afterAll(async () => {
  await c?.down();
}, 120_000);

chaosScenarios('pm2', () => target);
