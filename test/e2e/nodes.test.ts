// Nodes and pods end to end: `kubemu up`, the real kubectl, real HTTP to pod IPs, real processes. On the loopback
// network (`--network=loopback`, the fallback where netns cannot run): its promise is that the host reaches every pod
// IP (127.244.N.x) itself, which these cases show; the netns network's pods (10.x, from pods only) are
// test/e2e/pod-network.test.ts's.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../src/util/pki.js';
import { alive, descendants, kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3, extraArgs: ['--network=loopback'] });
});

afterAll(async () => {
  await c?.down();
});

async function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

function apply(yaml: string) {
  return c.kubectl(['apply', '-f', '-'], { input: yaml });
}

async function podReady(name: string): Promise<any> {
  return c.waitFor(`pod ${name} Running and Ready`, async () => {
    const p = await c.getJson(['get', 'pod', name]);
    const ready = p.status?.conditions?.find((x: any) => x.type === 'Ready')?.status === 'True';
    return p.status?.phase === 'Running' && ready ? p : undefined;
  });
}

const pod = (name: string, image: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: main
    image: ${image}
${extra}`;

describe('kubemu up', () => {
  it('gives three Ready nodes, with upstream columns in kubectl get nodes -o wide', async () => {
    const r = await c.kubectl(['get', 'nodes', '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/,
    );
    expect(lines).toHaveLength(4);
    for (let n = 1; n <= 3; n++) {
      expect(lines[n]).toMatch(
        new RegExp(
          `^node-${n}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.\\d+\\.\\d+\\S*\\s+127\\.0\\.1\\.${n}\\s+<none>\\s+.+kubemu://`,
        ),
      );
    }
    const s = await c.status();
    expect(s.nodes.map((n) => [n.name, n.internalIP])).toEqual([
      ['node-1', '127.0.1.1'],
      ['node-2', '127.0.1.2'],
      ['node-3', '127.0.1.3'],
    ]);
    expect(s.apiServer.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a second up of the running cluster', async () => {
    const r = await c.kubemu(['up', '--name', c.name, '--state-dir', c.stateDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/already running/i);
  });
});

