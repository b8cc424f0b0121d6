// kubectl 1.32 and 1.33 write with typed clients in protobuf (create, run, autoscale): the apiserver must decode
// those bodies and answer in JSON, which kubectl accepts; also the raw REST face for protobuf bodies.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, ROOT, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

function kubectlRunner(bin: string, kubeconfig: string) {
  return (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(bin, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
      });
    });
}

describe.each(['1.32', '1.33'])('kubectl %s protobuf writes', (version) => {
  const bin = join(SDK, `kubectl.${version}`);
  const ns = `proto-${version.replace('.', '-')}`;
  let server: ApiServerProcess;
  let k: ReturnType<typeof kubectlRunner>;
  const ok = async (args: string[]): Promise<string> => {
    const r = await k(args);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout.trim();
  };
  const getJson = async (args: string[]): Promise<any> =>
    JSON.parse(await ok(['get', '-n', ns, '-o', 'json', ...args]));

  beforeAll(async () => {
    expect(existsSync(bin), `${bin} must be installed`).toBe(true);
    server = await startApiServer();
    k = kubectlRunner(bin, server.kubeconfig);
    expect(await ok(['create', 'namespace', ns])).toBe(`namespace/${ns} created`);
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it('create namespace', async () => {
    const got = JSON.parse(await ok(['get', 'namespace', ns, '-o', 'json']));
    expect(got.metadata.name).toBe(ns);
    expect(got.status.phase).toBe('Active');
  });

  it('create deployment with replicas and a port', async () => {
    expect(
      await ok([
        'create',
        'deployment',
        'web',
        '-n',
        ns,
        '--image=kubemu/hello:v1',
        '--replicas=2',
        '--port=8080',
      ]),
    ).toBe('deployment.apps/web created');
    const got = await getJson(['deployment', 'web']);
    expect(got.metadata.labels).toEqual({ app: 'web' });
    expect(got.spec.replicas).toBe(2);
    expect(got.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    const [c] = got.spec.template.spec.containers;
    expect(c).toMatchObject({ name: 'hello', image: 'kubemu/hello:v1' });
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(got.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
  });

  it('create service nodeport with an int targetPort', async () => {
    expect(await ok(['create', 'service', 'nodeport', 'web', '-n', ns, '--tcp=80:8080'])).toBe(
      'service/web created',
    );
    const got = await getJson(['service', 'web']);
    expect(got.spec.type).toBe('NodePort');
    expect(got.spec.selector).toEqual({ app: 'web' });
    expect(got.spec.ports).toHaveLength(1);
    expect(got.spec.ports[0]).toMatchObject({ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' });
    expect(got.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(got.spec.clusterIP).toMatch(/^127\.96\./);
  });

  it('create configmap and secret from literals (secret data is bytes on the wire)', async () => {
    expect(
      await ok([
        'create',
        'configmap',
        'cfg',
        '-n',
        ns,
        '--from-literal=color=blue',
        '--from-literal=size=3',
      ]),
    ).toBe('configmap/cfg created');
    expect((await getJson(['configmap', 'cfg'])).data).toEqual({ color: 'blue', size: '3' });
    expect(
      await ok(['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=password=s3cr3t!']),
    ).toBe('secret/creds created');
    const secret = await getJson(['secret', 'creds']);
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('s3cr3t!');
  });

  it('run a pod with env and labels', async () => {
    expect(
      await ok([
        'run',
        'p1',
        '-n',
        ns,
        '--image=kubemu/hello:v1',
        '--port=8080',
        '--env=COLOR=blue',
        '--labels=tier=web',
      ]),
    ).toBe('pod/p1 created');
    const got = await getJson(['pod', 'p1']);
    expect(got.metadata.labels).toEqual({ tier: 'web' });
    const [c] = got.spec.containers;
    expect(c).toMatchObject({
      name: 'p1',
      image: 'kubemu/hello:v1',
      env: [{ name: 'COLOR', value: 'blue' }],
    });
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
  });

  it('create serviceaccount', async () => {
    expect(await ok(['create', 'serviceaccount', 'robot', '-n', ns])).toBe('serviceaccount/robot created');
    expect((await getJson(['serviceaccount', 'robot'])).metadata.name).toBe('robot');
  });

  it('create ingress with a rule', async () => {
    expect(await ok(['create', 'ingress', 'web', '-n', ns, '--rule=foo.example.com/bar=web:80'])).toBe(
      'ingress.networking.k8s.io/web created',
    );
    const got = await getJson(['ingress', 'web']);
    expect(got.spec.rules).toEqual([
      {
        host: 'foo.example.com',
        http: {
          paths: [
            { path: '/bar', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } },
          ],
        },
      },
    ]);
  });

  it('autoscale a deployment (1.32 writes autoscaling/v1, 1.33 autoscaling/v2)', async () => {
    expect(
      await ok(['autoscale', 'deployment', 'web', '-n', ns, '--min=1', '--max=5', '--cpu-percent=50']),
    ).toBe('horizontalpodautoscaler.autoscaling/web autoscaled');
    const got = await getJson(['hpa.v2.autoscaling', 'web']);
    expect(got.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
        },
      ],
    });
  });

  it('a failed protobuf create answers with a Status kubectl prints', async () => {
    const r = await k(['create', 'configmap', 'cfg', '-n', ns, '--from-literal=a=b']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/configmaps "cfg" already exists/);
  });
});

describe('protobuf bodies on the raw REST face', () => {
  let server: ApiServerProcess;
  let api: Api;
  const golden = JSON.parse(
    readFileSync(join(ROOT, 'src/api/protobuf/testdata/kubectl-bodies.json'), 'utf8'),
  ) as { command: string; body: string }[];
  const bodyOf = (command: string): Buffer =>
    Buffer.from(golden.find((c) => c.command === command)!.body, 'base64');
  const PROTOBUF = 'application/vnd.kubernetes.protobuf';

  beforeAll(async () => {
    server = await startApiServer();
    api = apiClient(server);
  });

  afterAll(async () => {
    await server?.cleanup();
  });

  it('creates from a body kubectl sent, answering JSON to a protobuf-first Accept', async () => {
    const ns = await api('POST', '/api/v1/namespaces', undefined, {
      raw: bodyOf('kubectl create namespace'),
      contentType: PROTOBUF,
      accept: `${PROTOBUF},application/json`,
    });
    expect(ns.status, ns.text).toBe(201);
    expect(ns.headers['content-type']).toMatch(/^application\/json/);
    expect(ns.body).toMatchObject({ kind: 'Namespace', metadata: { name: 'demo' } });
    const dep = await api('POST', '/apis/apps/v1/namespaces/demo/deployments', undefined, {
      raw: bodyOf('kubectl create deployment'),
      contentType: PROTOBUF,
      accept: `${PROTOBUF},application/json`,
    });
    expect(dep.status, dep.text).toBe(201);
    expect(dep.body.spec.replicas).toBe(2);
    expect(dep.body.spec.template.spec.containers[0].image).toBe('kubemu/hello:v1');
  });

  it('rejects a malformed protobuf body with a 400 Status', async () => {
    const broken = bodyOf('kubectl create secret generic').subarray(0, 20);
    const r = await api('POST', '/api/v1/namespaces/default/secrets', undefined, {
      raw: broken,
      contentType: PROTOBUF,
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(r.body.message).toMatch(/unable to decode protobuf body/);
  });

  it('does not take a patch in protobuf', async () => {
    const r = await api('PATCH', '/api/v1/namespaces/default', undefined, {
      raw: bodyOf('kubectl create namespace'),
      contentType: PROTOBUF,
    });
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
  });
});
