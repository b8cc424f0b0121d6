import { describe, it, expect } from 'vitest';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.js';
import { matchesNodeAffinity, matchesRequirement } from './filters.js';
import { scheduleOne } from './schedule-one.js';
import { leastAllocatedScore, scoreNodes, selectHost } from './scores.js';

function node(
  name: string,
  opts: {
    cpu?: string;
    memory?: string;
    pods?: string;
    labels?: Record<string, string>;
    taints?: Taint[];
    unschedulable?: boolean;
    ready?: string;
  } = {},
): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: {
      ...(opts.taints ? { taints: opts.taints } : {}),
      ...(opts.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }],
    },
  };
}

function pod(
  name: string,
  spec: Partial<NonNullable<Pod['spec']>> = {},
  requests?: Record<string, string>,
  owner?: string,
): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true },
            ],
          }
        : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'x', ...(requests ? { resources: { requests } } : {}) }],
      ...spec,
    },
  };
}

function cluster(...nodes: Node[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  return cache;
}

const first = (): number => 0;

function expectMessage(cache: SchedulerCache, p: Pod): string {
  const r = scheduleOne(p, cache.nodeInfos(), first);
  if (!('unschedulable' in r)) throw new Error(`expected no fit, got ${r.node}`);
  return r.message;
}

function expectNode(cache: SchedulerCache, p: Pod): string {
  const r = scheduleOne(p, cache.nodeInfos(), first);
  if ('unschedulable' in r) throw new Error(`expected a fit, got: ${r.message}`);
  return r.node;
}

describe('filters and FailedScheduling messages', () => {
  it('Insufficient cpu on every node, with the preemption postscript', () => {
    const cache = cluster(node('n1'), node('n2'), node('n3'));
    expect(expectMessage(cache, pod('big', {}, { cpu: '3' }))).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..',
    );
  });

  it('counts what is already on the node, init containers included', () => {
    const cache = cluster(node('n1', { memory: '1Gi' }));
    const running = pod('running', { nodeName: 'n1' }, { cpu: '1500m' });
    running.spec!.initContainers = [{ name: 'i', image: 'x', resources: { requests: { memory: '900Mi' } } }];
    cache.updatePod(running);
    expect(expectMessage(cache, pod('p', {}, { cpu: '600m', memory: '200Mi' }))).toBe(
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
    );
    expect(expectNode(cache, pod('p', {}, { cpu: '500m', memory: '100Mi' }))).toBe('n1');
  });

  it('Too many pods', () => {
    const cache = cluster(node('n1', { pods: '1' }));
    cache.updatePod({ ...pod('a'), spec: { ...pod('a').spec!, nodeName: 'n1' } });
    expect(expectMessage(cache, pod('b'))).toContain('0/1 nodes are available: 1 Too many pods.');
  });

  it('finished pods free their resources', () => {
    const cache = cluster(node('n1'));
    const done: Pod = { ...pod('a', { nodeName: 'n1' }, { cpu: '2' }), status: { phase: 'Succeeded' } };
    cache.updatePod(done);
    expect(expectNode(cache, pod('b', {}, { cpu: '2' }))).toBe('n1');
  });

  it('mixes reasons in a sorted histogram; unresolvable ones are not helped by preemption', () => {
    const cache = cluster(
      node('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('b', { unschedulable: true }),
      node('c', { cpu: '1' }),
      node('d', { cpu: '1', labels: { disk: 'hdd' } }),
    );
    expect(expectMessage(cache, pod('p', { nodeSelector: {} }, { cpu: '1500m' }))).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 Insufficient cpu. ' +
        'preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..',
    );
    expect(expectMessage(cache, pod('p', { nodeSelector: { disk: 'ssd' } }))).toBe(
      "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling..',
    );
  });

  it('preemptionPolicy Never, and no nodes at all', () => {
    const cache = cluster(node('n1'));
    expect(expectMessage(cache, pod('p', { preemptionPolicy: 'Never' }, { cpu: '4' }))).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..',
    );
    expect(expectMessage(cluster(), pod('p'))).toBe('no nodes available to schedule pods');
  });

  it('taints: NoSchedule/NoExecute need a toleration, PreferNoSchedule does not', () => {
    const taint: Taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
    const cache = cluster(node('n1', { taints: [taint] }));
    expect(expectMessage(cache, pod('p'))).toContain('1 node(s) had untolerated taint {k: v}');
    expect(
      expectNode(
        cache,
        pod('p', { tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }),
      ),
    ).toBe('n1');
    expect(expectNode(cache, pod('p', { tolerations: [{ key: 'k', operator: 'Exists' }] }))).toBe('n1');
    expect(expectNode(cache, pod('p', { tolerations: [{ operator: 'Exists' }] }))).toBe('n1');
    expect(expectMessage(cache, pod('p', { tolerations: [{ key: 'k', value: 'other' }] }))).toContain(
      'untolerated taint',
    );
    expect(
      expectMessage(
        cache,
        pod('p', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }] }),
      ),
    ).toContain('untolerated');
    const noExec = cluster(node('n1', { taints: [{ key: 'k', effect: 'NoExecute' }] }));
    expect(expectMessage(noExec, pod('p'))).toContain('1 node(s) had untolerated taint {k: }');
    const prefer = cluster(node('n1', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }));
    expect(expectNode(prefer, pod('p'))).toBe('n1');
  });

  it('nodes that are not Ready are filtered as if tainted, unless the pod tolerates it', () => {
    const cache = cluster(node('n1', { ready: 'False' }), node('n2', { ready: 'Unknown' }));
    expect(expectMessage(cache, pod('p'))).toBe(
      '0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. ' +
        'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    );
    // DefaultTolerationSeconds adds NoExecute tolerations only: they don't admit a pod to a NotReady node
    expect(
      expectMessage(
        cache,
        pod('p', {
          tolerations: [
            {
              key: 'node.kubernetes.io/not-ready',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 300,
            },
          ],
        }),
      ),
    ).toContain('untolerated');
    expect(
      expectNode(
        cluster(node('n1', { ready: 'False' })),
        pod('ds', { tolerations: [{ operator: 'Exists' }] }),
      ),
    ).toBe('n1');
  });

  it('an unschedulable node admits pods tolerating node.kubernetes.io/unschedulable', () => {
    const cache = cluster(node('n1', { unschedulable: true }));
    expect(
      expectNode(
        cache,
        pod('p', {
          tolerations: [
            { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
          ],
        }),
      ),
    ).toBe('n1');
  });
});

