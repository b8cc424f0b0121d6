// Integration: two kube-scheduler processes against one apiserver, each with the scheduler's own credential, as an
// HA control plane runs them. One leads through the kube-system/kube-scheduler Lease and binds pods; the other stands
// by. SIGKILL of the leader: the standby takes over once the lease has expired and binds what came meanwhile. A
// leader stopped on purpose releases the Lease. Bad --leader-elect flags exit 2 with upstream's words.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTokenFile } from '../src/apiserver/auth/token-file.js';
import { writeKubeconfig } from '../src/util/kubeconfig.js';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';
import { stopChild } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

let server: ApiServerProcess;
let api: Api;
let kubeconfig = '';
const schedulers: { child: ChildProcess; logs: string }[] = [];

function startScheduler(...extra: string[]): { child: ChildProcess; logs: string } {
  const child = spawn(
    process.execPath,
    [join(DIST, 'cmd/scheduler.js'), '--kubeconfig', kubeconfig, ...extra],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBEMU_LOG_LEVEL: 'info' },
    },
  );
  const s = { child, logs: '' };
  child.stderr.on('data', (c: Buffer) => (s.logs += c.toString()));
  schedulers.push(s);
  return s;
}

const leading = (s: { logs: string }): boolean => s.logs.includes('successfully acquired lease');

async function lease(): Promise<any> {
  const r = await api('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
  return r.status === 200 ? r.body : undefined;
}

async function createPod(name: string): Promise<void> {
  const r = await api('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] },
  });
  expect(r.status).toBe(201);
}

const nodeOf = async (pod: string): Promise<string | undefined> =>
  (await api('GET', `/api/v1/namespaces/default/pods/${pod}`)).body.spec?.nodeName;

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  const node = await api('POST', '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
  });
  expect(node.status).toBe(201);
  const status = {
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
  };
  expect((await api('PUT', '/api/v1/nodes/node-1/status', { ...node.body, status })).status).toBe(200);
  // the scheduler's own identity (system:kube-scheduler), whose bootstrap role allows exactly its Lease
  const entry = readTokenFile(join(server.stateDir, 'tokens.csv')).find(
    (e) => e.user === 'system:kube-scheduler',
  );
  expect(entry).toBeDefined();
  kubeconfig = join(server.stateDir, 'scheduler-test.kubeconfig');
  writeKubeconfig(kubeconfig, {
    name: 'scheduler-test',
    server: server.url,
    caPem: readFileSync(join(server.stateDir, 'pki/ca.crt'), 'utf8'),
    token: entry!.token,
    setCurrent: true,
  });
}, 60_000);

afterAll(async () => {
  for (const s of schedulers) await stopChild(s.child, 'SIGKILL');
  await server?.cleanup();
});

describe('leader election (kube-scheduler --leader-elect)', () => {
  it('one of two schedulers leads and binds; the other takes over after the leader is SIGKILLed', async () => {
    const a = startScheduler();
    const b = startScheduler();
    const first = await waitFor(
      'a leader',
      () => Promise.resolve(leading(a) ? a : leading(b) ? b : undefined),
      30_000,
    );
    const standby = first === a ? b : a;
    const held = await waitFor('the Lease', lease);
    expect(held.spec).toMatchObject({ leaseDurationSeconds: 4, leaseTransitions: 0 });
    expect(first.logs).toContain(held.spec.holderIdentity);
    await createPod('before');
    expect(await waitFor('before bound', () => nodeOf('before'))).toBe('node-1');
    // the standby never led
    expect(leading(standby)).toBe(false);

    await stopChild(first.child, 'SIGKILL');
    await createPod('after');
    expect(await waitFor('after bound by the standby', () => nodeOf('after'), 30_000)).toBe('node-1');
    expect(leading(standby)).toBe(true);
    const taken = await lease();
    expect(taken.spec.holderIdentity).not.toBe(held.spec.holderIdentity);
    expect(standby.logs).toContain(taken.spec.holderIdentity);
    expect(taken.spec.leaseTransitions).toBe(1);
    const events = (
      await api(
        'GET',
        '/api/v1/namespaces/kube-system/events?fieldSelector=involvedObject.name=kube-scheduler',
      )
    ).body.items as any[];
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toEqual(
      expect.arrayContaining([
        `LeaderElection: ${held.spec.holderIdentity} became leader`,
        `LeaderElection: ${taken.spec.holderIdentity} became leader`,
      ]),
    );

    // stopped on purpose, it gives the Lease up at once (exit 0)
    await stopChild(standby.child, 'SIGTERM');
    expect(standby.child.exitCode).toBe(0);
    const released = await lease();
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 1 });
    const c = startScheduler();
    await waitFor('the next scheduler leads at once', () => Promise.resolve(leading(c)), 10_000);
  }, 90_000);

  it('refuses bad --leader-elect flags with upstream words and exit status 2', async () => {
    for (const [args, message] of [
      [['--leader-elect-resource-lock', 'endpoints'], 'resourceLock value must be "leases"'],
      [
        ['--leader-elect-lease-duration', '2s', '--leader-elect-renew-deadline', '3s'],
        'leaseDuration must be greater than renewDeadline',
      ],
      [['--leader-elect=maybe'], '--leader-elect "maybe": expected true or false'],
    ] as const) {
      const s = startScheduler(...args);
      await new Promise((resolve) => s.child.once('exit', resolve));
      expect(s.child.exitCode).toBe(2);
      // (the log line is JSON: its quotes escaped)
      expect(s.logs).toContain(JSON.stringify(message).slice(1, -1));
    }
  });
});
