// Issue #21, Show 2's isolation half and securityContext, from the user's side: a pod applied with kubectl cannot
// `cat` the cluster's state dir, its CA key, the admin kubeconfig or another pod's secret volume (the test knows
// their real paths on the node); a pod that asks for a harmless hostPath still reads it; the Kubernetes docs'
// security-context.yaml runs as its user with fsGroup on its volume and no_new_privs, in the container and in
// `kubectl exec`; runAsNonRoot is refused as upstream's kubelet refuses it; readOnlyRootFilesystem refuses a write.
// The state dir is under /var/tmp, inside the node directories an image's root is made of (as compose's
// /var/lib/kubemu is), and the test's checkout must not be visible either. One cluster, root mode.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import { SECURITY_CONTEXT_DEMO } from '../helpers/docs-manifests.js';

let c: TestCluster;
let hostDir = '';

const must = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

const apply = async (manifest: string): Promise<void> => {
  must(await c.kubectl(['apply', '-f', '-'], { input: manifest }), 'kubectl apply');
};

const waitReady = async (pod: string): Promise<void> => {
  must(
    await c.kubectl(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s'], {
      timeoutMs: 130_000,
    }),
    `wait for ${pod}`,
  );
};

const exec = (pod: string, argv: string[]) => c.kubectl(['exec', pod, '--', ...argv]);

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
    must(
      await c.kubectl([
        'create',
        'secret',
        'generic',
        'victim-secret',
        '--from-literal=password=s3cr3t-value',
      ]),
      'create secret',
    );
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: victim
spec:
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /etc/secret/password && echo && sleep 3600"]
    volumeMounts:
    - name: secret
      mountPath: /etc/secret
      readOnly: true
  volumes:
  - name: secret
    secret:
      secretName: victim-secret
