// Every benchmark suite module, imported for its registerSuite() side effect. Add new suites here.
import './apiserver-suite.js';
import './apiserver-compare-suite.js';
import './write-pipeline-suite.js';
import './up-suite.js';
import './pods-suite.js';
import './volumes-suite.js';
import './ingress-suite.js';
import './services-suite.js';
import './node-failure-suite.js';
import './dashboard-suite.js';
import './wire-suite.js';
import './container-logs-suite.js';
import './data-plane-suite.js';
import './big-objects-suite.js';
import './nftables-suite.js';
import './streaming-suite.js';
import './rbac-suite.js';
