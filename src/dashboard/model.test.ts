// The dashboard's reducer and view model: watch events in, nodes-with-pods, rollouts, services and HPAs out.
import { describe, it, expect } from 'vitest';
import {
  applyEvent,
  buildView,
  createState,
  imageTag,
  parseQuantity,
  podStatus,
  replaceAll,
  setNodeMetrics,
  EVENTS_KEPT,
} from './model.js';

const node = (name: string, ready: string, rv = '1') => ({
  metadata: { name, resourceVersion: rv },
  status: {
    conditions: [{ type: 'Ready', status: ready }],
    addresses: [{ type: 'InternalIP', address: `127.0.1.${name.slice(-1)}` }],
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
  },
});

const pod = (
  name: string,
  nodeName: string | undefined,
  tag: string,
  opts: { rv?: string; rs?: string; ready?: boolean; waiting?: string; deleting?: boolean } = {},
) => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    resourceVersion: opts.rv ?? '1',
    ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    ownerReferences: opts.rs
      ? [{ kind: 'ReplicaSet', name: opts.rs, controller: true, apiVersion: 'apps/v1', uid: 'x' }]
      : [],
  },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: `kubemu/hello:${tag}` }] },
  status: {
    phase: nodeName ? 'Running' : 'Pending',
    containerStatuses: nodeName
      ? [
          {
            name: 'c',
            ready: opts.ready ?? true,
            restartCount: 2,
            image: '',
            imageID: '',
            state: opts.waiting ? { waiting: { reason: opts.waiting } } : { running: {} },
          },
        ]
      : [],
  },
});

const rs = (name: string, deploy: string, tag: string, replicas: number, revision: string) => ({
  metadata: {
    name,
    namespace: 'default',
    resourceVersion: '1',
    annotations: { 'deployment.kubernetes.io/revision': revision },
    ownerReferences: [
      { kind: 'Deployment', name: deploy, controller: true, apiVersion: 'apps/v1', uid: 'd' },
    ],
  },
  spec: {
    replicas,
    selector: {},
    template: { spec: { containers: [{ name: 'c', image: `kubemu/hello:${tag}` }] } },
  },
  status: { replicas },
});

