// The chaos suite against the Docker Compose cluster (docker mode of `kubemu chaos`): see scenarios.ts. The
// cluster runs on a Docker engine of the test's own, in its own network namespace (test/docker/compose-cluster.ts);
// traffic and kubectl run in that namespace.
import { afterAll, beforeAll } from 'vitest';
import { startComposeCluster, type ComposeCluster } from '../docker/compose-cluster.js';
import { chaosScenarios, spawnNode, type ChaosTarget } from './scenarios.js';

const CLUSTER = 'kubemuchaos';
let cc: ComposeCluster;
let target: ChaosTarget;

beforeAll(async () => {
  cc = await startComposeCluster({ project: 'kubemuchaos', cluster: CLUSTER });
  target = {
    kubectl: (args, input) => cc.kubectl(args, input),
    chaos: (args) => cc.kubemu(['chaos', ...args, '--mode', 'docker', '--name', CLUSTER]),
    spawnNode: (args, env) => spawnNode(['nsenter', `--net=/proc/${cc.engine.pid}/ns/net`, '--'], args, env),
    kubeconfig: cc.kubeconfig,
    ingressUrl: 'http://127.0.3.1',
  };
}, 900_000);

afterAll(async () => {
  await cc?.stop();
}, 180_000);

chaosScenarios('docker', () => target);
