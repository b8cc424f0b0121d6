// What a newcomer does with the docs' manifests and the real kubectl against a `kubemu up` cluster: Secrets
// written with `stringData` (merged into `data`, never stored), `kubectl replace -f` of the manifest an object
// was created from, and managedFields on every write path (issue #16, items 4 and 11 b/c).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/apiserver.js';
import { upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

const FIXTURES = join(ROOT, 'test/fixtures/k8s-docs');
const fixture = (name: string): string => join(FIXTURES, name);

beforeAll(async () => {
  c = await upCluster({ nodes: 1 });
});

afterAll(async () => {
  await c?.down();
});

function ok(r: Run): Run {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

function kubectlIn(args: string[], yaml: string): Promise<Run> {
  return c.kubectl([...args, '-f', '-'], { input: yaml });
}

/** the Secret's data, decoded, as `kubectl get secret -o json` shows it */
async function secretData(name: string): Promise<{ data: Record<string, string>; raw: any }> {
  const raw = await c.getJson(['get', 'secret', name]);
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries((raw.data ?? {}) as Record<string, string>))
    data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { data, raw };
}

const secret = (name: string, body: string): string => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
${body}`;

describe('Secrets written with stringData', () => {
  it('creates the docs basic-auth Secret from stringData alone, stored and shown as base64 data only', async () => {
    ok(await c.kubectl(['create', '-f', fixture('basicauth-secret.yaml')]));
    const { data, raw } = await secretData('secret-basic-auth');
    expect(data).toEqual({ username: 'admin', password: 't0p-Secret' });
    expect(raw.stringData).toBeUndefined();
    const yaml = ok(await c.kubectl(['get', 'secret', 'secret-basic-auth', '-o', 'yaml'])).stdout;
    expect(yaml).not.toContain('stringData');
    expect(yaml).not.toContain('t0p-Secret');
    expect(yaml).toContain(`password: ${Buffer.from('t0p-Secret').toString('base64')}`);
  });

  it('lets stringData override the same key of data on create and replace', async () => {
    const v1 = secret(
      'overrides',
      `data:\n  username: ${Buffer.from('from-data').toString('base64')}\n  keep: ${Buffer.from('kept').toString('base64')}\nstringData:\n  username: from-stringData\n`,
    );
    ok(await kubectlIn(['create'], v1));
    expect((await secretData('overrides')).data).toEqual({ username: 'from-stringData', keep: 'kept' });

    const v2 = secret('overrides', 'stringData:\n  username: replaced\n  password: new\n');
    ok(await kubectlIn(['replace'], v2));
    const after = await secretData('overrides');
    expect(after.data).toEqual({ username: 'replaced', password: 'new' });
    expect(after.raw.stringData).toBeUndefined();
  });

  it('merges stringData on client-side apply, and on a re-apply with a changed value', async () => {
    ok(await kubectlIn(['apply'], secret('applied', 'stringData:\n  token: one\n')));
    expect((await secretData('applied')).data).toEqual({ token: 'one' });
    ok(await kubectlIn(['apply'], secret('applied', 'stringData:\n  token: two\n  extra: x\n')));
    const { data, raw } = await secretData('applied');
    expect(data).toEqual({ token: 'two', extra: 'x' });
    expect(raw.stringData).toBeUndefined();
    // the last-applied annotation is the user's manifest, as upstream keeps it
    expect(raw.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'stringData',
    );
  });

  it('merges stringData on server-side apply (create and update)', async () => {
    ok(await kubectlIn(['apply', '--server-side'], secret('ssa', 'stringData:\n  token: one\n')));
    expect((await secretData('ssa')).data).toEqual({ token: 'one' });
    ok(await kubectlIn(['apply', '--server-side'], secret('ssa', 'stringData:\n  token: two\n')));
    const { data, raw } = await secretData('ssa');
    expect(data).toEqual({ token: 'two' });
    expect(raw.stringData).toBeUndefined();
  });

  it('merges stringData sent by kubectl patch (strategic, merge and JSON patch)', async () => {
    ok(await kubectlIn(['create'], secret('patched', 'stringData:\n  a: "1"\n')));
    ok(await c.kubectl(['patch', 'secret', 'patched', '-p', '{"stringData":{"a":"strategic"}}']));
    expect((await secretData('patched')).data).toEqual({ a: 'strategic' });
    ok(
      await c.kubectl([
        'patch',
        'secret',
        'patched',
        '--type',
        'merge',
        '-p',
        '{"stringData":{"b":"merge"}}',
      ]),
    );
    expect((await secretData('patched')).data).toEqual({ a: 'strategic', b: 'merge' });
    ok(
      await c.kubectl([
        'patch',
        'secret',
        'patched',
        '--type',
        'json',
        '-p',
        '[{"op":"add","path":"/stringData","value":{"c":"json"}}]',
      ]),
    );
    const { data, raw } = await secretData('patched');
    expect(data).toEqual({ a: 'strategic', b: 'merge', c: 'json' });
    expect(raw.stringData).toBeUndefined();
  });

  it("validates after the merge, with upstream's field paths and messages", async () => {
    // one kubectl create of all of them: kubectl reports each refusal on a line of its own, exits non-zero
    const cases: [string, string, string][] = [
      [
        'no-keys',
        'type: kubernetes.io/basic-auth\nstringData:\n  user: admin\n',
        '[data[username]: Required value, data[password]: Required value]',
      ],
      [
        'half-tls',
        'type: kubernetes.io/tls\nstringData:\n  tls.crt: cert\n',
        'data[tls.key]: Required value',
      ],
      [
        'empty-ssh',
        'type: kubernetes.io/ssh-auth\nstringData:\n  ssh-privatekey: ""\n',
        'data[ssh-privatekey]: Required value',
      ],
      [
        'not-json',
        'type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: "{auths: {}}"\n',
        `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'a' looking for beginning of object key string`,
      ],
      [
        'bad-key',
        'stringData:\n  "a b": x\n',
        'data[a b]: Invalid value: "a b": a valid config key must consist of',
      ],
    ];
    const r0 = await kubectlIn(['create'], cases.map(([name, body]) => secret(name, body)).join('---\n'));
    expect(r0.code).not.toBe(0);
    const refusals = r0.stderr.trim().split('\n');
    expect(refusals).toHaveLength(cases.length);
    cases.forEach(([name, , message], i) => {
      expect(refusals[i]).toContain(
        `Error from server (Invalid): error when creating "STDIN": Secret "${name}" is invalid: `,
      );
      expect(refusals[i], name).toContain(message);
    });
    // a basic-auth Secret with just one of its keys is valid, given through stringData
    ok(
      await kubectlIn(
        ['create'],
        secret('only-user', 'type: kubernetes.io/basic-auth\nstringData:\n  username: u\n'),
      ),
    );
    // and an update is validated the same way
    const r = await kubectlIn(
      ['replace'],
      secret('only-user', 'type: kubernetes.io/basic-auth\nstringData:\n  other: u\n'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('data[username]: Required value');
  });
});

describe('kubectl replace -f with the manifest an object was created from', () => {
  // ServiceAccount admission mounts a token volume at create only (as upstream): a manifest replaced as written would
  // also differ in its volumes, which is not what these cases are about, so the account mounts none (upstream's
  // kubectl tests run with no token in their pods either)
  beforeAll(async () => {
    ok(
      await c.kubectl([
        'patch',
        'serviceaccount',
        'default',
        '-p',
        '{"automountServiceAccountToken": false}',
      ]),
    );
  });

  it('replaces a scheduled pod from the docs simple-pod.yaml once the manifest names what scheduling set', async () => {
    ok(await c.kubectl(['create', '-f', fixture('simple-pod.yaml')]));
    const created = await c.waitFor('pod nginx scheduled', async () => {
      const p = await c.getJson(['get', 'pod', 'nginx']);
      return p.spec?.nodeName ? p : undefined;
    });
    const keys = (p: any): string[] => (p.spec.tolerations ?? []).map((t: any) => t.key);
    expect(keys(created)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    // as upstream: the verbatim manifest leaves nodeName and serviceAccountName empty, which an update may not do
    const refused = await c.kubectl(['replace', '-f', fixture('simple-pod.yaml')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec: Forbidden: pod updates may not change fields other than');
    // the same manifest naming the node and account, still without the default tolerations: they are added again
    const named = `apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  nodeName: ${created.spec.nodeName}
  serviceAccountName: default
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
`;
    const r = ok(await kubectlIn(['replace'], named));
    expect(r.stdout).toContain('pod/nginx replaced');
    const after = await c.getJson(['get', 'pod', 'nginx']);
    expect(keys(after)).toEqual(keys(created));
    expect(after.spec.serviceAccount).toBe('default');
    expect(after.metadata.uid).toBe(created.metadata.uid);
  });

  it('treats spec.serviceAccount and spec.serviceAccountName as aliases', async () => {
    const pod = (name: string, field: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: node-1
  ${field}: default
  containers:
  - name: main
    image: kubemu/hello:v1
`;
    for (const [name, field] of [
      ['by-name', 'serviceAccountName'],
      ['by-deprecated-field', 'serviceAccount'],
    ] as const) {
      ok(await kubectlIn(['create'], pod(name, field)));
      const p = await c.getJson(['get', 'pod', name]);
      expect([p.spec.serviceAccountName, p.spec.serviceAccount], name).toEqual(['default', 'default']);
      ok(await kubectlIn(['replace'], pod(name, field)));
    }
    // a real change of the service account is still refused, as upstream refuses it
    const r = await kubectlIn(['replace'], pod('by-name', 'serviceAccountName').replace('default', 'robot'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec: Forbidden: pod updates may not change fields other than');
  });

  it('replaces a Deployment and a Service with their original manifests', async () => {
    ok(await c.kubectl(['create', '-f', fixture('nginx-deployment.yaml')]));
    ok(await c.kubectl(['replace', '-f', fixture('nginx-deployment.yaml')]));
    // the Service of the docs' "Service" concept page
    const service = `apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
`;
    ok(await kubectlIn(['create'], service));
    const ip = (await c.getJson(['get', 'svc', 'my-service'])).spec.clusterIP;
    ok(await kubectlIn(['replace'], service));
    expect((await c.getJson(['get', 'svc', 'my-service'])).spec.clusterIP).toBe(ip);
  });
});

