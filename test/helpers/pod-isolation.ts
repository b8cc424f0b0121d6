// Issue #21, Show 2's isolation checks, shared by the root-mode and rootless e2e files: a pod applied with kubectl
// cannot `cat` the cluster's state dir, its CA key, the admin kubeconfig or another pod's secret volume (the test
// knows their real paths on the node), in its program and in `kubectl exec`; a hostPath of a harmless directory
// still reads; the Kubernetes docs' security-context.yaml runs as its user with fsGroup on its volume and
// no_new_privs; runAsNonRoot is refused as upstream's kubelet refuses it; readOnlyRootFilesystem refuses a write.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Run, TestCluster } from './cluster.js';
import { SECURITY_CONTEXT_DEMO } from './docs-manifests.js';

export const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

export const apply = async (c: TestCluster, manifest: string): Promise<void> => {
  must(await c.kubectl(['apply', '-f', '-'], { input: manifest }), 'kubectl apply');
};

export const waitReady = async (c: TestCluster, pod: string): Promise<void> => {
  must(
    await c.kubectl(['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s'], {
      timeoutMs: 130_000,
    }),
    `wait for ${pod}`,
  );
};

export const exec = (c: TestCluster, pod: string, argv: string[]): Promise<Run> =>
  c.kubectl(['exec', pod, '--', ...argv]);

/** the first non-empty `kubectl logs POD` that `done` accepts */
const logsWhen = (c: TestCluster, pod: string, done: (out: string) => boolean): Promise<string> =>
  c.waitFor(
    `the log of ${pod}`,
    async () => {
      const r = await c.kubectl(['logs', pod]);
      return r.stdout !== '' && done(r.stdout) ? r.stdout : undefined;
    },
    120_000,
  );

/**
 * A victim pod with a secret volume, then a thief pod that tries to read the state dir, the CA key, the admin
 * kubeconfig, the victim's secret on the node and the test's checkout; the same again through `kubectl exec`.
 */
export async function expectSecretsUnreadable(c: TestCluster): Promise<void> {
  must(
    await c.kubectl(['create', 'secret', 'generic', 'victim-secret', '--from-literal=password=s3cr3t-value']),
    'create secret',
  );
  await apply(
    c,
    `apiVersion: v1
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
`,
  );
  await waitReady(c, 'victim');
  // the victim reads its own secret
  expect(await logsWhen(c, 'victim', () => true)).toBe('s3cr3t-value\n');
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
  await apply(
    c,
    `apiVersion: v1
kind: Pod
metadata:
  name: thief
spec:
  containers:
  - name: thief
    image: busybox
    command: ["sh", "-c", ${JSON.stringify(script)}]
`,
  );
  await waitReady(c, 'thief');
  const logs = await logsWhen(c, 'thief', (out) => out.includes('DONE'));
  expect(logs).not.toContain('s3cr3t-value');
  expect(logs).not.toContain('PRIVATE KEY');
  expect(logs).not.toMatch(/^(READ|LISTED) /m);
  for (const t of [c.stateDir, ...targets]) expect(logs).toContain(`DENIED ${t}`);
  expect(logs).toContain('DENIED checkout');

  // kubectl exec enters the same root
  for (const t of targets) {
    const r = await exec(c, 'thief', ['cat', t]);
    expect(r.code, `${t}: ${r.stdout}`).not.toBe(0);
    expect(r.stdout).toBe('');
  }
  const listed = await exec(c, 'thief', ['ls', c.stateDir]);
  expect(listed.stdout).toBe('');
}

/** A hostPath volume of `hostDir` (holding `greeting`: "hello from the node") is read by the pod. */
export async function expectHostPathReadable(c: TestCluster, hostDir: string): Promise<void> {
  await apply(
    c,
    `apiVersion: v1
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
`,
  );
  await waitReady(c, 'host-reader');
  expect(await logsWhen(c, 'host-reader', () => true)).toBe('hello from the node\n');
}

