// The platform kinds of #18 from the user's side, on one cluster, with kubectl 1.27 and 1.33: RBAC, admission
// registration, CustomResourceDefinition, flow control, CertificateSigningRequest, NetworkPolicy, IPAddress and
// ServiceCIDR created from the Kubernetes docs' manifests (test/fixtures/k8s-docs-examples), listed with upstream's
// columns, described, applied client- and server-side, patched three ways and deleted; invalid manifests refused
// with upstream's messages; `kubectl create role…`, `auth whoami`, `auth can-i`, `certificate approve/deny`, `explain`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];
const DOCS = new URL('../fixtures/k8s-docs-examples/', import.meta.url);
const docs = (file: string): string => readFileSync(new URL(file, DOCS), 'utf8');

let c: TestCluster;
let work: string;

beforeAll(async () => {
  ensureCommands([['openssl', 'openssl']]);
  work = mkdtempSync(join(tmpdir(), 'kinds-platform-'));
  c = await upCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

function kubectl(v: Version, args: string[], input?: string): Promise<Run> {
  const env = { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig };
  return run(`${SDK}/kubectl.${v}`, ['--kubeconfig', c.kubeconfig, ...args], env, {
    ...(input !== undefined ? { input } : {}),
    timeoutMs: 60_000,
  });
}

async function ok(v: Version, args: string[], input?: string): Promise<string> {
  const r = await kubectl(v, args, input);
  expect(r.code, `kubectl ${v} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** the column names of a `kubectl get` table */
const header = (out: string): string[] =>
  out
    .split('\n')[0]
    .trim()
    .split(/\s{2,}/);

/** the cells of the row whose first cell is `name` */
function row(out: string, name: string): string[] {
  const line = out.split('\n').find((l) => l.split(/\s+/)[0] === name);
  expect(line, `${name} in\n${out}`).toBeDefined();
  return line!.trim().split(/\s{2,}/);
}

/** a CSR's PEM request as a user makes it: an openssl key and request for CN=<user> */
function csrRequest(user: string): string {
  const key = join(work, `${user}.key`);
  const csr = join(work, `${user}.csr`);
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${user}/O=developers`], {
    stdio: 'ignore',
  });
  return readFileSync(csr).toString('base64');
}

// manifests the docs show inline (or only in parts) rather than as example files
const WEBHOOK = (
  kind: 'Validating' | 'Mutating',
  name: string,
) => `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}WebhookConfiguration
metadata:
  name: ${name}
webhooks:
- name: my-webhook.example.com
  rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE"]
    resources: ["pods"]
    scope: "Namespaced"
  clientConfig:
    service:
      namespace: example-namespace
      name: example-service
  admissionReviewVersions: ["v1"]
  sideEffects: None
  timeoutSeconds: 5
`;
const PRIORITY_LEVEL = `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: workload-demo
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 20
    limitResponse:
      type: Queue
      queuing:
        queues: 16
        handSize: 4
        queueLengthLimit: 50
`;
const CSR = (name: string, request: string) => `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${request}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400  # one day
  usages:
  - client auth
`;
const IP_ADDRESS = `apiVersion: networking.k8s.io/v1
kind: IPAddress
metadata:
  name: 10.96.100.100
spec:
  parentRef:
    group: ""
    resource: services
    name: my-service
    namespace: default
`;
const SERVICE_CIDR = `apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata:
  name: newcidr1
spec:
  cidrs:
  - 10.96.0.0/24
`;

interface Kind {
  what: string;
  manifest: () => string;
  /** `kubectl get` arguments naming the object */
  get: string[];
  name: string;
  /** upstream's columns, without and with -o wide */
  columns: string[];
  wide?: string[];
  /** the first cells after NAME that do not depend on time */
  cells?: (v: Version) => string[];
  /** kubectl 1.27's describer reads IPAddress from networking.k8s.io/v1alpha1, which 1.33 (and kubemu) no longer serve */
  describeSince?: Version;
  /**
   * the server-side apply after a client-side one meets a conflict upstream too: an atomic list the server defaulted
   * (resourceRules[].scope: "*") differs from the manifest's, and kubectl-client-side-apply owns it until kubectl
   * migrates the managed fields after a successful apply
   */
  forceConflicts?: boolean;
}

const KINDS: Kind[] = [
  {
    what: 'Role (docs)',
    manifest: () => docs('access__simple-role.yaml'),
    get: ['role', 'pod-reader', '-n', 'default'],
    name: 'pod-reader',
    columns: ['NAME', 'CREATED AT'],
  },
  {
    what: 'ClusterRole (docs)',
    manifest: () => docs('access__simple-clusterrole.yaml'),
    get: ['clusterrole', 'secret-reader'],
    name: 'secret-reader',
    columns: ['NAME', 'CREATED AT'],
  },
  {
    what: 'RoleBinding (docs)',
    manifest: () => docs('access__simple-rolebinding-with-role.yaml'),
    get: ['rolebinding', 'read-pods', '-n', 'default'],
    name: 'read-pods',
    columns: ['NAME', 'ROLE', 'AGE'],
    wide: ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    cells: () => ['Role/pod-reader'],
  },
  {
    what: 'ClusterRoleBinding (docs)',
    manifest: () => docs('access__simple-clusterrolebinding.yaml'),
    get: ['clusterrolebinding', 'read-secrets-global'],
    name: 'read-secrets-global',
    columns: ['NAME', 'ROLE', 'AGE'],
    wide: ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    cells: () => ['ClusterRole/secret-reader'],
  },
  {
    what: 'NetworkPolicy (docs)',
    manifest: () => docs('service__networking__networkpolicy.yaml'),
    get: ['netpol', 'test-network-policy', '-n', 'default'],
    name: 'test-network-policy',
    columns: ['NAME', 'POD-SELECTOR', 'AGE'],
    cells: () => ['role=db'],
  },
  {
    what: 'CustomResourceDefinition (docs)',
    manifest: () => docs('customresourcedefinition__shirt-resource-definition.yaml'),
    get: ['crd', 'shirts.stable.example.com'],
    name: 'shirts.stable.example.com',
    columns: ['NAME', 'CREATED AT'],
  },
  {
    what: 'FlowSchema (docs)',
    manifest: () => docs('priority-and-fairness__health-for-strangers.yaml'),
    get: ['flowschema', 'health-for-strangers'],
    name: 'health-for-strangers',
    columns: ['NAME', 'PRIORITYLEVEL', 'MATCHINGPRECEDENCE', 'DISTINGUISHERMETHOD', 'AGE', 'MISSINGPL'],
    cells: () => ['exempt', '1000', '<none>'],
  },
  {
    what: 'PriorityLevelConfiguration',
    manifest: () => PRIORITY_LEVEL,
    get: ['prioritylevelconfiguration', 'workload-demo'],
    name: 'workload-demo',
    columns: ['NAME', 'TYPE', 'NOMINALCONCURRENCYSHARES', 'QUEUES', 'HANDSIZE', 'QUEUELENGTHLIMIT', 'AGE'],
    cells: () => ['Limited', '20', '16', '4', '50'],
  },
  {
    what: 'ValidatingAdmissionPolicy and binding (docs)',
    manifest: () => docs('service__networking__vap-servicecidr-default.yaml'),
    get: ['validatingadmissionpolicy', 'servicecidrs.default'],
    name: 'servicecidrs.default',
    columns: ['NAME', 'VALIDATIONS', 'PARAMKIND', 'AGE'],
    cells: () => ['1', '<unset>'],
    forceConflicts: true,
  },
  {
    what: 'ValidatingWebhookConfiguration',
    manifest: () => WEBHOOK('Validating', 'demo-validating'),
    get: ['validatingwebhookconfiguration', 'demo-validating'],
    name: 'demo-validating',
    columns: ['NAME', 'WEBHOOKS', 'AGE'],
    cells: () => ['1'],
  },
  {
    what: 'MutatingWebhookConfiguration',
    manifest: () => WEBHOOK('Mutating', 'demo-mutating'),
    get: ['mutatingwebhookconfiguration', 'demo-mutating'],
    name: 'demo-mutating',
    columns: ['NAME', 'WEBHOOKS', 'AGE'],
    cells: () => ['1'],
  },
  {
    what: 'CertificateSigningRequest',
    manifest: () => CSR('lifecycle-user', csrRequest('lifecycle-user')),
    get: ['csr', 'lifecycle-user'],
    name: 'lifecycle-user',
    columns: ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION'],
  },
  {
    what: 'IPAddress',
    manifest: () => IP_ADDRESS,
    get: ['ipaddress', '10.96.100.100'],
    name: '10.96.100.100',
    columns: ['NAME', 'PARENTREF'],
    cells: () => ['services/default/my-service'],
    describeSince: '1.33',
  },
  {
    what: 'ServiceCIDR',
    manifest: () => SERVICE_CIDR,
    get: ['servicecidr', 'newcidr1'],
    name: 'newcidr1',
    columns: ['NAME', 'CIDRS', 'AGE'],
    cells: () => ['10.96.0.0/24'],
  },
];

describe('a fresh cluster', () => {
  it("has API Priority and Fairness' mandatory flow schemas and priority levels", async () => {
    for (const v of VERSIONS) {
      const fs = await ok(v, ['get', 'flowschemas']);
      expect(header(fs)).toEqual([
        'NAME',
        'PRIORITYLEVEL',
        'MATCHINGPRECEDENCE',
        'DISTINGUISHERMETHOD',
        'AGE',
        'MISSINGPL',
      ]);
      // sorted by matching precedence as upstream's printer does
      expect(fs.split('\n')[1]).toMatch(/^exempt\s+exempt\s+1\s+<none>\s+\S+\s+False$/);
      expect(row(fs, 'catch-all').slice(1, 4)).toEqual(['catch-all', '10000', 'ByUser']);
      const pl = await ok(v, ['get', 'prioritylevelconfigurations']);
      expect(row(pl, 'catch-all').slice(1, 6)).toEqual(['Limited', '5', '<none>', '<none>', '<none>']);
      expect(row(pl, 'exempt').slice(1, 3)).toEqual(['Exempt', '<none>']);
    }
  });

  it('lists every platform resource in discovery with its short names', async () => {
    const out = await ok('1.33', ['api-resources', '-o', 'wide']);
    expect(out).toMatch(
      /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition/m,
    );
    expect(out).toMatch(/^certificatesigningrequests\s+csr\s+certificates\.k8s\.io\/v1\s+false/m);
    expect(out).toMatch(/^networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true/m);
    expect(out).toMatch(
      /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview\s+create/m,
    );
    for (const r of [
      'roles',
      'clusterrolebindings',
      'validatingadmissionpolicies',
      'flowschemas',
      'servicecidrs',
    ])
      expect(out).toMatch(new RegExp(`^${r}\\s`, 'm'));
  });
});

for (const v of VERSIONS) {
  describe(`kubectl ${v}`, () => {
    for (const kind of KINDS) {
      it(`${kind.what}: create, get, describe, apply (client and server side), patch three ways, delete`, async () => {
        const file = join(work, `${kind.name}-${v}.yaml`);
        writeFileSync(file, kind.manifest());
        expect(await ok(v, ['apply', '-f', file])).toMatch(/ created\n/);

        const got = await ok(v, ['get', ...kind.get]);
        expect(header(got)).toEqual(kind.columns);
        if (kind.cells) expect(row(got, kind.name).slice(1, 1 + kind.cells(v).length)).toEqual(kind.cells(v));
        if (kind.wide) expect(header(await ok(v, ['get', ...kind.get, '-o', 'wide']))).toEqual(kind.wide);

        if (!kind.describeSince || v >= kind.describeSince) {
          const described = await ok(v, ['describe', ...kind.get]);
          expect(described).toMatch(new RegExp(`^Name:\\s+${kind.name.replace(/\./g, '\\.')}$`, 'm'));
        }

        expect(await ok(v, ['apply', '-f', file])).toMatch(/ unchanged\n/);
        const ssa = [
          'apply',
          '--server-side',
          ...(kind.forceConflicts ? ['--force-conflicts'] : []),
          '-f',
          file,
        ];
        expect(await ok(v, ssa)).toMatch(/ serverside-applied\n/);

        await ok(v, ['patch', ...kind.get, '-p', '{"metadata":{"labels":{"strategic":"yes"}}}']);
        await ok(v, ['patch', ...kind.get, '--type=merge', '-p', '{"metadata":{"labels":{"merge":"yes"}}}']);
        await ok(v, [
          'patch',
          ...kind.get,
          '--type=json',
          '-p',
          '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]',
        ]);
        const labels = JSON.parse(await ok(v, ['get', ...kind.get, '-o', 'json'])).metadata.labels;
        expect(labels).toEqual({ strategic: 'yes', merge: 'yes', json: 'yes' });

        expect(await ok(v, ['delete', '-f', file])).toMatch(/ deleted\n/);
        expect((await kubectl(v, ['get', ...kind.get])).stderr).toMatch(/NotFound|not found/);
      });
    }

    it('kubectl create role, clusterrole, rolebinding and clusterrolebinding', async () => {
      const s = v.replace('.', '');
      expect(
        await ok(v, ['create', 'role', `reader-${s}`, '--verb=get,list,watch', '--resource=pods,services']),
      ).toBe(`role.rbac.authorization.k8s.io/reader-${s} created\n`);
      expect(
        await ok(v, [
          'create',
          'clusterrole',
          `nodes-${s}`,
          '--verb=get',
          '--resource=nodes',
          '--resource-name=node-1',
        ]),
      ).toBe(`clusterrole.rbac.authorization.k8s.io/nodes-${s} created\n`);
      expect(
        await ok(v, [
          'create',
          'clusterrole',
          `agg-${s}`,
          '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true',
        ]),
      ).toBe(`clusterrole.rbac.authorization.k8s.io/agg-${s} created\n`);
      await ok(v, [
        'create',
        'rolebinding',
        `rb-${s}`,
        `--role=reader-${s}`,
        '--user=jane',
        '--serviceaccount=default:default',
      ]);
      await ok(v, ['create', 'clusterrolebinding', `crb-${s}`, `--clusterrole=nodes-${s}`, '--group=devs']);

      const role = JSON.parse(await ok(v, ['get', 'role', `reader-${s}`, '-o', 'json']));
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
      ]);
      const agg = JSON.parse(await ok(v, ['get', 'clusterrole', `agg-${s}`, '-o', 'json']));
      expect(agg.aggregationRule).toEqual({
        clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }],
      });
      const rb = await ok(v, ['get', 'rolebinding', `rb-${s}`, '-o', 'wide']);
      expect(row(rb, `rb-${s}`)).toEqual([
        `rb-${s}`,
        `Role/reader-${s}`,
        expect.any(String),
        'jane',
        'default/default',
      ]);
      const crb = await ok(v, ['get', 'clusterrolebinding', `crb-${s}`, '-o', 'wide']);
      expect(row(crb, `crb-${s}`).slice(1, 2)).toEqual([`ClusterRole/nodes-${s}`]);
      expect(crb).toMatch(/\s+devs\s*$/m);

      // roleRef is immutable
      const change = await kubectl(v, [
        'patch',
        'rolebinding',
        `rb-${s}`,
        '--type=merge',
        '-p',
        '{"roleRef":{"name":"other"}}',
      ]);
      expect(change.code).not.toBe(0);
      expect(change.stderr).toContain(`The RoleBinding "rb-${s}" is invalid: roleRef: Invalid value:`);
      expect(change.stderr).toContain('cannot change roleRef');
      await ok(v, ['delete', 'rolebinding', `rb-${s}`]);
      await ok(v, ['delete', 'clusterrolebinding', `crb-${s}`]);
      await ok(v, ['delete', 'role', `reader-${s}`]);
      await ok(v, ['delete', 'clusterrole', `nodes-${s}`, `agg-${s}`]);
    });

    it('kubectl auth whoami and auth can-i answer from the apiserver', async () => {
      const whoami = await ok(v, ['auth', 'whoami']);
      expect(whoami).toMatch(/^Username\s+kubemu-admin$/m);
      expect(whoami).toMatch(/^Groups\s+\[system:masters system:authenticated\]$/m);
      // the admin kubeconfig's user is in system:masters, which every authorizer allows: can-i says so
      expect(await ok(v, ['auth', 'can-i', 'create', 'deployments'])).toBe('yes\n');
      expect(await ok(v, ['auth', 'can-i', 'delete', 'secrets', '-n', 'kube-system'])).toBe('yes\n');
      expect(await ok(v, ['auth', 'can-i', 'get', '/healthz'])).toBe('yes\n');
      const list = await ok(v, ['auth', 'can-i', '--list']);
      expect(header(list)).toEqual(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
      expect(list).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    });

    it('kubectl certificate approve and deny store the condition', async () => {
      const s = v.replace('.', '');
      await ok(v, ['apply', '-f', '-'], CSR(`approve-${s}`, csrRequest(`approve-${s}`)));
      await ok(v, ['apply', '-f', '-'], CSR(`deny-${s}`, csrRequest(`deny-${s}`)));
      const pending = await ok(v, ['get', 'csr', `approve-${s}`]);
      expect(row(pending, `approve-${s}`).slice(2)).toEqual([
        'kubernetes.io/kube-apiserver-client',
        'kubemu-admin',
        '24h',
        'Pending',
      ]);
      expect(await ok(v, ['certificate', 'approve', `approve-${s}`])).toBe(
        `certificatesigningrequest.certificates.k8s.io/approve-${s} approved\n`,
      );
      expect(await ok(v, ['certificate', 'deny', `deny-${s}`])).toBe(
        `certificatesigningrequest.certificates.k8s.io/deny-${s} denied\n`,
      );
      const all = await ok(v, [
        'get',
        'csr',
        '--field-selector',
        'spec.signerName=kubernetes.io/kube-apiserver-client',
      ]);
      // the csrsigning controller issues the certificate soon after
      expect(row(all, `approve-${s}`).at(-1)).toMatch(/^Approved(,Issued)?$/);
      expect(row(all, `deny-${s}`).at(-1)).toBe('Denied');
      const approved = JSON.parse(await ok(v, ['get', 'csr', `approve-${s}`, '-o', 'json']));
      expect(approved.status.conditions).toEqual([
        expect.objectContaining({ type: 'Approved', status: 'True', reason: 'KubectlApprove' }),
      ]);
      // denying an approved request: kubectl refuses it itself; written straight to /approval, the server refuses it
      const deny = await kubectl(v, ['certificate', 'deny', `approve-${s}`, '--force']);
      expect(deny.code).not.toBe(0);
      expect(deny.stderr).toMatch(/is already Approved/);
      approved.status.conditions.push({ type: 'Denied', status: 'True', reason: 'Changed', message: 'mind' });
      const body = join(work, `deny-approved-${s}.json`);
      writeFileSync(body, JSON.stringify(approved));
      const raw = await kubectl(v, [
        'replace',
        '--raw',
        `/apis/certificates.k8s.io/v1/certificatesigningrequests/approve-${s}/approval`,
        '-f',
        body,
      ]);
      expect(raw.code).not.toBe(0);
      expect(raw.stderr).toContain('Approved and Denied conditions are mutually exclusive');
      await ok(v, ['delete', 'csr', `approve-${s}`, `deny-${s}`]);
    });

    it('kubectl explain the new kinds', async () => {
      expect(await ok(v, ['explain', 'roles.rules'])).toMatch(/verbs\s+<\[\]string> -required-/);
      expect(await ok(v, ['explain', 'crd.spec.names'])).toMatch(/plural\s+<string> -required-/);
      expect(await ok(v, ['explain', 'flowschema.spec'])).toMatch(/matchingPrecedence\s+<integer>/);
      expect(await ok(v, ['explain', 'csr.spec'])).toMatch(/signerName\s+<string> -required-/);
      expect(await ok(v, ['explain', 'netpol.spec'])).toMatch(/podSelector\s+<LabelSelector>/);
    });
  });
}

