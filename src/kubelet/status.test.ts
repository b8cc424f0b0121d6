import { describe, expect, it } from 'vitest';
import type { ContainerState, Pod } from 'kubernetes-types/core/v1.js';
import { computePodStatus, podPhase, type ContainerView } from './status.js';

const NOW = Date.parse('2026-01-01T00:00:10Z');

const pod = (restartPolicy: string, containers: string[], init: string[] = []): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: {
    restartPolicy,
    containers: containers.map((name) => ({ name, image: 'busybox' })),
    ...(init.length ? { initContainers: init.map((name) => ({ name, image: 'busybox' })) } : {}),
  },
  status: {
    phase: 'Pending',
    qosClass: 'BestEffort',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
      {
        type: 'Ready',
        status: 'False',
        lastTransitionTime: '2026-01-01T00:00:01Z',
        reason: 'ContainersNotReady',
      },
    ],
  },
});

const running: ContainerState = { running: { startedAt: '2026-01-01T00:00:05Z' } };
const exited = (exitCode: number): ContainerState => ({
  terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', containerID: 'kubemu://x' },
});
const view = (name: string, state: ContainerState, extra: Partial<ContainerView> = {}): ContainerView => ({
  name,
  image: 'docker.io/library/busybox:latest',
  imageID: 'kubemu://docker.io/library/busybox@sha256:0',
  state,
  lastState: {},
  ready: state.running !== undefined,
  started: state.running !== undefined,
  restartCount: 0,
  ...extra,
});

describe('podPhase (upstream getPhase)', () => {
  it('Pending while a container waits, Running once all run', () => {
    const p = pod('Always', ['a', 'b']);
    expect(
      podPhase(p, [], [view('a', running), view('b', { waiting: { reason: 'ContainerCreating' } })]),
    ).toBe('Pending');
    expect(podPhase(p, [], [view('a', running), view('b', running)])).toBe('Running');
  });

  it('Always keeps a crash-looping pod Running; Never fails it; OnFailure with exit 0 succeeds', () => {
    const crashLoop = view('a', { waiting: { reason: 'CrashLoopBackOff' } }, { lastState: exited(1) });
    expect(podPhase(pod('Always', ['a']), [], [crashLoop])).toBe('Running');
    expect(podPhase(pod('Never', ['a']), [], [view('a', exited(1))])).toBe('Failed');
    expect(podPhase(pod('Never', ['a']), [], [view('a', exited(0))])).toBe('Succeeded');
    expect(podPhase(pod('OnFailure', ['a']), [], [view('a', exited(0))])).toBe('Succeeded');
    expect(podPhase(pod('OnFailure', ['a']), [], [view('a', exited(2))])).toBe('Running');
  });

  it('init containers: pending while one runs, Failed when one fails with Never', () => {
    const p = pod('Never', ['a'], ['i']);
    const waiting = view('a', { waiting: { reason: 'PodInitializing' } });
    expect(podPhase(p, [view('i', running)], [waiting])).toBe('Pending');
    expect(podPhase(p, [view('i', exited(1))], [waiting])).toBe('Failed');
    expect(podPhase(pod('Always', ['a'], ['i']), [view('i', exited(1))], [waiting])).toBe('Pending');
  });

  it('a terminated pod is Succeeded only if every container succeeded', () => {
    const p = pod('Always', ['a', 'b']);
    expect(podPhase(p, [], [view('a', exited(0)), view('b', exited(0))], true)).toBe('Succeeded');
    expect(podPhase(p, [], [view('a', exited(0)), view('b', exited(137))], true)).toBe('Failed');
  });
});

