// The course's shopping cart under load: the Horizontal Pod Autoscaler scales it up, then back down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
});

afterAll(async () => {
  await c?.down();
});

const cart = (name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: cart
        image: kubemu/cart:v1
        resources:
          requests: {cpu: 100m}
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: NodePort
  selector: {app: ${name}}
  ports:
  - port: 80
    targetPort: 8080
`;

async function replicas(name: string): Promise<number> {
  const d = await c.getJson(['get', 'deploy', name]);
  return d.spec.replicas as number;
}

/** Keep `workers` request loops busy against the NodePort until stopped; each request burns 20 ms of CPU. */
function load(nodePort: number, workers = 6): { stop(): Promise<{ ok: number; failed: number }> } {
  let running = true;
  let ok = 0;
  let failed = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      try {
        const r = await fetch(`http://127.0.1.${1 + (w % 3)}:${nodePort}/cart/u${w}/items?burn=20`, {
          signal: AbortSignal.timeout(5000),
        });
        await r.text();
        ok++;
      } catch {
        failed++;
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

describe('metrics', () => {
  it("kubectl top nodes and top pods print upstream columns from the kubelets' measurements", async () => {
    expect(
      (await c.kubectl(['run', 'busy', '--image=busybox', '--', 'sh', '-c', 'while true; do :; done'])).code,
    ).toBe(0);
    const pods = await c.waitFor(
      'top pods shows the busy pod using CPU',
      async () => {
        const r = await c.kubectl(['top', 'pods']);
        const m = r.stdout.match(/^busy\s+(\d+)m\s+(\d+)Mi\s*$/m);
        return m && Number(m[1]) > 50 ? r.stdout : undefined;
      },
      30_000,
    );
    expect(pods).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
    const nodes = await c.kubectl(['top', 'nodes']);
    expect(nodes.code, nodes.stderr).toBe(0);
    // kubectl 1.33 (picked for a 1.33 server) heads the percentages CPU(%) and MEMORY(%), earlier ones CPU% and MEMORY%
    expect(nodes.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(?%\)?\s+MEMORY\(bytes\)\s+MEMORY\(?%\)?\s*$/m);
    expect(nodes.stdout.match(/^node-\d\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/gm)).toHaveLength(3);
    await c.kubectl(['delete', 'pod', 'busy', '--grace-period=0', '--force']);
  });
});

describe('HorizontalPodAutoscaler', () => {
  it('scales the cart up under load and back to the minimum after it; a minReplicas 3 HPA never drops below 3', async () => {
    expect((await c.kubectl(['apply', '-f', '-'], { input: cart('cart') })).code).toBe(0);
    expect((await c.kubectl(['apply', '-f', '-'], { input: cart('floor') })).code).toBe(0);
    const auto = await c.kubectl([
      'autoscale',
      'deployment',
      'cart',
      '--min=1',
      '--max=5',
      '--cpu-percent=50',
    ]);
    expect(auto.stdout.trim()).toBe('horizontalpodautoscaler.autoscaling/cart autoscaled');
    expect(
      (await c.kubectl(['autoscale', 'deployment', 'floor', '--min=3', '--max=5', '--cpu-percent=50'])).code,
    ).toBe(0);
    await c.waitFor(
      'cart Ready',
      async () => (await c.getJson(['get', 'deploy', 'cart'])).status.readyReplicas === 1,
    );
    const watch = kubectlStream(c.kubeconfig, ['get', 'hpa', 'cart', '-w']);
    let floorMin = Infinity;
    const floorSampler = setInterval(() => {
      void replicas('floor').then(
        (n) => (floorMin = Math.min(floorMin, n)),
        () => undefined,
      );
    }, 1000);
    try {
      await c.waitFor(
        'metrics for the cart',
        async () => /cpu: \d+%\/50%/.test((await c.kubectl(['get', 'hpa', 'cart'])).stdout),
        30_000,
      );
      const nodePort = (await c.getJson(['get', 'svc', 'cart'])).spec.ports[0].nodePort as number;
      const traffic = load(nodePort);
      const loadStarted = Date.now();
      try {
        await c.waitFor('at least 3 replicas', async () => (await replicas('cart')) >= 3, 30_000);
      } finally {
        const counts = await traffic.stop();
        console.log(
          `hpa: ≥3 replicas ${Date.now() - loadStarted} ms after the load started; ${counts.ok} requests, ${counts.failed} failed`,
        );
      }
      const loadStopped = Date.now();
      // downscale stabilization is 15 s in kubemu (upstream 300 s): back to 1 within that plus 30 s
      await c.waitFor('back to 1 replica', async () => (await replicas('cart')) === 1, 45_000);
      console.log(`hpa: back to 1 replica ${Date.now() - loadStopped} ms after the load stopped`);
    } finally {
      clearInterval(floorSampler);
      watch.stop();
    }
    const lines = watch.output().trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/);
    const seenReplicas = new Set(lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[6])));
    expect(Math.max(...seenReplicas)).toBeGreaterThanOrEqual(3);
    expect(seenReplicas.has(1)).toBe(true);
    const d = await c.kubectl(['describe', 'hpa', 'cart']);
    expect(d.stdout).toMatch(
      /SuccessfulRescale\s+.*New size: \d; reason: cpu resource utilization \(percentage of request\) above target/,
    );
    expect(d.stdout).toMatch(/SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/);
    expect(floorMin).toBeGreaterThanOrEqual(3);
    expect(await replicas('floor')).toBe(3);
  });
});