describe('invalid manifests are refused with upstream messages', () => {
  const cases: [string, string, string][] = [
    [
      'Role',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: bad}\nrules:\n- apiGroups: [""]\n  resources: [pods]\n',
      'The Role "bad" is invalid: rules[0].verbs: Required value: verbs must contain at least one value',
    ],
    [
      'ClusterRole',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: bad}\naggregationRule: {}\n',
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    ],
    [
      'RoleBinding',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: bad}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Pod, name: x}\n',
      'roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
    ],
    [
      'ClusterRoleBinding',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: bad}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\n',
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    ],
    [
      'ValidatingWebhookConfiguration',
      WEBHOOK('Validating', 'bad').replace('timeoutSeconds: 5', 'timeoutSeconds: 31'),
      'webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds',
    ],
    [
      'MutatingWebhookConfiguration',
      WEBHOOK('Mutating', 'bad').replace('- name: my-webhook.example.com', '- name: example.com'),
      'webhooks[0].name: Invalid value: "example.com": should be a domain with at least three segments separated by dots',
    ],
    [
      'ValidatingAdmissionPolicy',
      'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: bad}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n',
      'spec.validations: Required value: validations or auditAnnotations must contain at least one item',
    ],
    [
      'ValidatingAdmissionPolicyBinding',
      'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: bad}\nspec: {policyName: p, validationActions: [Deny, Warn]}\n',
      'must not contain both Deny and Warn',
    ],
    [
      'CustomResourceDefinition',
      docs('customresourcedefinition__shirt-resource-definition.yaml').replace(
        'name: shirts.stable',
        'name: shirt.stable',
      ),
      'metadata.name: Invalid value: "shirt.stable.example.com": must be spec.names.plural+"."+spec.group',
    ],
    [
      'FlowSchema',
      docs('priority-and-fairness__health-for-strangers.yaml').replace(
        'matchingPrecedence: 1000',
        'matchingPrecedence: 20000',
      ),
      'spec.matchingPrecedence: Invalid value: 20000: must not be greater than 10000',
    ],
    [
      'PriorityLevelConfiguration',
      PRIORITY_LEVEL.replace('handSize: 4', 'handSize: 40'),
      'spec.limited.limitResponse.queuing.handSize: Invalid value: 40: should not be greater than queues (16)',
    ],
    [
      'CertificateSigningRequest',
      CSR('bad', Buffer.from('not a certificate request').toString('base64')),
      'PEM block type must be CERTIFICATE REQUEST',
    ],
    [
      'NetworkPolicy',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - {}\n',
      'spec.ingress[0].from[0]: Required value: must specify a peer',
    ],
    [
      'IPAddress',
      IP_ADDRESS.replace('name: 10.96.100.100', 'name: not-an-ip'),
      'metadata.name: Invalid value: "not-an-ip"',
    ],
    [
      'ServiceCIDR',
      SERVICE_CIDR.replace('- 10.96.0.0/24', '- 10.96.0.0/24\n  - 10.97.0.0/24'),
      'may specify no more than one IP for each IP family',
    ],
  ];
  for (const [kind, manifest, message] of cases) {
    it(kind, async () => {
      for (const v of VERSIONS) {
        const r = await kubectl(v, ['create', '-f', '-'], manifest);
        expect(r.code, r.stdout).not.toBe(0);
        expect(r.stderr).toContain(message);
      }
    });
  }
});

