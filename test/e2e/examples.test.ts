// The course's scenarios in examples/ applied with the real kubectl to a `kubemu up` cluster, checked by real
// traffic; plus the node-failure scenario with `kubemu chaos` (pm2 mode).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type TestCluster } from '../helpers/cluster.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let cluster: TestCluster;

const must = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};
/** a plain GET; node:http rather than fetch, which drops a Host header */
const get = (url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
  new Promise((done, fail) => {
    const req = httpRequest(url, { headers, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}
const readyPods = async (selector: string): Promise<Pod[]> =>
  (await cluster.getJson<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items.filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

describe('examples/', () => {
  beforeAll(async () => {
    cluster = await upCluster({ nodes: 3 });
  });
  afterAll(async () => {
    await cluster?.down();
  });

  it('shopping-cart: NodePort on every node, an HPA with its target, and replicas restored after kill-node', async () => {
    must(await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'shopping-cart')]), 'apply');
    await cluster.waitFor(
      '2 Ready cart pods',
      async () => (await readyPods('app=cart')).length === 2,
      60_000,
    );
    for (const ip of ['127.0.1.1', '127.0.1.2', '127.0.1.3']) {
      const res = await cluster.waitFor(`cart via ${ip}:30080`, async () => {
        const r = await get(`http://${ip}:30080/cart/alice/items`);
        return r.status === 200 ? r : undefined;
      });
      expect(JSON.parse(res.body)).toMatchObject({ user: 'alice', items: [] });
    }
    const hpa = await cluster.getJson<{ spec: { minReplicas: number; maxReplicas: number } }>([
      'get',
      'hpa',
      'cart',
    ]);
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 5 });

    // node failure: kill a node hosting a cart pod; the Deployment gets its 2 replicas back on the others
    const victim = (await readyPods('app=cart'))[0].spec.nodeName!;
    const killed = await cluster.kubemu([
      'chaos',
      'kill-node',
      victim,
      '--name',
      cluster.name,
      '--state-dir',
      cluster.stateDir,
    ]);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toMatch(
      new RegExp(
        `^killed ${victim} \\(kubelet-${victim} pid \\d+, kube-proxy-${victim} pid \\d+; \\d+ pod process\\(es\\) with it\\); it stays down`,
      ),
    );
    const status = await cluster.status();
    expect(status.processes.filter((p) => p.name.endsWith(`-${victim}`)).map((p) => p.status)).toEqual([
      'stopped',
      'stopped',
    ]);
    await cluster.waitFor(
      '2 Ready cart pods off the dead node',
      async () => {
        const pods = await readyPods('app=cart');
        return pods.length === 2 && pods.every((p) => p.spec.nodeName !== victim);
      },
      60_000,
    );
    const back = await cluster.kubemu([
      'chaos',
      'restart-node',
      victim,
      '--name',
      cluster.name,
      '--state-dir',
      cluster.stateDir,
    ]);
    expect(back.code, back.stderr).toBe(0);
    await cluster.waitFor(
      `${victim} Ready again`,
      async () => {
        const n = await cluster.getJson<{ status?: { conditions?: { type: string; status: string }[] } }>([
          'get',
          'node',
          victim,
        ]);
        return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      },
      30_000,
    );
  }, 180_000);

  it('shopping-cart README: its kubectl and curl commands work as written', async () => {
    const readme = readFileSync(join(EXAMPLES, 'shopping-cart', 'README.md'), 'utf8');
    const lines = readme.split('\n').map((l) => l.replace(/\s+#.*$/, ''));
    const line = (start: RegExp): string => {
      const found = lines.find((l) => start.test(l));
      if (!found) throw new Error(`examples/shopping-cart/README.md has no line matching ${start}`);
      return found;
    };
    must(await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'shopping-cart') + '/']), 'apply');
    const args = line(/^kubectl rollout status /)
      .split(' ')
      .slice(1);
    must(await cluster.kubectl([...args, '--timeout=90s'], { timeoutMs: 100_000 }), 'rollout status');
    const shell = async (command: string): Promise<unknown> => {
      const r = await run('sh', ['-c', command], process.env, { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`${command}: exit ${r.code} ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    // the NodePort reaches the pods a moment after they are Ready (kube-proxy)
    const list = line(/^curl http:\/\/127\.0\.1\.1:30080\/cart/);
    const listed = await cluster.waitFor(list, () => shell(`${list} -s --fail`), 30_000);
    expect(listed).toMatchObject({ user: 'alice', items: expect.any(Array) });
    // the cart's reply to the README's POST, exactly as typed there
    expect(await shell(line(/^curl -X POST /))).toMatchObject({
      user: 'alice',
      items: [{ id: 'apple', quantity: 2 }],
    });
  }, 150_000);

  it('chaos kill COMPONENT: pm2 restarts the scheduler', async () => {
    const r = await cluster.kubemu([
      'chaos',
      'kill',
      'scheduler',
      '--name',
      cluster.name,
      '--state-dir',
      cluster.stateDir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^killed scheduler \(pid \d+\) with SIGKILL; pm2 restarted it as pid \d+/);
  });

  it('sidecar-volume: the reader serves what the writer writes to the shared emptyDir', async () => {
    must(await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'sidecar-volume')]), 'apply');
    const [pod] = await cluster.waitFor(
      'sidecar Ready',
      async () => {
        const pods = await readyPods('app=sidecar');
        return pods.length === 1 ? pods : undefined;
      },
      60_000,
    );
    // the README's way: from the writer's container to the reader's port on the pod IP (which the host does not
    // reach with --network=netns, as on a real cluster)
    const readme = readFileSync(join(EXAMPLES, 'sidecar-volume', 'README.md'), 'utf8');
    expect(readme).toContain(`kubectl exec sidecar -c writer -- sh -c 'wget -qO- http://$POD_IP:8080/'`);
    const body = await cluster.waitFor(
      'writer lines via the reader',
      async () => {
        const r = await cluster.kubectl([
          ...['exec', 'sidecar', '-c', 'writer', '--'],
          ...['sh', '-c', 'wget -qO- http://$POD_IP:8080/'],
        ]);
        return r.code === 0 && r.stdout.trim().split('\n').length >= 2 ? r.stdout : undefined;
      },
      30_000,
    );
    expect(body).toMatch(new RegExp(`^\\S+ ${pod.metadata.name} line 1$`, 'm'));
  }, 120_000);

  it('tls-passthrough: the pod terminates TLS with the Secret behind a LoadBalancer on :443', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubemu-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tls.example.com'],
          ...[
            '-addext',
            'subjectAltName=DNS:tls.example.com',
            '-keyout',
            join(dir, 'tls.key'),
            '-out',
            join(dir, 'tls.crt'),
          ],
        ],
        { stdio: 'ignore' },
      );
      must(
        await cluster.kubectl([
          'create',
          'secret',
          'tls',
          'tls-echo',
          `--cert=${join(dir, 'tls.crt')}`,
          `--key=${join(dir, 'tls.key')}`,
        ]),
        'secret',
      );
      must(await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'tls-passthrough')]), 'apply');
      const ip = await cluster.waitFor(
        'LoadBalancer IP',
        async () => {
          const s = await cluster.getJson<{ status: { loadBalancer?: { ingress?: { ip: string }[] } } }>([
            'get',
            'service',
            'tls-echo',
          ]);
          return s.status.loadBalancer?.ingress?.[0]?.ip;
        },
        60_000,
      );
      expect(ip).toMatch(/^127\.0\.2\.\d+$/);
      const ca = readFileSync(join(dir, 'tls.crt'));
      const answer = await cluster.waitFor(
        'HTTPS through the LoadBalancer',
        () =>
          new Promise<string | undefined>((done) => {
            const req = request(
              { host: ip, port: 443, path: '/hello', servername: 'tls.example.com', ca, timeout: 3_000 },
              (res) => {
                let b = '';
                res.on('data', (c: Buffer) => (b += c.toString()));
                res.on('end', () => done(res.statusCode === 200 ? b : undefined));
              },
            );
            req.on('error', () => done(undefined));
            req.on('timeout', () => req.destroy());
            req.end();
          }),
        60_000,
      );
      expect(JSON.parse(answer)).toMatchObject({ path: '/hello', sni: 'tls.example.com' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('ingress-fanout: /sales, /users, the host rule and the default backend reach their Services', async () => {
    must(await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'ingress-fanout')]), 'apply');
    for (const app of ['sales', 'users', 'catch-all'])
      await cluster.waitFor(`${app} Ready`, async () => (await readyPods(`app=${app}`)).length === 1, 60_000);
    const status = await cluster.status();
    expect(status.ingress.http, 'kubemu status reports no ingress address').toBeTruthy();
    const base = status.ingress.http!.replace(/\/$/, '');
    const servedBy = async (path: string, headers: Record<string, string> = {}): Promise<string> =>
      cluster.waitFor(
        `ingress ${path}`,
        async () => {
          const r = await get(`${base}${path}`, headers);
          return r.status === 200 ? (JSON.parse(r.body) as { pod?: string }).pod : undefined;
        },
        30_000,
      );
    expect(await servedBy('/sales/orders')).toMatch(/^sales-/);
    expect(await servedBy('/users/alice')).toMatch(/^users-/);
    expect(await servedBy('/elsewhere')).toMatch(/^catch-all-/);
    expect(await servedBy('/', { host: 'shop.example.com' })).toMatch(/^sales-/);
  }, 120_000);
});
