// Issue #21 Show 1 (the RBAC slice): users made as a user makes them — an openssl key and CSR signed with the
// cluster's CA, and `kubemu kubeconfig --user` — are authorized by RBAC with upstream's bootstrap roles and 403
// wording, with the real kubectl 1.27 and 1.33: `view` lists but cannot create, `edit` creates Deployments but not
// Roles, a RoleBinding grants one namespace only, `auth can-i --list`, impersonation allowed and refused, the
// escalation and bind checks, anonymous requests, and `kubectl auth reconcile`. One cluster.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';
import { kubectlBin } from '../helpers/kubectl.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];

let c: TestCluster;
let dir: string;
let server: string;
let caFile: string;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
/** kubectl of one release with a kubeconfig of the caller's */
const kubectlAs = (kubeconfig: string, version: string, args: string[]): Promise<Run> =>
  run(`${SDK}/kubectl.${version}`, ['--kubeconfig', kubeconfig, ...args], process.env, { timeoutMs: 30_000 });
const admin = (args: string[], input?: string): Promise<Run> =>
  c.kubectl(args, input === undefined ? {} : { input });
const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** what the Kubernetes docs tell a user to do: a key, a CSR with CN/O, signed by the cluster CA, a kubeconfig */
async function opensslUser(user: string, groups: string[]): Promise<string> {
  const subj = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  openssl(['genrsa', '-out', `${user}.key`, '2048']);
  openssl(['req', '-new', '-key', `${user}.key`, '-out', `${user}.csr`, '-subj', subj]);
  openssl([
    ...['x509', '-req', '-in', `${user}.csr`, '-CA', caFile, '-CAkey', join(c.stateDir, 'pki', 'ca.key')],
    ...['-CAcreateserial', '-out', `${user}.crt`, '-days', '1'],
  ]);
  const kubeconfig = join(dir, `${user}.kubeconfig`);
  const k = (args: string[]): Promise<Run> =>
    run(kubectlBin(), ['--kubeconfig', kubeconfig, 'config', ...args], process.env);
  must(
    await k([
      'set-cluster',
      'kubemu',
      `--server=${server}`,
      `--certificate-authority=${caFile}`,
      '--embed-certs',
    ]),
    'set-cluster',
  );
  must(
    await k([
      'set-credentials',
      user,
      `--client-certificate=${join(dir, `${user}.crt`)}`,
      `--client-key=${join(dir, `${user}.key`)}`,
      '--embed-certs',
    ]),
    'set-credentials',
  );
  must(await k(['set-context', user, '--cluster=kubemu', `--user=${user}`]), 'set-context');
  must(await k(['use-context', user]), 'use-context');
  return kubeconfig;
}

let jane: string; // view in default, by an openssl-made certificate
let bob: string; // edit in default through group devs, by `kubemu kubeconfig`
let carol: string; // admin in default

