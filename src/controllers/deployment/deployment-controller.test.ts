import { describe, it, expect, afterEach } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { defaultDeployment } from '../../api/defaults/apps.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  settle,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { isPodActive, isPodReady } from '../common/pods.js';
import { ReplicaSetController } from '../replicaset/replicaset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { maxSurge as surgeOf, maxUnavailable as unavailableOf } from './util.js';

const ns = 'default';
const HASH = /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/;

function deployment(
  name: string,
  replicas: number,
  spec: Partial<Deployment['spec']> = {},
  image = 'hello:v1',
): Deployment {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  };
  defaultDeployment(d);
  return d;
}

interface Harness {
  c: FakeCluster;
  rsc: ReplicaSetController;
  dc: DeploymentController;
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(): Promise<Harness> {
  const c = await fakeCluster();
  const rsc = new ReplicaSetController({ client: c.client, informers: c.informers, clock: c.clock });
  const dc = new DeploymentController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    rsc.stop();
    dc.stop();
    c.informers.stop();
  });
  await Promise.all([rsc.run(), dc.run()]);
  return { c, rsc, dc };
}

const pods = (c: FakeCluster): Pod[] => c.objects<Pod>('pods', ns).filter(isPodActive);
const replicaSets = (c: FakeCluster): ReplicaSet[] =>
  c.objects<ReplicaSet>('replicasets', ns).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
const dep = (c: FakeCluster, name: string): Deployment =>
  c.objects<Deployment>('deployments', ns).find((d) => d.metadata?.name === name)!;
const events = (c: FakeCluster): string[] =>
  c
    .objects<Event>('events', ns)
    .filter((e) => e.involvedObject.kind === 'Deployment')
    .map((e) => e.message!);
