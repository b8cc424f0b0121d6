// StatefulSets end to end with the real kubectl, following the docs' "StatefulSet Basics" tutorial
// (kubernetes.io/docs/tutorials/stateful-application/basic-stateful-set/): the `nginx` headless Service and the `web`
// StatefulSet, with the image replaced by kubemu/hello (HTTP on 8080). Ordered start seen through a watch, stable DNS
// names from inside the pods, a partitioned rolling update, rollout history and undo, scale-down from the highest
// ordinal, and a pod's own PersistentVolumeClaim surviving `kubectl delete pod`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

let c: TestCluster;

beforeAll(async () => {
  ensureCommands([['getent', 'libc-bin']]);
  c = await upCluster({ nodes: 3 });
}, 120_000);

afterAll(async () => {
  await c?.down();
});

/** the tutorial's web.yaml: `image` replaced, the container port kubemu/hello listens on */
const webYaml = (namespace: string, replicas: number, withClaims: boolean): string => `apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: ${namespace}
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    targetPort: 8080
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: ${namespace}
spec:
  serviceName: "nginx"
  replicas: ${replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: nginx
        image: kubemu/hello:v1
        ports:
        - containerPort: 8080
          name: web
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
${
  withClaims
    ? `        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
`
    : ''
}`;

