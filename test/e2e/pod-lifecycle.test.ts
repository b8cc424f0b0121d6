// What a user sees of a pod's life on its node, through the real kubectl against a `kubemu up` cluster: ConfigMap
// and Secret volumes that follow `kubectl patch` (but not through subPath), and native sidecars (init containers
// with restartPolicy Always) from the Kubernetes docs' example to Job-like pods and ordered termination.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
let cluster: TestCluster;
let hostDir: string;

const must = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};
const kubectl = async (...args: string[]): Promise<string> =>
  must(await cluster.kubectl(args), `kubectl ${args.join(' ')}`);
const apply = async (yaml: string): Promise<string> =>
  must(await cluster.kubectl(['apply', '-f', '-'], { input: yaml }), 'kubectl apply');
/** the last line a container logged, as `kubectl logs --tail=1` shows it */
const lastLine = async (pod: string, container?: string): Promise<string> =>
  (await kubectl('logs', pod, '--tail=1', ...(container ? ['-c', container] : []))).trim();

interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: {
    running?: object;
    waiting?: { reason: string };
    terminated?: { exitCode: number; reason?: string };
  };
}
interface Pod {
  metadata: { name: string };
  status: {
    phase: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}
const pod = (name: string): Promise<Pod> => cluster.getJson<Pod>(['get', 'pod', name]);
const condition = (p: Pod, type: string): string | undefined =>
  p.status.conditions?.find((c) => c.type === type)?.status;
/** the pod once it is in `phase`; until then throws its containers' states, which a timeout then reports */
const inPhase = async (name: string, phase: string): Promise<Pod> => {
  const p = await pod(name);
  if (p.status.phase === phase) return p;
  const states = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map(
    (c) => `${c.name}: ${JSON.stringify(c.state)} restarts ${c.restartCount}`,
  );
  throw new Error(`${name} is ${p.status.phase}; ${states.join('; ')}`);
};

/** a ConfigMap or Secret change reaches a running pod's volume through the kubelet's watch of it (see the tests) */
const VOLUME_FOLLOWS_MS = 15_000;

describe('pod lifecycle on the node', () => {
  beforeAll(async () => {
    cluster = await upCluster({ nodes: 1 });
    hostDir = mkdtempSync(join(tmpdir(), 'kubemu-e2e-lifecycle-'));
  });
  afterAll(async () => {
    await cluster?.down();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('a ConfigMap volume follows `kubectl patch cm`; a subPath mount of it keeps its first value', async () => {
    await kubectl('create', 'configmap', 'app-config', '--from-literal=key=v1', '--from-literal=extra=e1');
    await apply(`
apiVersion: v1
kind: Pod
metadata:
  name: cm-reader
spec:
  containers:
  - name: reader
    image: busybox
    command:
    - sh
    - -c
    - |
      while true; do
        echo "key=$(cat /etc/config/key) pinned=$(cat /etc/pinned/key) item=$(cat /etc/items/sub/renamed.txt) mode=$(stat -L -c %a /etc/items/sub/renamed.txt) late=$(cat /etc/late/greeting 2>/dev/null)"
        sleep 0.5
      done
    volumeMounts:
    - name: config
      mountPath: /etc/config
    - name: config
      mountPath: /etc/pinned/key
      subPath: key
    - name: items
      mountPath: /etc/items
    - name: late
      mountPath: /etc/late
  volumes:
  - name: config
    configMap:
      name: app-config
  - name: items
    configMap:
      name: app-config
      defaultMode: 0400
      items:
      - key: extra
        path: sub/renamed.txt
  - name: late
    configMap:
      name: late-config
      optional: true
`);
    await cluster.waitFor(
      'cm-reader to log its first line',
      async () => (await lastLine('cm-reader')) === 'key=v1 pinned=v1 item=e1 mode=400 late=',
      60_000,
    );

    await kubectl('patch', 'configmap', 'app-config', '-p', '{"data":{"key":"v2","extra":"e2"}}');
    // the volume changes inside the running container; the subPath file was bound once and stays. The kubelet
    // watches the ConfigMap its pod mounts (list/watch by metadata.name, which the Node authorizer allows): the
    // change is in the volume within a few seconds. Not a speed target: when the watch was refused, the change
    // came ~30 s later through the pod's periodic sync, and this wait is shorter than that.
    await cluster.waitFor(
      'the patched ConfigMap inside the running pod',
      async () => (await lastLine('cm-reader')) === 'key=v2 pinned=v1 item=e2 mode=400 late=',
      VOLUME_FOLLOWS_MS,
    );

    // an optional ConfigMap that did not exist appears once it is created
    await kubectl('create', 'configmap', 'late-config', '--from-literal=greeting=hello');
    await cluster.waitFor(
      'the optional ConfigMap created after the pod',
      async () => (await lastLine('cm-reader')) === 'key=v2 pinned=v1 item=e2 mode=400 late=hello',
      VOLUME_FOLLOWS_MS,
    );
    const p = await pod('cm-reader');
    expect(p.status.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('a Secret volume, and a projected volume of it, follow `kubectl patch secret`', async () => {
    await kubectl('create', 'secret', 'generic', 'app-secret', '--from-literal=password=s3cret');
    await apply(`
apiVersion: v1
kind: Pod
metadata:
  name: secret-reader
spec:
  containers:
  - name: reader
    image: busybox
    command: ['sh', '-c', 'while true; do echo "password=$(cat /etc/secret/password) projected=$(cat /etc/projected/password)/$(cat /etc/projected/key)"; sleep 0.5; done']
    volumeMounts:
    - name: secret
      mountPath: /etc/secret
      readOnly: true
    - name: all-in-one
      mountPath: /etc/projected
  volumes:
  - name: secret
    secret:
      secretName: app-secret
  - name: all-in-one
    projected:
      sources:
      - secret:
          name: app-secret
      - configMap:
          name: app-config
          items:
          - key: key
            path: key
`);
    await cluster.waitFor(
      'secret-reader to log its first line',
      async () => (await lastLine('secret-reader')) === 'password=s3cret projected=s3cret/v2',
      60_000,
    );
    await kubectl('patch', 'secret', 'app-secret', '-p', '{"stringData":{"password":"n3w"}}');
    await cluster.waitFor(
      'the patched Secret inside the running pod',
      async () => (await lastLine('secret-reader')) === 'password=n3w projected=n3w/v2',
      VOLUME_FOLLOWS_MS,
    );
  });

  it("runs the docs' sidecar Deployment: the app starts beside its started sidecar, 2/2 Ready", async () => {
    await kubectl('apply', '-f', join(FIXTURES, 'sidecar', 'deployment-sidecar.yaml'));
    const name = await cluster.waitFor(
      'the myapp pod to be Ready with its sidecar',
      async () => {
        const { items } = await cluster.getJson<{ items: Pod[] }>([
          'get',
          'pods',
          '-l',
          'app.kubernetes.io/name=myapp',
        ]);
        const p = items[0];
        return p && condition(p, 'Ready') === 'True' ? p.metadata.name : undefined;
      },
      60_000,
    );
    const p = await pod(name);
    expect(p.status.phase).toBe('Running');
    expect(condition(p, 'Initialized')).toBe('True');
    expect(p.status.initContainerStatuses?.[0]).toMatchObject({
      name: 'logshipper',
      started: true,
      ready: true,
      state: { running: {} },
    });
    expect(p.status.containerStatuses?.[0]).toMatchObject({ name: 'myapp', ready: true });
    // what `kubectl get pods` prints: both containers counted, as upstream's printer does for sidecars
    const row = await kubectl('get', 'pod', name, '--no-headers');
    expect(row.split(/\s+/).slice(1, 3)).toEqual(['2/2', 'Running']);
    // the sidecar ships what the app writes
    await cluster.waitFor(
      'the logshipper sidecar to ship the app log',
      async () => (await kubectl('logs', name, '-c', 'logshipper')).includes('logging'),
      30_000,
    );
  });

  it('restarts an exiting sidecar whatever the restartPolicy, and a Job-like pod still completes', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata:
  name: job-with-sidecar
spec:
  restartPolicy: Never
  initContainers:
  - name: flaky-sidecar
    image: busybox
    restartPolicy: Always
    command: ['sh', '-c', 'echo sidecar up; sleep 1; exit 3']
  containers:
  - name: main
    image: busybox
    command: ['sh', '-c', 'until [ -e /tmp/never ]; do sleep 0.5; n=$((n+1)); [ $n -ge 12 ] && break; done; echo main done']
`);
    // the sidecar exits with 3 and is started again while the main container runs
    await cluster.waitFor(
      'the sidecar to be restarted',
      async () => ((await pod('job-with-sidecar')).status.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1,
      60_000,
    );
    const done = await cluster.waitFor(
      'the Job-like pod to succeed',
      () => inPhase('job-with-sidecar', 'Succeeded'),
      60_000,
    );
    expect(done.status.containerStatuses?.[0]?.state.terminated?.exitCode).toBe(0);
    // nothing runs any more: the sidecar was stopped, not left behind
    expect(done.status.initContainerStatuses?.[0]?.state.running).toBeUndefined();
    expect(await kubectl('logs', 'job-with-sidecar', '-c', 'main')).toContain('main done');
  });

  it('a Job-like pod whose sidecar never exits completes: the sidecar is stopped after the main container', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata:
  name: batch
spec:
  restartPolicy: OnFailure
  initContainers:
  - name: proxy
    image: busybox
    restartPolicy: Always
    command: ['sh', '-c', 'trap "echo proxy stopping; exit 0" TERM; touch /tmp/up; echo proxy up; while true; do sleep 0.2; done']
    # the main container starts once this passes, so the proxy has its TERM trap by then
    startupProbe:
      exec:
        command: ['test', '-e', '/tmp/up']
      periodSeconds: 1
      timeoutSeconds: 10
      failureThreshold: 30
  containers:
  - name: work
    image: busybox
    command: ['sh', '-c', 'echo working; sleep 2; echo finished']
`);
    const done = await cluster.waitFor(
      'the batch pod to succeed despite its running sidecar',
      () => inPhase('batch', 'Succeeded'),
      60_000,
    );
    expect(done.status.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 0 });
    expect(done.status.initContainerStatuses?.[0]?.state.terminated).toBeDefined();
    expect(await kubectl('logs', 'batch', '-c', 'proxy')).toContain('proxy stopping');
    const row = await kubectl('get', 'pod', 'batch', '--no-headers');
    expect(row.split(/\s+/)[2]).toBe('Completed');
  });

  it('on deletion, sidecars get SIGTERM after the main containers have exited, in reverse order', async () => {
    const order = join(hostDir, 'order');
    await apply(`
apiVersion: v1
kind: Pod
metadata:
  name: ordered
spec:
  terminationGracePeriodSeconds: 20
  initContainers:
  - name: first-sidecar
    image: busybox
    restartPolicy: Always
    command: ['sh', '-c', 'trap "echo first-sidecar >> /shared/order; exit 0" TERM; echo up; while true; do sleep 0.2; done']
    volumeMounts:
    - name: shared
      mountPath: /shared
  - name: second-sidecar
    image: busybox
    restartPolicy: Always
    command: ['sh', '-c', 'trap "echo second-sidecar >> /shared/order; exit 0" TERM; echo up; while true; do sleep 0.2; done']
    volumeMounts:
    - name: shared
      mountPath: /shared
  containers:
  - name: app
    image: busybox
    command: ['sh', '-c', 'trap "sleep 1; echo app >> /shared/order; exit 0" TERM; echo up; while true; do sleep 0.2; done']
    volumeMounts:
    - name: shared
      mountPath: /shared
  volumes:
  - name: shared
    hostPath:
      path: ${hostDir}
      type: DirectoryOrCreate
`);
    // each container says "up" once its TERM trap is set: deleting earlier would find a shell without one
    for (const c of ['first-sidecar', 'second-sidecar', 'app'])
      await cluster.waitFor(
        `${c} to have set its trap`,
        async () => (await lastLine('ordered', c)) === 'up',
        60_000,
      );
    await kubectl('delete', 'pod', 'ordered', '--wait=true', '--timeout=60s');
    expect(readFileSync(order, 'utf8').trim().split('\n')).toEqual([
      'app',
      'second-sidecar',
      'first-sidecar',
    ]);
  });
});
