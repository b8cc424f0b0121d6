// Node failure end to end: a node of three dies under a 6-replica Deployment; Kubernetes heals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
});

afterAll(async () => {
  await c?.down();
});

interface PodView {
  name: string;
  node: string;
  ready: boolean;
  terminating: boolean;
  ip: string;
}

async function pods(app: string): Promise<PodView[]> {
  const list = await c.getJson(['get', 'pods', '-l', `app=${app}`]);
  return list.items.map((p: any) => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ready: p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True') ?? false,
    terminating: !!p.metadata.deletionTimestamp,
    ip: p.status?.podIP ?? '',
  }));
}

async function nodeReady(name: string): Promise<string> {
  const n = await c.getJson(['get', 'node', name]);
  return n.status?.conditions?.find((x: any) => x.type === 'Ready')?.status ?? 'missing';
}

describe('node failure', () => {
  it('replaces the pods of a killed node on the others, and the node comes back clean', async () => {
    const created = await c.kubectl([
      'create',
      'deployment',
      'six',
      '--image=kubemu/hello:v1',
      '--replicas=6',
    ]);
    expect(created.code, created.stderr).toBe(0);
    await c.waitFor('6 Ready pods', async () => (await pods('six')).filter((p) => p.ready).length === 6);
    const before = await pods('six');
    const victims = before.filter((p) => p.node === 'node-2');
    expect(victims.length).toBeGreaterThan(0);

    const kill = await c.kubemu([
      'chaos',
      'kill-node',
      'node-2',
      '--name',
      c.name,
      '--state-dir',
      c.stateDir,
    ]);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toMatch(/node-2/);
    const killedAt = Date.now();

    await c.waitFor('node-2 NotReady', async () => (await nodeReady('node-2')) === 'Unknown');
    const row = await c.kubectl(['get', 'node', 'node-2']);
    expect(row.stdout).toMatch(/^node-2\s+NotReady\s+/m);
    // the node lifecycle controller's event about the Node itself (it was never stored: issue 17)
    await c.waitFor('the NodeNotReady event of node-2', async () => {
      const ev = await c.kubectl(['get', 'events', '--field-selector', 'reason=NodeNotReady']);
      return /node\/node-2\s+Node node-2 status is now: NodeNotReady/.test(ev.stdout);
    });
    const node = await c.getJson(['get', 'node', 'node-2']);
    expect(node.spec.taints.map((t: any) => `${t.key}:${t.effect}`)).toContain(
      'node.kubernetes.io/unreachable:NoExecute',
    );

    await c.waitFor(
      '6 Ready pods on the surviving nodes',
      async () => {
        const now = await pods('six');
        return now.filter((p) => p.ready && !p.terminating && p.node !== 'node-2').length === 6;
      },
      60_000,
    );
    console.log(`node failure: kill → 6/6 Ready on the other nodes in ${Date.now() - killedAt} ms`);
    // the pods of the dead node are being deleted (they cannot finish without their kubelet)
    const during = await pods('six');
    for (const v of victims) {
      const seen = during.find((p) => p.name === v.name);
      if (seen) expect(seen.terminating).toBe(true);
    }
    const events = await c.kubectl(['get', 'events', '--field-selector', 'reason=TaintManagerEviction']);
    expect(events.stdout).toMatch(/Marking for deletion Pod default\/six-/);

    const restart = await c.kubemu([
      'chaos',
      'restart-node',
      'node-2',
      '--name',
      c.name,
      '--state-dir',
      c.stateDir,
    ]);
    expect(restart.code, restart.stderr).toBe(0);
    await c.waitFor('node-2 Ready again', async () => (await nodeReady('node-2')) === 'True', 30_000);
    await c.waitFor(
      'the replaced pods are gone for good',
      async () => {
        const now = await pods('six');
        return victims.every((v) => !now.some((p) => p.name === v.name)) && now.length === 6;
      },
      30_000,
    );
    const after = await pods('six');
    expect(after.filter((p) => p.ready)).toHaveLength(6);
    // nothing the old pods ran answers any more: asked from a pod (pod IPs are not the host's to reach with
    // --network=netns), where a reused IP may answer with a new pod's name, never an old one's
    const survivor = after.find((p) => p.ready)!.name;
    const script =
      `const ips = ${JSON.stringify(victims.map((v) => v.ip))};` +
      "Promise.all(ips.map((ip) => fetch('http://' + ip + ':8080/', { signal: AbortSignal.timeout(1000) })" +
      ".then((r) => r.text(), () => ''))).then((a) => console.log(JSON.stringify(a)));";
    const asked = await c.kubectl(['exec', survivor, '--', 'node', '-e', script]);
    expect(asked.code, asked.stderr).toBe(0);
    const answers = JSON.parse(asked.stdout) as string[];
    expect(answers).toHaveLength(victims.length);
    for (const [i, v] of victims.entries()) expect(answers[i]).not.toContain(v.name);
  });
});
