import { describe, it, expect, afterEach } from 'vitest';
import type { Event, Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../util/clock.js';
import { fakeCluster, finishTerminatingPods, type FakeCluster } from '../testing/fake-cluster.js';
import { Scheduler } from './scheduler.js';

/** the apiserver's registry in memory (src/testing/) with what the scheduler's tests read from it */
function view(c: FakeCluster) {
  return {
    pod: (name: string, ns = 'default'): Pod | undefined =>
      c.objects<Pod>('pods', ns).find((p) => p.metadata?.name === name),
    pods: (): Pod[] => c.objects<Pod>('pods'),
    events: (): Event[] => c.objects<Event>('events'),
    /** pods/binding requests the scheduler sent */
    bindings: (): number => c.requests.filter((r) => r.subresource === 'binding').length,
    putPod: (p: Pod) => c.client.pods.create(p),
    putNode: (n: Node) => c.client.nodes.create(n),
  };
}

function node(name: string, opts: { cpu?: string; taints?: Taint[] } = {}): Node {
  return {
    metadata: { name },
    spec: opts.taints ? { taints: opts.taints } : {},
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(
  name: string,
  opts: {
    cpu?: string;
    owner?: string;
    tolerations?: Pod['spec'] extends infer S ? (S extends { tolerations?: infer T } ? T : never) : never;
    schedulerName?: string;
  } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      ...(opts.owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: opts.owner,
                uid: `rs-${opts.owner}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'kubemu/hello:v1',
          ...(opts.cpu ? { resources: { requests: { cpu: opts.cpu } } } : {}),
        },
      ],
      ...(opts.tolerations ? { tolerations: opts.tolerations } : {}),
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
    },
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

let running: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

async function setup(nodes: Node[], pods: Pod[] = [], seed = 42) {
  const clock = new FakeClock();
  const c = await fakeCluster({ clock });
  const api = view(c);
  for (const n of nodes) await api.putNode(n);
  for (const p of pods) await api.putPod(p);
  let s = seed;
  const random = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const scheduler = new Scheduler({
    client: c.client,
    clock,
    random,
    instance: 'test',
  });
  running.push(scheduler);
  await scheduler.start();
  await flush();
  await scheduler.idle();
  // until the apiserver sees no more writes
  const settle = async (): Promise<void> => {
    for (let writes = -1; writes !== c.changes.length;) {
      writes = c.changes.length;
      await flush();
      await scheduler.idle();
      await flush();
    }
  };
  return { c, api, clock, scheduler, settle };
}

const nodeCounts = (pods: Pod[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const p of pods) if (p.spec?.nodeName) out[p.spec.nodeName] = (out[p.spec.nodeName] ?? 0) + 1;
  return out;
};

describe('Scheduler', () => {
  it("binds pending pods, reports Scheduled events, leaves other schedulers' pods alone", async () => {
    const { api, settle } = await setup(
      [node('n1'), node('n2'), node('n3')],
      [pod('a'), pod('b'), pod('c'), pod('mine', { schedulerName: 'other-scheduler' })],
    );
    await settle();
    for (const name of ['a', 'b', 'c']) expect(api.pod(name)!.spec!.nodeName).toMatch(/^n[123]$/);
    expect(api.pod('mine')!.spec!.nodeName).toBeUndefined();
    // empty pods spread too (non-zero request defaults)
    expect(Object.values(nodeCounts(api.pods()))).toEqual([1, 1, 1]);
    const scheduled = api.events().filter((e) => e.reason === 'Scheduled');
    expect(scheduled).toHaveLength(3);
    const a = scheduled.find((e) => e.involvedObject.name === 'a')!;
    expect(a).toMatchObject({
      type: 'Normal',
      message: `Successfully assigned default/a to ${api.pod('a')!.spec!.nodeName}`,
      source: { component: 'default-scheduler' },
      reportingComponent: 'default-scheduler',
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'a', uid: api.pod('a')!.metadata!.uid },
      metadata: { namespace: 'default' },
    });
    expect(a.metadata.name).toMatch(/^a\.[0-9a-f]+$/);
  });

  it('insufficient cpu: FailedScheduling event and PodScheduled=False, retried with backoff, event aggregated', async () => {
    const { api, clock, settle } = await setup(
      [node('n1'), node('n2'), node('n3')],
      [pod('big', { cpu: '3' })],
    );
    await settle();
    const message =
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..';
    const failed = api.events().filter((e) => e.reason === 'FailedScheduling');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'Warning',
      message,
      count: 1,
      involvedObject: { name: 'big' },
      source: { component: 'default-scheduler' },
    });
    const cond = api.pod('big')!.status!.conditions!.find((c) => c.type === 'PodScheduled');
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(api.pod('big')!.spec!.nodeName).toBeUndefined();
    // after the 1 s backoff it is tried again: same message, so the event's count goes up
    clock.advance(1000);
    await settle();
    const again = api.events().filter((e) => e.reason === 'FailedScheduling');
    expect(again).toHaveLength(1);
    expect(again[0].count).toBe(2);
  });

  it('taints keep pods off nodes unless tolerated', async () => {
    const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const { api, settle } = await setup(
      [node('n1', { taints: [taint] }), node('n2', { taints: [taint] }), node('n3')],
      [
        pod('p1'),
        pod('p2'),
        pod('p3'),
        pod('gpu', {
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
        }),
      ],
    );
    await settle();
    for (const name of ['p1', 'p2', 'p3']) expect(api.pod(name)!.spec!.nodeName).toBe('n3');
    // the tolerating pod goes where there is most room: a tainted, empty node
    expect(api.pod('gpu')!.spec!.nodeName).toMatch(/^n[12]$/);
  });

  it('spreads 6 pods of one ReplicaSet over 3 nodes 2/2/2', async () => {
    const pods = Array.from({ length: 6 }, (_, i) => pod(`web-${i}`, { cpu: '100m', owner: 'web' }));
    const { api, settle } = await setup([node('n1'), node('n2'), node('n3')], pods);
    await settle();
    expect(nodeCounts(api.pods())).toEqual({ n1: 2, n2: 2, n3: 2 });
  });

  it('a burst of 100 pods is bound without overcommitting any node', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`burst-${i}`, { cpu: '250m', owner: 'burst' }));
    const { api, settle } = await setup([node('n1'), node('n2'), node('n3')], pods);
    await settle();
    // 2 cpus / 250m = 8 per node
    expect(nodeCounts(api.pods())).toEqual({ n1: 8, n2: 8, n3: 8 });
    expect(api.bindings()).toBe(24);
    const failed = api.events().filter((e) => e.reason === 'FailedScheduling');
    expect(failed).toHaveLength(76);
  });

  it('a node added later makes a pending pod schedulable', async () => {
    const { api, clock, settle } = await setup([], [pod('waiting', { cpu: '1' })]);
    await settle();
    expect(api.events().find((e) => e.reason === 'FailedScheduling')!.message).toBe(
      'no nodes available to schedule pods',
    );
    expect(api.pod('waiting')!.status!.conditions).toEqual([
      expect.objectContaining({
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: 'no nodes available to schedule pods',
      }),
    ]);
    await api.putNode(node('late'));
    clock.advance(1000);
    await settle();
    expect(api.pod('waiting')!.spec!.nodeName).toBe('late');
    expect(
      api
        .events()
        .filter((e) => e.reason === 'Scheduled')
        .map((e) => e.message),
    ).toEqual(['Successfully assigned default/waiting to late']);
  });

  it('a deleted pod frees room for a pending one', async () => {
    const { c, api, clock, settle } = await setup([node('n1', { cpu: '1' })], [pod('first', { cpu: '1' })]);
    await settle();
    expect(api.pod('first')!.spec!.nodeName).toBe('n1');
    await api.putPod(pod('second', { cpu: '1' }));
    await settle();
    expect(api.pod('second')!.spec!.nodeName).toBeUndefined();
    // a bound pod's delete is graceful: its room is free once its kubelet has stopped it and removed it
    await c.client.pods.delete('first', { namespace: 'default' });
    clock.advance(1000);
    await settle();
    expect(api.pod('second')!.spec!.nodeName).toBeUndefined();
    expect(await finishTerminatingPods(c)).toBe(1);
    // (tried twice by now: its backoff is 2 s)
    clock.advance(2000);
    await settle();
    expect(api.pod('second')!.spec!.nodeName).toBe('n1');
  });
});
