// Issue #23, "an operator end to end": examples/operator's README steps, exactly as written and in their order (its
// ```sh blocks, run with bash from the checkout's root, the real kubectl and openssl, `npx kubemu` on a cluster named
// kubemu in $HOME/.kubemu as the README's user has), checked after each: the Website becomes a Deployment and a
// Service owned by it (the time from its creation to both is printed), the webhook mutates it (replicas, label),
// an update reaches the pods, the webhook refuses HTML with its message, with the webhook down failurePolicy Fail
// refuses writes with upstream's "failed calling webhook" and Ignore lets them through unchecked, deleting the
// Websites deletes their children. One cluster, one node.
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/operator');
const README = join(EXAMPLE, 'README.md');

/** the README's ```sh blocks, in order */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

interface Meta {
  name: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
}
interface Website {
  metadata: Meta & { uid: string; generation: number };
  spec: { replicas?: number; message: string };
  status?: {
    readyReplicas?: number;
    observedGeneration?: number;
    conditions?: { type: string; status: string }[];
  };
}
interface Deployment {
  metadata: Meta;
  spec: {
    replicas: number;
    template: { spec: { containers: { image: string; env?: { name: string; value: string }[] }[] } };
  };
}

let cluster: TestCluster;
let home: string;
let steps: string[];
let next = 0;