const cond = (d: Deployment, type: string) => d.status?.conditions?.find((x) => x.type === type);
const rsByRevision = (c: FakeCluster, rev: string) =>
  replicaSets(c).find((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === rev);

async function modify(c: FakeCluster, name: string, mutate: (d: Deployment) => void): Promise<void> {
  for (;;) {
    const d = await c.client.deployments.get(name, ns);
    mutate(d);
    try {
      await c.client.deployments.update(d);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

function setImage(image: string) {
  return (d: Deployment) => {
    d.spec!.template.spec!.containers[0].image = image;
  };
}

function complete(c: FakeCluster, name: string): boolean {
  const d = dep(c, name);
  const want = d.spec!.replicas!;
  const s = d.status ?? {};
  return (
    s.observedGeneration === d.metadata?.generation &&
    s.updatedReplicas === want &&
    s.replicas === want &&
    s.availableReplicas === want &&
    cond(d, 'Progressing')?.reason === 'NewReplicaSetAvailable'
  );
}

/** play kubelet: make every pod ready and remove deleted ones, repeatedly, until the deployment completes */
async function readyUntilComplete(c: FakeCluster, name: string, onStep?: () => void): Promise<void> {
  for (let step = 0; step < 100; step++) {
    await settle();
    onStep?.();
    if (complete(c, name)) return;
    if (await finishTerminatingPods(c, ns)) continue;
    const notReady = pods(c).filter((p) => !isPodReady(p));
    // one pod at a time: a slow kubelet exposes every intermediate state
    if (notReady.length) await markPodReady(c, notReady[0]);
  }
  throw new Error(`deployment ${name} did not complete: ${JSON.stringify(dep(c, name).status)}`);
}

describe('DeploymentController', () => {
  it('creates a hashed ReplicaSet with revision annotations, then reports completion with upstream conditions', async () => {
    const { c, dc } = await start();
    const created = await c.client.deployments.create(deployment('web', 3));
    await until(() => replicaSets(c).length === 1 && pods(c).length === 3, 'rs and 3 pods');
    const [rs] = replicaSets(c);
    const hash = rs.metadata!.labels!['pod-template-hash'];
    expect(hash).toMatch(HASH);
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.spec?.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec?.template?.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: created.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(rs.metadata?.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    expect(pods(c).every((p) => p.metadata?.labels?.['pod-template-hash'] === hash)).toBe(true);
    await until(
      () => dep(c, 'web').metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1',
      'revision',
    );

    await until(() => cond(dep(c, 'web'), 'Available') !== undefined, 'Available condition');
    const progressing = cond(dep(c, 'web'), 'Progressing')!;
    expect(progressing.status).toBe('True');
    expect(['NewReplicaSetCreated', 'ReplicaSetUpdated']).toContain(progressing.reason);
    expect(cond(dep(c, 'web'), 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
      message: 'Deployment does not have minimum availability.',
    });

    await readyUntilComplete(c, 'web');
    const d = dep(c, 'web');
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(d.status?.unavailableReplicas ?? 0).toBe(0);
    expect(d.status?.conditions?.map((x) => x.type)).toEqual(['Available', 'Progressing']);
    expect(cond(d, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    expect(cond(d, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "web-${hash}" has successfully progressed.`,
    });
    await dc.flushEvents();
    expect(events(c)).toEqual([`Scaled up replica set web-${hash} to 3`]);
  });

  // [title, replicas, maxSurge, maxUnavailable, surge and unavailable as upstream resolves them]
  const cases: [string, number, number | string, number | string, number, number][] = [
    ['25%/25% with 4 replicas', 4, '25%', '25%', 1, 1],
    ['25%/25% with 6 replicas (surge rounds up, unavailable down)', 6, '25%', '25%', 2, 1],
    ['maxSurge 0, maxUnavailable 1', 3, 0, 1, 0, 1],
    ['maxSurge 1, maxUnavailable 0', 3, 1, 0, 1, 0],
    ['maxSurge 100%, maxUnavailable 0', 4, '100%', 0, 4, 0],
    // (0 and 0 the apiserver refuses; util.test.ts shows how the controller would resolve them)
  ];
  for (const [title, replicas, maxSurge, maxUnavailable, surge, unavailable] of cases) {
    it(`rolls out within the bounds: ${title}`, async () => {
      const { c, dc } = await start();
      const d0 = deployment('web', replicas, {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
      });
      expect([surgeOf(d0), unavailableOf(d0)]).toEqual([surge, unavailable]);
      await c.client.deployments.create(d0);
      await readyUntilComplete(c, 'web');
      const v1 = replicaSets(c)[0].metadata!.name!;

      // from here on, check the bounds before every single API request
      let checks = 0;
      let maxSpecSum = 0;
      let minReady = Infinity;
      const violations: string[] = [];
      c.onRequest = () => {
        checks++;
        const specSum = replicaSets(c).reduce((n, r) => n + (r.spec?.replicas ?? 0), 0);
        if (specSum > replicas + surge) violations.push(`RS replicas ${specSum} > ${replicas}+${surge}`);
        const ready = pods(c).filter(isPodReady).length;
        if (ready < replicas - unavailable) violations.push(`ready ${ready} < ${replicas}-${unavailable}`);
        maxSpecSum = Math.max(maxSpecSum, specSum);
        minReady = Math.min(minReady, ready);
      };
      await modify(c, 'web', setImage('hello:v2'));
      await readyUntilComplete(c, 'web', () => {
        // at rest, the pods themselves are within bounds too
        if (pods(c).length > replicas + surge)
          violations.push(`pods ${pods(c).length} > ${replicas}+${surge}`);
      });
      c.onRequest = undefined;
      expect(violations).toEqual([]);
      expect(checks).toBeGreaterThan(10);
      // the bounds are used, not just respected: the rollout goes as fast as they allow
      expect(maxSpecSum).toBe(replicas + surge);
      expect(minReady).toBe(replicas - unavailable);
      const rsNow = replicaSets(c);
      expect(rsNow).toHaveLength(2);
      const v2 = rsNow.find((r) => r.metadata?.name !== v1)!;
      expect(v2.spec?.replicas).toBe(replicas);
      expect(rsNow.find((r) => r.metadata?.name === v1)?.spec?.replicas).toBe(0);
      expect(pods(c)).toHaveLength(replicas);
      expect(pods(c).every((p) => p.spec?.containers[0].image === 'hello:v2')).toBe(true);
      expect(dep(c, 'web').metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      await dc.flushEvents();
      expect(events(c).some((m) => m.startsWith(`Scaled down replica set ${v1} to 0 from `))).toBe(true);
      expect(
        events(c).some((m) =>
          new RegExp(`^Scaled up replica set ${v2.metadata!.name} to ${replicas}( from \\d+)?$`).test(m),
        ),
      ).toBe(true);
    });
  }

  it('Recreate scales the old ReplicaSet to 0 and starts new pods only when the old ones are gone', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 3, { strategy: { type: 'Recreate' } }));
    await readyUntilComplete(c, 'web');
    const v1 = replicaSets(c)[0].metadata!.name!;
    const violations: string[] = [];
    c.onRequest = (req) => {
      if (req.verb === 'create' && req.resource === 'pods') {
        const old = pods(c).filter((p) => p.metadata?.ownerReferences?.[0].name === v1);
        if (old.length) violations.push(`new pod created while ${old.length} old pods exist`);
      }
    };
    await modify(c, 'web', setImage('hello:v2'));
    await readyUntilComplete(c, 'web');
    c.onRequest = undefined;
    expect(violations).toEqual([]);
    expect(pods(c).every((p) => p.spec?.containers[0].image === 'hello:v2')).toBe(true);
    expect(pods(c)).toHaveLength(3);
  });

  it('scales proportionally when resized mid-rollout', async () => {
    const { c, dc } = await start();
    await c.client.deployments.create(
      deployment('web', 10, {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await readyUntilComplete(c, 'web');
    const v1 = replicaSets(c)[0].metadata!.name!;
    await modify(c, 'web', setImage('hello:v2'));
    await settle(100);
    // no new pod is ready: old 10 → 8 (2 unavailable allowed), new 3 → 5 (13 total = 10 + 3 surge)
    const sizes = () =>
      Object.fromEntries(
        replicaSets(c).map((r) => [r.metadata!.name === v1 ? 'old' : 'new', r.spec!.replicas]),
      );
    expect(sizes()).toEqual({ old: 8, new: 5 });
    await modify(c, 'web', (d) => (d.spec!.replicas = 20));
    await settle(100);
    // 10 more replicas shared by size: old 8·23/13 → 14, new 5·23/13 → 9
    expect(sizes()).toEqual({ old: 14, new: 9 });
    await dc.flushEvents();
    expect(events(c)).toContain(`Scaled up replica set ${v1} to 14 from 8`);
    await readyUntilComplete(c, 'web');
    expect(sizes()).toEqual({ old: 0, new: 20 });
  });

  it('rollout undo (template patched back from the old ReplicaSet) reuses that ReplicaSet with a new revision', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 2));
    await readyUntilComplete(c, 'web');
    await modify(c, 'web', setImage('hello:v2'));
    await readyUntilComplete(c, 'web');
    const rev1 = rsByRevision(c, '1')!;
    expect(rsByRevision(c, '2')).toBeDefined();
    // what kubectl rollout undo does: copy the RS template without pod-template-hash into the deployment
    await modify(c, 'web', (d) => {
      const template = structuredClone(rev1.spec!.template!);
      delete template.metadata!.labels!['pod-template-hash'];
      d.spec!.template = template;
    });
    await readyUntilComplete(c, 'web');
    expect(replicaSets(c)).toHaveLength(2);
    const reused = replicaSets(c).find((r) => r.metadata?.name === rev1.metadata?.name)!;
    expect(reused.spec?.replicas).toBe(2);
    expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(dep(c, 'web').metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(pods(c).every((p) => p.spec?.containers[0].image === 'hello:v1')).toBe(true);
  });

  it('rollout restart (a template annotation) makes a new ReplicaSet', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 2));
    await readyUntilComplete(c, 'web');
    await modify(c, 'web', (d) => {
      d.spec!.template.metadata!.annotations = {
        'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z',
      };
    });
    await readyUntilComplete(c, 'web');
    expect(replicaSets(c)).toHaveLength(2);
    const rev2 = rsByRevision(c, '2')!;
    expect(rev2.spec?.replicas).toBe(2);
    expect(pods(c).every((p) => p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'])).toBe(true);
  });

  it('reports ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 2, { progressDeadlineSeconds: 30 }));
    await until(() => dep(c, 'web').status?.replicas === 2, 'pods created');
    await settle(50);
    const name = replicaSets(c)[0].metadata!.name;
    expect(cond(dep(c, 'web'), 'Progressing')?.status).toBe('True');
    c.clock.advance(20_000);
    await settle(50);
    expect(cond(dep(c, 'web'), 'Progressing')?.status).toBe('True');
    c.clock.advance(12_000);
    await until(() => cond(dep(c, 'web'), 'Progressing')?.status === 'False', 'timed out');
    expect(cond(dep(c, 'web'), 'Progressing')).toMatchObject({
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${name}" has timed out progressing.`,
    });
    // progress after the deadline completes the rollout all the same
    await readyUntilComplete(c, 'web');
    expect(cond(dep(c, 'web'), 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 1, { revisionHistoryLimit: 1 }));
    await readyUntilComplete(c, 'web');
    for (const v of ['v2', 'v3', 'v4']) {
      await modify(c, 'web', setImage(`hello:${v}`));
      await readyUntilComplete(c, 'web');
    }
    await until(() => replicaSets(c).length === 2, 'old ReplicaSets cleaned up');
    expect(
      replicaSets(c)
        .map((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'])
        .sort(),
    ).toEqual(['3', '4']);
  });

  it('does not roll out while paused, but still scales; resumes where it left off', async () => {
    const { c } = await start();
    await c.client.deployments.create(deployment('web', 2));
    await readyUntilComplete(c, 'web');
    await modify(c, 'web', (d) => {
      d.spec!.paused = true;
    });
    await until(() => cond(dep(c, 'web'), 'Progressing')?.reason === 'DeploymentPaused', 'paused condition');
    expect(cond(dep(c, 'web'), 'Progressing')).toMatchObject({
      status: 'Unknown',
      message: 'Deployment is paused',
    });
    await modify(c, 'web', setImage('hello:v2'));
    await modify(c, 'web', (d) => (d.spec!.replicas = 4));
    await until(() => replicaSets(c)[0].spec?.replicas === 4, 'scaled while paused');
    await settle(50);
    expect(replicaSets(c)).toHaveLength(1);
    await modify(c, 'web', (d) => {
      d.spec!.paused = false;
    });
    await until(() => replicaSets(c).length === 2, 'rollout resumed');
    await readyUntilComplete(c, 'web');
    expect(pods(c)).toHaveLength(4);
    expect(pods(c).every((p) => p.spec?.containers[0].image === 'hello:v2')).toBe(true);
  });

  it('adopts an orphan ReplicaSet whose template matches instead of creating another', async () => {
    const { c } = await start();
    const d = deployment('web', 2);
    const template = structuredClone(d.spec!.template);
    template.metadata!.labels!['pod-template-hash'] = 'abc';
    await c.client.replicaSets.create({
      metadata: { name: 'web-abc', namespace: ns, labels: { app: 'web', 'pod-template-hash': 'abc' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': 'abc' } }, template },
    });
    const created = await c.client.deployments.create(d);
    await readyUntilComplete(c, 'web');
    expect(replicaSets(c).map((r) => r.metadata?.name)).toEqual(['web-abc']);
    expect(replicaSets(c)[0].metadata?.ownerReferences?.[0].uid).toBe(created.metadata?.uid);
  });
});
