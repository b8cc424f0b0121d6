// Issue #21 Build, two items from the user's side, one cluster:
// 1. the controller-manager runs each controller as its own ServiceAccount in kube-system
//    (--use-service-account-credentials): the ServiceAccounts and upstream's system:controller:* roles exist, a
//    Deployment still rolls out, and a controller whose role loses a verb is refused with upstream's 403 — which the
//    ReplicaSet's FailedCreate event shows, naming the controller's ServiceAccount as the user — until the role is
//    given back;
// 2. Pod Security admission levels with the real kubectl 1.27 and 1.33, the Kubernetes docs' examples: the
//    server-side dry run of labelling every namespace `enforce=baseline` warns about the pods that violate it and
//    changes nothing; a restricted namespace refuses a privileged pod with upstream's message; `warn` gives the
//    docs' warning for their nginx pod; a Deployment is accepted with a warning and its pods are refused in its
//    ReplicaSet's events; an invalid label value is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];

let c: TestCluster;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const kubectl = (version: string, args: string[], input?: string): Promise<Run> =>
  run(
    `${SDK}/kubectl.${version}`,
    ['--kubeconfig', c.kubeconfig, ...args],
    process.env,
    input === undefined ? { timeoutMs: 60_000 } : { timeoutMs: 60_000, input },
  );

/** the docs' example-baseline-pod.yaml (k8s.io/examples/security/example-baseline-pod.yaml) */
const DOCS_NGINX = `apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  containers:
    - image: nginx
      name: nginx
      ports:
        - containerPort: 80
`;
/** what the docs show `warn=restricted` answer for it */
const DOCS_RESTRICTED_WARNING =
  'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

const privilegedPod = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  hostNetwork: true
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    securityContext:
      privileged: true
