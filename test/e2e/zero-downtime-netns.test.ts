// Zero-downtime Service traffic on the netns network (`kubemu up --network=netns`: every pod in a network namespace
// of its own, kube-proxy in nftables; issue #19): see zero-downtime-suite.ts. A file of its own beside
// zero-downtime.test.ts, so that `npm test` runs the two modes side by side in phase 2.
//
// Not yet in `npm test`: it has not passed whole on a machine at a normal load (the rolling-update and scale-down
// cases missed, at load 40-80; #19). KUBEMU_TEST_NETNS_SUITES=1 runs it.
import { describe } from 'vitest';
import { zeroDowntimeSuite } from './zero-downtime-suite.js';

describe.skipIf(process.env['KUBEMU_TEST_NETNS_SUITES'] !== '1')('on the netns network', () => {
  zeroDowntimeSuite('netns');
});
