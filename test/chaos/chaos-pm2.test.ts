// The chaos suite against a local cluster from `kubemu up` (pm2 mode, loopback network): see scenarios.ts. Node N
// is 127.0.1.N on the shared loopback, so on a shared machine run it in a network namespace of its own:
//   unshare --net sh -c 'ip link set lo up && npx vitest run --project chaos test/chaos/chaos-pm2.test.ts'
// chaos-netns.test.ts runs the same scenarios on the netns network.
import { afterAll, beforeAll } from 'vitest';
import type { TestCluster } from '../helpers/cluster.js';
import { upPm2Target } from './pm2-cluster.js';
import { chaosScenarios, type ChaosTarget } from './scenarios.js';

let c: TestCluster;
let target: ChaosTarget;

beforeAll(async () => {
  ({ cluster: c, target } = await upPm2Target('loopback'));
}, 240_000);

afterAll(async () => {
  await c?.down();
}, 120_000);

chaosScenarios('pm2', () => target);