beforeAll(async () => {
  ensureCommands([
    ['openssl', 'openssl'],
    ['curl', 'curl'],
  ]);
  dir = mkdtempSync(join(tmpdir(), 'kubemu-rbac-'));
  c = await upCluster({ nodes: 1 });
  const status = await c.status();
  server = status.apiServer.url!;
  caFile = join(c.stateDir, 'pki', 'ca.crt');
  jane = await opensslUser('jane', []);
  carol = await opensslUser('carol', ['auditors']);
  bob = join(dir, 'bob.kubeconfig');
  must(
    await c.kubemu([
      'kubeconfig',
      '--name',
      c.name,
      '--state-dir',
      c.stateDir,
      '--user',
      'bob',
      '--group',
      'devs',
      '-o',
      bob,
    ]),
    'kubemu kubeconfig',
  );
  must(
    await admin(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'default']),
    'rb',
  );
  must(
    await admin([
      'create',
      'rolebinding',
      'devs-edit',
      '--clusterrole=edit',
      '--group=devs',
      '-n',
      'default',
    ]),
    'rb',
  );
  must(
    await admin([
      'create',
      'rolebinding',
      'carol-admin',
      '--clusterrole=admin',
      '--user=carol',
      '-n',
      'default',
    ]),
    'rb',
  );
  // view, edit and admin get their rules from the aggregation controller
  await c.waitFor('aggregated view/edit/admin', async () => {
    const r = await admin(['auth', 'can-i', 'create', 'roles', '-n', 'default', '--as', 'carol']);
    const v = await admin(['auth', 'can-i', 'list', 'pods', '-n', 'default', '--as', 'jane']);
    return r.stdout.trim() === 'yes' && v.stdout.trim() === 'yes';
  });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('RBAC with kubectl 1.27 and 1.33', () => {
  it("the bootstrap policy is upstream's: cluster-admin bound to system:masters, view aggregated from system:aggregate-to-view", async () => {
    const crb = await c.getJson(['get', 'clusterrolebinding', 'cluster-admin']);
    expect(crb.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' },
    ]);
    expect(crb.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate']).toBe('true');
    const view = await c.getJson(['get', 'clusterrole', 'view']);
    const source = await c.getJson(['get', 'clusterrole', 'system:aggregate-to-view']);
    expect(view.aggregationRule.clusterRoleSelectors).toEqual([
      { matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
    ]);
    expect(view.rules).toEqual(source.rules);
    // the admin kubeconfig's identity is in system:masters, like kubeadm's admin
    const who = await c.getJson(['auth', 'whoami']);
    expect(who.status.userInfo.groups).toContain('system:masters');
  });

  it('the ingress gateway, DNS and the LoadBalancer provider run with their add-on roles, not as system:masters', async () => {
    const canI = async (user: string, ...args: string[]): Promise<string> =>
      (await c.kubectl(['auth', 'can-i', ...args, '--as', user])).stdout.trim();
    const ingress = 'system:kube-ingress';
    const dns = 'system:serviceaccount:kube-system:coredns';
    const lb = 'system:cloud-controller-manager';
    // what each needs (ingress-nginx's, CoreDNS's and the cloud-controller-manager's service controller's grants)
    expect(await canI(ingress, 'list', 'secrets', '-A')).toBe('yes');
    expect(await canI(ingress, 'update', 'ingresses', '--subresource=status', '-n', 'default')).toBe('yes');
    expect(await canI(dns, 'watch', 'endpointslices.discovery.k8s.io', '-A')).toBe('yes');
    expect(await canI(lb, 'patch', 'services', '--subresource=status', '-n', 'default')).toBe('yes');
    // and nothing beyond
    expect(await canI(ingress, 'create', 'pods', '-n', 'default')).toBe('no');
    expect(await canI(dns, 'get', 'secrets', '-n', 'kube-system')).toBe('no');
    expect(await canI(lb, 'delete', 'nodes')).toBe('no');
    expect(await canI(lb, 'create', 'clusterrolebindings')).toBe('no');
    const binding = await c.getJson(['get', 'clusterrolebinding', 'system:coredns']);
    expect(binding.subjects).toMatchObject([
      { kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' },
    ]);
  });

  it('a view user (openssl certificate) lists but cannot create; its RoleBinding grants one namespace only', async () => {
    for (const v of VERSIONS) {
      const list = await kubectlAs(jane, v, ['get', 'pods', '-n', 'default']);
      expect(list.code, `${v}: ${list.stderr}`).toBe(0);
      const create = await kubectlAs(jane, v, [
        'create',
        'deployment',
        `web${v.replace('.', '')}`,
        '--image=nginx',
        '-n',
        'default',
      ]);
      expect(create.code, v).not.toBe(0);
      expect(create.stderr, v).toContain(
        // kubectl's own prefix for `create deployment`, then the server's message
        'error: failed to create deployment: deployments.apps is forbidden: User "jane" cannot create resource "deployments" in API group "apps" in the namespace "default"',
      );
      const docs = join(import.meta.dirname, '../fixtures/k8s-docs/nginx-deployment.yaml');
      const fromDocs = await kubectlAs(jane, v, ['create', '-f', docs, '-n', 'default']);
      expect(fromDocs.stderr, v).toContain(
        `Error from server (Forbidden): error when creating "${docs}": deployments.apps is forbidden: User "jane" cannot create resource "deployments" in API group "apps" in the namespace "default"`,
      );
      const other = await kubectlAs(jane, v, ['get', 'pods', '-n', 'kube-system']);
      expect(other.code, v).not.toBe(0);
      expect(other.stderr, v).toContain(
        'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "kube-system"',
      );
      const nodes = await kubectlAs(jane, v, ['get', 'nodes']);
      expect(nodes.stderr, v).toContain(
        'nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope',
      );
    }
  });

  it('an edit user (kubemu kubeconfig --user bob --group devs) creates Deployments but not Roles', async () => {
    const cert = readFileSync(bob, 'utf8');
    expect(cert).toContain('client-certificate-data');
    for (const v of VERSIONS) {
      const name = `web${v.replace('.', '')}`;
      must(
        await kubectlAs(bob, v, ['create', 'deployment', name, '--image=nginx', '-n', 'default']),
        `${v} create`,
      );
      const role = await kubectlAs(bob, v, [
        'create',
        'role',
        `reader${v.replace('.', '')}`,
        '--verb=get',
        '--resource=pods',
        '-n',
        'default',
      ]);
      expect(role.code, v).not.toBe(0);
      expect(role.stderr, v).toContain(
        'roles.rbac.authorization.k8s.io is forbidden: User "bob" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "default"',
      );
      const can = await kubectlAs(bob, v, ['auth', 'can-i', 'create', 'deployments', '-n', 'default']);
      expect(can.stdout.trim(), v).toBe('yes');
      const cannot = await kubectlAs(jane, v, ['auth', 'can-i', 'create', 'deployments', '-n', 'default']);
      expect(cannot.stdout.trim(), v).toBe('no');
      expect(cannot.code, v).toBe(1);
    }
    const who = await kubectlAs(bob, '1.33', ['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(must(who, 'whoami')).status.userInfo).toEqual({
      username: 'bob',
      groups: ['devs', 'system:authenticated'],
    });
  });

  it("auth can-i --list shows the rules in upstream's table", async () => {
    for (const v of VERSIONS) {
      const out = must(
        await kubectlAs(jane, v, ['auth', 'can-i', '--list', '-n', 'default']),
        `${v} can-i --list`,
      );
      const lines = out.split('\n');
      expect(lines[0], v).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
      expect(out, v).toMatch(
        /\nselfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]\n/,
      );
      expect(out, v).toMatch(/\npods\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
      expect(out, v).toMatch(/\ndeployments\.apps\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
      expect(out, v).toMatch(/\n\s+\[\/api\/\*\]\s+\[\]\s+\[get\]\n/);
      expect(out, v).not.toMatch(/\nsecrets\s/);
      // in a namespace without a binding only what every authenticated user has
      const elsewhere = must(
        await kubectlAs(jane, v, ['auth', 'can-i', '--list', '-n', 'kube-system']),
        'list',
      );
      expect(elsewhere).not.toMatch(/\npods\s/);
    }
  });

  it("impersonation: allowed when RBAC grants `impersonate`, refused with upstream's 403 otherwise", async () => {
    for (const v of VERSIONS) {
      const refused = await kubectlAs(jane, v, ['get', 'pods', '-n', 'default', '--as', 'bob']);
      expect(refused.code, v).not.toBe(0);
      expect(refused.stderr, v).toContain(
        'users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope',
      );
      const group = await kubectlAs(jane, v, [
        'get',
        'pods',
        '-n',
        'default',
        '--as',
        'jane',
        '--as-group',
        'devs',
      ]);
      expect(group.stderr, v).toContain('User "jane" cannot impersonate resource "users"');
    }
    must(
      await admin([
        'create',
        'clusterrole',
        'impersonate-jane',
        '--verb=impersonate',
        '--resource=users',
        '--resource-name=jane',
      ]),
      'clusterrole',
    );
    must(
      await admin([
        'create',
        'clusterrolebinding',
        'bob-impersonates-jane',
        '--clusterrole=impersonate-jane',
        '--user=bob',
      ]),
      'crb',
    );
    for (const v of VERSIONS) {
      // bob as jane: jane's rights (list in default), not bob's (create)
      must(await kubectlAs(bob, v, ['get', 'pods', '-n', 'default', '--as', 'jane']), `${v} as jane`);
      const asJane = await kubectlAs(bob, v, ['create', 'configmap', 'x', '-n', 'default', '--as', 'jane']);
      expect(asJane.stderr, v).toContain(
        'configmaps is forbidden: User "jane" cannot create resource "configmaps" in API group "" in the namespace "default"',
      );
      const asCarol = await kubectlAs(bob, v, ['get', 'pods', '-n', 'default', '--as', 'carol']);
      expect(asCarol.stderr, v).toContain(
        'users "carol" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope',
      );
      // the admin (system:masters) may impersonate anyone, groups too
      const can = await admin([
        'auth',
        'can-i',
        'create',
        'deployments',
        '-n',
        'default',
        '--as',
        'nobody',
        '--as-group',
        'devs',
      ]);
      expect(can.stdout.trim()).toBe('yes');
    }
  });

  it('escalation and bind checks: an admin of a namespace cannot grant what it does not hold', async () => {
    for (const v of VERSIONS) {
      const suffix = v.replace('.', '');
      must(
        await kubectlAs(carol, v, [
          'create',
          'role',
          `pod-reader${suffix}`,
          '--verb=get,list',
          '--resource=pods',
          '-n',
          'default',
        ]),
        'role',
      );
      const escalate = await kubectlAs(carol, v, [
        'create',
        'role',
        `node-reader${suffix}`,
        '--verb=list',
        '--resource=nodes',
        '-n',
        'default',
      ]);
      expect(escalate.code, v).not.toBe(0);
      expect(escalate.stderr, v).toContain(
        `roles.rbac.authorization.k8s.io "node-reader${suffix}" is forbidden: user "carol" (groups=["auditors" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}`,
      );
      const bind = await kubectlAs(carol, v, [
        'create',
        'rolebinding',
        `carol-root${suffix}`,
        '--clusterrole=cluster-admin',
        '--user=carol',
        '-n',
        'default',
      ]);
      expect(bind.code, v).not.toBe(0);
      expect(bind.stderr, v).toContain(
        `rolebindings.rbac.authorization.k8s.io "carol-root${suffix}" is forbidden: user "carol"`,
      );
      // binding a role whose rules carol holds is fine
      must(
        await kubectlAs(carol, v, [
          'create',
          'rolebinding',
          `jane-reads${suffix}`,
          `--role=pod-reader${suffix}`,
          '--user=jane',
          '-n',
          'default',
        ]),
        'bind',
      );
    }
  });

  it('anonymous requests are system:anonymous: health and version only', async () => {
    const curl = (path: string): Promise<Run> =>
      run('curl', ['-sS', '--cacert', caFile, '-w', '\n%{http_code}', `${server}${path}`], process.env, {
        timeoutMs: 15_000,
      });
    for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
      const r = await curl(path);
      expect(r.stdout.trim().split('\n').pop(), path).toBe('200');
    }
    const api = await curl('/api/v1/namespaces/default/pods');
    const [body, code] = [
      api.stdout.slice(0, api.stdout.lastIndexOf('\n')),
      api.stdout.trim().split('\n').pop(),
    ];
    expect(code).toBe('403');
    expect(JSON.parse(body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message:
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
    });
    const discovery = await curl('/apis');
    expect(discovery.stdout).toContain('forbidden: User \\"system:anonymous\\" cannot get path \\"/apis\\"');
    // a wrong token is not anonymous: 401
    const wrong = await run(
      'curl',
      [
        '-sS',
        '--cacert',
        caFile,
        '-H',
        'Authorization: Bearer nope',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${server}/api`,
      ],
      process.env,
    );
    expect(wrong.stdout).toBe('401');
  });

  it('kubectl auth reconcile -f creates and then completes roles and bindings', async () => {
    const manifest = (verbs: string[]): string => `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  namespace: default
  name: secret-reader
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: [${verbs.map((x) => `"${x}"`).join(', ')}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-secrets
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: secret-reader
  apiGroup: rbac.authorization.k8s.io
`;
    const file = join(dir, 'reconcile.yaml');
    writeFileSync(file, manifest(['get']));
    for (const v of VERSIONS) {
      must(await kubectlAs(c.kubeconfig, v, ['auth', 'reconcile', '-f', file]), `${v} reconcile`);
    }
    expect(
      (await kubectlAs(jane, '1.33', ['auth', 'can-i', 'get', 'secrets', '-n', 'default'])).stdout.trim(),
    ).toBe('yes');
    expect(
      (await kubectlAs(jane, '1.33', ['auth', 'can-i', 'list', 'secrets', '-n', 'default'])).stdout.trim(),
    ).toBe('no');
    writeFileSync(file, manifest(['get', 'list']));
    const out = must(await kubectlAs(c.kubeconfig, '1.27', ['auth', 'reconcile', '-f', file]), 'reconcile');
    expect(out).toContain('role.rbac.authorization.k8s.io/secret-reader reconciled');
    expect(
      (await kubectlAs(jane, '1.33', ['auth', 'can-i', 'list', 'secrets', '-n', 'default'])).stdout.trim(),
    ).toBe('yes');
  });
});