/** runs the README's next ```sh block, which must begin with `first`; fails unless it exits as expected */
async function step(first: string, opts: { fails?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const block = steps[next++];
  expect(block, `README step ${next}`).toBeDefined();
  expect(block.split('\n')[0], `README step ${next}`).toBe(first);
  const r = await run(
    'bash',
    ['-e', '-o', 'pipefail', '-c', `cd "$OPERATOR_TEST_ROOT"\n${block}`],
    { ...process.env, HOME: home, KUBECONFIG: cluster.kubeconfig, OPERATOR_TEST_ROOT: ROOT },
    { timeoutMs: opts.timeoutMs ?? 120_000 },
  );
  if (opts.fails) expect(r.code, `README step ${next} should fail:\n${block}\n${r.stdout}`).not.toBe(0);
  else if (r.code !== 0)
    throw new Error(`README step ${next} failed (${r.code}):\n${block}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const get = <T>(args: string[]): Promise<T> => cluster.getJson<T>(args);
const owner = (m: Meta) => m.ownerReferences?.find((o) => o.controller);
const message = (d: Deployment) =>
  d.spec.template.spec.containers[0].env?.find((e) => e.name === 'MESSAGE')?.value;

describe('examples/operator', () => {
  beforeAll(async () => {
    ensureCommands([['openssl', 'openssl']]);
    steps = shellBlocks(readFileSync(README, 'utf8'));
    // the README's user: `npx kubemu` finds the cluster kubemu in $HOME/.kubemu/kubemu
    home = mkdtempSync(join(tmpdir(), 'kubemu-operator-'));
    const stateDir = join(home, '.kubemu', 'kubemu');
    mkdirSync(stateDir, { recursive: true });
    cluster = await upCluster({ name: 'kubemu', stateDir, nodes: 1 });
  });
  afterAll(async () => {
    await cluster?.down();
    if (home) rmSync(home, { recursive: true, force: true });
    rmSync(join(EXAMPLE, 'certs'), { recursive: true, force: true });
  });

  it("runs the README's steps: reconcile, webhook mutation and refusal, failurePolicy Fail and Ignore, cascade", async () => {
    // 1. build, image
    await step('npm run build --prefix examples/operator', { timeoutMs: 300_000 });
    // 2. CRD and controller
    await step('kubectl apply -f examples/operator/manifests/crd.yaml');
    const sa = 'system:serviceaccount:website-system:website-operator';
    const pod = (
      await get<{ items: { spec: { serviceAccountName: string } }[] }>([
        ...['get', 'pods', '-n', 'website-system', '-l', 'app=website-operator'],
      ])
    ).items;
    expect(pod.map((p) => p.spec.serviceAccountName)).toEqual(['website-operator']);
    // its rights are what it needs and no more
    for (const [allowed, ...args] of [
      ['yes', 'watch', 'websites.example.com'],
      ['yes', 'patch', 'websites.example.com', '--subresource=status'],
      ['no', 'update', 'websites.example.com'],
      ['yes', 'create', 'deployments.apps'],
      ['no', 'delete', 'deployments.apps'],
      ['no', 'get', 'secrets'],
    ]) {
      const r = await cluster.kubectl(['auth', 'can-i', ...args, '--as', sa, '-A']);
      expect(r.stdout.trim(), `${sa} ${args.join(' ')}`).toBe(allowed);
    }

    // 3. certificates with openssl, the Secret, the webhook
    await step('mkdir -p examples/operator/certs');
    await step('kubectl create secret tls website-webhook-tls -n website-system \\');

    // 4. a Website: timed from the moment kubectl starts, and from its ADDED event, to both children's
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const watch = new k8s.Watch(kc);
    const seen = new Map<string, number>();
    const watches = await Promise.all(
      (
        [
          ['Website', '/apis/example.com/v1/namespaces/default/websites'],
          ['Deployment', '/apis/apps/v1/namespaces/default/deployments'],
          ['Service', '/api/v1/namespaces/default/services'],
        ] as const
      ).map(([kind, path]) =>
        watch.watch(
          path,
          {},
          (type: string, obj: { metadata?: { name?: string } }) => {
            if (type === 'ADDED' && obj.metadata?.name === 'hello' && !seen.has(kind))
              seen.set(kind, performance.now());
          },
          () => undefined,
        ),
      ),
    );
    const started = performance.now();
    await step('kubectl apply -f examples/operator/website.yaml');
    await cluster.waitFor('the three ADDED events', () => Promise.resolve(seen.size === 3));
    for (const w of watches) w.abort();
    const [site, deploymentAt, serviceAt] = ['Website', 'Deployment', 'Service'].map((k) => seen.get(k)!);
    console.log(
      `Website -> Deployment ${(deploymentAt - site).toFixed(0)} ms, Service ${(serviceAt - site).toFixed(0)} ms ` +
        `after its ADDED event; both ${(Math.max(deploymentAt, serviceAt) - started).toFixed(0)} ms after ` +
        `\`kubectl apply\` started (load ${loadavg()[0].toFixed(1)})`,
    );
    const hello = await get<Website>(['get', 'website', 'hello']);
    // mutated by the webhook
    expect(hello.spec).toEqual({ message: 'Welcome to my site', replicas: 1 });
    expect(hello.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'website-operator' });
    expect(hello.status).toMatchObject({ readyReplicas: 1, observedGeneration: hello.metadata.generation });
    expect(hello.status?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    const deployment = await get<Deployment>(['get', 'deployment', 'hello']);
    expect(owner(deployment.metadata)).toMatchObject({
      kind: 'Website',
      name: 'hello',
      uid: hello.metadata.uid,
    });
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.containers[0].image).toBe('kubemu/hello:v1');
    expect(message(deployment)).toBe('Welcome to my site');
    const service = await get<{ metadata: Meta; spec: { ports: { port: number }[] } }>([
      'get',
      'service',
      'hello',
    ]);
    expect(owner(service.metadata)).toMatchObject({
      kind: 'Website',
      name: 'hello',
      uid: hello.metadata.uid,
    });
    expect(service.spec.ports.map((p) => p.port)).toEqual([80]);
    const visit = await step(
      'kubectl run visit --rm -i --restart=Never --image=busybox -- wget -qO- http://hello',
    );
    expect(visit.stdout).toMatch(/^Welcome to my site from hello-[a-z0-9]+-[a-z0-9]+ \(v1\)$/m);

    // 5. an update reaches the Deployment, the pods and the status
    const again = await step(
      `kubectl patch website hello --type=merge -p '{"spec":{"replicas":2,"message":"Now on two pods"}}'`,
      { timeoutMs: 600_000 },
    );
    expect(again.stdout).toMatch(/^Now on two pods from hello-[a-z0-9]+-[a-z0-9]+ \(v1\)$/m);
    const updated = await get<Deployment>(['get', 'deployment', 'hello']);
    expect(updated.spec.replicas).toBe(2);
    expect(message(updated)).toBe('Now on two pods');
    const two = await cluster.waitFor('the status of the new generation', async () => {
      const w = await get<Website>(['get', 'website', 'hello']);
      return w.status?.observedGeneration === w.metadata.generation &&
        w.status.conditions?.[0]?.status === 'True'
        ? w
        : undefined;
    });
    expect(two.status?.readyReplicas).toBe(2);

    // 6. the validating webhook refuses HTML, in its own words
    const refused = await step('kubectl apply -f examples/operator/website-invalid.yaml', { fails: true });
    expect(refused.stderr).toContain(
      'Error from server (Forbidden): error when creating "examples/operator/website-invalid.yaml": ' +
        'websites.example.com "shouting" is forbidden: admission webhook ' +
        '"validate.websites.example.com" denied the request: spec.message: Invalid value: "<h1>Hello</h1>": must be ' +
        'plain text, without HTML tags',
    );

    // 7. the webhook down: Fail refuses with upstream's message, Ignore lets writes through unchecked
    await step('kubectl scale deployment/website-webhook -n website-system --replicas=0');
    const down = await step(
      `kubectl patch website hello --type=merge -p '{"spec":{"message":"Changed while the webhook is down"}}'`,
      { fails: true },
    );
    expect(down.stderr).toMatch(
      /^Error from server \(InternalError\): Internal error occurred: failed calling webhook "mutate\.websites\.example\.com": failed to call webhook: Post "https:\/\/website-webhook\.website-system\.svc:443\/mutate\?timeout=5s": /,
    );
    expect((await get<Website>(['get', 'website', 'hello'])).spec.message).toBe('Now on two pods');
    const ignored = await step('kubectl patch mutatingwebhookconfiguration website-defaults --type=json \\');
    expect(ignored.stdout).toContain('website.example.com/shouting created');
    expect(ignored.stdout).not.toContain('app.kubernetes.io/managed-by');
    const shouting = await get<Website>(['get', 'website', 'shouting']);
    expect(shouting.metadata.labels).toBeUndefined();
    expect(shouting.spec).toEqual({ replicas: 2, message: '<h1>Hello</h1>' });
    // the controller does not care how it got in
    const shoutingDeployment = await cluster.waitFor('the Deployment of shouting', async () => {
      const r = await cluster.kubectl(['get', 'deployment', 'shouting', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Deployment) : undefined;
    });
    expect(shoutingDeployment.spec.replicas).toBe(2);

    // 8. deleting the Websites deletes their children; then everything goes
    await step('kubectl scale deployment/website-webhook -n website-system --replicas=1', {
      timeoutMs: 180_000,
    });
    for (const kind of ['deployments', 'services', 'websites.example.com']) {
      const r = await cluster.kubectl(['get', kind, '-A', '-l', 'example.com/website', '-o', 'name']);
      expect(r.stdout.trim(), kind).toBe('');
    }
    const crd = await cluster.kubectl(['get', 'crd', 'websites.example.com']);
    expect(crd.stderr).toContain('NotFound');
    const ns = await cluster.kubectl([
      'get',
      'namespace',
      'website-system',
      '-o',
      'jsonpath={.status.phase}',
    ]);
    expect(ns.code !== 0 || ns.stdout === 'Terminating').toBe(true);
    // every step of the README ran
    expect(next).toBe(steps.length);
  }, 900_000);
});
