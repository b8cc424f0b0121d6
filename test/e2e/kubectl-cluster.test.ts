// kubectl verbs that need a whole cluster: cordon/drain, rollout restart/pause/resume, logs options, events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
});

afterAll(async () => {
  await c?.down();
});

async function podsOf(
  app: string,
): Promise<{ name: string; node: string; ready: boolean; terminating: boolean }[]> {
  const list = await c.getJson(['get', 'pods', '-l', `app=${app}`]);
  return list.items.map((p: any) => ({
    name: p.metadata.name,
    node: p.spec.nodeName,
    ready: p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') ?? false,
    terminating: !!p.metadata.deletionTimestamp,
  }));
}

describe('kubectl on a running cluster', () => {
  it('cordon marks a node unschedulable, drain evicts its pods onto the others, uncordon undoes it', async () => {
    expect(
      (await c.kubectl(['create', 'deployment', 'spread', '--image=kubemu/hello:v1', '--replicas=6'])).code,
    ).toBe(0);
    await c.waitFor('6 ready', async () => (await podsOf('spread')).filter((p) => p.ready).length === 6);
    const cordon = await c.kubectl(['cordon', 'node-1']);
    expect(cordon.stdout.trim()).toBe('node/node-1 cordoned');
    expect((await c.kubectl(['get', 'node', 'node-1'])).stdout).toMatch(
      /^node-1\s+Ready,SchedulingDisabled\s+/m,
    );
    const drain = await c.kubectl(
      ['drain', 'node-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s'],
      { timeoutMs: 70_000 },
    );
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.stdout).toMatch(/evicting pod default\/spread-/);
    expect(drain.stdout).toMatch(/node\/node-1 drained/);
    await c.waitFor(
      '6 ready off node-1',
      async () => {
        const now = await podsOf('spread');
        return (
          now.filter((p) => p.ready && !p.terminating && p.node !== 'node-1').length === 6 &&
          !now.some((p) => p.node === 'node-1')
        );
      },
      60_000,
    );
    expect((await c.kubectl(['uncordon', 'node-1'])).stdout.trim()).toBe('node/node-1 uncordoned');
    expect((await c.kubectl(['get', 'node', 'node-1'])).stdout).toMatch(/^node-1\s+Ready\s+/m);
  });

  it('rollout restart, pause and resume', async () => {
    const before = (await podsOf('spread')).map((p) => p.name).sort();
    const restart = await c.kubectl(['rollout', 'restart', 'deployment/spread']);
    expect(restart.stdout.trim()).toBe('deployment.apps/spread restarted');
    expect(
      (await c.kubectl(['rollout', 'status', 'deployment/spread', '--timeout=90s'], { timeoutMs: 100_000 }))
        .code,
    ).toBe(0);
    await c.waitFor(
      'all pods replaced',
      async () => {
        const now = (await podsOf('spread')).filter((p) => !p.terminating);
        return now.length === 6 && now.every((p) => !before.includes(p.name));
      },
      60_000,
    );
    expect((await c.kubectl(['rollout', 'pause', 'deployment/spread'])).stdout.trim()).toBe(
      'deployment.apps/spread paused',
    );
    await c.kubectl(['set', 'image', 'deployment/spread', 'hello=kubemu/hello:v2']);
    await new Promise((r) => setTimeout(r, 2000));
    const images = (
      await c.kubectl([
        'get',
        'pods',
        '-l',
        'app=spread',
        '-o',
        'jsonpath={.items[*].spec.containers[0].image}',
      ])
    ).stdout;
    expect(images).not.toContain('v2');
    const d = await c.getJson(['get', 'deploy', 'spread']);
    expect(d.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', reason: 'DeploymentPaused' }),
    );
    expect((await c.kubectl(['rollout', 'resume', 'deployment/spread'])).stdout.trim()).toBe(
      'deployment.apps/spread resumed',
    );
    expect(
      (await c.kubectl(['rollout', 'status', 'deployment/spread', '--timeout=90s'], { timeoutMs: 100_000 }))
        .code,
    ).toBe(0);
    const after = (
      await c.kubectl([
        'get',
        'pods',
        '-l',
        'app=spread',
        '--field-selector',
        'status.phase=Running',
        '-o',
        'jsonpath={.items[*].spec.containers[0].image}',
      ])
    ).stdout;
    expect(after).toContain('kubemu/hello:v2');
  });

  it('logs: -c, --since, --timestamps; describe shows the events', async () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  containers:
  - name: a
    image: busybox
    command: ["sh", "-c", "echo from-a; sleep 3600"]
  - name: b
    image: busybox
    command: ["sh", "-c", "echo from-b; sleep 3600"]
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: yaml })).code).toBe(0);
    await c.waitFor(
      'two running',
      async () => (await c.getJson(['get', 'pod', 'two'])).status.phase === 'Running',
    );
    for (const name of ['a', 'b'])
      await c.waitFor(`logs of ${name}`, async () =>
        (await c.kubectl(['logs', 'two', '-c', name])).stdout.includes(`from-${name}`),
      );
    // kubectl picks the first container itself when none is named (the server would refuse)
    const noContainer = await c.kubectl(['logs', 'two']);
    expect(noContainer.stderr).toMatch(/Defaulted container "a" out of: a, b/);
    expect(noContainer.stdout).toContain('from-a');
    const ts = await c.kubectl(['logs', 'two', '-c', 'a', '--timestamps']);
    expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z from-a$/m);
    const since = await c.kubectl(['logs', 'two', '-c', 'a', '--since=1h']);
    expect(since.stdout).toContain('from-a');
    const d = await c.kubectl(['describe', 'pod', 'two']);
    expect(d.stdout).toMatch(
      /Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/two to node-\d/,
    );
    expect(d.stdout).toMatch(/Started\s+\S+\s+kubelet\s+Started container a/);
    const events = await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=two']);
    expect(events.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    expect(events.stdout).toMatch(/Normal\s+Scheduled\s+pod\/two/);
  });

  // the docs' "Kubernetes API health endpoints" page, typed as shown there
  it("health endpoints: kubectl get --raw='/readyz?verbose', one check, an excluded one, an unknown one", async () => {
    const verbose = await c.kubectl(['get', '--raw', '/readyz?verbose']);
    expect(verbose.code).toBe(0);
    const lines = verbose.stdout.trim().split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '[+]ping ok',
      '[+]log ok',
      '[+]etcd ok',
      '[+]etcd-readiness ok',
      '[+]informer-sync ok',
    ]);
    expect(lines).toContain('[+]poststarthook/rbac/bootstrap-roles ok');
    expect(lines.slice(-2)).toEqual(['[+]shutdown ok', 'readyz check passed']);
    expect((await c.kubectl(['get', '--raw', '/livez/etcd'])).stdout).toBe('ok');
    const excluded = await c.kubectl(['get', '--raw', '/livez?verbose&exclude=etcd']);
    expect(excluded.stdout).toContain('[+]etcd excluded: ok');
    expect(excluded.stdout).toContain('livez check passed');
    const unknown = await c.kubectl(['get', '--raw', '/readyz/no-such-check']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('NotFound');
  });
});
