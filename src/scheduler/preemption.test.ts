// DefaultPreemption: victim selection and node choice as pure functions, then the scheduler preempting on the real
// registry (PriorityClasses resolved by the Priority admission plugin).
import { afterEach, describe, expect, it } from 'vitest';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { FakeClock } from '../util/clock.js';
import { fakeCluster, finishTerminatingPods, type FakeCluster } from '../testing/fake-cluster.js';
import { SchedulerCache } from './cache.js';
import { podContext } from './filters.js';
import { pickOneNode, preempt, selectVictimsOnNode, splitByPDBViolation } from './preemption.js';
import { Scheduler } from './scheduler.js';

function node(name: string, cpu = '2'): Node {
  return {
    metadata: { name },
    spec: {},
    status: {
      allocatable: { cpu, memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function pod(
  name: string,
  cpu: string,
  opts: { priority?: number; nodeName?: string; labels?: Record<string, string>; start?: string } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: {
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      containers: [{ name: 'app', image: 'kubemu/hello', resources: { requests: { cpu } } }],
    },
    status: { phase: 'Running', ...(opts.start ? { startTime: opts.start } : {}) },
  };
}

function cacheOf(nodes: Node[], pods: Pod[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const p of pods) cache.updatePod(p);
  return cache;
}

const pdb = (name: string, labels: Record<string, string>, allowed: number): PodDisruptionBudget => ({
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: labels } },
  status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
});

const names = (pods: readonly Pod[]): string[] => pods.map((p) => p.metadata!.name!);

describe('DefaultPreemption, pure', () => {
  it('evicts only what makes room, the least important first, and only pods of lower priority', () => {
    const cache = cacheOf(
      [node('n1', '3')],
      [
        pod('low-old', '1', { priority: 10, nodeName: 'n1', start: '2026-01-01T00:00:00Z' }),
        pod('low-new', '1', { priority: 10, nodeName: 'n1', start: '2026-01-02T00:00:00Z' }),
        pod('lowest', '1', { priority: 1, nodeName: 'n1' }),
      ],
    );
    const r = selectVictimsOnNode(
      podContext(pod('high', '1', { priority: 1000 })),
      cache.nodeInfo('n1')!,
      [],
    );
    expect('candidate' in r && names(r.candidate.victims)).toEqual(['lowest']);
    const two = selectVictimsOnNode(
      podContext(pod('high', '2', { priority: 1000 })),
      cache.nodeInfo('n1')!,
      [],
    );
    // of two equal pods the one that started later goes
    expect('candidate' in two && names(two.candidate.victims)).toEqual(['low-new', 'lowest']);
    const equal = selectVictimsOnNode(
      podContext(pod('peer', '1', { priority: 10 })),
      cache.nodeInfo('n1')!,
      [],
    );
    expect('candidate' in equal).toBe(true);
    expect('candidate' in equal && names(equal.candidate.victims)).toEqual(['lowest']);
    const none = selectVictimsOnNode(
      podContext(pod('bottom', '1', { priority: 0 })),
      cache.nodeInfo('n1')!,
      [],
    );
    expect(none).toEqual({ failure: ['No preemption victims found for incoming pod'] });
  });

  it('counts budget violations and prefers the node that violates none', () => {
    const pods = [
      pod('guarded', '2', { priority: 0, nodeName: 'n1', labels: { app: 'zk' } }),
      pod('free', '2', { priority: 0, nodeName: 'n2', labels: { app: 'web' } }),
    ];
    const pdbs = [pdb('zk-pdb', { app: 'zk' }, 0)];
    expect(names(splitByPDBViolation([pods[0]], pdbs).violating)).toEqual(['guarded']);
    const cache = cacheOf([node('n1'), node('n2')], pods);
    const high = pod('high', '1', { priority: 1000 });
    const failures = new Map(
      ['n1', 'n2'].map((n) => [
        n,
        { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'], unresolvable: false },
      ]),
    );
    const out = preempt(high, cache.nodeInfos(), failures, pdbs);
    expect(out).toMatchObject({ kind: 'preempt', candidate: { node: 'n2', numPDBViolations: 0 } });
    // with every node guarded, the budget gives way (best effort) and the violation is counted
    const both = preempt(high, cache.nodeInfos(), failures, [...pdbs, pdb('web-pdb', { app: 'web' }, 0)]);
    expect(both).toMatchObject({ kind: 'preempt', candidate: { numPDBViolations: 1 } });
  });

  it('picks the node whose most important victim matters least', () => {
    const low = pod('low', '1', { priority: 1 });
    const mid = pod('mid', '1', { priority: 5 });
    expect(
      pickOneNode([
        { node: 'a', victims: [mid], numPDBViolations: 0 },
        { node: 'b', victims: [low], numPDBViolations: 0 },
      ])?.node,
    ).toBe('b');
  });

  it('a pod with preemptionPolicy Never is not eligible', () => {
    const cache = cacheOf([node('n1')], [pod('low', '2', { priority: 0, nodeName: 'n1' })]);
    const never = pod('never', '1', { priority: 1000 });
    never.spec!.preemptionPolicy = 'Never';
    const failures = new Map([
      ['n1', { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'], unresolvable: false }],
    ]);
    expect(preempt(never, cache.nodeInfos(), failures, [])).toEqual({
      kind: 'ineligible',
      message: 'not eligible due to preemptionPolicy=Never.',
    });
  });
});

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

let running: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

async function setup(): Promise<{ c: FakeCluster; clock: FakeClock; settle: () => Promise<void> }> {
  const clock = new FakeClock();
  const c = await fakeCluster({ clock });
  for (const n of ['n1', 'n2']) await c.client.nodes.create(node(n));
  const classes = c.client.resource('scheduling.k8s.io', 'v1', 'priorityclasses');
  // the PriorityClass examples of kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
  await classes.create({
    metadata: { name: 'high-priority' },
    value: 1000000,
    globalDefault: false,
    description: 'This priority class should be used for XYZ service pods only.',
  } as never);
  await classes.create({
    metadata: { name: 'high-priority-nonpreempting' },
    value: 1000000,
    preemptionPolicy: 'Never',
    globalDefault: false,
    description: 'This priority class will not cause other pods to be preempted.',
  } as never);
  const scheduler = new Scheduler({ client: c.client, clock, random: () => 0, instance: 'test' });
  running.push(scheduler);
  await scheduler.start();
  const settle = async (): Promise<void> => {
    for (let writes = -1; writes !== c.changes.length;) {
      writes = c.changes.length;
      await flush();
      await scheduler.idle();
      await flush();
    }
  };
  return { c, clock, settle };
}

function workload(name: string, cpu: string, priorityClassName?: string): Pod {
  return {
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      ...(priorityClassName ? { priorityClassName } : {}),
      containers: [{ name: 'app', image: 'kubemu/hello', resources: { requests: { cpu } } }],
    },
  };
}

const get = (c: FakeCluster, name: string): Pod | undefined =>
  c.objects<Pod>('pods', 'default').find((p) => p.metadata?.name === name);

describe('Scheduler preemption', () => {
  it('a high-priority pod on a full cluster preempts one low-priority pod, is nominated, then bound there', async () => {
    const { c, clock, settle } = await setup();
    await c.client.pods.create(workload('low-1', '1500m'));
    await c.client.pods.create(workload('low-2', '1500m'));
    await settle();
    expect(get(c, 'low-1')?.spec?.nodeName).toBeTruthy();
    expect(get(c, 'low-2')?.spec?.nodeName).toBeTruthy();
    await c.client.pods.create(workload('high', '1', 'high-priority'));
    await settle();
    expect(get(c, 'high')?.spec?.priority).toBe(1000000);
    const victims = ['low-1', 'low-2'].filter((n) => get(c, n)?.metadata?.deletionTimestamp);
    expect(victims).toHaveLength(1);
    const victim = get(c, victims[0])!;
    expect(victim.status?.conditions?.find((x) => x.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
    });
    const high = get(c, 'high')!;
    expect(high.status?.nominatedNodeName).toBe(victim.spec?.nodeName);
    expect(high.spec?.nodeName).toBeUndefined();
    const events = c.objects<Event>('events', 'default');
    expect(events.find((e) => e.reason === 'Preempted')?.message).toBe(
      `Preempted by pod ${high.metadata?.uid} on node ${victim.spec?.nodeName}`,
    );
    expect(
      events.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'high')?.message,
    ).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    // the victim's kubelet finishes it; the high-priority pod goes where room was made
    await finishTerminatingPods(c);
    clock.advance(10_000);
    await settle();
    expect(get(c, 'high')?.spec?.nodeName).toBe(victim.spec?.nodeName);
  });

  it('preemptionPolicy Never waits instead of preempting, and says so', async () => {
    const { c, settle } = await setup();
    await c.client.pods.create(workload('low-1', '1500m'));
    await c.client.pods.create(workload('low-2', '1500m'));
    await settle();
    await c.client.pods.create(workload('polite', '1', 'high-priority-nonpreempting'));
    await settle();
    expect(c.objects<Pod>('pods', 'default').filter((p) => p.metadata?.deletionTimestamp)).toHaveLength(0);
    expect(get(c, 'polite')?.status?.conditions?.find((x) => x.type === 'PodScheduled')?.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..',
    );
  });

  it('pods of equal priority are no victims: upstream reason histogram', async () => {
    const { c, settle } = await setup();
    await c.client.pods.create(workload('low-1', '1500m'));
    await c.client.pods.create(workload('low-2', '1500m'));
    await settle();
    await c.client.pods.create(workload('peer', '1'));
    await settle();
    expect(get(c, 'peer')?.status?.conditions?.find((x) => x.type === 'PodScheduled')?.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..',
    );
  });
});
