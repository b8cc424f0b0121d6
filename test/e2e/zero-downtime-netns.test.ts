// Zero-downtime Service traffic on the netns network (`kubemu up --network=netns`: every pod in a network namespace
// of its own, kube-proxy in nftables; issue #19): see zero-downtime-suite.ts. A file of its own beside
// zero-downtime.test.ts, so that `npm test` runs the two modes side by side in phase 2.
import { zeroDowntimeSuite } from './zero-downtime-suite.js';

zeroDowntimeSuite('netns');