describe('node affinity', () => {
  const labels = { zone: 'a', gen: '5', disk: 'ssd' };
  it.each([
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'In', values: ['b'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'missing', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'zone', operator: 'Exists' }, true],
    [{ key: 'missing', operator: 'Exists' }, false],
    [{ key: 'missing', operator: 'DoesNotExist' }, true],
    [{ key: 'zone', operator: 'DoesNotExist' }, false],
    [{ key: 'gen', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'gen', operator: 'Gt', values: ['5'] }, false],
    [{ key: 'gen', operator: 'Lt', values: ['10'] }, true],
    [{ key: 'zone', operator: 'Lt', values: ['10'] }, false],
  ])('%j → %s', (req, expected) => {
    expect(matchesRequirement(req, labels)).toBe(expected);
  });

  it('terms are ORed, expressions within a term ANDed, nodeSelector must match too', () => {
    const n = node('n1', { labels });
    const affinity = (terms: object[]) =>
      pod('p', {
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
        },
      });
    expect(
      matchesNodeAffinity(
        affinity([
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
          { matchExpressions: [{ key: 'disk', operator: 'Exists' }] },
        ]),
        n,
      ),
    ).toBe(true);
    expect(
      matchesNodeAffinity(
        affinity([
          {
            matchExpressions: [
              { key: 'disk', operator: 'Exists' },
              { key: 'zone', operator: 'In', values: ['b'] },
            ],
          },
        ]),
        n,
      ),
    ).toBe(false);
    expect(
      matchesNodeAffinity(
        affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]),
        n,
      ),
    ).toBe(true);
    expect(matchesNodeAffinity(affinity([{}]), n)).toBe(false);
    expect(matchesNodeAffinity(pod('p', { nodeSelector: { zone: 'a' } }), n)).toBe(true);
    expect(matchesNodeAffinity(pod('p', { nodeSelector: { zone: 'b' } }), n)).toBe(false);
  });
});

