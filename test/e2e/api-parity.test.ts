// Issue #18, Show 3 from a user's side: `kubectl apply` of a manifest upstream refuses (mostly a change of a field
// upstream keeps immutable) gets upstream's words, and what upstream accepts is accepted. One case per kind users
// meet first; the manifests are the Kubernetes docs' examples (test/fixtures/k8s-docs-examples) changed by one field.
// The rules and their upstream sources are listed in docs/api-parity.md. One `kubemu up` cluster, kubectl 1.33.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/apiserver.js';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const EXAMPLES = join(ROOT, 'test/fixtures/k8s-docs-examples');
const NS = 'parity';

/** a docs example, moved into this test's namespace */
const example = (file: string): string =>
  readFileSync(join(EXAMPLES, file), 'utf8')
    .replace(/^(\s*)namespace: .*$/m, `$1namespace: ${NS}`)
    .replace(/namespace: 'default'/g, `namespace: '${NS}'`);

/** one kind's document out of a multi-document example (web.yaml also has the headless Service) */
const onlyKind = (yaml: string, kind: string): string =>
  yaml
    .split(/^---$/m)
    .filter((doc) => new RegExp(`^kind: ${kind}$`, 'm').test(doc))
    .join('\n---\n');

let c: TestCluster;
const k = (args: string[], input?: string): Promise<Run> =>
  run(KUBECTL, ['--kubeconfig', c.kubeconfig, ...args], process.env, input === undefined ? {} : { input });
const apply = (manifest: string): Promise<Run> => k(['apply', '-n', NS, '-f', '-'], manifest);
const ok = (r: Run): Run => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
};
/** kubectl failed, and its message has every one of `parts` */
const refused = (r: Run, ...parts: string[]): void => {
  expect(r.code, r.stdout).not.toBe(0);
  for (const p of parts) expect(r.stderr).toContain(p);
};

beforeAll(async () => {
  expect(existsSync(KUBECTL), 'kubectl 1.33 must be installed').toBe(true);
  c = await upCluster({ nodes: 1 });
  ok(await k(['create', 'namespace', NS]));
}, 180_000);

afterAll(async () => {
  await c?.down();
});