describe('dashboard model', () => {
  it('puts pods in their node boxes, unscheduled ones aside, with owner resolved to the Deployment', () => {
    const s = createState();
    replaceAll(s, 'nodes', [node('node-2', 'True'), node('node-1', 'True')]);
    replaceAll(s, 'replicasets', [rs('hello-abc', 'hello', 'v1', 2, '1')]);
    applyEvent(s, 'pods', { type: 'ADDED', object: pod('hello-abc-1', 'node-1', 'v1', { rs: 'hello-abc' }) });
    applyEvent(s, 'pods', { type: 'ADDED', object: pod('hello-abc-2', 'node-2', 'v1', { rs: 'hello-abc' }) });
    applyEvent(s, 'pods', { type: 'ADDED', object: pod('lonely', undefined, 'v1') });
    const v = buildView(s);
    expect(v.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2']);
    expect(v.nodes[0].pods.map((p) => p.name)).toEqual(['hello-abc-1']);
    expect(v.nodes[0].pods[0]).toMatchObject({
      owner: 'Deployment/hello',
      tag: 'v1',
      ready: '1/1',
      restarts: 2,
      status: 'Running',
    });
    expect(v.unscheduled.map((p) => p.name)).toEqual(['lonely']);
    expect(v.counts).toEqual({ nodes: 2, readyNodes: 2, pods: 3, runningPods: 2 });
  });

  it('follows MODIFIED and DELETED, and ignores resent objects and bookmarks', () => {
    const s = createState();
    expect(applyEvent(s, 'nodes', { type: 'ADDED', object: node('node-1', 'True', '5') })).toBe(true);
    expect(applyEvent(s, 'nodes', { type: 'MODIFIED', object: node('node-1', 'True', '5') })).toBe(false);
    expect(applyEvent(s, 'nodes', { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } })).toBe(
      false,
    );
    expect(applyEvent(s, 'nodes', { type: 'MODIFIED', object: node('node-1', 'False', '6') })).toBe(true);
    expect(buildView(s).nodes[0].ready).toBe('False');
    applyEvent(s, 'pods', { type: 'ADDED', object: pod('p', 'node-1', 'v1') });
    expect(applyEvent(s, 'pods', { type: 'DELETED', object: pod('p', 'node-1', 'v1', { rv: '7' }) })).toBe(
      true,
    );
    expect(buildView(s).nodes[0].pods).toEqual([]);
  });

  it('a relist replaces what was there', () => {
    const s = createState();
    replaceAll(s, 'pods', [pod('a', 'node-1', 'v1'), pod('b', 'node-1', 'v1')]);
    replaceAll(s, 'pods', [pod('b', 'node-1', 'v1')]);
    expect([...s.objects.pods.keys()]).toEqual(['default/b']);
  });

  it('shows both tags of a rolling update, newest revision first', () => {
    const s = createState();
    replaceAll(s, 'replicasets', [
      rs('hello-v1', 'hello', 'v1', 2, '1'),
      rs('hello-v2', 'hello', 'v2', 1, '2'),
      rs('hello-v0', 'hello', 'v0', 0, '0'),
    ]);
    applyEvent(s, 'deployments', {
      type: 'ADDED',
      object: {
        metadata: { name: 'hello', namespace: 'default', resourceVersion: '1' },
        spec: { replicas: 3 },
        status: { replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 },
      } as never,
    });
    const [d] = buildView(s).deployments;
    expect(d).toMatchObject({ name: 'hello', desired: 3, updated: 1, ready: 3, rolling: true });
    expect(d.revisions).toEqual([
      { tag: 'v2', replicas: 1 },
      { tag: 'v1', replicas: 2 },
    ]);
  });

  it('joins Services with their Endpoints and describes their addresses', () => {
    const s = createState();
    applyEvent(s, 'services', {
      type: 'ADDED',
      object: {
        metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
        spec: {
          type: 'LoadBalancer',
          clusterIP: '127.96.0.10',
          ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
        },
        status: { loadBalancer: { ingress: [{ ip: '127.0.2.1' }] } },
      } as never,
    });
    applyEvent(s, 'endpoints', {
      type: 'ADDED',
      object: {
        metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
        subsets: [
          {
            addresses: [{ ip: '127.244.2.3' }, { ip: '127.244.1.2' }],
            notReadyAddresses: [{ ip: '127.244.3.2' }],
            ports: [{ port: 8080 }],
          },
        ],
      } as never,
    });
    expect(buildView(s).services[0]).toEqual({
      key: 'default/web',
      namespace: 'default',
      name: 'web',
      type: 'LoadBalancer',
      clusterIP: '127.96.0.10',
      externalIP: '127.0.2.1',
      ports: '80:30080/TCP',
      endpoints: ['127.244.1.2:8080', '127.244.2.3:8080'],
      notReady: 1,
    });
  });

  it('records HPA replicas over time, one point per change', () => {
    const s = createState();
    const hpa = (rv: string, replicas: number) => ({
      metadata: { name: 'web', namespace: 'default', resourceVersion: rv },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
      },
      status: {
        currentReplicas: replicas,
        desiredReplicas: replicas,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 80 } } },
        ],
      },
    });
    applyEvent(s, 'hpas', { type: 'ADDED', object: hpa('1', 1) }, 1000);
    applyEvent(s, 'hpas', { type: 'MODIFIED', object: hpa('2', 1) }, 2000);
    applyEvent(s, 'hpas', { type: 'MODIFIED', object: hpa('3', 3) }, 3000);
    const [h] = buildView(s).hpas;
    expect(h).toMatchObject({
      target: 'Deployment/web',
      current: 3,
      utilization: 80,
      targetUtilization: 50,
      history: [1, 3],
    });
    applyEvent(s, 'hpas', { type: 'DELETED', object: hpa('4', 3) });
    expect(s.hpaHistory.size).toBe(0);
  });

  it('keeps the newest events, bounded', () => {
    const s = createState();
    for (let i = 0; i < EVENTS_KEPT + 100; i++) {
      const t = new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
      applyEvent(s, 'events', {
        type: 'ADDED',
        object: {
          metadata: { name: `e${i}`, namespace: 'default', resourceVersion: String(i) },
          lastTimestamp: t,
          reason: 'Scheduled',
          involvedObject: { kind: 'Pod', name: `p${i}` },
        } as never,
      });
    }
    expect(s.objects.events.size).toBeLessThanOrEqual(EVENTS_KEPT + 50);
    const v = buildView(s);
    expect(v.events[0]).toMatchObject({ object: `Pod/p${EVENTS_KEPT + 99}`, reason: 'Scheduled' });
  });

  it('uses node metrics when served and leaves usage unknown otherwise', () => {
    const s = createState();
    replaceAll(s, 'nodes', [node('node-1', 'True'), node('node-2', 'True')]);
    setNodeMetrics(s, [{ metadata: { name: 'node-1' }, usage: { cpu: '500m', memory: '1Gi' } }]);
    const [n1, n2] = buildView(s).nodes;
    expect(n1.cpu).toEqual({ capacity: 4, usage: 0.5 });
    expect(n1.memory).toEqual({ capacity: 8 * 2 ** 30, usage: 2 ** 30 });
    expect(n2.cpu.usage).toBeUndefined();
  });

  it('reads quantities, tags and kubectl-like statuses', () => {
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('100Ki')).toBe(102400);
    expect(parseQuantity('12Zz')).toBeNaN();
    expect(imageTag('kubemu/hello:v2')).toBe('v2');
    expect(imageTag('localhost:5000/hello')).toBe('latest');
    expect(imageTag('hello@sha256:abc')).toBe('latest');
    expect(podStatus(pod('p', 'node-1', 'v1', { waiting: 'CrashLoopBackOff' }) as never)).toBe(
      'CrashLoopBackOff',
    );
    expect(podStatus(pod('p', 'node-1', 'v1', { deleting: true }) as never)).toBe('Terminating');
    expect(podStatus(pod('p', undefined, 'v1') as never)).toBe('Pending');
  });
});

