// Admission webhooks and ValidatingAdmissionPolicy from the user's side (issue #23), one cluster, kubectl 1.27 and
// 1.33: the docs' "demo-policy.example.com" refusing a Deployment with too many replicas; a webhook server the
// user wrote (test/fixtures/admission-webhook), run in a pod from their image with an openssl-made certificate in a
// Secret and the CA in the configurations' caBundle, reached through its Service: the validating webhook refuses
// a ConfigMap without a "team" label, the mutating one labels the ConfigMaps it lets through; with the server down,
// failurePolicy Fail refuses writes and Ignore lets them through.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const doc = (name: string): string => join(FIXTURES, 'k8s-docs-examples', name);
const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];

let cluster: TestCluster;
let dir: string;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const kubectlAt = (version: string, args: string[], input?: string): Promise<Run> =>
  run(`${SDK}/kubectl.${version}`, ['--kubeconfig', cluster.kubeconfig, ...args], process.env, {
    timeoutMs: 30_000,
    ...(input !== undefined ? { input } : {}),
  });
const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
};

const configMap = (name: string, labels: Record<string, string>, ns = 'team-a') =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels },
    data: { a: 'b' },
  });

describe('admission webhooks and policies', () => {
  beforeAll(async () => {
    ensureCommands([['openssl', 'openssl']]);
    dir = mkdtempSync(join(tmpdir(), 'kubemu-webhook-'));
    cluster = await upCluster({ nodes: 1 });
  });
  afterAll(async () => {
    await cluster?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the docs ValidatingAdmissionPolicy refuses a Deployment with too many replicas, with kubectl 1.27 and 1.33', async () => {
    must(
      await cluster.kubectl(['apply', '-f', doc('validatingadmissionpolicy__basic-example-policy.yaml')]),
      'policy',
    );
    must(
      await cluster.kubectl(['apply', '-f', doc('validatingadmissionpolicy__basic-example-binding.yaml')]),
      'binding',
    );
    must(await cluster.kubectl(['create', 'namespace', 'policy-test']), 'namespace');
    must(await cluster.kubectl(['label', 'namespace', 'policy-test', 'environment=test']), 'label');
    const deployment = (name: string, replicas: number) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'policy-test' },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
          },
        },
      });
    for (const v of VERSIONS) {
      const name = `nginx-${v.replace('.', '-')}`;
      const refused = await kubectlAt(v, ['apply', '-f', '-'], deployment(name, 6));
      expect(refused.code, refused.stdout).not.toBe(0);
      // the docs' text
      expect(refused.stderr).toContain(
        `The deployments "${name}" is invalid: : ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5`,
      );
      const created = await kubectlAt(v, [
        'create',
        'deployment',
        name,
        '--image=nginx',
        '--replicas=6',
        '-n',
        'policy-test',
      ]);
      expect(created.stderr).toContain(
        `error: failed to create deployment: deployments.apps "${name}" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5`,
      );
      must(await kubectlAt(v, ['apply', '-f', '-'], deployment(name, 5)), 'five replicas');
      // an UPDATE of the deployment is checked too
      const patched = await kubectlAt(v, [
        'patch',
        'deployment',
        name,
        '-n',
        'policy-test',
        '-p',
        '{"spec":{"replicas":7}}',
      ]);
      expect(patched.code).not.toBe(0);
      expect(patched.stderr).toContain('denied request: failed expression: object.spec.replicas <= 5');
      // the rule names `deployments`, not `deployments/scale`: as upstream, `kubectl scale` (the scale subresource) is not matched
      must(await kubectlAt(v, ['scale', 'deployment', name, '--replicas=7', '-n', 'policy-test']), 'scale');
    }
    // the binding selects namespaces labelled environment=test only
    must(
      await cluster.kubectl(['create', 'deployment', 'big', '--image=nginx', '--replicas=6']),
      'other namespace',
    );
  });

  it('webhooks in a pod over HTTPS: validating refuses, mutating labels; failurePolicy Fail refuses when down, Ignore lets through', async () => {
    // the certificates, as the docs' users make them with openssl
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=webhook-ca',
    ]);
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=webhook.webhook-system.svc',
    ]);
    writeFileSync(
      join(dir, 'san.ext'),
      'subjectAltName=DNS:webhook.webhook-system.svc,DNS:webhook.webhook-system.svc.cluster.local\n',
    );
    openssl([
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]);

    const where = ['--name', cluster.name, '--state-dir', cluster.stateDir];
    must(
      await cluster.kubemu([
        'image',
        'build',
        join(FIXTURES, 'admission-webhook'),
        '-t',
        'example.com/webhook:v1',
        ...where,
      ]),
      'image build',
    );
    must(await cluster.kubectl(['create', 'namespace', 'webhook-system']), 'namespace');
    must(
      await cluster.kubectl([
        'create',
        'secret',
        'tls',
        'webhook-tls',
        '-n',
        'webhook-system',
        '--cert',
        join(dir, 'tls.crt'),
        '--key',
        join(dir, 'tls.key'),
      ]),
      'secret',
    );
    const caBundle = readFileSync(join(dir, 'ca.crt')).toString('base64');
    const manifest = readFileSync(join(FIXTURES, 'admission-webhook', 'webhook.yaml'), 'utf8').replaceAll(
      'CA_BUNDLE',
      caBundle,
    );
    must(await cluster.kubectl(['apply', '-f', '-'], { input: manifest }), 'apply webhook');
    must(
      await cluster.kubectl(
        ['rollout', 'status', 'deployment/webhook', '-n', 'webhook-system', '--timeout=60s'],
        { timeoutMs: 70_000 },
      ),
      'rollout',
    );
    must(await cluster.kubectl(['create', 'namespace', 'team-a']), 'namespace team-a');
    must(await cluster.kubectl(['label', 'namespace', 'team-a', 'webhook-test=enabled']), 'label team-a');

    for (const v of VERSIONS) {
      const tag = v.replace('.', '-');
      const refused = await kubectlAt(v, ['create', '-f', '-'], configMap(`no-team-${tag}`, {}));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        `configmaps "no-team-${tag}" is forbidden: admission webhook "validate.webhook.example.com" denied the request: every ConfigMap needs a "team" label`,
      );
      must(
        await kubectlAt(v, ['create', '-f', '-'], configMap(`ok-${tag}`, { team: 'a' })),
        'valid ConfigMap',
      );
      const labels = await cluster.getJson<{ metadata: { labels: Record<string, string> } }>([
        'get',
        'configmap',
        `ok-${tag}`,
        '-n',
        'team-a',
      ]);
      expect(labels.metadata.labels).toEqual({ team: 'a', 'webhook.example.com/mutated': 'true' });
    }
    // a namespace the selectors leave out is not seen by the webhooks
    must(
      await cluster.kubectl(['create', 'configmap', 'elsewhere', '--from-literal=a=b']),
      'default namespace',
    );

    // the server down: Fail refuses with upstream's "failed calling webhook", the mutating one (Ignore) is skipped
    must(
      await cluster.kubectl(['scale', 'deployment/webhook', '-n', 'webhook-system', '--replicas=0']),
      'scale down',
    );
    const down = await cluster.waitFor('writes refused with the webhook down', async () => {
      const r = await cluster.kubectl(['create', '-f', '-'], {
        input: configMap('while-down', { team: 'a' }),
      });
      return r.code !== 0 && r.stderr.includes('failed calling webhook') ? r : undefined;
    });
    expect(down.stderr).toMatch(
      /Error from server \(InternalError\): error when creating "STDIN": Internal error occurred: failed calling webhook "validate\.webhook\.example\.com": failed to call webhook: Post "https:\/\/webhook\.webhook-system\.svc:443\/validate\?timeout=5s": /,
    );
    must(
      await cluster.kubectl([
        ...['patch', 'validatingwebhookconfiguration', 'require-team', '--type=json'],
        '-p=[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]',
      ]),
      'failurePolicy Ignore',
    );
    must(
      await cluster.kubectl(['create', '-f', '-'], { input: configMap('while-down', {}) }),
      'Ignore lets it through',
    );
    const through = await cluster.getJson<{ metadata: { labels?: Record<string, string> } }>([
      'get',
      'configmap',
      'while-down',
      '-n',
      'team-a',
    ]);
    expect(through.metadata.labels?.['webhook.example.com/mutated']).toBeUndefined();
  });
});
