// Issue #21, Show 2's isolation half in rootless mode: `kubemu up` run by a user who is not root (a test user made
// here, its own state dir under /var/tmp that it owns), whose kubelets run containers in unprivileged user
// namespaces with the same private root as root mode (overlay layers, masks, pivot_root). The checks of
// pod-security.test.ts (test/helpers/pod-isolation.ts): a pod cannot `cat` the state dir, the CA key, the admin
// kubeconfig or another pod's secret volume; a harmless hostPath reads; the docs' security-context.yaml,
// runAsNonRoot, readOnlyRootFilesystem.
// securityContext's ids rootless, decided as rootless podman and containerd decide them: with a subordinate range in
// /etc/subuid and /etc/subgid, a container's user namespace maps 1..N to it (runAsUser 1000 is the node's
// START+999, never the kubelet's user); without one, a pod asking for another id than 0 is refused
// (CreateContainerConfigError) and the Node's RunAsUserDegraded condition says why.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendants, upCluster, type TestCluster } from '../helpers/cluster.js';
import {
  apply,
  exec,
  expectHostPathReadable,
  expectReadOnlyRoot,
  expectRunAsNonRoot,
  expectSecretsUnreadable,
  expectSecurityContextDemo,
  must,
  podEvents,
  waitReady,
} from '../helpers/pod-isolation.js';
import { SECURITY_CONTEXT_DEMO } from '../helpers/docs-manifests.js';
import {
  createTestUser,
  grantSubordinateIds,
  type SubordinateGrant,
  type TestUser,
} from '../helpers/test-user.js';
import { ensureCommands } from '../helpers/tools.js';

const UP_ARGS = ['--timeout', '180'];

beforeAll(() => {
  ensureCommands([
    ['unshare', 'util-linux'],
    ['nsenter', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['runuser', 'util-linux'],
    ['newuidmap', 'uidmap'],
    ['newgidmap', 'uidmap'],
  ]);
});

/** the uid (real) of a process, from /proc */
const uidOf = (pid: number): number | undefined => {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

/** the uids of the kubelet's descendants whose argv is `argv` (a container's program, seen from the node) */
async function programUids(c: TestCluster, argv: string[]): Promise<(number | undefined)[]> {
  const s = await c.status();
  const kubelet = s.processes.find((p) => p.name.includes('kubelet'))!;
  return descendants([kubelet.pid])
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${argv.join('\0')}\0`;
      } catch {
        return false;
      }
    })
    .map(uidOf);
}

/** the Node's condition of `type` */
async function nodeCondition(
  c: TestCluster,
  type: string,
): Promise<{ status: string; reason: string; message: string }> {
  const nodes = await c.getJson(['get', 'nodes']);
  const cond = nodes.items[0].status.conditions.find((x: { type: string }) => x.type === type);
  expect(cond, `${type} on the node`).toBeDefined();
  return cond;
}

/** up as `user` with a state dir it owns under /var/tmp (inside the directories a container's root is made of) */
async function upAs(user: TestUser): Promise<TestCluster> {
  const stateDir = mkdtempSync('/var/tmp/kubemu-rootless-e2e-');
  const c = await upCluster({ nodes: 1, user, stateDir, extraArgs: UP_ARGS, upTimeoutMs: 200_000 });
  // every component runs as the user, none as root
  const s = await c.status();
  for (const p of s.processes) expect(uidOf(p.pid), p.name).toBe(user.uid);
  return c;
}

describe('rootless with subordinate ids (kubemu up by a user with a range in /etc/subuid)', () => {
  let user: TestUser | undefined;
  let grant: SubordinateGrant | undefined;
  let c: TestCluster | undefined;
  let hostDir = '';

  beforeAll(async () => {
    user = createTestUser('kubemu-e2e-rootless');
    grant = grantSubordinateIds(user);
    hostDir = mkdtempSync('/var/tmp/kubemu-rootless-hostpath-');
    chmodSync(hostDir, 0o755);
    writeFileSync(join(hostDir, 'greeting'), 'hello from the node\n');
    c = await upAs(user);
  }, 240_000);

  afterAll(async () => {
    await c?.down();
    grant?.remove();
    user?.remove();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  }, 60_000);

  it("cat of the state dir, the CA key, the admin kubeconfig and another pod's secret volume all fail, in the container and in kubectl exec", async () => {
    await expectSecretsUnreadable(c!);
  }, 300_000);

  it('a pod that asks for a hostPath of a harmless directory still reads it', async () => {
    await expectHostPathReadable(c!, hostDir);
  }, 180_000);

  it('the node says which ids containers may run as: RunAsUserDegraded False, with the range', async () => {
    const cond = await nodeCondition(c!, 'RunAsUserDegraded');
    expect(cond.status).toBe('False');
    expect(cond.reason).toBe('SubordinateIDsMapped');
    const last = grant!.start + grant!.count - 1;
    expect(cond.message).toContain(
      `uids 1-${grant!.count} are ${user!.name}'s subordinate uids ${grant!.start}-${last}`,
    );
    const described = must(await c!.kubectl(['describe', 'node']), 'describe node');
    expect(described).toMatch(/RunAsUserDegraded\s+False\s.*SubordinateIDsMapped/);
  }, 60_000);

  it("the docs' security-context.yaml: uid 1000 in the pod is the node's subordinate uid START+999, and its volume is fsGroup's", async () => {
    await expectSecurityContextDemo(c!);
    // outside: the program runs as the subordinate uid that maps 1000, not as the user who started kubemu
    const uids = await programUids(c!, ['sleep', '1h']);
    expect(uids).toEqual([grant!.start + 999]);
    // the file the demo made is the node's START+999 and group START+1999 (fsGroup 2000)
    const uid = (await c!.getJson(['get', 'pod', 'security-context-demo'])).metadata.uid as string;
    const nodesDir = join(c!.stateDir, 'nodes');
    const node = readdirSync(nodesDir).find((n) => existsSync(join(nodesDir, n, 'pods', uid)))!;
    const podDir = join(nodesDir, node, 'pods', uid);
    const ls = execFileSync('ls', ['-ln', join(podDir, 'volumes', 'sec-ctx-vol', 'testfile')], {
      encoding: 'utf8',
    });
    expect(ls).toMatch(new RegExp(`^-rw-r--r--\\s+1\\s+${grant!.start + 999}\\s+${grant!.start + 1999}\\s`));
    // a file in its own /tmp and a directory of its own in the volume, which the kubelet's user may not remove
    must(
      await exec(c!, 'security-context-demo', [
        'sh',
        '-c',
        'echo x > /tmp/mine && mkdir -p /data/demo/d/e && echo y > /data/demo/d/e/f',
      ]),
      'files as 1000',
    );
    // deleting the pod removes its directories, those files too
    must(
      await c!.kubectl(['delete', 'pod', 'security-context-demo', '--wait=true', '--timeout=60s'], {
        timeoutMs: 70_000,
      }),
      'delete',
    );
    await c!.waitFor('the pod directory to go', () => Promise.resolve(!existsSync(podDir)), 30_000);
  }, 240_000);

  it('runAsNonRoot with an image that runs as root is CreateContainerConfigError, in upstream words', async () => {
    await expectRunAsNonRoot(c!);
  }, 180_000);

  it('readOnlyRootFilesystem refuses a write to the root, not to a volume', async () => {
    await expectReadOnlyRoot(c!);
  }, 180_000);

  it('a runAsUser past the range is refused with CreateContainerConfigError that says the range', async () => {
    const past = grant!.count + 1;
    await apply(
      c!,
      `apiVersion: v1
kind: Pod
metadata:
  name: past-range
spec:
  securityContext:
    runAsUser: ${past}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
`,
    );
    const waiting = await c!.waitFor('CreateContainerConfigError', async () => {
      const pod = await c!.getJson(['get', 'pod', 'past-range']);
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(waiting.message).toContain(`runAsUser ${past} is not mapped on this node`);
    expect(waiting.message).toContain(`maps uids 0-${grant!.count}`);
  }, 120_000);
});

