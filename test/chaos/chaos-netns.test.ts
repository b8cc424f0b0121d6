// The chaos suite against a local cluster from `kubemu up --network=netns` (pm2 mode; issue #19): see
// scenarios.ts. The same scenarios as chaos-pm2.test.ts, with kube-proxy forwarding in the kernel (nftables) and
// every pod in a network namespace of its own; the host reaches the nodes' NodePorts at the addresses `kubemu
// status` prints. Needs root (or an unprivileged user namespace), `nft`, `unshare` and `nsenter`.
//   unshare --net sh -c 'ip link set lo up && npx vitest run --project chaos test/chaos/chaos-netns.test.ts'
//
// Not yet in `npm test`: it has not passed whole (6 of 9 at load 40-58: pause-node, the controller-manager kill's
// pod after a node restart, the StatefulSet node kill missed; #19). KUBEMU_TEST_NETNS_SUITES=1 runs it.
import { afterAll, beforeAll, describe } from 'vitest';
import type { TestCluster } from '../helpers/cluster.js';
import { upPm2Target } from './pm2-cluster.js';
import { chaosScenarios, type ChaosTarget } from './scenarios.js';

let c: TestCluster;
let target: ChaosTarget;

describe.skipIf(process.env['KUBEMU_TEST_NETNS_SUITES'] !== '1')('on the netns network', () => {
  beforeAll(async () => {
    ({ cluster: c, target } = await upPm2Target('netns'));
  }, 240_000);

  afterAll(async () => {
    await c?.down();
  }, 120_000);

  chaosScenarios('netns', () => target);
});