describe('computePodStatus', () => {
  it('running and ready: conditions, IPs, container statuses; keeps qosClass and PodScheduled', () => {
    const s = computePodStatus({
      pod: pod('Always', ['a']),
      hostIP: '127.0.1.1',
      podIP: '127.244.1.2',
      startTime: '2026-01-01T00:00:02Z',
      sandboxReady: true,
      initContainers: [],
      containers: [view('a', running, { containerID: 'kubemu://abc' })],
      now: NOW,
    });
    expect(s.phase).toBe('Running');
    expect(s.qosClass).toBe('BestEffort');
    expect(s.podIP).toBe('127.244.1.2');
    expect(s.podIPs).toEqual([{ ip: '127.244.1.2' }]);
    expect(s.hostIPs).toEqual([{ ip: '127.0.1.1' }]);
    expect(s.conditions!.map((c) => [c.type, c.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(s.conditions!.find((c) => c.type === 'PodScheduled')!.lastTransitionTime).toBe(
      '2026-01-01T00:00:00Z',
    );
    expect(s.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime).toBe('2026-01-01T00:00:10Z');
    expect(s.containerStatuses).toEqual([
      {
        name: 'a',
        state: running,
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'docker.io/library/busybox:latest',
        imageID: 'kubemu://docker.io/library/busybox@sha256:0',
        containerID: 'kubemu://abc',
        started: true,
      },
    ]);
  });

  it('unready containers and incomplete init containers are named as upstream does', () => {
    const s = computePodStatus({
      pod: pod('Always', ['a', 'b'], ['i1', 'i2']),
      hostIP: '127.0.1.1',
      sandboxReady: false,
      // the kubelet's view: a succeeded init container is ready, a running one is not (upstream's prober manager)
      initContainers: [view('i1', exited(0), { ready: true }), view('i2', running, { ready: false })],
      containers: [
        view('a', { waiting: { reason: 'PodInitializing' } }),
        view('b', { waiting: { reason: 'PodInitializing' } }),
      ],
      now: NOW,
    });
    const cond = (t: string) => s.conditions!.find((c) => c.type === t)!;
    expect(cond('PodReadyToStartContainers').status).toBe('False');
    expect(cond('Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [i2]',
    });
    expect(cond('Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [a b]',
      lastTransitionTime: '2026-01-01T00:00:01Z',
    });
    expect(s.initContainerStatuses!.map((c) => c.started)).toEqual([false, true]);
    expect(s.phase).toBe('Pending');
  });

  it('a completed pod reports PodCompleted', () => {
    const s = computePodStatus({
      pod: pod('Never', ['a']),
      hostIP: '127.0.1.1',
      podIP: '127.244.1.9',
      sandboxReady: true,
      initContainers: [],
      containers: [view('a', exited(0))],
      now: NOW,
    });
    expect(s.phase).toBe('Succeeded');
    expect(s.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  describe('native sidecars (init containers with restartPolicy Always)', () => {
    const withSidecar = (restartPolicy: string): Pod => {
      const p = pod(restartPolicy, ['app'], ['sidecar']);
      p.spec!.initContainers![0].restartPolicy = 'Always';
      return p;
    };
    const waitingInit = view('app', { waiting: { reason: 'PodInitializing' } });

    it('Pending until the sidecar has started, then Initialized; its readiness counts for Ready', () => {
      const p = withSidecar('Always');
      const notStarted = view('sidecar', running, { started: false, ready: false });
      expect(podPhase(p, [notStarted], [waitingInit])).toBe('Pending');
      const status = (sidecar: ContainerView, app: ContainerView) =>
        computePodStatus({
          pod: p,
          hostIP: '127.0.1.1',
          sandboxReady: true,
          initContainers: [sidecar],
          containers: [app],
          now: NOW,
        });
      const cond = (s: ReturnType<typeof status>, t: string) => s.conditions!.find((c) => c.type === t)!;
      const before = status(notStarted, waitingInit);
      expect(cond(before, 'Initialized')).toMatchObject({
        status: 'False',
        message: 'containers with incomplete status: [sidecar]',
      });
      expect(before.initContainerStatuses![0]).toMatchObject({ started: false, ready: false });

      const unready = status(view('sidecar', running, { ready: false }), view('app', running));
      expect(unready.phase).toBe('Running');
      expect(cond(unready, 'Initialized').status).toBe('True');
      expect(cond(unready, 'Ready')).toMatchObject({
        status: 'False',
        message: 'containers with unready status: [sidecar]',
      });
      const ready = status(view('sidecar', running), view('app', running));
      expect(cond(ready, 'Ready').status).toBe('True');
      expect(ready.initContainerStatuses![0]).toMatchObject({ started: true, ready: true });
    });

    it('a restarting sidecar keeps an initialized pod Running and Initialized', () => {
      const p = withSidecar('Always');
      const backoff = view('sidecar', { waiting: { reason: 'CrashLoopBackOff' } }, { lastState: exited(1) });
      expect(podPhase(p, [backoff], [view('app', running)])).toBe('Running');
    });

    it('a Job-like pod completes by its main containers; an exited sidecar does not fail it', () => {
      for (const policy of ['Never', 'OnFailure']) {
        const p = withSidecar(policy);
        expect(podPhase(p, [view('sidecar', running)], [view('app', exited(0))])).toBe('Running');
        const stopped = view('sidecar', exited(143));
        expect(podPhase(p, [stopped], [view('app', exited(0))])).toBe('Succeeded');
      }
      expect(podPhase(withSidecar('Never'), [view('sidecar', exited(143))], [view('app', exited(1))])).toBe(
        'Failed',
      );
    });
  });
});
