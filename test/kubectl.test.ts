// The real kubectl, 1.27 and 1.33, against the apiserver: what a Kubernetes user types, and what they see.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { startComponent, type ComponentProcess } from './helpers/process.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

function kubectlRunner(bin: string, kubeconfig: string, cwd: string) {
  return (args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        bin,
        ['--kubeconfig', kubeconfig, ...args],
        { cwd, timeout: 30_000, env: { ...process.env, ...opts.env } },
        (err, stdout, stderr) => {
          resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
        },
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
}

const deploymentYaml = (o: {
  image: string;
  replicas: number;
  env?: boolean;
  ports: number[];
}): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${o.replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: ${o.image}
${o.ports.length ? `        ports:\n${o.ports.map((p) => `        - containerPort: ${p}\n          name: p${p}`).join('\n')}\n` : ''}${o.env ? '        env:\n        - name: COLOR\n          value: blue\n' : ''}`;

describe.each(VERSIONS)('kubectl %s', (version) => {
  const bin = join(SDK, `kubectl.${version}`);
  let server: ApiServerProcess;
  let controllers: ComponentProcess | undefined;
  let dir: string;
  let k: ReturnType<typeof kubectlRunner>;

  beforeAll(async () => {
    expect(existsSync(bin), `${bin} must be installed`).toBe(true);
    server = await startApiServer();
    // the garbage collector and namespace controller make deletes (cascading, orphaning) complete
    controllers = startComponent('controller-manager', ['--kubeconfig', server.kubeconfig]);
    dir = mkdtempSync(join(tmpdir(), 'kubemu-kubectl-'));
    k = kubectlRunner(bin, server.kubeconfig, dir);
  });

  afterAll(async () => {
    await controllers?.stop();
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('api-resources, api-versions and auth whoami', async () => {
    const res = await k(['api-resources']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    expect(res.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(res.stdout).toMatch(
      /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m,
    );
    const versions = await k(['api-versions']);
    expect(versions.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'v1',
        'apps/v1',
        'autoscaling/v2',
        'autoscaling/v1',
        'networking.k8s.io/v1',
        'discovery.k8s.io/v1',
      ]),
    );
    const who = await k(['auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toMatch(/Username\s+kubemu-admin/);
  });

  it('apply -f creates, then re-applying a changed file updates image, replicas, adds an env var and removes a port', async () => {
    const file = join(dir, 'web.yaml');
    writeFileSync(file, deploymentYaml({ image: 'kubemu/hello:v1', replicas: 2, ports: [8080, 9090] }));
    const first = await k(['apply', '-f', file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('deployment.apps/web created');
    writeFileSync(file, deploymentYaml({ image: 'kubemu/hello:v2', replicas: 3, env: true, ports: [8080] }));
    const second = await k(['apply', '-f', file]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('deployment.apps/web configured');
    const got = JSON.parse((await k(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    const c = got.spec.template.spec.containers[0];
    expect(c.image).toBe('kubemu/hello:v2');
    expect(got.spec.replicas).toBe(3);
    expect(c.env).toEqual([{ name: 'COLOR', value: 'blue' }]);
    expect(c.ports.map((p: any) => p.containerPort)).toEqual([8080]);
    expect(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      'kubemu/hello:v2',
    );
    const unchanged = await k(['apply', '-f', file]);
    expect(unchanged.stdout.trim()).toBe('deployment.apps/web unchanged');
  });

  it('apply rejects an unknown field with strict validation', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: "1"\nbogus: true\n',
    );
    const r = await k(['apply', '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown field "bogus"/);
  });

  it('apply --server-side, with managedFields and conflicts', async () => {
    const file = join(dir, 'ssa.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n');
    const r = await k(['apply', '--server-side', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('configmap/ssa serverside-applied');
    const got = JSON.parse((await k(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields'])).stdout);
    expect(got.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply' }),
    );
    await k(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"a":"2"}}']);
    const conflict = await k(['apply', '--server-side', '-f', file]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/conflict/i);
    const forced = await k(['apply', '--server-side', '--force-conflicts', '-f', file]);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it('apply -k (kustomize)', async () => {
    const kdir = join(dir, 'kust');
    rmSync(kdir, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(kdir));
    writeFileSync(
      join(kdir, 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kcm\ndata:\n  x: "1"\n',
    );
    writeFileSync(
      join(kdir, 'kustomization.yaml'),
      'resources:\n- cm.yaml\nnamePrefix: dev-\nlabels:\n- pairs:\n    env: dev\n',
    );
    const r = await k(['apply', '-k', kdir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('configmap/dev-kcm created');
    expect((await k(['get', 'cm', '-l', 'env=dev', '-o', 'name'])).stdout.trim()).toBe('configmap/dev-kcm');
  });

  it('create deployment|service|namespace|configmap|secret', async () => {
    expect((await k(['create', 'namespace', 'shop'])).stdout.trim()).toBe('namespace/shop created');
    expect(
      (
        await k(['create', 'deployment', 'cart', '--image=kubemu/cart:v1', '--replicas=2', '-n', 'shop'])
      ).stdout.trim(),
    ).toBe('deployment.apps/cart created');
    expect(
      (await k(['create', 'service', 'nodeport', 'cart', '--tcp=80:8080', '-n', 'shop'])).stdout.trim(),
    ).toBe('service/cart created');
    expect((await k(['create', 'configmap', 'cfg', '--from-literal=a=1', '-n', 'shop'])).stdout.trim()).toBe(
      'configmap/cfg created',
    );
    expect(
      (
        await k(['create', 'secret', 'generic', 'pw', '--from-literal=password=s3cret', '-n', 'shop'])
      ).stdout.trim(),
    ).toBe('secret/pw created');
    const svc = await k(['get', 'svc', 'cart', '-n', 'shop']);
    expect(svc.stdout).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    expect(svc.stdout).toMatch(/^cart\s+NodePort\s+127\.96\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\d+s/m);
  });

  it('get: default, -o wide|yaml|json|jsonpath|custom-columns, -l, --field-selector, -A, all', async () => {
    const def = await k(['get', 'deploy', '-n', 'shop']);
    expect(def.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(def.stdout).toMatch(/^cart\s+0\/2\s+[02]\s+0\s+\d+s$/m);
    const wide = await k(['get', 'deploy', '-n', 'shop', '-o', 'wide']);
    expect(wide.stdout).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide.stdout).toMatch(/kubemu\/cart:v1\s+app=cart/);
    expect((await k(['get', 'deploy', 'cart', '-n', 'shop', '-o', 'yaml'])).stdout).toMatch(
      /^kind: Deployment$/m,
    );
    expect(
      JSON.parse((await k(['get', 'deploy', 'cart', '-n', 'shop', '-o', 'json'])).stdout).spec.replicas,
    ).toBe(2);
    expect(
      (
        await k([
          'get',
          'deploy',
          'cart',
          '-n',
          'shop',
          '-o',
          'jsonpath={.spec.template.spec.containers[0].image}',
        ])
      ).stdout,
    ).toBe('kubemu/cart:v1');
    const cc = await k([
      'get',
      'deploy',
      '-n',
      'shop',
      '-o',
      'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas',
    ]);
    expect(cc.stdout).toMatch(/^NAME\s+REPLICAS\ncart\s+2\n$/);
    expect((await k(['get', 'deploy', '-A', '-l', 'app=cart', '-o', 'name'])).stdout.trim()).toBe(
      'deployment.apps/cart',
    );
    expect(
      (await k(['get', 'ns', '--field-selector', 'metadata.name=shop', '-o', 'name'])).stdout.trim(),
    ).toBe('namespace/shop');
    const all = await k(['get', 'all', '-n', 'shop']);
    expect(all.stdout).toMatch(/service\/cart\s+NodePort/);
    expect(all.stdout).toMatch(/deployment\.apps\/cart\s+0\/2/);
    const allNs = await k(['get', 'deploy', '-A']);
    expect(allNs.stdout).toMatch(/^NAMESPACE\s+NAME\s+READY/);
  });

  it('get -w streams changes as table rows', async () => {
    const child = spawn(bin, ['--kubeconfig', server.kubeconfig, 'get', 'cm', '-n', 'shop', '-w']);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    await k(['create', 'configmap', 'watched', '--from-literal=x=y', '-n', 'shop']);
    const deadline = Date.now() + 10_000;
    while (!/^watched\s+1\s+\d+s/m.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    child.kill();
    expect(out).toMatch(/^NAME\s+DATA\s+AGE/);
    expect(out).toMatch(/^watched\s+1\s+\d+s/m);
  });

  it('describe shows the object the way upstream prints it', async () => {
    const d = await k(['describe', 'deploy', 'cart', '-n', 'shop']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^Name:\s+cart$/m);
    expect(d.stdout).toMatch(/^Replicas:\s+2 desired/m);
    expect(d.stdout).toMatch(/^StrategyType:\s+RollingUpdate$/m);
    expect(d.stdout).toMatch(/^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    const s = await k(['describe', 'secret', 'pw', '-n', 'shop']);
    expect(s.stdout).toMatch(/password:\s+6 bytes/);
    expect(s.stdout).not.toContain('s3cret');
  });

  it('edit with KUBE_EDITOR, label, annotate, scale', async () => {
    const editor = join(dir, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/a: "1"/a: "edited"/' "$1"\n`);
    chmodSync(editor, 0o755);
    const e = await k(['edit', 'cm', 'cfg', '-n', 'shop'], { env: { KUBE_EDITOR: editor } });
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout.trim()).toBe('configmap/cfg edited');
    expect((await k(['get', 'cm', 'cfg', '-n', 'shop', '-o', 'jsonpath={.data.a}'])).stdout).toBe('edited');
    expect((await k(['label', 'deploy', 'cart', 'tier=backend', '-n', 'shop'])).stdout.trim()).toBe(
      'deployment.apps/cart labeled',
    );
    // kubectl 1.27 prints "annotate" (fixed upstream in 1.28 to "annotated")
    expect((await k(['annotate', 'deploy', 'cart', 'owner=team-a', '-n', 'shop'])).stdout.trim()).toMatch(
      /^deployment\.apps\/cart annotated?$/,
    );
    expect((await k(['scale', 'deploy', 'cart', '--replicas=4', '-n', 'shop'])).stdout.trim()).toBe(
      'deployment.apps/cart scaled',
    );
    const got = JSON.parse((await k(['get', 'deploy', 'cart', '-n', 'shop', '-o', 'json'])).stdout);
    expect(got.metadata.labels.tier).toBe('backend');
    expect(got.metadata.annotations.owner).toBe('team-a');
    expect(got.spec.replicas).toBe(4);
  });

  it('patch: strategic, merge and json', async () => {
    const smp = await k([
      'patch',
      'deploy',
      'cart',
      '-n',
      'shop',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"cart","image":"kubemu/cart:v2"}]}}}}',
    ]);
    expect(smp.stdout.trim()).toBe('deployment.apps/cart patched');
    const merge = await k([
      'patch',
      'deploy',
      'cart',
      '-n',
      'shop',
      '--type=merge',
      '-p',
      '{"spec":{"minReadySeconds":3}}',
    ]);
    expect(merge.code, merge.stderr).toBe(0);
    const json = await k([
      'patch',
      'deploy',
      'cart',
      '-n',
      'shop',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/replicas","value":1}]',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const got = JSON.parse((await k(['get', 'deploy', 'cart', '-n', 'shop', '-o', 'json'])).stdout);
    expect(got.spec.template.spec.containers).toHaveLength(1);
    expect(got.spec.template.spec.containers[0].image).toBe('kubemu/cart:v2');
    expect(got.spec.minReadySeconds).toBe(3);
    expect(got.spec.replicas).toBe(1);
  });

  it('explain deployment.spec.strategy', async () => {
    const r = await k(['explain', 'deployment.spec.strategy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/KIND:\s+Deployment/);
    // kubectl ≥1.27 prints GROUP: apps and VERSION: v1 on separate lines
    expect(r.stdout).toMatch(/GROUP:\s+apps/);
    expect(r.stdout).toMatch(/VERSION:\s+v1/);
    expect(r.stdout).toMatch(/FIELD:\s+strategy/);
    expect(r.stdout).toMatch(/rollingUpdate/);
  });

  it('delete by file and by label', async () => {
    const file = join(dir, 'web.yaml');
    const byFile = await k(['delete', '-f', file]);
    expect(byFile.stdout.trim()).toBe('deployment.apps "web" deleted');
    await k(['create', 'configmap', 'l1', '-n', 'shop']);
    await k(['label', 'cm', 'l1', 'gone=yes', '-n', 'shop']);
    const byLabel = await k(['delete', 'cm', '-l', 'gone=yes', '-n', 'shop']);
    expect(byLabel.stdout.trim()).toBe('configmap "l1" deleted');
    expect((await k(['get', 'cm', 'l1', '-n', 'shop'])).stderr).toMatch(/NotFound|not found/);
  });

  it('delete --cascade: background removes the ReplicaSets, orphan keeps them', async () => {
    await k(['create', 'deployment', 'casc', '--image=kubemu/hello:v1', '-n', 'shop']);
    await k(['create', 'deployment', 'orph', '--image=kubemu/hello:v1', '-n', 'shop']);
    const rsOf = async (app: string) =>
      (await k(['get', 'rs', '-n', 'shop', '-l', `app=${app}`, '-o', 'name'])).stdout.trim();
    const deadline = Date.now() + 10_000;
    while ((!(await rsOf('casc')) || !(await rsOf('orph'))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await rsOf('casc')).toMatch(/^replicaset\.apps\/casc-/);
    const bg = await k(['delete', 'deploy', 'casc', '-n', 'shop', '--cascade=background']);
    expect(bg.stdout.trim()).toBe('deployment.apps "casc" deleted');
    const orphan = await k(['delete', 'deploy', 'orph', '-n', 'shop', '--cascade=orphan']);
    expect(orphan.code, orphan.stderr).toBe(0);
    expect(orphan.stdout.trim()).toBe('deployment.apps "orph" deleted');
    const until = Date.now() + 10_000;
    while ((await rsOf('casc')) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(await rsOf('casc')).toBe('');
    const kept = JSON.parse(
      (await k(['get', 'rs', '-n', 'shop', '-l', 'app=orph', '-o', 'json'])).stdout,
    ).items;
    expect(kept).toHaveLength(1);
    expect(kept[0].metadata.ownerReferences ?? []).toEqual([]);
  });

  it('delete namespace removes everything in it', async () => {
    const r = await k(['delete', 'namespace', 'shop']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('namespace "shop" deleted');
    expect((await k(['get', 'ns', 'shop'])).stderr).toMatch(/NotFound|not found/);
  });
});