describe('scoring', () => {
  it('prefers the node with the most free cpu and memory', () => {
    const cache = cluster(
      node('small', { cpu: '2', memory: '2Gi' }),
      node('big', { cpu: '8', memory: '16Gi' }),
      node('busy', { cpu: '8', memory: '16Gi' }),
    );
    cache.updatePod(pod('hog', { nodeName: 'busy' }, { cpu: '6', memory: '12Gi' }));
    for (let i = 0; i < 5; i++)
      expect(expectNode(cache, pod(`p${i}`, {}, { cpu: '100m', memory: '128Mi' }))).toBe('big');
    const [small, big] = cache
      .nodeInfos()
      .filter((i) => i.name !== 'busy')
      .sort((a, b) => (a.name < b.name ? 1 : -1));
    expect(leastAllocatedScore({ milliCPU: 1000, memory: 1024 ** 3 }, small)).toBe(50);
    expect(leastAllocatedScore({ milliCPU: 1000, memory: 1024 ** 3 }, big)).toBeGreaterThan(80);
  });

  it('spreads pods of one controller away from their siblings', () => {
    const cache = cluster(node('n1'), node('n2'));
    cache.updatePod(pod('sib', { nodeName: 'n1' }, { cpu: '10m' }, 'rs-1'));
    // an unrelated pod on n2 weighs less than a sibling on n1
    cache.updatePod(pod('other', { nodeName: 'n2' }, { cpu: '10m' }));
    expect(expectNode(cache, pod('p', {}, { cpu: '10m' }, 'rs-1'))).toBe('n2');
  });

  it('honours preferred node affinity and avoids PreferNoSchedule taints', () => {
    const cache = cluster(node('n1', { labels: { disk: 'hdd' } }), node('n2', { labels: { disk: 'ssd' } }));
    const preferSsd = pod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 50,
              preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] },
            },
          ],
        },
      },
    });
    expect(expectNode(cache, preferSsd)).toBe('n2');
    const tainted = cluster(node('n1'), node('n2', { taints: [{ key: 'meh', effect: 'PreferNoSchedule' }] }));
    const scores = scoreNodes(pod('p'), tainted.nodeInfos());
    expect(scores.map((s) => s.plugins.TaintToleration)).toEqual([100, 0]);
    expect(expectNode(tainted, pod('p'))).toBe('n1');
  });

  it('breaks ties with the injected random source', () => {
    const scores = ['a', 'b', 'c'].map((name) => ({ name, total: 10, plugins: {} as never }));
    expect(selectHost(scores, () => 0)).toBe('c');
    expect(selectHost(scores, () => 0.99)).toBe('a');
    const seen = new Set<string>();
    let seed = 1;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 60; i++) seen.add(selectHost(scores, lcg)!);
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(selectHost([...scores, { name: 'd', total: 11, plugins: {} as never }], () => 0)).toBe('d');
  });

  it('spreads best-effort pods evenly even past the non-zero defaults of allocatable', () => {
    // 100 pods × 100m non-zero default is more than 3 nodes' 2 CPUs: BalancedAllocation must count real requests
    // (once every node is past them, LeastAllocated scores 0 everywhere and ties are broken at random)
    const cache = cluster(node('n1'), node('n2'), node('n3'));
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const per = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const p = pod(`p${i}`);
      const r = scheduleOne(p, cache.nodeInfos(), random);
      if (!('node' in r)) throw new Error(r.message);
      cache.assumePod(p, r.node);
      per.set(r.node, (per.get(r.node) ?? 0) + 1);
    }
    // the first 60 go round-robin by score; before the fix one node took 62
    for (const n of ['n1', 'n2', 'n3']) expect(per.get(n)).toBeGreaterThanOrEqual(25);
  });

  it('assumed pods count at once: a burst never overcommits', () => {
    const cache = cluster(node('n1', { cpu: '1' }), node('n2', { cpu: '1' }));
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = pod(`p${i}`, {}, { cpu: '500m' });
      const r = scheduleOne(p, cache.nodeInfos(), Math.random);
      if ('node' in r) {
        cache.assumePod(p, r.node);
        placed.push(r.node);
      }
    }
    expect(placed.sort()).toEqual(['n1', 'n1', 'n2', 'n2']);
    cache.forgetPod('default/p0');
    expect(
      cache.nodeInfo(placed.includes('n1') ? 'n1' : 'n2')!.pods.size + cache.nodeInfo('n2')!.pods.size,
    ).toBeLessThan(5);
  });
});