describe('built-in images as real processes', () => {
  it('kubemu/hello, echo and cart answer HTTP on their pod IPs', async () => {
    for (const [name, image] of [
      ['hello', 'kubemu/hello:v1'],
      ['echo', 'kubemu/echo:v1'],
      ['cart', 'kubemu/cart:v1'],
    ]) {
      const r = await apply(pod(name, image));
      expect(r.code, r.stderr).toBe(0);
    }
    const hello = await podReady('hello');
    expect(hello.status.podIP).toMatch(/^127\.244\.[1-3]\.\d+$/);
    const h = await c.waitFor(
      'hello answers',
      async () => (await httpGet(`http://${hello.status.podIP}:8080/`)).body,
    );
    expect(h).toContain('hello');
    expect(h).toContain('(v1)');
    const echo = await podReady('echo');
    const e = JSON.parse(
      await c.waitFor(
        'echo answers',
        async () => (await httpGet(`http://${echo.status.podIP}:8080/some/path?x=1`)).body,
      ),
    );
    expect(e).toMatchObject({ method: 'GET', path: '/some/path', pod: 'echo' });
    const cart = await podReady('cart');
    await c.waitFor(
      'cart answers',
      async () => (await httpGet(`http://${cart.status.podIP}:8080/healthz`)).status === 200,
    );
    const added = await fetch(`http://${cart.status.podIP}:8080/cart/alice/items`, {
      method: 'POST',
      body: JSON.stringify({ id: 'apple', quantity: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(added.status).toBeLessThan(300);
    const items = await httpGet(`http://${cart.status.podIP}:8080/cart/alice/items`);
    expect(items.body).toContain('apple');
  });

  it('kubemu/tls-echo terminates TLS itself with the certificate from a mounted Secret', async () => {
    const ca = await createCertificateAuthority('e2e-ca');
    const cert = await issueCertificate(ca, {
      commonName: 'tls.example.com',
      hosts: ['tls.example.com'],
      usages: ['server'],
    });
    const secretYaml = `apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: tls-echo-cert
data:
  tls.crt: ${Buffer.from(cert.certPem).toString('base64')}
  tls.key: ${Buffer.from(cert.keyPem).toString('base64')}
`;
    expect((await apply(secretYaml)).code).toBe(0);
    const r = await apply(
      pod(
        'tls',
        'kubemu/tls-echo:v1',
        `    volumeMounts:
    - name: cert
      mountPath: /etc/tls
  volumes:
  - name: cert
    secret:
      secretName: tls-echo-cert
`,
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    const p = await podReady('tls');
    const body = await c.waitFor(
      'tls-echo answers',
      () =>
        new Promise<string | undefined>((resolve) => {
          const req = httpsRequest(
            {
              host: p.status.podIP,
              port: 8443,
              path: '/hi',
              ca: ca.certPem,
              servername: 'tls.example.com',
              timeout: 2000,
            },
            (res) => {
              let b = '';
              res.on('data', (d: Buffer) => (b += d.toString()));
              res.on('end', () => resolve(b));
            },
          );
          req.on('error', () => resolve(undefined));
          req.end();
        }),
    );
    expect(body).toContain('/hi');
  });

  it('two pods on one node both listen on 8080', async () => {
    for (const n of ['twin-a', 'twin-b']) {
      expect((await apply(pod(n, 'kubemu/hello:v2', '  nodeName: node-2\n'))).code).toBe(0);
    }
    const a = await podReady('twin-a');
    const b = await podReady('twin-b');
    expect(a.spec.nodeName).toBe('node-2');
    expect(b.spec.nodeName).toBe('node-2');
    expect(a.status.podIP).not.toBe(b.status.podIP);
    expect(a.status.podIP).toMatch(/^127\.244\.2\./);
    const ra = await c.waitFor(
      'twin-a answers',
      async () => (await httpGet(`http://${a.status.podIP}:8080/`)).body,
    );
    const rb = await c.waitFor(
      'twin-b answers',
      async () => (await httpGet(`http://${b.status.podIP}:8080/`)).body,
    );
    expect(ra).toContain('twin-a');
    expect(rb).toContain('twin-b');
  });

  it('a writer and a reader share an emptyDir in one pod', async () => {
    const r = await apply(`apiVersion: v1
kind: Pod
metadata:
  name: sidecar
spec:
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: writer
    image: kubemu/writer:v1
    env: [{name: INTERVAL_MS, value: "200"}]
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: reader
    image: kubemu/reader:v1
    volumeMounts: [{name: shared, mountPath: /data}]
`);
    expect(r.code, r.stderr).toBe(0);
    const p = await podReady('sidecar');
    expect(p.status.containerStatuses.map((s: any) => s.ready)).toEqual([true, true]);
    const text = await c.waitFor('reader serves the writer lines', async () => {
      const res = await httpGet(`http://${p.status.podIP}:8080/`);
      return res.status === 200 && /line 2/.test(res.body) ? res.body : undefined;
    });
    expect(text).toMatch(/sidecar line 1/);
    const ready = await c.kubectl(['get', 'pod', 'sidecar']);
    expect(ready.stdout).toMatch(/^sidecar\s+2\/2\s+Running\s+0\s+/m);
  });

  it('busybox runs its command, and kubectl logs -f follows it', async () => {
    const r = await apply(
      pod(
        'ticker',
        'busybox',
        `    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]
`,
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    await podReady('ticker');
    const follow = kubectlStream(c.kubeconfig, ['logs', '-f', 'ticker']);
    try {
      await c.waitFor('logs -f streams new lines', () => Promise.resolve(/tick 8/.test(follow.output())));
    } finally {
      follow.stop();
    }
    expect(follow.output()).toMatch(/^tick 1$/m);
    const tail = await c.kubectl(['logs', 'ticker', '--tail=2']);
    expect(tail.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('failures the upstream way', () => {
  it('a crashing container reaches CrashLoopBackOff with growing restart counts', async () => {
    expect(
      (await apply(pod('crasher', 'busybox', '    command: ["sh", "-c", "echo about to fail; exit 3"]\n')))
        .code,
    ).toBe(0);
    const p = await c.waitFor(
      'CrashLoopBackOff with restarts ≥ 2',
      async () => {
        const x = await c.getJson(['get', 'pod', 'crasher']);
        const s = x.status?.containerStatuses?.[0];
        return s?.state?.waiting?.reason === 'CrashLoopBackOff' && s.restartCount >= 2 ? x : undefined;
      },
      60_000,
    );
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    const row = await c.kubectl(['get', 'pod', 'crasher']);
    // the back-off is compressed: by the time kubectl prints, the container may be running again (1/1 Running)
    expect(row.stdout).toMatch(
      /^crasher\s+[01]\/1\s+(CrashLoopBackOff|Error|Running)\s+[2-9]\d*\s+\(\S+ ago\)\s+\S+$/m,
    );
    const prev = await c.kubectl(['logs', 'crasher', '--previous']);
    expect(prev.stdout).toContain('about to fail');
  });

  it('a failing liveness probe restarts the container', async () => {
    expect(
      (
        await apply(
          pod(
            'unlive',
            'kubemu/hello:v1',
            `    livenessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
      failureThreshold: 2
`,
          ),
        )
      ).code,
    ).toBe(0);
    await c.waitFor(
      'a liveness restart',
      async () => {
        const x = await c.getJson(['get', 'pod', 'unlive']);
        return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
      },
      60_000,
    );
    const d = await c.kubectl(['describe', 'pod', 'unlive']);
    expect(d.stdout).toMatch(/Unhealthy\s+.*Liveness probe failed/);
    expect(d.stdout).toMatch(/Killing\s+.*failed liveness probe, will be restarted/);
  });

  it('a container over its memory limit is OOMKilled', async () => {
    expect(
      (
        await apply(
          pod(
            'hog',
            'busybox',
            `    command: ["sh", "-c", "exec node -e \\"const a=[]; setInterval(()=>a.push(Buffer.alloc(16<<20,1)),20)\\""]
    resources:
      limits: {memory: 100Mi}
  restartPolicy: Never
`,
          ),
        )
      ).code,
    ).toBe(0);
    const p = await c.waitFor(
      'OOMKilled',
      async () => {
        const x = await c.getJson(['get', 'pod', 'hog']);
        return x.status?.containerStatuses?.[0]?.state?.terminated?.reason === 'OOMKilled' ? x : undefined;
      },
      60_000,
    );
    expect(p.status.containerStatuses[0].state.terminated.exitCode).toBe(137);
    expect((await c.kubectl(['get', 'pod', 'hog'])).stdout).toMatch(/^hog\s+0\/1\s+OOMKilled\s+0\s+/m);
  });

  it('an unknown image goes ErrImagePull then ImagePullBackOff', async () => {
    expect((await apply(pod('ghost', 'kubemu/does-not-exist:v9'))).code).toBe(0);
    await c.waitFor(
      'ImagePullBackOff',
      async () => {
        const x = await c.getJson(['get', 'pod', 'ghost']);
        return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff';
      },
      60_000,
    );
    const d = await c.kubectl(['describe', 'pod', 'ghost']);
    expect(d.stdout).toMatch(/Failed to pull image "kubemu\/does-not-exist:v9"/);
  });

  it('a pod too big for any node stays Pending with a FailedScheduling event', async () => {
    expect(
      (
        await apply(
          pod(
            'huge',
            'kubemu/hello:v1',
            `    resources:
      requests: {cpu: "64"}
`,
          ),
        )
      ).code,
    ).toBe(0);
    const d = await c.waitFor('FailedScheduling event', async () => {
      const r = await c.kubectl(['describe', 'pod', 'huge']);
      return /FailedScheduling/.test(r.stdout) ? r.stdout : undefined;
    });
    expect(d).toMatch(/0\/3 nodes are available: 3 Insufficient cpu/);
    expect((await c.kubectl(['get', 'pod', 'huge'])).stdout).toMatch(/^huge\s+0\/1\s+Pending\s+0\s+/m);
  });
});

describe('node death', () => {
  it('SIGKILL of a kubelet takes its containers down with it', async () => {
    expect((await apply(pod('victim', 'kubemu/hello:v1', '  nodeName: node-3\n'))).code).toBe(0);
    const p = await podReady('victim');
    await c.waitFor(
      'victim answers',
      async () => (await httpGet(`http://${p.status.podIP}:8080/`)).status === 200,
    );
    const s = await c.status();
    const kubelet = s.processes.find((x) => x.name === 'kubelet-node-3');
    expect(kubelet, JSON.stringify(s.processes)).toBeTruthy();
    const children = descendants([kubelet!.pid]);
    expect(children.length).toBeGreaterThan(0);
    process.kill(kubelet!.pid, 'SIGKILL');
    const killedAt = Date.now();
    // the requirement: every container dies within a second of its kubelet
    while (children.some(alive) && Date.now() - killedAt < 1000) await new Promise((r) => setTimeout(r, 25));
    expect(children.filter(alive)).toEqual([]);
  });
});
