import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/request.js';
import { toTable } from './index.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const podResource = { group: '', kind: 'Pod' };

function pod(overrides: {
  metadata?: Pod['metadata'];
  spec?: Partial<NonNullable<Pod['spec']>>;
  status?: Pod['status'];
}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      namespace: 'default',
      uid: 'u1',
      resourceVersion: '42',
      creationTimestamp: ago(5 * 60_000),
      ...overrides.metadata,
    },
    spec: { containers: [{ name: 'web', image: 'hello:1' }], ...overrides.spec },
    status: overrides.status ?? {},
  };
}

const row = (p: Pod): unknown[] =>
  toTable(podResource, [p as unknown as KubeObject], { now: NOW }).rows[0].cells;
const statusOf = (p: Pod): unknown => row(p)[2];

const running = { running: { startedAt: ago(290_000) } };

describe('pod table', () => {
  it('has upstream columns, with IP, NODE, NOMINATED NODE and READINESS GATES only for -o wide', () => {
    const t = toTable(podResource, [], { now: NOW });
    expect(t.columnDefinitions.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Status', 'string', 0],
      ['Restarts', 'string', 0],
      ['Age', 'string', 0],
      ['IP', 'string', 1],
      ['Node', 'string', 1],
      ['Nominated Node', 'string', 1],
      ['Readiness Gates', 'string', 1],
    ]);
    expect(t.columnDefinitions[0].format).toBe('name');
    expect(t.columnDefinitions[0].description).toMatch(/^Name must be unique within a namespace/);
  });

  it('prints a running pod', () => {
    const p = pod({
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIP: '127.244.1.5',
        podIPs: [{ ip: '127.244.1.5' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'web', image: 'hello:1', imageID: '', ready: true, restartCount: 0, state: running },
        ],
      },
    });
    expect(row(p)).toEqual([
      'web-1',
      '1/1',
      'Running',
      '0',
      '5m',
      '127.244.1.5',
      'node-1',
      '<none>',
      '<none>',
    ]);
  });

  it('prints a CrashLoopBackOff pod with its restarts and when the last one was', () => {
    const p = pod({
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIPs: [{ ip: '127.244.1.6' }],
        containerStatuses: [
          {
            name: 'web',
            image: 'hello:1',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
            },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5_000) } },
          },
        ],
      },
    });
    expect(row(p).slice(0, 5)).toEqual(['web-1', '0/1', 'CrashLoopBackOff', '3 (5s ago)', '5m']);
  });

  it('prints Terminating for a pod being deleted, Unknown when its node was lost', () => {
    const status: Pod['status'] = {
      phase: 'Running',
      containerStatuses: [
        { name: 'web', image: 'hello:1', imageID: '', ready: true, restartCount: 0, state: running },
      ],
    };
    expect(statusOf(pod({ metadata: { name: 'web-1', deletionTimestamp: ago(1000) }, status }))).toBe(
      'Terminating',
    );
    expect(
      statusOf(
        pod({
          metadata: { name: 'web-1', deletionTimestamp: ago(1000) },
          status: { ...status, reason: 'NodeLost' },
        }),
      ),
    ).toBe('Unknown');
    // a finished pod being deleted keeps its final status
    expect(
      statusOf(
        pod({ metadata: { name: 'web-1', deletionTimestamp: ago(1000) }, status: { phase: 'Succeeded' } }),
      ),
    ).toBe('Succeeded');
    // NodeLost without deletion shows the reason the node controller set
    expect(statusOf(pod({ status: { phase: 'Running', reason: 'NodeLost' } }))).toBe('NodeLost');
  });

  it.each([
    ['Pending', { phase: 'Pending' }],
    [
      'ContainerCreating',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      },
    ],
    [
      'ErrImagePull',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ErrImagePull' } },
          },
        ],
      },
    ],
    [
      'ImagePullBackOff',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff' } },
          },
        ],
      },
    ],
    [
      'Completed',
      {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      },
    ],
    [
      'Error',
      {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      },
    ],
    [
      'OOMKilled',
      {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          },
        ],
      },
    ],
    [
      'Signal:9',
      {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 137, signal: 9 } },
          },
        ],
      },
    ],
    [
      'ExitCode:3',
      {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'web',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 3 } },
          },
        ],
      },
    ],
    [
      'SchedulingGated',
      {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      },
    ],
    ['Evicted', { phase: 'Failed', reason: 'Evicted' }],
  ] as [string, Pod['status']][])('prints %s', (want, status) => {
    expect(statusOf(pod({ status }))).toBe(want);
  });

  it('marks finished pods with the Completed row condition', () => {
    const t = toTable(
      podResource,
      [
        pod({ status: { phase: 'Succeeded' } }),
        pod({ status: { phase: 'Failed' } }),
        pod({ status: { phase: 'Running' } }),
      ] as unknown as KubeObject[],
      { now: NOW },
    );
    expect(t.rows[0].conditions).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
    expect(t.rows[1].conditions).toEqual([
      { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
    ]);
    expect(t.rows[2].conditions).toBeUndefined();
  });

  describe('init containers', () => {
    const spec = {
      initContainers: [
        { name: 'migrate', image: 'x' },
        { name: 'seed', image: 'x' },
      ],
    };
    const done = {
      name: 'migrate',
      image: 'x',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    };
    const web = {
      name: 'web',
      image: 'x',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'PodInitializing' } },
    };

    it('shows progress as Init:n/m', () => {
      const status: Pod['status'] = {
        phase: 'Pending',
        initContainerStatuses: [
          done,
          { name: 'seed', image: 'x', imageID: '', ready: false, restartCount: 0, state: running },
        ],
        containerStatuses: [web],
      };
      expect(row(pod({ spec, status })).slice(1, 4)).toEqual(['0/1', 'Init:1/2', '0']);
    });

    it('shows a crashing init container as Init:CrashLoopBackOff with its restarts', () => {
      const status: Pod['status'] = {
        phase: 'Pending',
        initContainerStatuses: [
          {
            ...done,
            restartCount: 2,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: ago(30_000) } },
          },
        ],
        containerStatuses: [web],
      };
      expect(row(pod({ spec, status })).slice(1, 4)).toEqual(['0/1', 'Init:CrashLoopBackOff', '2 (30s ago)']);
    });

    it('shows a failed init container by reason or exit code', () => {
      const failed = (terminated: object): Pod['status'] => ({
        phase: 'Failed',
        initContainerStatuses: [{ ...done, state: { terminated: { exitCode: 2, ...terminated } } }],
      });
      expect(statusOf(pod({ spec, status: failed({}) }))).toBe('Init:ExitCode:2');
      expect(statusOf(pod({ spec, status: failed({ reason: 'Error' }) }))).toBe('Init:Error');
      expect(statusOf(pod({ spec, status: failed({ signal: 15 }) }))).toBe('Init:Signal:15');
    });

    it('counts a started sidecar (restartPolicy Always) in READY once initialised', () => {
      const status: Pod['status'] = {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        initContainerStatuses: [
          {
            name: 'proxy',
            image: 'x',
            imageID: '',
            ready: true,
            started: true,
            restartCount: 1,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(120_000) } },
          },
        ],
        containerStatuses: [
          { name: 'web', image: 'x', imageID: '', ready: true, restartCount: 0, state: running },
        ],
      };
      const p = pod({
        spec: { initContainers: [{ name: 'proxy', image: 'x', restartPolicy: 'Always' }] },
        status,
      });
      expect(row(p).slice(1, 4)).toEqual(['2/2', 'Running', '1 (2m ago)']);
    });
  });

  it('turns Completed back into Running or NotReady while another container runs', () => {
    const containers = [
      { name: 'job', image: 'x' },
      { name: 'web', image: 'x' },
    ];
    const statuses = [
      {
        name: 'job',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
      { name: 'web', image: 'x', imageID: '', ready: true, restartCount: 0, state: running },
    ];
    expect(
      row(
        pod({
          spec: { containers },
          status: {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'True' }],
            containerStatuses: statuses,
          },
        }),
      ).slice(1, 3),
    ).toEqual(['1/2', 'Running']);
    expect(
      row(pod({ spec: { containers }, status: { phase: 'Running', containerStatuses: statuses } })).slice(
        1,
        3,
      ),
    ).toEqual(['1/2', 'NotReady']);
  });

  it('prints readiness gates and the nominated node', () => {
    const p = pod({
      spec: { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'node-2',
        conditions: [
          { type: 'example.com/lb', status: 'True' },
          { type: 'example.com/dns', status: 'False' },
        ],
      },
    });
    expect(row(p).slice(5)).toEqual(['<none>', '<none>', 'node-2', '1/2']);
  });

  it('prints <unknown> age without a creationTimestamp', () => {
    expect(row(pod({ metadata: { name: 'x', creationTimestamp: undefined } }))[4]).toBe('<unknown>');
  });
});