/** The docs' security-context.yaml: ids, fsGroup on the volume, no_new_privs, in `kubectl exec` and the program. */
export async function expectSecurityContextDemo(c: TestCluster): Promise<void> {
  await apply(c, SECURITY_CONTEXT_DEMO);
  await waitReady(c, 'security-context-demo');
  const id = must(await exec(c, 'security-context-demo', ['id']), 'id');
  // the docs show `uid=1000 gid=3000 groups=2000,3000,4000` (busybox's id; the node's names, if any, in brackets)
  const m = /^uid=1000(?:\(\S+\))? gid=3000(?:\(\S+\))? groups=(\S+)$/.exec(id.trim());
  expect(m, id).not.toBeNull();
  const groups = m![1].split(',').map((g) => Number(g.replace(/\(.*\)$/, '')));
  expect(groups.sort()).toEqual([2000, 3000, 4000]);
  // the docs: `ls -l` in /data shows demo with group 2000 and the setgid bit
  const ls = must(await exec(c, 'security-context-demo', ['ls', '-ln', '/data']), 'ls /data');
  expect(ls).toMatch(/^drwxrwsrwx\s+\d+\s+0\s+2000\s.*\sdemo$/m);
  // a file made there belongs to 1000 and group 2000
  const made = must(
    await exec(c, 'security-context-demo', [
      'sh',
      '-c',
      'echo hello > /data/demo/testfile && ls -ln /data/demo/testfile',
    ]),
    'testfile',
  );
  expect(made).toMatch(/^-rw-r--r--\s+1\s+1000\s+2000\s/);
  // allowPrivilegeEscalation: false is no_new_privs, in the container's program and in exec
  const status = must(
    await exec(c, 'security-context-demo', ['grep', 'NoNewPrivs', '/proc/self/status']),
    'status',
  );
  expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
  const program = must(
    await exec(c, 'security-context-demo', [
      'sh',
      '-c',
      'grep -l "^NoNewPrivs:.1" /proc/[0-9]*/status | wc -l',
    ]),
    'program status',
  );
  expect(Number(program.trim())).toBeGreaterThan(0);
}

/** runAsNonRoot with a root image is upstream's CreateContainerConfigError; with runAsUser 1001 it runs. */
export async function expectRunAsNonRoot(c: TestCluster): Promise<void> {
  await apply(
    c,
    `apiVersion: v1
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
`,
  );
  const uid = (await c.getJson(['get', 'pod', 'nonroot'])).metadata.uid as string;
  const waiting = await c.waitFor('the container to wait with CreateContainerConfigError', async () => {
    const pod = await c.getJson(['get', 'pod', 'nonroot']);
    const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  });
  const message = `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${uid})", container: c)`;
  expect(waiting.message).toBe(message);
  const events = await c.waitFor('the Failed event', async () => {
    const items = await podEvents(c, 'nonroot');
    return items.some((e) => e.reason === 'Failed') ? items : undefined;
  });
  expect(events).toContainEqual(expect.objectContaining({ reason: 'Failed', message: `Error: ${message}` }));
  expect(must(await c.kubectl(['get', 'pod', 'nonroot']), 'get')).toMatch(
    /nonroot\s+0\/1\s+CreateContainerConfigError\s/,
  );

  // with a non-root runAsUser it runs
  await apply(
    c,
    `apiVersion: v1
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
`,
  );
  await waitReady(c, 'nonroot-ok');
  expect(must(await exec(c, 'nonroot-ok', ['id', '-u']), 'id -u').trim()).toBe('1001');
}

/** readOnlyRootFilesystem: writes to /, /etc and /tmp fail with EROFS; an emptyDir stays writable. */
export async function expectReadOnlyRoot(c: TestCluster): Promise<void> {
  await apply(
    c,
    `apiVersion: v1
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
`,
  );
  await waitReady(c, 'read-only');
  for (const target of ['/x', '/etc/x', '/tmp/x']) {
    const r = await exec(c, 'read-only', ['touch', target]);
    expect(r.code, target).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
  }
  must(await exec(c, 'read-only', ['touch', '/scratch/x']), 'touch in the volume');
}

/** `kubectl get events` of one object, as JSON items */
export async function podEvents(
  c: TestCluster,
  name: string,
): Promise<{ reason: string; message: string; type: string }[]> {
  const r = await c.kubectl([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return JSON.parse(r.stdout || '{"items":[]}').items;
}