describe('upstream rules through kubectl apply', () => {
  it('Job: the pod default restartPolicy Always is "Required value"; completions and template are immutable', async () => {
    const job = example('controllers__job.yaml');
    refused(
      await apply(job.replace('name: pi', 'name: pi-always').replace('      restartPolicy: Never\n', '')),
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    );
    ok(await apply(job));
    refused(
      await apply(job.replace('  backoffLimit: 4', '  backoffLimit: 4\n  completions: 2')),
      'The Job "pi" is invalid: spec.completions: Invalid value: 2: field is immutable',
    );
    refused(
      await apply(job.replace('image: perl', 'image: perl:5.40')),
      'The Job "pi" is invalid: spec.template: Invalid value: ',
      ': field is immutable',
    );
  });

  it('CronJob: a name over 52 characters is refused', async () => {
    const name = 'a'.repeat(53);
    refused(
      await apply(example('application__job__cronjob.yaml').replace('name: hello', `name: ${name}`)),
      `metadata.name: Invalid value: "${name}": must be no more than 52 characters`,
    );
  });

  it('StatefulSet: volumeClaimTemplates cannot change', async () => {
    const sts = onlyKind(example('application__web__web.yaml'), 'StatefulSet');
    ok(await apply(sts));
    refused(
      await apply(sts.replace('storage: 1Gi', 'storage: 2Gi')),
      `The StatefulSet "web" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
    );
  });

  it('DaemonSet: a manifest without selector selects nothing; the selector is immutable', async () => {
    const ds = example('controllers__daemonset.yaml');
    refused(
      await apply(
        ds
          .replace('name: fluentd-elasticsearch\n  namespace', 'name: fluentd-noselector\n  namespace')
          .replace('  selector:\n    matchLabels:\n      name: fluentd-elasticsearch\n', ''),
      ),
      'spec.template.metadata.labels: Invalid value: ',
      '`selector` does not match template `labels`',
    );
    ok(await apply(ds));
    refused(
      await apply(
        ds
          .replace(
            /name: fluentd-elasticsearch\n {4}spec/,
            'name: fluentd-elasticsearch\n        tier: x\n    spec',
          )
          .replace(
            '      name: fluentd-elasticsearch\n  template',
            '      name: fluentd-elasticsearch\n      tier: x\n  template',
          ),
      ),
      'The DaemonSet "fluentd-elasticsearch" is invalid: spec.selector: Invalid value: ',
      ': field is immutable',
    );
  });

  it('PersistentVolumeClaim: a class may be given once to a claim without one, never changed', async () => {
    const claim = example('pods__storage__pv-claim.yaml');
    ok(await apply(claim));
    refused(
      await apply(claim.replace('storageClassName: manual', 'storageClassName: fast')),
      'The PersistentVolumeClaim "task-pv-claim" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    );
    const classless = claim
      .replace('name: task-pv-claim', 'name: classless')
      .replace(/\n\s*storageClassName: manual/, '');
    // with a default StorageClass (kubemu's `standard`) a claim without a class gets it at creation, as upstream's
    // DefaultStorageClass admission does: the claim stays classless only while no class is the default
    const DEFAULT = 'storageclass.kubernetes.io/is-default-class';
    ok(await k(['annotate', 'storageclass', 'standard', `${DEFAULT}-`]));
    try {
      ok(await apply(classless));
    } finally {
      ok(await k(['annotate', 'storageclass', 'standard', `${DEFAULT}=true`]));
    }
    ok(await apply(`${classless.trimEnd()}\n  storageClassName: manual\n`));
  });

  it('PersistentVolume: the volume source cannot change', async () => {
    const pv = example('pods__storage__pv-volume.yaml');
    ok(await k(['apply', '-f', '-'], pv));
    refused(
      await k(['apply', '-f', '-'], pv.replace('path: /mnt/data', 'path: /mnt/other')),
      'The PersistentVolume "task-pv-volume" is invalid: spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation',
    );
  });

  it('StorageClass: a long prefixed provisioner is fine; the provisioner cannot change', async () => {
    const sc = example('storage__storageclass-low-latency.yaml');
    ok(await k(['apply', '-f', '-'], sc));
    refused(
      await k(['apply', '-f', '-'], sc.replace('csi-driver.example-vendor.example', 'other.example')),
      'The StorageClass "low-latency" is invalid: provisioner: Forbidden: updates to provisioner are forbidden.',
    );
    const long = `${'a'.repeat(60)}.example.com/driver`;
    ok(
      await k(
        ['apply', '-f', '-'],
        sc
          .replace('name: "low-latency"', 'name: "long-provisioner"')
          .replace('csi-driver.example-vendor.example', long),
      ),
    );
  });

  it('RBAC: a binding keeps its roleRef; a rule may name objects of several resources', async () => {
    ok(await apply(example('access__simple-role.yaml')));
    const binding = example('access__simple-rolebinding-with-role.yaml');
    ok(await apply(binding));
    refused(
      await apply(binding.replace("name: 'pod-reader'", "name: 'other-role'")),
      'The RoleBinding "read-pods" is invalid: roleRef: Invalid value: ',
      ': cannot change roleRef',
    );
    ok(
      await apply(
        [
          'apiVersion: rbac.authorization.k8s.io/v1',
          'kind: Role',
          'metadata:',
          '  name: named-objects',
          'rules:',
          '- apiGroups: [""]',
          '  resources: ["configmaps", "secrets"]',
          '  resourceNames: ["app-config"]',
          '  verbs: ["get"]',
          '',
        ].join('\n'),
      ),
    );
  });

  it('PodDisruptionBudget: minAvailable and maxUnavailable exclude each other', async () => {
    const pdb = example('policy__zookeeper-pod-disruption-budget-minavailable.yaml');
    refused(
      await apply(pdb.replace('minAvailable: 2', 'minAvailable: 2\n  maxUnavailable: 1')),
      'spec: Invalid value: ',
      ': minAvailable and maxUnavailable cannot be both set',
    );
  });

  it('NetworkPolicy: an except block must lie inside its cidr', async () => {
    refused(
      await apply(
        example('service__networking__networkpolicy.yaml').replace('- 172.17.1.0/24', '- 172.18.1.0/24'),
      ),
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "172.18.1.0/24": must be a strict subset of `cidr`',
    );
  });

  it('ResourceQuota and LimitRange: negative quota, min above max', async () => {
    refused(
      await apply(
        example('admin__resource__quota-mem-cpu.yaml').replace(/requests\.cpu: "?1"?/, 'requests.cpu: "-1"'),
      ),
      'spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0',
    );
    refused(
      await apply(
        [
          'apiVersion: v1',
          'kind: LimitRange',
          'metadata:',
          '  name: cpu-min-max',
          'spec:',
          '  limits:',
          '  - type: Container',
          '    max:',
          '      cpu: "1"',
          '    min:',
          '      cpu: "2"',
          '',
        ].join('\n'),
      ),
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    );
  });

  it('HorizontalPodAutoscaler: maxReplicas below minReplicas', async () => {
    refused(
      await apply(
        [
          'apiVersion: autoscaling/v2',
          'kind: HorizontalPodAutoscaler',
          'metadata:',
          '  name: php-apache',
          'spec:',
          '  scaleTargetRef:',
          '    apiVersion: apps/v1',
          '    kind: Deployment',
          '    name: php-apache',
          '  minReplicas: 5',
          '  maxReplicas: 2',
          '',
        ].join('\n'),
      ),
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    );
  });

  it("ResourceQuota: the pod over quota gets upstream's 403; conflicting scopes are refused", async () => {
    const ns = 'parity-quota';
    ok(await k(['create', 'namespace', ns]));
    ok(
      await k(
        ['apply', '-n', ns, '-f', '-'],
        readFileSync(join(EXAMPLES, 'admin__resource__quota-mem-cpu.yaml'), 'utf8'),
      ),
    );
    // quota admission refuses every pod until the quota controller has computed status.used
    await c.waitFor("the quota's usage", async () => {
      const r = await k(['get', 'resourcequota', 'mem-cpu-demo', '-n', ns, '-o', 'jsonpath={.status.used}']);
      return r.code === 0 && r.stdout.includes('requests.memory');
    });
    ok(
      await k(
        ['apply', '-n', ns, '-f', '-'],
        readFileSync(join(EXAMPLES, 'admin__resource__quota-mem-cpu-pod.yaml'), 'utf8'),
      ),
    );
    // the Kubernetes docs page "Configure Memory and CPU Quotas for a Namespace" shows this refusal
    refused(
      await k(
        ['apply', '-n', ns, '-f', '-'],
        readFileSync(join(EXAMPLES, 'admin__resource__quota-mem-cpu-pod-2.yaml'), 'utf8'),
      ),
      'pods "quota-mem-cpu-demo-2" is forbidden: exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, used: requests.memory=600Mi, limited: requests.memory=1Gi',
    );
    refused(
      await k(
        ['apply', '-n', ns, '-f', '-'],
        [
          'apiVersion: v1',
          'kind: ResourceQuota',
          'metadata:',
          '  name: both',
          'spec:',
          '  hard:',
          '    pods: "1"',
          '  scopes: ["BestEffort", "NotBestEffort"]',
          '',
        ].join('\n'),
      ),
      'spec.scopes: Invalid value: ',
      'conflicting scopes',
    );
    ok(await k(['delete', 'namespace', ns, '--wait=false']));
  });

  it('ReplicationController: a delete that names no propagation policy orphans its pods (v1 default)', async () => {
    // its own label: web.yaml's StatefulSet pods in this namespace are app=nginx too
    const rc = example('controllers__replication.yaml')
      .replace('replicas: 3,', 'replicas: 2,')
      .replaceAll('app: "nginx"', 'app: "nginx-rc"');
    ok(await apply(rc));
    const pods = async (): Promise<{ metadata: { ownerReferences?: unknown[] } }[]> => {
      const r = ok(await k(['get', 'pods', '-n', NS, '-l', 'app=nginx-rc', '-o', 'json']));
      return (JSON.parse(r.stdout) as { items: { metadata: { ownerReferences?: unknown[] } }[] }).items;
    };
    await c.waitFor("the RC's two pods", async () => (await pods()).length === 2);
    // kubectl delete always names a policy; a plain DELETE (client-go with no options, curl) does not
    ok(await k(['delete', '--raw', `/api/v1/namespaces/${NS}/replicationcontrollers/nginx`]));
    await c.waitFor(
      'the RC to go',
      async () => (await k(['get', 'rc', 'nginx', '-n', NS])).code !== 0,
      60_000,
    );
    const left = await c.waitFor(
      'the orphaned pods',
      async () => {
        const p = await pods();
        return p.length === 2 && p.every((x) => !x.metadata.ownerReferences?.length) && p;
      },
      60_000,
    );
    expect(left).toHaveLength(2);
    ok(await k(['delete', 'pods', '-n', NS, '-l', 'app=nginx-rc', '--wait=false']));
    refused(
      await apply(rc.replace('replicas: 2,', 'replicas: 2, minReadySeconds: -1,')),
      'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
    );
  });

  it("PodTemplate: the template's labels are checked at template.labels", async () => {
    refused(
      await apply(
        [
          'apiVersion: v1',
          'kind: PodTemplate',
          'metadata:',
          '  name: tmpl',
          'template:',
          '  metadata:',
          '    labels:',
          '      "bad key": x',
          '  spec:',
          '    containers:',
          '    - name: c',
          '      image: nginx',
          '',
        ].join('\n'),
      ),
      'template.labels: Invalid value: "bad key"',
    );
  });

  it('ServiceCIDR: a single-stack range may gain its second family; its first CIDR never changes', async () => {
    const cidr = (cidrs: string[]): string =>
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: ServiceCIDR',
        'metadata:',
        '  name: parity-extra',
        'spec:',
        `  cidrs: [${cidrs.map((x) => `"${x}"`).join(', ')}]`,
        '',
      ].join('\n');
    ok(await k(['apply', '-f', '-'], cidr(['10.233.0.0/24'])));
    ok(await k(['apply', '-f', '-'], cidr(['10.233.0.0/24', 'fd00:233::/120'])));
    refused(
      await k(['apply', '-f', '-'], cidr(['10.234.0.0/24', 'fd00:233::/120'])),
      'spec.cidrs[0]: Invalid value: "10.234.0.0/24": field is immutable',
    );
    ok(await k(['delete', 'servicecidr', 'parity-extra', '--wait=false']));
  });

  it('Event: events.k8s.io/v1 rules apply to its writes (type), not to core/v1 ones', async () => {
    const event = (type: string): string =>
      [
        'apiVersion: events.k8s.io/v1',
        'kind: Event',
        'metadata:',
        `  name: parity-${type.toLowerCase()}`,
        'eventTime: "2025-01-01T00:00:00.000000Z"',
        'reportingController: example.com/parity',
        'reportingInstance: parity-1',
        'action: Check',
        'reason: Checked',
        `type: ${type}`,
        `regarding: {kind: Pod, name: web, namespace: ${NS}}`,
        '',
      ].join('\n');
    refused(
      await k(['create', '-n', NS, '-f', '-'], event('Info')),
      'type: Invalid value: "": has invalid value: Info',
    );
    ok(await k(['create', '-n', NS, '-f', '-'], event('Normal')));
  });
});

// The platform and CSI kinds (r13): flowcontrol, admissionregistration, certificates, storage.k8s.io CSI kinds.
describe('upstream rules through kubectl: platform and CSI kinds', () => {
  const health = (): string => example('priority-and-fairness__health-for-strangers.yaml');

  it("FlowSchema: precedence 1 is the exempt schema's; the mandatory catch-all cannot be edited", async () => {
    refused(
      await k(['apply', '-f', '-'], health().replace('matchingPrecedence: 1000', 'matchingPrecedence: 1')),
      `The FlowSchema "health-for-strangers" is invalid: spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1`,
    );
    ok(await k(['apply', '-f', '-'], health()));
    refused(
      await k([
        'patch',
        'flowschema',
        'catch-all',
        '--type=merge',
        '-p',
        '{"spec":{"matchingPrecedence":9000}}',
      ]),
      `The FlowSchema "catch-all" is invalid: spec: Invalid value:`,
      `spec of 'catch-all' must equal the fixed value`,
    );
  });

  it('PriorityLevelConfiguration: only the level named exempt is of type Exempt', async () => {
    refused(
      await k(
        ['apply', '-f', '-'],
        [
          'apiVersion: flowcontrol.apiserver.k8s.io/v1',
          'kind: PriorityLevelConfiguration',
          'metadata:',
          '  name: my-exempt',
          'spec:',
          '  type: Exempt',
          '',
        ].join('\n'),
      ),
      `The PriorityLevelConfiguration "my-exempt" is invalid: spec.type: Invalid value: "Exempt": type must be 'Exempt' if and only if name is 'exempt'`,
    );
  });

  it('ValidatingAdmissionPolicy and binding: params needs a paramKind; Deny and Warn exclude each other', async () => {
    const policy = example('validatingadmissionpolicy__basic-example-policy.yaml');
    refused(
      await k(
        ['apply', '-f', '-'],
        policy.replace('object.spec.replicas <= 5', 'object.spec.replicas <= params.maxReplicas'),
      ),
      'The ValidatingAdmissionPolicy "demo-policy.example.com" is invalid: spec.validations[0].expression: Invalid value: "object.spec.replicas <= params.maxReplicas": compilation failed: ERROR: <input>:1:',
    );
    ok(await k(['apply', '-f', '-'], policy));
    const binding = example('validatingadmissionpolicy__basic-example-binding.yaml');
    refused(
      await k(['apply', '-f', '-'], binding.replace('"Deny",', '"Deny", "Warn",')),
      'spec.validationActions: Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn',
    );
  });

  it('ValidatingWebhookConfiguration: pods/* already covers pods/status', async () => {
    refused(
      await k(
        ['apply', '-f', '-'],
        [
          'apiVersion: admissionregistration.k8s.io/v1',
          'kind: ValidatingWebhookConfiguration',
          'metadata:',
          '  name: pod-policy.example.com',
          'webhooks:',
          '- name: pod-policy.example.com',
          '  rules:',
          '  - apiGroups: [""]',
          '    apiVersions: ["v1"]',
          '    operations: ["CREATE"]',
          '    resources: ["pods/*", "pods/status"]',
          '  clientConfig:',
          '    url: https://example.com/validate',
          '  admissionReviewVersions: ["v1"]',
          '  sideEffects: None',
          '',
        ].join('\n'),
      ),
      `webhooks[0].rules[0].resources[1]: Invalid value: "pods/status": if 'pods/*' is present, must not specify pods/status`,
    );
  });

  it('CertificateSigningRequest: usages are required, expirationSeconds at least 600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parity-csr-'));
    try {
      const key = join(dir, 'myuser.key');
      execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'pipe' });
      const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=myuser'], {
        stdio: 'pipe',
      });
      const manifest = (more: string): string =>
        [
          'apiVersion: certificates.k8s.io/v1',
          'kind: CertificateSigningRequest',
          'metadata:',
          '  name: myuser',
          'spec:',
          `  request: ${Buffer.from(csr).toString('base64')}`,
          '  signerName: kubernetes.io/kube-apiserver-client',
          more,
          '',
        ].join('\n');
      refused(
        await k(['apply', '-f', '-'], manifest('  usages: []\n  expirationSeconds: 599')),
        'spec.usages: Required value',
        'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
      );
      ok(await k(['apply', '-f', '-'], manifest('  usages: ["client auth"]\n  expirationSeconds: 86400')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("CSIDriver and VolumeAttachment: lifecycle modes in upstream's words; the attacher is a CSI driver name", async () => {
    const driver = (modes: string): string =>
      [
        'apiVersion: storage.k8s.io/v1',
        'kind: CSIDriver',
        'metadata:',
        '  name: hostpath.csi.k8s.io',
        'spec:',
        `  volumeLifecycleModes: [${modes}]`,
        '',
      ].join('\n');
    refused(
      await k(['apply', '-f', '-'], driver('Persistent, Temporary')),
      'spec.volumeLifecycleModes: Unsupported value: "Temporary": supported values: "Persistent", "Ephemeral"',
    );
    ok(await k(['apply', '-f', '-'], driver('Persistent, Ephemeral')));
    refused(
      await k(
        ['apply', '-f', '-'],
        [
          'apiVersion: storage.k8s.io/v1',
          'kind: VolumeAttachment',
          'metadata:',
          '  name: va-1',
          'spec:',
          '  attacher: Hostpath_CSI',
          '  nodeName: node-1',
          '  source:',
          '    persistentVolumeName: pv-1',
          '',
        ].join('\n'),
      ),
      'The VolumeAttachment "va-1" is invalid: spec.attacher: Invalid value: "Hostpath_CSI": a lowercase RFC 1123 subdomain',
    );
  });
});