async function kubectl(args: string[], input?: string, timeoutMs = 60_000): Promise<string> {
  const r = await c.kubectl(args, { ...(input !== undefined ? { input } : {}), timeoutMs });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

interface PodJson {
  metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: { image: string }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

const isReady = (p: PodJson): boolean =>
  !p.metadata.deletionTimestamp && p.status.conditions?.find((x) => x.type === 'Ready')?.status === 'True';

async function webPods(namespace = 'default'): Promise<PodJson[]> {
  const list = await c.getJson<{ items: PodJson[] }>(['get', 'pods', '-n', namespace, '-l', 'app=nginx']);
  return list.items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

const imagesOf = (pods: PodJson[]): string[] =>
  pods.map((p) => `${p.metadata.name}=${p.spec.containers[0].image}`);

/** lines of a `kubectl get pods -w -o jsonpath` stream: `name ready deleting` */
const WATCH_TEMPLATE =
  '{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\\n"}';

function watchLines(output: string): { name: string; ready: boolean; deleting: boolean }[] {
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => /^web-\d+$/.test(f[0] ?? ''))
    .map((f) => ({ name: f[0], ready: f[1] === 'True', deleting: f.length > 2 && f[2] !== '' }));
}

describe('StatefulSet basics (the docs tutorial)', () => {
  it('starts web-0, web-1, web-2 in order, each only once its predecessor is Running and Ready', async () => {
    const watch = kubectlStream(c.kubeconfig, [
      'get',
      'pods',
      '-w',
      '-l',
      'app=nginx',
      '-o',
      `jsonpath=${WATCH_TEMPLATE}`,
    ]);
    try {
      await kubectl(['apply', '-f', '-'], webYaml('default', 3, false));
      const status = await kubectl(
        ['rollout', 'status', 'statefulset/web', '--timeout=120s'],
        undefined,
        130_000,
      );
      expect(status).toMatch(/partitioned roll out complete: 3 new pods have been updated/);
      await c.waitFor('the watch to see web-2 ready', () =>
        Promise.resolve(watchLines(watch.output()).some((l) => l.name === 'web-2' && l.ready)),
      );
    } finally {
      watch.stop();
    }
    const lines = watchLines(watch.output());
    const firstSeen = (name: string): number => lines.findIndex((l) => l.name === name);
    const firstReady = (name: string): number => lines.findIndex((l) => l.name === name && l.ready);
    expect(firstSeen('web-0')).toBeGreaterThanOrEqual(0);
    expect(firstSeen('web-1')).toBeGreaterThan(firstReady('web-0'));
    expect(firstSeen('web-2')).toBeGreaterThan(firstReady('web-1'));
    expect(firstReady('web-0')).toBeGreaterThanOrEqual(0);

    const sts = await c.getJson<{ status: Record<string, unknown> }>(['get', 'statefulset', 'web']);
    expect(sts.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
    });
    const pods = await webPods();
    for (const [i, p] of pods.entries()) {
      expect(p.metadata.name).toBe(`web-${i}`);
      expect(p.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe(`web-${i}`);
      expect(p.metadata.labels?.['apps.kubernetes.io/pod-index']).toBe(String(i));
      expect(p.metadata.labels?.['controller-revision-hash']).toBe(sts.status['currentRevision']);
    }
    const table = await kubectl(['get', 'statefulset', 'web']);
    expect(table).toMatch(/^web\s+3\/3\s+/m);
  }, 200_000);

  it('each pod resolves the others by their stable names through the headless Service', async () => {
    const pods = await webPods();
    const ipOf = new Map(pods.map((p) => [p.metadata.name, p.status.podIP!]));
    const names = ['web-0', 'web-1', 'web-2'].flatMap((to) => [
      `${to}.nginx.default.svc.cluster.local`,
      `${to}.nginx`,
    ]);
    // one exec per pod: `<name> <ip>` per line (getent prints `<ip> <canonical name>`)
    const script = `for n in ${names.join(' ')}; do echo "$n $(getent hosts $n | head -n1 | cut -d' ' -f1)"; done`;
    for (const from of pods.map((p) => p.metadata.name)) {
      const out = await kubectl(['exec', from, '--', 'sh', '-c', script]);
      const resolved = new Map(
        out
          .trim()
          .split('\n')
          .map((l) => l.trim().split(/\s+/) as [string, string]),
      );
      for (const to of ['web-0', 'web-1', 'web-2']) {
        expect(resolved.get(`${to}.nginx.default.svc.cluster.local`), `${from} → ${to}`).toBe(ipOf.get(to));
        expect(resolved.get(`${to}.nginx`), `${from} → ${to}.nginx`).toBe(ipOf.get(to));
      }
    }
    // the Service name itself answers with every ready pod (getent prints one line per address; `ahosts` would go
    // through getaddrinfo's AI_ADDRCONFIG, which hides IPv4 answers from a namespace with only loopback addresses)
    const all = await kubectl(['exec', 'web-0', '--', 'getent', 'hosts', 'nginx.default.svc.cluster.local']);
    expect(
      new Set(
        all
          .split('\n')
          .map((l) => l.split(/\s+/)[0])
          .filter(Boolean),
      ),
    ).toEqual(new Set(ipOf.values()));
  }, 120_000);

  it('a rolling update with a partition updates only the ordinals at or above it; history and undo', async () => {
    await kubectl([
      'patch',
      'statefulset',
      'web',
      '-p',
      '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}',
    ]);
    await kubectl([
      'patch',
      'statefulset',
      'web',
      '--type=json',
      '-p=[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"kubemu/hello:v2"}]',
    ]);
    const status = await kubectl(
      ['rollout', 'status', 'statefulset/web', '--timeout=120s'],
      undefined,
      130_000,
    );
    expect(status).toMatch(/partitioned roll out complete: 1 new pods have been updated/);
    await c.waitFor(
      'web-2 at v2 and ready',
      async () => {
        const pods = await webPods();
        return (
          pods.length === 3 &&
          pods.every(isReady) &&
          imagesOf(pods).join() === 'web-0=kubemu/hello:v1,web-1=kubemu/hello:v1,web-2=kubemu/hello:v2'
        );
      },
      90_000,
    );
    const sts = await c.getJson<{ status: { currentRevision: string; updateRevision: string } }>([
      'get',
      'sts',
      'web',
    ]);
    expect(sts.status.currentRevision).not.toBe(sts.status.updateRevision);
    const hashes = (await webPods()).map((p) => p.metadata.labels?.['controller-revision-hash']);
    expect(hashes).toEqual([
      sts.status.currentRevision,
      sts.status.currentRevision,
      sts.status.updateRevision,
    ]);

    const history = await kubectl(['rollout', 'history', 'statefulset/web']);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history).toMatch(/^1\s+/m);
    expect(history).toMatch(/^2\s+/m);
    expect(await kubectl(['rollout', 'history', 'statefulset/web', '--revision=2'])).toMatch(
      /kubemu\/hello:v2/,
    );
    const revs = await kubectl(['get', 'controllerrevisions', '-l', 'app=nginx']);
    expect(revs).toMatch(new RegExp(`${sts.status.updateRevision}\\s+statefulset.apps/web\\s+2`));

    // undo goes back to revision 1's template: web-2 rolls back to v1 and revision 1 becomes revision 3
    expect(await kubectl(['rollout', 'undo', 'statefulset/web'])).toMatch(
      /statefulset.apps\/web rolled back/,
    );
    await c.waitFor(
      'web-2 back at v1',
      async () => {
        const pods = await webPods();
        return (
          pods.length === 3 &&
          pods.every(isReady) &&
          imagesOf(pods).every((s) => s.endsWith('=kubemu/hello:v1'))
        );
      },
      90_000,
    );
    const after = await kubectl(['rollout', 'history', 'statefulset/web']);
    expect(after).toMatch(/^2\s+/m);
    expect(after).toMatch(/^3\s+/m);
    expect(after).not.toMatch(/^1\s+/m);

    // partition 0 rolls everyone onto a new template, highest ordinal first
    await kubectl([
      'patch',
      'statefulset',
      'web',
      '-p',
      '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
    ]);
    await kubectl(['set', 'image', 'statefulset/web', 'nginx=kubemu/hello:v3']);
    const done = await kubectl(
      ['rollout', 'status', 'statefulset/web', '--timeout=150s'],
      undefined,
      160_000,
    );
    expect(done).toMatch(/partitioned roll out complete: 3 new pods have been updated/);
    await c.waitFor(
      'all at v3',
      async () => {
        const pods = await webPods();
        return (
          pods.length === 3 &&
          pods.every(isReady) &&
          imagesOf(pods).every((s) => s.endsWith('=kubemu/hello:v3'))
        );
      },
      90_000,
    );
    const final = await c.getJson<{ status: { currentRevision: string; updateRevision: string } }>([
      'get',
      'sts',
      'web',
    ]);
    await c.waitFor('current revision = update revision', async () => {
      const s = await c.getJson<{ status: { currentRevision: string; updateRevision: string } }>([
        'get',
        'sts',
        'web',
      ]);
      return s.status.currentRevision === s.status.updateRevision;
    });
    expect(final.status.updateRevision).toBeTruthy();
  }, 400_000);

  it('kubectl scale down removes the highest ordinal first, one at a time', async () => {
    const watch = kubectlStream(c.kubeconfig, [
      'get',
      'pods',
      '-w',
      '-l',
      'app=nginx',
      '-o',
      `jsonpath=${WATCH_TEMPLATE}`,
    ]);
    try {
      await c.waitFor('the watch to list the pods', () =>
        Promise.resolve(watchLines(watch.output()).length >= 3),
      );
      expect(await kubectl(['scale', 'sts', 'web', '--replicas=1'])).toMatch(/statefulset.apps\/web scaled/);
      await c.waitFor('one pod left', async () => (await webPods()).length === 1, 90_000);
    } finally {
      watch.stop();
    }
    expect((await webPods()).map((p) => p.metadata.name)).toEqual(['web-0']);
    const lines = watchLines(watch.output());
    const firstDeleting = (name: string): number => lines.findIndex((l) => l.name === name && l.deleting);
    expect(firstDeleting('web-2')).toBeGreaterThanOrEqual(0);
    expect(firstDeleting('web-1')).toBeGreaterThan(firstDeleting('web-2'));
    expect(firstDeleting('web-0')).toBe(-1);
    const sts = await c.getJson<{ status: { replicas: number } }>(['get', 'sts', 'web']);
    expect(sts.status.replicas).toBe(1);
  }, 150_000);
});

describe('StatefulSet pod on a dead node (at most one pod per identity)', () => {
  it('web-0 on a killed node is not replaced until it is force-deleted; then it comes back elsewhere', async () => {
    const [web0] = await webPods();
    expect(web0.metadata.name).toBe('web-0');
    const node = (await c.getJson<{ spec: { nodeName: string } }>(['get', 'pod', 'web-0'])).spec.nodeName;
    const kill = await c.kubemu(['chaos', 'kill-node', node, '--name', c.name, '--state-dir', c.stateDir]);
    expect(kill.code, kill.stderr).toBe(0);
    // the taint manager evicts it: a graceful delete no kubelet will ever confirm
    await c.waitFor(
      'web-0 terminating',
      async () => !!(await webPods()).find((p) => p.metadata.name === 'web-0')?.metadata.deletionTimestamp,
      60_000,
    );
    // a while later it is still the same pod, still terminating, and there is no second web-0
    await new Promise((r) => setTimeout(r, 5_000));
    const still = await webPods();
    expect(still.map((p) => [p.metadata.name, p.metadata.uid, !!p.metadata.deletionTimestamp])).toEqual([
      ['web-0', web0.metadata.uid, true],
    ]);
    const sts = await c.getJson<{ status: { readyReplicas?: number } }>(['get', 'sts', 'web']);
    expect(sts.status.readyReplicas ?? 0).toBe(0);
    // what the docs tell the user to do: force-delete it, and the controller makes web-0 again on a live node
    await kubectl(['delete', 'pod', 'web-0', '--force', '--grace-period=0']);
    const back = await c.waitFor(
      'a new web-0, ready',
      async () => {
        const p = (await webPods()).find((x) => x.metadata.name === 'web-0');
        return p && p.metadata.uid !== web0.metadata.uid && isReady(p) ? p : undefined;
      },
      120_000,
    );
    const newNode = (await c.getJson<{ spec: { nodeName: string } }>(['get', 'pod', 'web-0'])).spec.nodeName;
    expect(newNode).not.toBe(node);
    expect(back.metadata.name).toBe('web-0');
  }, 240_000);
});

describe('StatefulSet with volumeClaimTemplates (the tutorial web.yaml as written)', () => {
  const ns = 'tutorial';

  it('each pod writes to its own PVC; after kubectl delete pod web-1 the new web-1 reads what the old one wrote', async () => {
    await kubectl(['create', 'namespace', ns]);
    // without a default StorageClass (no dynamic provisioner) a user brings a PersistentVolume per claim
    const classes = await c.getJson<{ items: { metadata: { annotations?: Record<string, string> } }[] }>([
      'get',
      'storageclass',
    ]);
    const hasDefault = classes.items.some(
      (s) => s.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
    );
    if (!hasDefault)
      for (const i of [0, 1, 2])
        await kubectl(
          ['apply', '-f', '-'],
          `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${ns}-pv-${i}
spec:
  capacity:
    storage: 1Gi
  accessModes: [ "ReadWriteOnce" ]
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: ${c.stateDir}/pv-${i}
    type: DirectoryOrCreate
`,
        );
    await kubectl(['apply', '-f', '-'], webYaml(ns, 3, true));
    await c.waitFor(
      'three Bound claims and three ready pods',
      async () => {
        const pvcs = await c.getJson<{ items: { metadata: { name: string }; status: { phase?: string } }[] }>(
          ['get', 'pvc', '-n', ns, '-l', 'app=nginx'],
        );
        const bound = pvcs.items
          .filter((p) => p.status.phase === 'Bound')
          .map((p) => p.metadata.name)
          .sort();
        const pods = await webPods(ns);
        return bound.join() === 'www-web-0,www-web-1,www-web-2' && pods.length === 3 && pods.every(isReady);
      },
      180_000,
    );
    for (const i of [0, 1, 2])
      await kubectl([
        'exec',
        '-n',
        ns,
        `web-${i}`,
        '--',
        'sh',
        '-c',
        'echo "$HOSTNAME" > /usr/share/nginx/html/index.html',
      ]);
    for (const i of [0, 1, 2])
      expect(
        (
          await kubectl(['exec', '-n', ns, `web-${i}`, '--', 'cat', '/usr/share/nginx/html/index.html'])
        ).trim(),
      ).toBe(`web-${i}`);
    const oldUid = (await webPods(ns)).find((p) => p.metadata.name === 'web-1')!.metadata.uid;
    await kubectl(['delete', 'pod', '-n', ns, 'web-1']);
    await c.waitFor(
      'a new web-1, ready',
      async () => {
        const p = (await webPods(ns)).find((x) => x.metadata.name === 'web-1');
        return !!p && p.metadata.uid !== oldUid && isReady(p);
      },
      120_000,
    );
    expect(
      (await kubectl(['exec', '-n', ns, 'web-1', '--', 'cat', '/usr/share/nginx/html/index.html'])).trim(),
    ).toBe('web-1');
    expect(
      (
        await c.getJson<{ spec: { volumes: { persistentVolumeClaim?: { claimName: string } }[] } }>([
          'get',
          'pod',
          '-n',
          ns,
          'web-1',
        ])
      ).spec.volumes.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName,
    ).toBe('www-web-1');
  }, 400_000);
});
