// The official client libraries against one running cluster, called as their users call them: the Python
// client (Debian's python3-kubernetes, scripts in test/fixtures/python-client/) and @kubernetes/client-node,
// with the kubeconfig `kubemu up` wrote, including exec and port-forward through each client's own WebSocket code.
import http from 'node:http';
import net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import { ensurePythonClient, runPythonScript, spawnPythonScript } from '../helpers/python-client.js';

let c: TestCluster;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  await ensurePythonClient();
  c = await upCluster({ nodes: 1 });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  for (const ns of ['py-watch', 'py-crud', 'py-sub', 'node-crud', 'node-watch', 'streams'])
    expect((await c.kubectl(['create', 'namespace', ns])).code).toBe(0);
  // a shell and a web server for exec and port-forward, as the docs make them
  for (const args of [
    ['run', 'shell', '--image=busybox', '--restart=Never', '--', 'sleep', '3600'],
    ['run', 'hello', '--image=kubemu/hello:v1', '--port=8080'],
  ])
    expect((await c.kubectl(['-n', 'streams', ...args])).code).toBe(0);
}, 900_000);

afterAll(async () => {
  await c?.down();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A pod that prints `tick N` twice a second, from a manifest as a user writes one. */
function tickerPod(namespace: string, name: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  containers:
  - name: ticker
    image: busybox:1.36
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done"]
`;
}

async function waitRunning(namespace: string, pod: string): Promise<void> {
  await c.waitFor(`${namespace}/${pod} Running`, async () => {
    const p = await c.getJson(['get', 'pod', '-n', namespace, pod]);
    return p.status?.phase === 'Running';
  });
}

describe('the Python client (python3-kubernetes)', () => {
  let watchEvents: {
    type: string;
    name: string;
    resourceVersion: string;
    data: Record<string, string> | null;
  }[];

  it('watch.Watch().stream sees ADDED, MODIFIED and DELETED for every change, in order', async () => {
    await kubectlOk(['create', 'configmap', 'sentinel', '-n', 'py-watch']);
    // every namespace has the root-CA publisher's kube-root-ca.crt, as upstream's do: waited for here, so the
    // watch's initial state is exactly it and the sentinel, whose ADDED shows the watch is open before anything changes
    await c.waitFor('kube-root-ca.crt in py-watch', async () =>
      (await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'py-watch'])).code === 0
        ? true
        : undefined,
    );
    const w = spawnPythonScript('watch.py', ['py-watch', '8'], c.kubeconfig);
    try {
      // the interpreter's start (importing the client) takes tens of seconds on a loaded machine
      const initial = await w.waitForLines(2, 120_000);
      expect(
        initial
          .slice(0, 2)
          .map((e) => `${e.type} ${e.name}`)
          .sort(),
      ).toEqual(['ADDED kube-root-ca.crt', 'ADDED sentinel']);
      await kubectlOk(['create', 'configmap', 'a', '-n', 'py-watch', '--from-literal=k=1']);
      await kubectlOk([
        'patch',
        'configmap',
        'a',
        '-n',
        'py-watch',
        '--type=merge',
        '-p',
        '{"data":{"k":"2"}}',
      ]);
      await kubectlOk(['create', 'configmap', 'b', '-n', 'py-watch']);
      await kubectlOk(['label', 'configmap', 'a', '-n', 'py-watch', 'step=4']);
      await kubectlOk(['delete', 'configmap', 'a', '-n', 'py-watch']);
      await kubectlOk(['delete', 'configmap', 'b', '-n', 'py-watch']);
      watchEvents = (await w.waitForLines(8)).slice(2);
      expect(await w.exited()).toBe(0);
    } finally {
      w.stop();
    }
    expect(watchEvents.map((e) => `${e.type} ${e.name}`)).toEqual([
      'ADDED a',
      'MODIFIED a',
      'ADDED b',
      'MODIFIED a',
      'DELETED a',
      'DELETED b',
    ]);
    expect(watchEvents.map((e) => e.data?.['k'] ?? null)).toEqual(['1', '2', null, '2', '2', null]);
    const rvs = watchEvents.map((e) => Number(e.resourceVersion));
    expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
    expect(new Set(rvs).size).toBe(rvs.length);
  });

  it('a watch resumed from a resourceVersion gets exactly the changes after it', async () => {
    const from = watchEvents[1].resourceVersion;
    const w = spawnPythonScript('watch.py', ['py-watch', '4', from], c.kubeconfig);
    try {
      const lines = await w.waitForLines(4);
      expect(lines.map((e) => `${e.type} ${e.name}`)).toEqual([
        'ADDED b',
        'MODIFIED a',
        'DELETED a',
        'DELETED b',
      ]);
      expect(await w.exited()).toBe(0);
    } finally {
      w.stop();
    }
  });

  it('lists, gets, creates, replaces, patches (strategic, JSON, merge), applies server-side and deletes with propagation', async () => {
    const out = await runPythonScript('crud.py', ['py-crud'], c.kubeconfig, 150_000);
    expect(out.created_uid).toBeTruthy();
    expect(out.get).toEqual({ color: 'blue' });
    expect(out.list).toEqual(['settings']);
    expect(out.replaced).toEqual({ color: 'blue', size: 'L' });
    expect(out.strategic).toEqual({ color: 'blue', size: 'L', shape: 'round' });
    expect(out.json_patch).toEqual({ color: 'red', shape: 'round' });
    expect(out.merge).toEqual({ color: 'red', tone: 'warm' });
    expect(out.apply_managers).toEqual(['alice']);
    expect(out.apply_conflict).toBe(409);
    expect(out.apply_forced).toBe('bob');
    expect(out.missing).toEqual({ status: 404, reason: 'NotFound' });
    expect(out.after_delete).toEqual([]);
    expect(out.foreground_rs_left).toEqual([]);
    expect(out.orphan_rs_left).toBe(1);
    expect(out.orphan_rs_owners).toEqual([null]);
  }, 180_000);

  it('reads and patches the scale and status subresources', async () => {
    await kubectlOk(['create', 'deployment', 'web', '-n', 'py-sub', '--image=kubemu/hello:v1']);
    const out = await runPythonScript('subresources.py', ['py-sub', 'web'], c.kubeconfig);
    expect(out).toEqual({
      scale_before: { spec: 1, selector: 'app=web' },
      scaled: 3,
      spec_after_scale: 3,
      status_generation: expect.any(Boolean),
      status_patch_spec: 3,
      status_patch_conditions: expect.arrayContaining(['Audited']),
    });
  });

  it('reads a pod log with tail and timestamps, and follows it', async () => {
    await kubectlOk(['apply', '-f', '-'], tickerPod('py-sub', 'ticker'));
    await waitRunning('py-sub', 'ticker');
    await c.waitFor('a first tick', async () =>
      (await kubectlOk(['logs', '-n', 'py-sub', 'ticker'])).includes('tick'),
    );
    const w = spawnPythonScript('logs.py', ['py-sub', 'ticker', '4'], c.kubeconfig);
    try {
      const lines = await w.waitForLines(5);
      expect(lines[0].tail).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick \d+\n$/);
      const ticks = lines.slice(1).map((l) => Number(/^tick (\d+)$/.exec(l.line)?.[1]));
      // followed: the lines keep coming after the ones already written, one after the other
      expect(ticks.every((n) => Number.isInteger(n))).toBe(true);
      expect(ticks).toEqual(ticks.map((_, i) => ticks[0] + i));
      expect(await w.exited()).toBe(0);
    } finally {
      w.stop();
    }
  });

  it('exec through kubernetes.stream.stream: one-shot, channel by channel with the exit status, interactive stdin', async () => {
    await waitRunning('streams', 'shell');
    const out = await runPythonScript('exec.py', ['streams', 'shell'], c.kubeconfig);
    expect(out).toEqual({
      oneshot: 'to stdout\nto stderr\n',
      stdout: 'to stdout\n',
      stderr: 'to stderr\n',
      returncode: 0,
      failing: { stderr: 'failing\n', returncode: 3 },
      failing_30_times: [3],
      interactive_stdout: 'This message goes to stdout',
      interactive_stderr: 'This message goes to stderr',
      interactive_bytes: 'sent as bytes',
      interactive_open: false,
      interactive_returncode: 7,
    });
  });

  it('port-forward through kubernetes.stream.portforward: HTTP to one port, the error of a closed one', async () => {
    await waitRunning('streams', 'hello');
    const out = await runPythonScript('portforward.py', ['streams', 'hello', '8080', '9999'], c.kubeconfig);
    expect(out.status_line).toBe('HTTP/1.1 200 OK');
    expect(out.body).toBe('Hello from hello (v1)\n');
    expect(out.error).toBeNull();
    expect(out.closed_error).toMatch(
      /^error forwarding port 9999 to pod hello, uid [0-9a-f-]+: .*connection refused/,
    );
  });
});

describe('malformed query parameters', () => {
  it("get upstream's 400 with Go's error text", async () => {
    const r = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/configmaps?limit=ten']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Error from server (BadRequest): strconv.ParseInt: parsing "ten": invalid syntax',
    );
    const t = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/configmaps?timeout=soon']);
    expect(t.stderr).toContain(
      'Error from server (BadRequest): invalid timeout specified in the request URL - time: invalid duration "soon"',
    );
  });
});

describe('@kubernetes/client-node', () => {
  it('lists, gets, creates, replaces, patches (merge, strategic, JSON), applies server-side, and answers 404', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = 'node-crud';
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings', labels: { app: 'node' } }, data: { color: 'blue' } },
    });
    expect((await core.readNamespacedConfigMap({ name: 'settings', namespace })).data).toEqual({
      color: 'blue',
    });
    const listed = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=node' });
    expect(listed.items.map((x) => x.metadata?.name)).toEqual(['settings']);
    const current = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    const replaced = await core.replaceNamespacedConfigMap({
      name: 'settings',
      namespace,
      body: { ...current, data: { ...current.data, size: 'L' } },
    });
    expect(replaced.data).toEqual({ color: 'blue', size: 'L' });
    const patch = async (body: object, strategy: k8s.PatchStrategy): Promise<k8s.V1ConfigMap> =>
      core.patchNamespacedConfigMap(
        { name: 'settings', namespace, body, fieldManager: 'node-test' },
        k8s.setHeaderOptions('Content-Type', strategy),
      );
    expect((await patch({ data: { shape: 'round' } }, k8s.PatchStrategy.MergePatch)).data).toEqual({
      color: 'blue',
      size: 'L',
      shape: 'round',
    });
    expect((await patch({ data: { size: null } }, k8s.PatchStrategy.StrategicMergePatch)).data).toEqual({
      color: 'blue',
      shape: 'round',
    });
    expect(
      (await patch([{ op: 'replace', path: '/data/color', value: 'red' }], k8s.PatchStrategy.JsonPatch)).data,
    ).toEqual({ color: 'red', shape: 'round' });
    const applied = await core.patchNamespacedConfigMap(
      {
        name: 'applied',
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'applied' },
          data: { owner: 'alice' },
        },
        fieldManager: 'alice',
        force: true,
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    expect(applied.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([
      ['alice', 'Apply'],
    ]);
    await expect(core.readNamespacedConfigMap({ name: 'nope', namespace })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('deletes with Foreground and Orphan propagation', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const namespace = 'node-crud';
    const replicaSets = async (app: string): Promise<k8s.V1ReplicaSet[]> =>
      (await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${app}` })).items;
    for (const [name, policy] of [
      ['node-fg', 'Foreground'],
      ['node-orphan', 'Orphan'],
    ] as const) {
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name },
          spec: {
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              // hello drains its connections on SIGTERM: a short grace keeps the foreground delete short
              spec: {
                terminationGracePeriodSeconds: 2,
                containers: [{ name: 'web', image: 'kubemu/hello:v1' }],
              },
            },
          },
        },
      });
      await c.waitFor(`${name} ReplicaSet`, async () => (await replicaSets(name)).length === 1);
      await apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: policy });
      await c.waitFor(`${name} gone`, async () =>
        apps.readNamespacedDeployment({ name, namespace }).then(
          () => false,
          (e: { code?: number }) => e.code === 404,
        ),
      );
      const left = await replicaSets(name);
      if (policy === 'Foreground') expect(left).toEqual([]);
      else expect(left.map((rs) => rs.metadata?.ownerReferences)).toEqual([undefined]);
    }
  });

  it('watches in order and resumes from a resourceVersion', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = 'node-watch';
    const start = (await core.listNamespacedConfigMap({ namespace })).metadata?.resourceVersion;
    const collect = (resourceVersion: string, count: number): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const seen: string[] = [];
        const timer = setTimeout(() => reject(new Error(`watch saw only ${seen.join(', ')}`)), 30_000);
        let controller: AbortController | undefined;
        void new k8s.Watch(kc)
          .watch(
            `/api/v1/namespaces/${namespace}/configmaps`,
            { resourceVersion },
            (type, obj: k8s.V1ConfigMap) => {
              seen.push(`${type} ${obj.metadata?.name} ${obj.metadata?.resourceVersion}`);
              if (seen.length === count) {
                clearTimeout(timer);
                controller?.abort();
                resolve(seen);
              }
            },
            (err: unknown) => {
              if (seen.length < count && err)
                reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
            },
          )
          .then((ctl) => (controller = ctl));
      });
    const all = collect(start!, 4);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'one' } } });
    await core.patchNamespacedConfigMap(
      { name: 'one', namespace, body: { data: { k: 'v' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'two' } } });
    await core.deleteNamespacedConfigMap({ name: 'one', namespace });
    const events = await all;
    expect(events.map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual([
      'ADDED one',
      'MODIFIED one',
      'ADDED two',
      'DELETED one',
    ]);
    const resumed = await collect(events[1].split(' ')[2], 2);
    expect(resumed.map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual(['ADDED two', 'DELETED one']);
  });

  it('follows a pod log', async () => {
    await kubectlOk(['apply', '-f', '-'], tickerPod('node-watch', 'ticker'));
    await waitRunning('node-watch', 'ticker');
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const controller = await new k8s.Log(kc).log('node-watch', 'ticker', 'ticker', stream, {
      follow: true,
      tailLines: 1,
    });
    try {
      // with tailLines=1 only one line was there at the start; three more prove the stream stays open
      const lines = await c.waitFor('4 followed lines', () => {
        const l = text.split('\n').filter(Boolean);
        return Promise.resolve(l.length >= 4 ? l : undefined);
      });
      const ticks = lines.map((l) => Number(/^tick (\d+)$/.exec(l)?.[1]));
      expect(ticks.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => ticks[0] + i));
    } finally {
      controller.abort();
    }
  });

  it('execs with stdout/stderr streams and the status callback, a non-zero exit, and stdin to its end', async () => {
    await waitRunning('streams', 'shell');
    const exec = new k8s.Exec(kc);
    const run = (
      command: string[],
      stdin: Readable | null,
    ): Promise<{ stdout: string; stderr: string; status: k8s.V1Status }> =>
      new Promise((resolve, reject) => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let out = '';
        let err = '';
        stdout.on('data', (d: Buffer) => (out += d.toString()));
        stderr.on('data', (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => reject(new Error(`no status; stdout ${out}, stderr ${err}`)), 30_000);
        exec
          .exec('streams', 'shell', 'shell', command, stdout, stderr, stdin, false, (status) => {
            clearTimeout(timer);
            resolve({ stdout: out, stderr: err, status });
          })
          .catch(reject);
      });
    const ok = await run(['sh', '-c', 'echo to stdout; echo to stderr >&2'], null);
    expect(ok).toEqual({
      stdout: 'to stdout\n',
      stderr: 'to stderr\n',
      status: { metadata: {}, status: 'Success' },
    });
    const failed = await run(['sh', '-c', 'echo failing >&2; exit 3'], null);
    expect(failed.stderr).toBe('failing\n');
    expect(failed.status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // stdin's end reaches the command (v5's CLOSE), so `tr` finishes
    const piped = await run(['tr', 'a-z', 'A-Z'], Readable.from([Buffer.from('shout\n')]));
    expect(piped.stdout).toBe('SHOUT\n');
    expect(piped.status.status).toBe('Success');
  });

  it('port-forwards with PortForward: HTTP through a local server, the error of a closed port', async () => {
    await waitRunning('streams', 'hello');
    const forward = new k8s.PortForward(kc);
    const errors: string[] = [];
    const listen = (port: number): Promise<net.Server> =>
      new Promise((resolve) => {
        // as the client's example does: every local connection its own forward
        const server = net.createServer((socket) => {
          const err = new PassThrough();
          err.on('data', (d: Buffer) => errors.push(d.toString()));
          forward.portForward('streams', 'hello', [port], socket, err, socket).catch((e: unknown) => {
            errors.push(String(e));
            socket.destroy();
          });
        });
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    const get = (server: net.Server): Promise<{ status?: number; body: string }> =>
      new Promise((resolve, reject) => {
        const { port } = server.address() as net.AddressInfo;
        const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.setTimeout(30_000, () => req.destroy(new Error('no answer through the forward')));
        req.on('error', reject);
      });
    const web = await listen(8080);
    try {
      for (let i = 0; i < 3; i++)
        expect(await get(web)).toEqual({ status: 200, body: 'Hello from hello (v1)\n' });
      expect(errors).toEqual([]);
    } finally {
      web.close();
    }
    const closed = await listen(9999);
    try {
      // client-node leaves the local connection open when the forward ends: the error is what the user sees
      const socket = net.connect((closed.address() as net.AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      try {
        await c.waitFor('the error of port 9999', () => Promise.resolve(errors.length > 0));
      } finally {
        socket.destroy();
      }
      expect(errors.join('')).toMatch(
        /^error forwarding port 9999 to pod hello, uid [0-9a-f-]+: .*connection refused/,
      );
    } finally {
      closed.close();
    }
  });

  it('reads and patches the scale and status subresources', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await kubectlOk(['create', 'deployment', 'scaled', '-n', 'node-watch', '--image=kubemu/hello:v1']);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: 'node-watch' });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe('app=scaled');
    // replace with the scale just read: its resourceVersion guards against a concurrent change (409 on one)
    const scaled = await apps.replaceNamespacedDeploymentScale({
      name: 'scaled',
      namespace: 'node-watch',
      body: { metadata: { name: 'scaled', namespace: 'node-watch' }, spec: { replicas: 2 } },
    });
    expect(scaled.spec?.replicas).toBe(2);
    const patched = await apps.patchNamespacedDeploymentStatus(
      {
        name: 'scaled',
        namespace: 'node-watch',
        body: { spec: { replicas: 9 }, status: { conditions: [{ type: 'Audited', status: 'True' }] } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.replicas).toBe(2);
    expect(patched.status?.conditions?.map((x) => x.type)).toContain('Audited');
  });
});