describe('control plane', () => {
  const lease = (
    name: string,
    spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string },
    labels?: Record<string, string>,
  ) => ({ metadata: { name, namespace: 'kube-system', resourceVersion: '1', labels }, spec });
  const identity = { 'apiserver.kubernetes.io/identity': 'kube-apiserver' };

  it('shows the etcd members, each apiserver by its identity Lease, and each leader Lease', () => {
    const now = Date.parse('2026-12-07T10:00:40Z');
    const state = createState();
    replaceAll(state, 'leases', [
      lease(
        'apiserver-a',
        {
          holderIdentity: 'apiserver-a_1',
          leaseDurationSeconds: 3600,
          renewTime: '2026-12-07T10:00:35.000000Z',
        },
        { ...identity, 'kubernetes.io/hostname': 'control-plane-1' },
      ),
      // killed 35 s ago: its Lease stays for an hour, the panel shows it silent
      lease(
        'apiserver-b',
        {
          holderIdentity: 'apiserver-b_2',
          leaseDurationSeconds: 3600,
          renewTime: '2026-12-07T10:00:05.000000Z',
        },
        { ...identity, 'kubernetes.io/hostname': 'control-plane-2' },
      ),
      lease('kube-scheduler', {
        holderIdentity: 'control-plane-2_5f0c',
        leaseDurationSeconds: 15,
        renewTime: '2026-12-07T10:00:38.000000Z',
      }),
      lease('kube-controller-manager', {
        holderIdentity: 'control-plane-3_77aa',
        leaseDurationSeconds: 15,
        renewTime: '2026-12-07T10:00:10.000000Z',
      }),
    ]);
    state.etcd = [
      { endpoint: 'http://127.0.0.1:2379', state: 'not answering' },
      { endpoint: 'http://127.0.0.1:2381', state: 'leader', raftTerm: '3' },
    ];
    expect(buildView(state, now).controlPlane).toEqual({
      etcd: [
        { key: 'http://127.0.0.1:2379', endpoint: 'http://127.0.0.1:2379', state: 'not answering' },
        { key: 'http://127.0.0.1:2381', endpoint: 'http://127.0.0.1:2381', state: 'leader', raftTerm: '3' },
      ],
      apiServers: [
        { key: 'kube-system/apiserver-a', host: 'control-plane-1', renewedAgoS: 5, live: true },
        { key: 'kube-system/apiserver-b', host: 'control-plane-2', renewedAgoS: 35, live: false },
      ],
      leaders: [
        {
          key: 'kube-system/kube-controller-manager',
          lease: 'kube-controller-manager',
          holder: 'control-plane-3',
          live: false,
        },
        { key: 'kube-system/kube-scheduler', lease: 'kube-scheduler', holder: 'control-plane-2', live: true },
      ],
    });
  });

  it('a SQLite cluster: one apiserver, no etcd members, no leader Leases without leader election', () => {
    const state = createState();
    replaceAll(state, 'leases', [
      lease(
        'apiserver-x',
        { holderIdentity: 'apiserver-x_1', leaseDurationSeconds: 3600, renewTime: new Date().toISOString() },
        { ...identity, 'kubernetes.io/hostname': 'laptop' },
      ),
    ]);
    const cp = buildView(state).controlPlane;
    expect(cp.etcd).toEqual([]);
    expect(cp.leaders).toEqual([]);
    expect(cp.apiServers.map((a) => [a.host, a.live])).toEqual([['laptop', true]]);
  });
});
