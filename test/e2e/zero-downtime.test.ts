// Zero-downtime Service traffic on the loopback network (user-space kube-proxy): see zero-downtime-suite.ts.
// zero-downtime-netns.test.ts runs the same suite on the netns network.
import { zeroDowntimeSuite } from './zero-downtime-suite.js';

zeroDowntimeSuite('loopback');
