import { describe, it, expect, afterEach } from 'vitest';
import type { Event, Node, Pod, PodCondition, Taint } from 'kubernetes-types/core/v1.js';
import { errors } from '../api/errors.js';
import type {
  ApiHandler,
  ApiRequest,
  ApiResult,
  KubeObject,
  WatchHandle,
  WatchSink,
} from '../api/request.js';
import { FakeApiHandler, KubeClient, handlerTransport } from '../client/index.js';
import { FakeClock } from '../util/clock.js';
import { Scheduler } from './scheduler.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };

/** FakeApiHandler plus what the scheduler needs from the apiserver: pods/binding and a merging pods/status patch. */
class ClusterFake implements ApiHandler {
  readonly store = new FakeApiHandler();
  bindings = 0;

  pod(name: string, ns = 'default'): Pod | undefined {
    return this.store.objects.get(`/pods/${ns}/${name}`) as Pod | undefined;
  }

  pods(): Pod[] {
    return [...this.store.objects.entries()].filter(([k]) => k.startsWith('/pods/')).map(([, o]) => o as Pod);
  }

  events(): Event[] {
    return [...this.store.objects.entries()]
      .filter(([k]) => k.startsWith('/events/'))
      .map(([, o]) => o as unknown as Event);
  }

  async handle(req: ApiRequest): Promise<ApiResult> {
    if (req.resource === 'pods' && req.subresource) {
      const current = this.pod(req.name!, req.namespace);
      if (!current) throw errors.notFound({ group: '', kind: 'pods', resource: 'pods', name: req.name! });
      if (req.subresource === 'binding') {
        // the watch confirms a binding only later, as over a real connection
        await new Promise((resolve) => setImmediate(resolve));
        if (this.pod(req.name!, req.namespace)?.spec?.nodeName) {
          throw errors.conflict(
            { group: '', kind: 'pods', resource: 'pods', name: req.name! },
            `pod ${req.name} is already assigned`,
          );
        }
        const target = (req.body as { target: { name: string } }).target.name;
        if (current.spec?.nodeName) {
          throw errors.conflict(
            { group: '', kind: 'pods', resource: 'pods', name: req.name! },
            `pod ${req.name} is already assigned to node "${current.spec.nodeName}"`,
          );
        }
        this.bindings++;
        const conditions = (current.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
        this.putPod({
          ...current,
          spec: { ...current.spec!, nodeName: target },
          status: {
            ...current.status,
            conditions: [...conditions, { type: 'PodScheduled', status: 'True' }],
          },
        });
        return { code: 201, body: { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 } };
      }
      if (req.subresource === 'status' && req.verb === 'patch') {
        const patch = req.body as { status: { conditions: PodCondition[] } };
        const byType = new Map((current.status?.conditions ?? []).map((c) => [c.type, c]));
        for (const c of patch.status.conditions) byType.set(c.type, c);
        return {
          code: 200,
          body: this.putPod({ ...current, status: { ...current.status, conditions: [...byType.values()] } }),
        };
      }
    }
    return this.store.handle(req);
  }

  watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle> {
    return this.store.watch(req, sink);
  }

  putPod(p: Pod): KubeObject {
    return this.store.put({ ...PODS, namespace: p.metadata!.namespace ?? 'default' }, p as KubeObject);
  }

  putNode(n: Node): KubeObject {
    return this.store.put(NODES, n as KubeObject);
  }
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
      uid: `uid-${name}`,
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
    status: { phase: 'Pending' },
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
  const api = new ClusterFake();
  for (const n of nodes) api.putNode(n);
  for (const p of pods) api.putPod(p);
  const clock = new FakeClock();
  let s = seed;
  const random = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const scheduler = new Scheduler({
    client: new KubeClient(handlerTransport(api)),
    clock,
    random,
    instance: 'test',
  });
  running.push(scheduler);
  await scheduler.start();
  await flush();
  await scheduler.idle();
  // until the fake apiserver sees no more writes
  const settle = async (): Promise<void> => {
    for (let rv = -1; rv !== api.store.rv;) {
      rv = api.store.rv;
      await flush();
      await scheduler.idle();
      await flush();
    }
  };
  return { api, clock, scheduler, settle };
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
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
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
    expect(api.bindings).toBe(24);
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
    api.putNode(node('late'));
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
    const { api, clock, settle } = await setup([node('n1', { cpu: '1' })], [pod('first', { cpu: '1' })]);
    await settle();
    expect(api.pod('first')!.spec!.nodeName).toBe('n1');
    api.putPod(pod('second', { cpu: '1' }));
    await settle();
    expect(api.pod('second')!.spec!.nodeName).toBeUndefined();
    await new KubeClient(handlerTransport(api)).pods.delete('first', { namespace: 'default' });
    clock.advance(1000);
    await settle();
    expect(api.pod('second')!.spec!.nodeName).toBe('n1');
  });
});
