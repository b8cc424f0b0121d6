// Integration: a real apiserver process plus the scheduler process; pods are bound and explained as via kubectl.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLocalPort as freePort } from '../src/util/free-port.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';

let server: ApiServerProcess;
let api: Api;
let scheduler: ChildProcess;
let schedulerLogs = '';
let metricsPort = 0;

const node = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
    ],
  },
});

const pod = (name: string, cpu?: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: {
    containers: [
      { name: 'app', image: 'kubemu/hello:v1', ...(cpu ? { resources: { requests: { cpu } } } : {}) },
    ],
  },
});

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last !== undefined) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; scheduler logs:\n${schedulerLogs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createNode(name: string): Promise<void> {
  const created = await api('POST', '/api/v1/nodes', node(name));
  expect(created.status).toBe(201);
  // status is ignored on create, as upstream: write it through the status subresource
  const body = { ...created.body, status: node(name).status };
  const updated = await api('PUT', `/api/v1/nodes/${name}/status`, body);
  expect(updated.status).toBe(200);
}

const events = async (podName: string): Promise<any[]> =>
  (await api('GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${podName}`)).body
    .items ?? [];

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  for (const n of ['node-1', 'node-2', 'node-3']) await createNode(n);
  metricsPort = await freePort();
  const args = ['--kubeconfig', server.kubeconfig, '--metrics-port', String(metricsPort)];
  scheduler = spawn(process.execPath, [join(DIST, 'cmd/scheduler.js'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
  });
  scheduler.stderr!.on('data', (c: Buffer) => (schedulerLogs += c.toString()));
});

afterAll(async () => {
  if (scheduler?.pid && scheduler.exitCode === null) {
    process.kill(scheduler.pid, 'SIGTERM');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        if (scheduler.exitCode === null && scheduler.pid) process.kill(scheduler.pid, 'SIGKILL');
        resolve();
      }, 5000);
      scheduler.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  await server?.cleanup();
});

describe('scheduler process', () => {
  it('binds a pending pod and records a Scheduled event', async () => {
    expect((await api('POST', '/api/v1/namespaces/default/pods', pod('hello'))).status).toBe(201);
    const bound = await eventually('hello to be bound', async () => {
      const p = (await api('GET', '/api/v1/namespaces/default/pods/hello')).body;
      return p.spec.nodeName ? p : undefined;
    });
    expect(bound.spec.nodeName).toMatch(/^node-[123]$/);
    expect(bound.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]),
    );
    const ev = await eventually('a Scheduled event', async () =>
      (await events('hello')).find((e) => e.reason === 'Scheduled'),
    );
    expect(ev).toMatchObject({
      type: 'Normal',
      message: `Successfully assigned default/hello to ${bound.spec.nodeName}`,
      involvedObject: { kind: 'Pod', name: 'hello', namespace: 'default', uid: bound.metadata.uid },
      source: { component: 'default-scheduler' },
      reportingComponent: 'default-scheduler',
    });
  });

  it('spreads a burst of 30 pods evenly', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api('POST', '/api/v1/namespaces/default/pods', pod(`burst-${i}`, '100m', { app: 'burst' })),
      ),
    );
    const pods = await eventually('30 bound pods', async () => {
      const list = (await api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dburst')).body
        .items as any[];
      return list.length === 30 && list.every((p) => p.spec.nodeName) ? list : undefined;
    });
    const counts: Record<string, number> = {};
    for (const p of pods) counts[p.spec.nodeName] = (counts[p.spec.nodeName] ?? 0) + 1;
    // least-allocated scoring alone keeps the three equal nodes within one pod of each other (plus 'hello')
    for (const n of ['node-1', 'node-2', 'node-3']) expect(counts[n]).toBeGreaterThanOrEqual(9);
  });

  it('explains an unschedulable pod with FailedScheduling and the PodScheduled condition', async () => {
    expect((await api('POST', '/api/v1/namespaces/default/pods', pod('too-big', '3'))).status).toBe(201);
    const message =
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..';
    const ev = await eventually('FailedScheduling', async () =>
      (await events('too-big')).find((e) => e.reason === 'FailedScheduling'),
    );
    expect(ev).toMatchObject({ type: 'Warning', message, source: { component: 'default-scheduler' } });
    const p = await eventually('the PodScheduled condition', async () => {
      const got = (await api('GET', '/api/v1/namespaces/default/pods/too-big')).body;
      return got.status.conditions?.some((c: any) => c.type === 'PodScheduled') ? got : undefined;
    });
    expect(p.spec.nodeName).toBeUndefined();
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message,
    });
  });

  it('a node added later takes the pending pod', async () => {
    const big = node('node-4');
    big.status.allocatable.cpu = '4';
    big.status.capacity.cpu = '4';
    const created = await api('POST', '/api/v1/nodes', big);
    expect(created.status).toBe(201);
    expect(
      (await api('PUT', '/api/v1/nodes/node-4/status', { ...created.body, status: big.status })).status,
    ).toBe(200);
    const p = await eventually(
      'too-big to be bound',
      async () => {
        const got = (await api('GET', '/api/v1/namespaces/default/pods/too-big')).body;
        return got.spec.nodeName ? got : undefined;
      },
      15_000,
    );
    expect(p.spec.nodeName).toBe('node-4');
    const ev = await eventually('Scheduled', async () =>
      (await events('too-big')).find((e) => e.reason === 'Scheduled'),
    );
    expect(ev.message).toBe('Successfully assigned default/too-big to node-4');
  });

  it('serves Prometheus metrics with upstream names, to a caller the apiserver authenticates', async () => {
    // delegated authentication, as upstream's kube-scheduler: no token 401, an unknown one 401, health open
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(401);
    const bogus = { headers: { Authorization: 'Bearer not-a-token' } };
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, bogus)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: { Authorization: `Bearer ${server.token}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const scheduled =
      /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} (\d+)/.exec(text);
    expect(Number(scheduled?.[1])).toBeGreaterThanOrEqual(32);
    expect(text).toMatch(
      /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} [1-9]/,
    );
    expect(text).toMatch(/scheduler_pending_pods\{queue="active"\} 0/);
  });
});