describe('the review kinds are answered, not stored', () => {
  it('SubjectAccessReview and TokenReview with kubectl create', async () => {
    const sar = (spec: string) =>
      `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n${spec}`;
    for (const v of VERSIONS) {
      const answered = JSON.parse(
        await ok(
          v,
          ['create', '-f', '-', '-o', 'json'],
          sar('  user: jane\n  resourceAttributes: {verb: get, resource: pods, namespace: default}\n'),
        ),
      );
      // RBAC: jane is bound to nothing, so no rule allows her (upstream's answer carries no reason then)
      expect(answered.status).toMatchObject({ allowed: false });
      const master = JSON.parse(
        await ok(
          v,
          ['create', '-f', '-', '-o', 'json'],
          sar(
            '  user: jane\n  groups: [system:masters]\n  resourceAttributes: {verb: get, resource: pods}\n',
          ),
        ),
      );
      expect(master.status).toMatchObject({ allowed: true });
      const invalid = await kubectl(
        v,
        ['create', '-f', '-'],
        sar('  resourceAttributes: {verb: get, resource: pods}\n'),
      );
      expect(invalid.code).not.toBe(0);
      expect(invalid.stderr).toContain(
        'spec.user: Invalid value: "": at least one of user or group must be specified',
      );
      // the admin kubeconfig is written as JSON (YAML's flow style): read it as either
      const token = /"?token"?:\s*"?([^"\s,}]+)/.exec(readFileSync(c.kubeconfig, 'utf8'))![1];
      const review = JSON.parse(
        await ok(
          v,
          ['create', '-f', '-', '-o', 'json'],
          `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${token}\n`,
        ),
      );
      expect(review.status).toMatchObject({
        authenticated: true,
        user: { username: 'kubemu-admin', groups: ['system:masters', 'system:authenticated'] },
      });
      expect((await kubectl(v, ['get', 'subjectaccessreviews'])).stderr).toMatch(
        /MethodNotAllowed|not allowed|does not allow/,
      );
    }
  });
});

describe('kubectl apply of a multi-document file', () => {
  it('no longer stops at "failed to check CRD": the apiextensions group is served', async () => {
    const file = `apiVersion: v1
kind: Service
metadata:
  name: shirt-store
spec:
  ports:
  - port: 80
---
${docs('customresourcedefinition__shirt-resource-definition.yaml')}---
${docs('access__simple-role.yaml').replace(/^---\n/, '')}`;
    for (const v of VERSIONS) {
      const r = await kubectl(v, ['apply', '-f', '-'], file);
      expect(r.stderr).not.toContain('failed to check CRD');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('service/shirt-store');
      expect(r.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/shirts.stable.example.com');
      expect(r.stdout).toContain('role.rbac.authorization.k8s.io/pod-reader');
    }
    const crd = JSON.parse(await ok('1.33', ['get', 'crd', 'shirts.stable.example.com', '-o', 'json']));
    expect(crd.status.storedVersions).toEqual(['v1']);
    expect(crd.status.conditions.map((x: { type: string }) => x.type)).toEqual([
      'NamesAccepted',
      'Established',
    ]);
    await ok('1.33', ['delete', '-f', '-'], file);
  });
});