describe('rootless without subordinate ids (kubemu up by a user with no range in /etc/subuid)', () => {
  let user: TestUser | undefined;
  let c: TestCluster | undefined;

  beforeAll(async () => {
    user = createTestUser('kubemu-e2e-rootless-noids');
    c = await upAs(user);
  }, 240_000);

  afterAll(async () => {
    await c?.down();
    user?.remove();
  }, 60_000);

  it('the node says it: RunAsUserDegraded True in kubectl describe node, a Warning event, DEGRADED in kubemu status', async () => {
    const cond = await nodeCondition(c!, 'RunAsUserDegraded');
    expect(cond).toMatchObject({ status: 'True', reason: 'NoSubordinateIDs' });
    expect(cond.message).toContain(`containers run only as uid 0, which is ${user!.name} on the node`);
    expect(cond.message).toContain(`no subordinate uids for ${user!.name} in /etc/subuid`);
    const described = must(await c!.kubectl(['describe', 'node']), 'describe node');
    expect(described).toMatch(/RunAsUserDegraded\s+True\s.*NoSubordinateIDs/);
    const node = (await c!.getJson(['get', 'nodes'])).items[0].metadata.name as string;
    const events = await c!.waitFor('the Warning event', async () => {
      const items = await podEvents(c!, node);
      return items.some((e) => e.reason === 'RunAsUserDegraded') ? items : undefined;
    });
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', message: cond.message }));
    const status = await c!.kubemu(['status', '--name', c!.name, '--state-dir', c!.stateDir]);
    expect(status.stdout).toContain('DEGRADED');
    expect(status.stdout).toContain('RunAsUserDegraded');
  }, 120_000);

  it("the docs' security-context.yaml is refused (CreateContainerConfigError), never run as the kubelet's user", async () => {
    await apply(c!, SECURITY_CONTEXT_DEMO);
    const uid = (await c!.getJson(['get', 'pod', 'security-context-demo'])).metadata.uid as string;
    const waiting = await c!.waitFor('CreateContainerConfigError', async () => {
      const pod = await c!.getJson(['get', 'pod', 'security-context-demo']);
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    const message =
      `runAsUser 1000 is not mapped on this node: the kubelet runs as ${user!.name}, and its containers' user ` +
      `namespace maps only uid 0 (no subordinate uids for ${user!.name} in /etc/subuid) ` +
      `(pod: "security-context-demo_default(${uid})", container: sec-ctx-demo)`;
    expect(waiting.message).toBe(message);
    const events = await c!.waitFor('the Failed event', async () => {
      const items = await podEvents(c!, 'security-context-demo');
      return items.some((e) => e.reason === 'Failed') ? items : undefined;
    });
    expect(events).toContainEqual(
      expect.objectContaining({ reason: 'Failed', message: `Error: ${message}` }),
    );
    // nothing of it runs
    expect(await programUids(c!, ['sleep', '1h'])).toEqual([]);
  }, 120_000);

  it('a pod without runAsUser runs as uid 0 of its user namespace, which is the user on the node', async () => {
    await apply(
      c!,
      `apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3601"]
`,
    );
    await waitReady(c!, 'plain');
    expect(must(await exec(c!, 'plain', ['id', '-u']), 'id -u').trim()).toBe('0');
    expect(await programUids(c!, ['sleep', '3601'])).toEqual([user!.uid]);
  }, 120_000);
});