describe('managedFields on every write path', () => {
  it('records kubectl create of a Node (the docs Node manifest)', async () => {
    // the manifest of the docs' "Nodes" concept page
    const node = `{
  "kind": "Node",
  "apiVersion": "v1",
  "metadata": {
    "name": "10.240.79.157",
    "labels": {
      "name": "my-first-k8s-node"
    }
  }
}`;
    ok(await kubectlIn(['create'], node));
    const yaml = ok(
      await c.kubectl(['get', 'node', '10.240.79.157', '-o', 'yaml', '--show-managed-fields']),
    ).stdout;
    expect(yaml).toContain('managedFields:');
    expect(yaml).toContain('manager: kubectl-create');
    expect(yaml).toContain('f:name: {}');
    ok(await c.kubectl(['delete', 'node', '10.240.79.157']));
  });

  it('records kubectl scale through the scale subresource', async () => {
    ok(await c.kubectl(['scale', 'deployment', 'nginx-deployment', '--replicas=1']));
    const d = await c.getJson(['get', 'deployment', 'nginx-deployment', '--show-managed-fields']);
    const entry = d.metadata.managedFields.find((e: any) => e.subresource === 'scale');
    expect(entry).toMatchObject({
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    // the creator no longer owns the replicas it set
    const creator = d.metadata.managedFields.find((e: any) => e.manager === 'kubectl-create');
    expect(creator.fieldsV1['f:spec']['f:replicas']).toBeUndefined();
  });
});