`);
    await waitReady('victim');
    // the victim reads its own secret
    const own = await c.waitFor(
      'the victim to read its secret',
      async () => {
        const r = await c.kubectl(['logs', 'victim']);
        return r.stdout !== '' ? r.stdout : undefined;
      },
      120_000,
    );
    expect(own).toBe('s3cr3t-value\n');
    const uid = (await c.getJson(['get', 'pod', 'victim'])).metadata.uid as string;
    const nodesDir = join(c.stateDir, 'nodes');
    const node = readdirSync(nodesDir).find((n) => existsSync(join(nodesDir, n, 'pods', uid)));
    expect(node, 'the victim pod directory on its node').toBeDefined();
    const victimSecret = join(nodesDir, node!, 'pods', uid, 'volumes', 'secret', 'password');
    expect(existsSync(victimSecret)).toBe(true);
    const kubeconfigs = readdirSync(join(c.stateDir, 'kubeconfigs'));
    const admin = kubeconfigs.find((f) => f.startsWith('admin')) ?? kubeconfigs[0];
    const targets = [join(c.stateDir, 'pki', 'ca.key'), join(c.stateDir, 'kubeconfigs', admin), victimSecret];
    for (const t of targets) expect(existsSync(t), t).toBe(true);
    const script = [
      // nothing of the state dir: absent, or (masked) an empty directory
      `[ -z "$(ls -A ${c.stateDir} 2>/dev/null)" ] && echo "DENIED ${c.stateDir}" || echo "LISTED ${c.stateDir}"`,
      ...targets.map((t) => `cat ${t} && echo "READ ${t}" || echo "DENIED ${t}"`),
      `ls ${process.cwd()}/dist && echo "LISTED checkout" || echo "DENIED checkout"`,
      'echo DONE',
      'sleep 3600',
    ].join('; ');
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: thief
spec:
  containers:
  - name: thief
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(script)}]
`);
    await waitReady('thief');
    const logs = await c.waitFor(
      'the thief to finish',
      async () => {
        const r = await c.kubectl(['logs', 'thief']);
        return r.stdout.includes('DONE') ? r.stdout : undefined;
      },
      120_000,
    );
    expect(logs).not.toContain('s3cr3t-value');
    expect(logs).not.toContain('PRIVATE KEY');
    expect(logs).not.toMatch(/^(READ|LISTED) /m);
    for (const t of [c.stateDir, ...targets]) expect(logs).toContain(`DENIED ${t}`);
    expect(logs).toContain('DENIED checkout');

    // kubectl exec enters the same root
    for (const t of targets) {
      const r = await exec('thief', ['cat', t]);
      expect(r.code, `${t}: ${r.stdout}`).not.toBe(0);
      expect(r.stdout).toBe('');
    }
    const listed = await exec('thief', ['ls', c.stateDir]);
    expect(listed.stdout).toBe('');
  }, 300_000);

  it('a pod that asks for a hostPath of a harmless directory still reads it', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: host-reader
spec:
  containers:
  - name: reader
    image: busybox
    command: ["sh", "-c", "cat /host/greeting && sleep 3600"]
    volumeMounts:
    - name: host
      mountPath: /host
  volumes:
  - name: host
    hostPath:
      path: ${hostDir}
      type: Directory
`);
    await waitReady('host-reader');
    const logs = await c.waitFor(
      'the hostPath file in the log',
      async () => {
        const r = await c.kubectl(['logs', 'host-reader']);
        return r.stdout !== '' ? r.stdout : undefined;
      },
      120_000,
    );
    expect(logs).toBe('hello from the node\n');
  }, 180_000);
});

describe('securityContext', () => {
  it("the docs' security-context.yaml: id shows runAsUser, runAsGroup and the groups; the volume is fsGroup's; no_new_privs; in kubectl exec too", async () => {
    await apply(SECURITY_CONTEXT_DEMO);
    await waitReady('security-context-demo');
    const id = must(await exec('security-context-demo', ['id']), 'id');
    // the docs show `uid=1000 gid=3000 groups=2000,3000,4000` (busybox's id; the node's names, if any, in brackets)
    const m = /^uid=1000(?:\(\S+\))? gid=3000(?:\(\S+\))? groups=(\S+)$/.exec(id.trim());
    expect(m, id).not.toBeNull();
    const groups = m![1].split(',').map((g) => Number(g.replace(/\(.*\)$/, '')));
    expect(groups.sort()).toEqual([2000, 3000, 4000]);
    // the docs: `ls -l` in /data shows demo with group 2000 and the setgid bit
    const ls = must(await exec('security-context-demo', ['ls', '-ln', '/data']), 'ls /data');
    expect(ls).toMatch(/^drwxrwsrwx\s+\d+\s+0\s+2000\s.*\sdemo$/m);
    // a file made there belongs to 1000 and group 2000
    const made = must(
      await exec('security-context-demo', [
        'sh',
        '-c',
        'echo hello > /data/demo/testfile && ls -ln /data/demo/testfile',
      ]),
      'testfile',
    );
    expect(made).toMatch(/^-rw-r--r--\s+1\s+1000\s+2000\s/);
    // allowPrivilegeEscalation: false is no_new_privs, in the container's program and in exec
    const status = must(
      await exec('security-context-demo', ['grep', 'NoNewPrivs', '/proc/self/status']),
      'status',
    );
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const program = must(
      await exec('security-context-demo', [
        'sh',
        '-c',
        'grep -l "^NoNewPrivs:.1" /proc/[0-9]*/status | wc -l',
      ]),
      'program status',
    );
    expect(Number(program.trim())).toBeGreaterThan(0);
  }, 180_000);

  it('runAsNonRoot with an image that runs as root is CreateContainerConfigError, in upstream words', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: nonroot
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
`);
    const uid = (await c.getJson(['get', 'pod', 'nonroot'])).metadata.uid as string;
    const waiting = await c.waitFor('the container to wait with CreateContainerConfigError', async () => {
      const pod = await c.getJson(['get', 'pod', 'nonroot']);
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    const message = `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${uid})", container: c)`;
    expect(waiting.message).toBe(message);
    const events = await c.waitFor('the Failed event', async () => {
      const r = await c.kubectl([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=nonroot',
        '-o',
        'json',
      ]);
      const items = JSON.parse(r.stdout || '{"items":[]}').items as { reason: string; message: string }[];
      return items.some((e) => e.reason === 'Failed') ? items : undefined;
    });
    expect(events).toContainEqual(
      expect.objectContaining({ reason: 'Failed', message: `Error: ${message}` }),
    );
    expect(must(await c.kubectl(['get', 'pod', 'nonroot']), 'get')).toMatch(
      /nonroot\s+0\/1\s+CreateContainerConfigError\s/,
    );

    // with a non-root runAsUser it runs
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: nonroot-ok
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1001
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
`);
    await waitReady('nonroot-ok');
    expect(must(await exec('nonroot-ok', ['id', '-u']), 'id -u').trim()).toBe('1001');
  }, 180_000);

  it('readOnlyRootFilesystem refuses a write to the root, not to a volume', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: read-only
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    securityContext:
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: scratch
      mountPath: /scratch
  volumes:
  - name: scratch
    emptyDir: {}
`);
    await waitReady('read-only');
    for (const target of ['/x', '/etc/x', '/tmp/x']) {
      const r = await exec('read-only', ['touch', target]);
      expect(r.code, target).not.toBe(0);
      expect(r.stderr).toContain('Read-only file system');
    }
    must(await exec('read-only', ['touch', '/scratch/x']), 'touch in the volume');
  }, 180_000);
});
