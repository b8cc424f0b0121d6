// Issue #21, Show 2's isolation half and securityContext, from the user's side (the checks are in
// test/helpers/pod-isolation.ts, shared with pod-security-rootless.test.ts): a pod applied with kubectl cannot `cat`
// the cluster's state dir, its CA key, the admin kubeconfig or another pod's secret volume (the test knows their
// real paths on the node); a pod that asks for a harmless hostPath still reads it; the Kubernetes docs'
// security-context.yaml runs as its user with fsGroup on its volume and no_new_privs, in the container and in
// `kubectl exec`; runAsNonRoot is refused as upstream's kubelet refuses it; readOnlyRootFilesystem refuses a write.
// The state dir is under /var/tmp, inside the node directories an image's root is made of (as compose's
// /var/lib/kubemu is), and the test's checkout must not be visible either. One cluster, root mode.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import {
  expectHostPathReadable,
  expectReadOnlyRoot,
  expectRunAsNonRoot,
  expectSecretsUnreadable,
  expectSecurityContextDemo,
} from '../helpers/pod-isolation.js';

let c: TestCluster;
let hostDir = '';

beforeAll(async () => {
  // like compose's /var/lib/kubemu: a state dir inside /var, which every container's root is partly made of
  const stateDir = mkdtempSync('/var/tmp/kubemu-sec-e2e-');
  hostDir = mkdtempSync('/var/tmp/kubemu-sec-hostpath-');
  writeFileSync(join(hostDir, 'greeting'), 'hello from the node\n');
  c = await upCluster({ nodes: 1, stateDir });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
}, 60_000);

describe("a pod cannot read the cluster's secrets on the node", () => {
  it("cat of the state dir, the CA key, the admin kubeconfig and another pod's secret volume all fail, in the container and in kubectl exec", async () => {
    await expectSecretsUnreadable(c);
  }, 300_000);

  it('a pod that asks for a hostPath of a harmless directory still reads it', async () => {
    await expectHostPathReadable(c, hostDir);
  }, 180_000);
});

describe('securityContext', () => {
  it("the docs' security-context.yaml: id shows runAsUser, runAsGroup and the groups; the volume is fsGroup's; no_new_privs; in kubectl exec too", async () => {
    await expectSecurityContextDemo(c);
  }, 180_000);

  it('runAsNonRoot with an image that runs as root is CreateContainerConfigError, in upstream words', async () => {
    await expectRunAsNonRoot(c);
  }, 180_000);

  it('readOnlyRootFilesystem refuses a write to the root, not to a volume', async () => {
    await expectReadOnlyRoot(c);
  }, 180_000);
});
