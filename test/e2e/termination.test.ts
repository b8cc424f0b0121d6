// Pods that must terminate (issue #16): SIGTERM is never lost on the way to a container that is still starting
// (rollouts and deletes right after Ready end with 0/143, never a SIGKILL after the grace period), and a pod deleted
// 0.3 s after it appeared goes away even when its delete left a finalizer that went after the kubelet had finished.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 2 });
});

afterAll(async () => {
  await c?.down();
});

/** how many `kubectl set image` rollouts; KUBEMU_TERMINATION_ROLLOUTS=100 for the issue's full count */
const ROLLOUTS = Number(process.env['KUBEMU_TERMINATION_ROLLOUTS'] ?? 24);

interface PodEvent {
  type: string;
  name: string;
  deleting: boolean;
  exitCode: string;
  reason: string;
  signal: string;
}

/**
 * `kubectl get pods -w --output-watch-events` with one line per event: the pod, whether it is being deleted, and
 * its first container's terminated state (what `kubectl get pod -o yaml` would show when it ended).
 */
function watchPods(selector: string): { events(): PodEvent[]; stop(): void } {
  const cols = [
    'E:.type',
    'N:.object.metadata.name',
    'D:.object.metadata.deletionTimestamp',
    'X:.object.status.containerStatuses[0].state.terminated.exitCode',
    'R:.object.status.containerStatuses[0].state.terminated.reason',
    'S:.object.status.containerStatuses[0].state.terminated.signal',
  ].join(',');
  const s = kubectlStream(c.kubeconfig, [
    'get',
    'pods',
    '-l',
    selector,
    '-w',
    '--output-watch-events',
    '--no-headers',
    '-o',
    `custom-columns=${cols}`,
  ]);
  return {
    events: () =>
      s
        .output()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length === 6)
        .map(([type = '', name = '', del, exitCode = '', reason = '', signal = '']) => ({
          type,
          name,
          deleting: del !== '<none>',
          exitCode,
          reason,
          signal,
        })),
    stop: () => s.stop(),
  };
}

/** every pod the watch saw deleted, with the last terminated state it had */
function endings(events: PodEvent[]): Map<string, PodEvent | undefined> {
  const last = new Map<string, PodEvent | undefined>();
  const gone = new Set<string>();
  for (const e of events) {
    if (e.exitCode !== '<none>') last.set(e.name, e);
    else if (!last.has(e.name)) last.set(e.name, undefined);
    if (e.type === 'DELETED') gone.add(e.name);
  }
  return new Map([...last].filter(([name]) => gone.has(name)));
}