`;

interface EventList {
  items: { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }[];
}

beforeAll(async () => {
  c = await upCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await c?.down();
}, 60_000);

describe('each controller runs as its own ServiceAccount', () => {
  it('the system:controller roles bind the ServiceAccounts, a Deployment rolls out with them, and the controller-manager made the ServiceAccounts', async () => {
    const binding = await c.getJson(['get', 'clusterrolebinding', 'system:controller:replicaset-controller']);
    expect(binding.subjects).toMatchObject([
      { kind: 'ServiceAccount', name: 'replicaset-controller', namespace: 'kube-system' },
    ]);
    // the controller-manager's own identity has upstream's role only: it may not create pods itself
    const canI = await c.kubectl([
      'auth',
      'can-i',
      'create',
      'pods',
      '--as',
      'system:kube-controller-manager',
    ]);
    expect(canI.stdout.trim()).toBe('no');
    const asRs = await c.kubectl([
      ...['auth', 'can-i', 'create', 'pods'],
      ...['--as', 'system:serviceaccount:kube-system:replicaset-controller'],
    ]);
    expect(asRs.stdout.trim()).toBe('yes');

    must(
      await c.kubectl(['create', 'deployment', 'web', '--image=kubemu/hello:v1', '--replicas=2']),
      'create',
    );
    must(
      await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }),
      'rollout',
    );
    // made by the controller-manager once each controller first needed its token
    const sas = must(
      await c.kubectl(['get', 'serviceaccounts', '-n', 'kube-system', '-o', 'name']),
      'get sa',
    );
    for (const sa of [
      'replicaset-controller',
      'deployment-controller',
      'service-account-controller',
      'root-ca-cert-publisher',
    ])
      expect(sas).toContain(`serviceaccount/${sa}\n`);
  }, 180_000);

  it("a controller is refused what its role lacks, as its ServiceAccount, in the ReplicaSet's events", async () => {
    const role = 'system:controller:replicaset-controller';
    const before = await c.getJson(['get', 'clusterrole', role]);
    const podsRule = (before.rules as { resources: string[]; verbs: string[] }[]).findIndex(
      (r) => r.resources.includes('pods') && r.verbs.includes('create'),
    );
    expect(podsRule).toBeGreaterThanOrEqual(0);
    // the user keeps their edit (autoupdate=false), as upstream's reconciliation allows
    must(
      await c.kubectl([
        ...[
          'annotate',
          'clusterrole',
          role,
          'rbac.authorization.kubernetes.io/autoupdate=false',
          '--overwrite',
        ],
      ]),
      'annotate',
    );
    const withoutCreate = (before.rules[podsRule].verbs as string[]).filter((v) => v !== 'create');
    must(
      await c.kubectl([
        ...['patch', 'clusterrole', role, '--type=json'],
        '-p',
        JSON.stringify([{ op: 'replace', path: `/rules/${podsRule}/verbs`, value: withoutCreate }]),
      ]),
      'patch role',
    );
    const giveBack = async (): Promise<void> => {
      must(
        await c.kubectl([
          ...['patch', 'clusterrole', role, '--type=json'],
          '-p',
          JSON.stringify([
            { op: 'replace', path: `/rules/${podsRule}/verbs`, value: before.rules[podsRule].verbs },
          ]),
        ]),
        'patch role back',
      );
    };
    try {
      await refused();
    } finally {
      await giveBack();
    }
    // given back, the ReplicaSet gets its pod
    must(
      await c.kubectl(['rollout', 'status', 'deployment/denied', '--timeout=120s'], { timeoutMs: 130_000 }),
      'rollout after the role is back',
    );
  }, 240_000);
});

async function refused(): Promise<void> {
  {
    must(await c.kubectl(['create', 'deployment', 'denied', '--image=kubemu/hello:v1']), 'create');
    const message = await c.waitFor(
      'a FailedCreate event of the ReplicaSet',
      async () => {
        const events = await c.getJson<EventList>([
          'get',
          'events',
          '--field-selector',
          'reason=FailedCreate',
        ]);
        return events.items.find(
          (e) => e.involvedObject?.kind === 'ReplicaSet' && e.involvedObject.name?.startsWith('denied-'),
        )?.message;
      },
      60_000,
    );
    // a create's name is not known when RBAC decides: upstream says `pods is forbidden` too
    expect(message).toMatch(
      /^Error creating: pods is forbidden: User "system:serviceaccount:kube-system:replicaset-controller" cannot create resource "pods" in API group "" in the namespace "default"$/,
    );
    const events = must(
      await c.kubectl(['get', 'events', '--field-selector', 'reason=FailedCreate']),
      'events',
    );
    expect(events).toContain('system:serviceaccount:kube-system:replicaset-controller');
    expect((await c.getJson(['get', 'pods', '-l', 'app=denied'])).items).toEqual([]);
  }
}

describe('Pod Security admission, with kubectl 1.27 and 1.33', () => {
  beforeAll(async () => {
    must(await c.kubectl(['create', 'namespace', 'legacy']), 'create ns');
    must(await c.kubectl(['apply', '-n', 'legacy', '-f', '-'], { input: privilegedPod('priv') }), 'apply');
  }, 60_000);

  it.each(VERSIONS)(
    'kubectl %s: the dry run of labelling every namespace enforce=baseline warns about the violating pods and changes nothing',
    async (version) => {
      const r = await kubectl(version, [
        ...['label', '--dry-run=server', '--overwrite', 'ns', '--all'],
        'pod-security.kubernetes.io/enforce=baseline',
      ]);
      must(r, 'label --dry-run=server');
      expect(r.stdout).toContain('namespace/default labeled');
      expect(r.stdout).toContain('namespace/legacy labeled');
      expect(r.stderr).toContain(
        'Warning: existing pods in namespace "legacy" violate the new PodSecurity enforce level "baseline:latest"\n',
      );
      expect(r.stderr).toContain('Warning: priv: host namespaces, privileged\n');
      const labels = (await c.getJson(['get', 'ns', 'legacy'])).metadata.labels as Record<string, string>;
      expect(labels['pod-security.kubernetes.io/enforce']).toBeUndefined();
    },
    60_000,
  );

  it.each(VERSIONS)(
    'kubectl %s: a restricted namespace refuses a privileged pod with upstream message',
    async (version) => {
      const ns = `restricted-${version.replace('.', '-')}`;
      must(await kubectl(version, ['create', 'namespace', ns]), 'create ns');
      must(
        await kubectl(version, ['label', 'ns', ns, 'pod-security.kubernetes.io/enforce=restricted']),
        'label',
      );
      const r = await kubectl(version, ['apply', '-n', ns, '-f', '-'], privilegedPod('priv'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      );
      // a version label pins the checks of that release: restricted v1.21 had no capabilities check
      must(
        await kubectl(version, [
          ...['label', '--overwrite', 'ns', ns],
          'pod-security.kubernetes.io/enforce-version=v1.21',
        ]),
        'label version',
      );
      const pinned = await kubectl(version, ['apply', '-n', ns, '-f', '-'], DOCS_NGINX);
      expect(pinned.code).not.toBe(0);
      expect(pinned.stderr).toContain(
        'violates PodSecurity "restricted:v1.21": allowPrivilegeEscalation != false',
      );
      expect(pinned.stderr).not.toContain('unrestricted capabilities');
    },
    60_000,
  );

  it.each(VERSIONS)(
    "kubectl %s: warn=restricted gives the docs' warning and admits the pod",
    async (version) => {
      const ns = `warned-${version.replace('.', '-')}`;
      must(await kubectl(version, ['create', 'namespace', ns]), 'create ns');
      must(
        await kubectl(version, ['label', 'ns', ns, 'pod-security.kubernetes.io/warn=restricted']),
        'label',
      );
      const r = await kubectl(version, ['apply', '-n', ns, '-f', '-'], DOCS_NGINX);
      must(r, 'apply');
      expect(r.stderr.trim()).toBe(DOCS_RESTRICTED_WARNING);
      expect(r.stdout.trim()).toBe('pod/nginx created');
    },
    60_000,
  );

  it.each(VERSIONS)(
    "kubectl %s: a Deployment is accepted with a warning, its pods refused in the ReplicaSet's events",
    async (version) => {
      const ns = `deploy-${version.replace('.', '-')}`;
      must(await kubectl(version, ['create', 'namespace', ns]), 'create ns');
      // enforce alone: warn defaults to the enforce level (upstream since 1.26)
      must(
        await kubectl(version, ['label', 'ns', ns, 'pod-security.kubernetes.io/enforce=restricted']),
        'label',
      );
      const r = await kubectl(version, ['create', 'deployment', 'web', '-n', ns, '--image=kubemu/hello:v1']);
      must(r, 'create deployment');
      expect(r.stdout.trim()).toBe('deployment.apps/web created');
      expect(r.stderr).toContain(
        'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "hello" must set securityContext.allowPrivilegeEscalation=false)',
      );
      const message = await c.waitFor(
        "the ReplicaSet's FailedCreate event",
        async () => {
          const events = await c.getJson<EventList>(['get', 'events', '-n', ns]);
          return events.items.find(
            (e) => e.reason === 'FailedCreate' && e.involvedObject?.kind === 'ReplicaSet',
          )?.message;
        },
        60_000,
      );
      expect(message).toMatch(
        /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]+" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "hello" must set securityContext.allowPrivilegeEscalation=false\)/,
      );
      const described = must(await kubectl(version, ['describe', 'rs', '-n', ns]), 'describe rs');
      expect(described).toMatch(/FailedCreate .*violates PodSecurity "restricted:latest"/);
    },
    120_000,
  );

  it.each(VERSIONS)(
    'kubectl %s: an invalid level is refused with the field and the allowed values',
    async (version) => {
      const r = await kubectl(version, [
        'label',
        'ns',
        'legacy',
        'pod-security.kubernetes.io/enforce=strict',
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
      );
    },
    60_000,
  );
});
