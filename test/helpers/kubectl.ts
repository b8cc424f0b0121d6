// The kubectl the tests run: the plain binary a user installs, of the server's minor version. On this machine the
// `kubectl` on PATH is the Google Cloud SDK's version dispatcher, which asks the server for its version and then
// execs `kubectl.1.N` beside it: through it every call costs a second Go start-up and a request (~0.2 s of wall time
// and ~0.13 s of CPU each, measured) for nothing the test looks at. Tests that are about the dispatcher itself (a
// user typing `kubectl`) still run `kubectl`; tests of other versions name theirs (`kubectl.1.27`).
import { KUBE_GIT_VERSION } from '../../src/api/release.js';
import { kubectlBinaries } from '../../src/bench/kubectl-binary.js';

let resolved: string | undefined;

/** The plain kubectl of the server's version (resolved once; throws when no kubectl is on PATH). */
export function kubectlBin(): string {
  resolved ??= kubectlBinaries(KUBE_GIT_VERSION).plain;
  return resolved;
}