async function ok(args: string[], input?: string, timeoutMs = 180_000): Promise<string> {
  const r = await c.kubectl(args, { ...(input !== undefined ? { input } : {}), timeoutMs });
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('pods terminate (SIGTERM is never lost)', () => {
  it(
    `${ROLLOUTS} kubectl set image rollouts: every old container ends with 0 or 143, none SIGKILLed (137)`,
    async () => {
      const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 15
      containers:
      - name: hello
        image: kubemu/hello:v1
        ports:
        - containerPort: 8080
`;
      await ok(['apply', '-f', '-'], manifest);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=170s']);
      const w = watchPods('app=web');
      try {
        const versions = ['v2', 'v3', 'v1'];
        for (let i = 0; i < ROLLOUTS; i++) {
          await ok(['set', 'image', 'deployment/web', `hello=kubemu/hello:${versions[i % 3]}`]);
          await ok(['rollout', 'status', 'deployment/web', '--timeout=170s']);
        }
        // the last rollout's old pods may still be stopping: wait until only the 3 new ones are left
        await c.waitFor(
          'the last old pods to go',
          async () => {
            const pods = await c.getJson<{ items: unknown[] }>(['get', 'pods', '-l', 'app=web']);
            return pods.items.length === 3;
          },
          60_000,
        );
        await new Promise((r) => setTimeout(r, 1000));
        const ended = endings(w.events());
        // every rollout replaces the 3 pods
        expect(ended.size).toBeGreaterThanOrEqual(3 * ROLLOUTS);
        const bad = [...ended].filter(([, e]) => !e || !['0', '143'].includes(e.exitCode));
        expect(
          bad.map(
            ([name, e]) =>
              `${name}: ${e ? `exit ${e.exitCode} ${e.reason} signal ${e.signal}` : 'no final status'}`,
          ),
        ).toEqual([]);
      } finally {
        w.stop();
      }
      await ok(['delete', 'deployment', 'web']);
    },
    60_000 + ROLLOUTS * 20_000,
  );

  it('kubectl delete pod right after it is Ready, or right after kubectl run: 0 or 143, and the pod is gone', async () => {
    const w = watchPods('run'); // `kubectl run NAME` labels its pod run=NAME
    try {
      for (let i = 0; i < 10; i++) {
        await ok(['run', `quick-${i}`, '--image=kubemu/hello:v1', '--port=8080']);
        // every other pod is deleted as soon as it exists, while its container may still be starting
        if (i % 2 === 0) await ok(['wait', '--for=condition=Ready', `pod/quick-${i}`, '--timeout=120s']);
        // default grace period (30 s): a lost SIGTERM would end in a SIGKILL and exit 137
        await ok(['delete', 'pod', `quick-${i}`, '--timeout=120s']);
      }
      await new Promise((r) => setTimeout(r, 1000));
      const ended = endings(w.events());
      expect([...ended.keys()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `quick-${i}`).sort());
      expect(
        [...ended]
          .filter(([, e]) => !e || !['0', '143'].includes(e.exitCode))
          .map(([name, e]) => `${name}: ${e ? `exit ${e.exitCode} ${e.reason}` : 'no final status'}`),
      ).toEqual([]);
    } finally {
      w.stop();
    }
  }, 600_000);
});

describe('a pod deleted 0.3 s after it appeared goes away', () => {
  // the ReplicaSet example of the Kubernetes docs (concepts/workloads/controllers/replicaset), one replica; its
  // image is not one kubemu has, so its container never starts, as in upstream's kubectl tests
  const frontend = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels:
    app: guestbook
    tier: frontend
spec:
  replicas: 1
  selector:
    matchLabels:
      tier: frontend
  template:
    metadata:
      labels:
        tier: frontend
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
`;

  /** Deletes each new pod of `selector` 0.3 s after the watch shows it, `times` times; returns their names. */
  async function deleteEachNewPod(selector: string, times: number, flags: string[]): Promise<string[]> {
    const w = watchPods(selector);
    const seen = new Set<string>();
    const deletes: Promise<string>[] = [];
    try {
      // the pod that is there now starts the chain; each delete makes the ReplicaSet create the next one
      await waitFor(
        `${times} pods of ${selector} deleted 0.3 s after they appeared`,
        () => {
          for (const e of w.events()) {
            if (e.type !== 'ADDED' || e.deleting || seen.has(e.name) || seen.size >= times) continue;
            seen.add(e.name);
            deletes.push(
              new Promise((r) => setTimeout(r, 300)).then(() =>
                ok(['delete', 'pod', e.name, '--wait=false', ...flags]),
              ),
            );
          }
          return Promise.resolve(seen.size >= times);
        },
        120_000,
        20,
      );
      await Promise.all(deletes);
    } finally {
      w.stop();
    }
    return [...seen];
  }

  async function expectGone(names: string[]): Promise<void> {
    for (const name of names) {
      const r = await c.kubectl(['wait', '--for=delete', `pod/${name}`, '--timeout=60s'], {
        timeoutMs: 70_000,
      });
      if (r.code !== 0) {
        const left = await c.kubectl(['get', 'pod', name, '-o', 'yaml']);
        expect.fail(`pod ${name} still there:\n${left.stdout}`);
      }
    }
  }

  it.each([
    ['kubectl delete pod', [] as string[]],
    ['kubectl delete pod --cascade=orphan', ['--cascade=orphan']],
    ['kubectl delete pod --cascade=foreground', ['--cascade=foreground']],
    ['kubectl delete pod --grace-period=0', ['--grace-period=0']],
    ['kubectl delete pod --grace-period=0 --force', ['--grace-period=0', '--force']],
  ])(
    'a ReplicaSet pod, 5 times: %s',
    async (_what, flags) => {
      await ok(['apply', '-f', '-'], frontend);
      const names = await deleteEachNewPod('tier=frontend', 5, flags);
      expect(names).toHaveLength(5);
      await expectGone(names);
      await ok(['delete', 'replicaset', 'frontend', '--wait=true', '--timeout=60s']);
    },
    420_000,
  );

  it('a Deployment of kubemu/hello, 5 times with --cascade=orphan', async () => {
    await ok(['create', 'deployment', 'quick', '--image=kubemu/hello:v1']);
    const names = await deleteEachNewPod('app=quick', 5, ['--cascade=orphan']);
    await expectGone(names);
    await ok(['delete', 'deployment', 'quick']);
  }, 420_000);
});
