// The IP family of a string, as node:net's isIP, without running isIPv6's regular expression on names.
// Node 20's isIP tests isIPv6 for every string that is not dotted IPv4, and the first such test in a process compiles
// that (large) expression: 60–100 ms of CPU, ~20 ms more when V8 tiers it up a few calls later. A host name has no
// ':', so it needs only the IPv4 test. `kubemu up` and the apiserver paid it at every start, checking the serving
// certificate's SAN names (`localhost`, `kubernetes`, …).
import { isIPv4, isIPv6 } from 'node:net';

export const ipFamily = (s: string): 0 | 4 | 6 => (isIPv4(s) ? 4 : s.includes(':') && isIPv6(s) ? 6 : 0);
