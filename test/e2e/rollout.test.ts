// Controllers end to end: rolling updates within their bounds, undo, a stalled rollout, cascading deletes.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromKubeconfig, type ApiConnection, type KubeClient } from '../../src/client/index.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

let c: TestCluster;
let api: { client: KubeClient; connection: ApiConnection };

beforeAll(async () => {
  c = await upCluster({ nodes: 3 });
  api = fromKubeconfig(c.kubeconfig);
});

afterAll(async () => {
  await api?.connection.close();
  await c?.down();
});

const deployment = (name: string, replicas: number, image: string, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
${extra}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: ${image}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`;

const isReady = (p: Pod): boolean => p.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';

async function readyCount(app: string): Promise<number> {
  const pods = await api.client.pods.list({ namespace: 'default', labelSelector: `app=${app}` });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp && isReady(p)).length;
}

describe('Deployment rollout', () => {
  it('rolls 6 replicas v1 → v2 within maxSurge/maxUnavailable, rollout status returns 0, undo goes back', async () => {
    expect(
      (await c.kubectl(['apply', '-f', '-'], { input: deployment('web', 6, 'kubemu/hello:v1') })).code,
    ).toBe(0);
    const first = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s'], {
      timeoutMs: 100_000,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/deployment "web" successfully rolled out/);
    expect(await readyCount('web')).toBe(6);

    // sample every change during the rollout through a watch
    const pods = new Map<string, Pod>();
    for (const p of (await api.client.pods.list({ namespace: 'default', labelSelector: 'app=web' })).items)
      pods.set(p.metadata!.name!, p);
    let minReady = Infinity;
    let maxExisting = 0;
    const sample = (): void => {
      const live = [...pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
      minReady = Math.min(minReady, live.filter(isReady).length);
      maxExisting = Math.max(maxExisting, live.length);
    };
    const listRV = (await api.client.pods.list({ namespace: 'default', labelSelector: 'app=web', limit: 1 }))
      .metadata?.resourceVersion;
    const sub = api.connection.watch(
      {
        verb: 'watch',
        group: '',
        version: 'v1',
        resource: 'pods',
        namespace: 'default',
        options: { labelSelector: 'app=web', resourceVersion: listRV ?? '0' },
      },
      (ev) => {
        const p = ev.object as Pod;
        if (ev.type === 'DELETED') pods.delete(p.metadata!.name!);
        else if (ev.type !== 'BOOKMARK') pods.set(p.metadata!.name!, p);
        sample();
      },
      () => undefined,
    );
    try {
      const set = await c.kubectl(['set', 'image', 'deployment/web', 'app=kubemu/hello:v2']);
      expect(set.stdout.trim()).toBe('deployment.apps/web image updated');
      const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], {
        timeoutMs: 130_000,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        /Waiting for deployment "web" rollout to finish: \d+ (out of 6 new replicas have been updated|old replicas are pending termination|of 6 updated replicas are available)/,
      );
      expect(status.stdout).toMatch(/deployment "web" successfully rolled out/);
    } finally {
      sub.stop();
    }
    // 25%/25% of 6: maxUnavailable 1 (rounded down), maxSurge 2 (rounded up)
    expect(minReady).toBeGreaterThanOrEqual(5);
    expect(maxExisting).toBeLessThanOrEqual(8);
    expect(maxExisting).toBeGreaterThan(6);
    // every pod still running (old ones may still be draining connections as Terminating) runs v2
    const live = (await c.getJson(['get', 'pods', '-l', 'app=web'])).items.filter(
      (p: any) => !p.metadata.deletionTimestamp,
    );
    expect(new Set(live.map((p: any) => p.spec.containers[0].image))).toEqual(new Set(['kubemu/hello:v2']));
    const history = await c.kubectl(['rollout', 'history', 'deployment/web']);
    expect(history.stdout).toMatch(/^REVISION\s+CHANGE-CAUSE/m);
    expect(history.stdout).toMatch(/^1\s+<none>/m);
    expect(history.stdout).toMatch(/^2\s+<none>/m);

    const undo = await c.kubectl(['rollout', 'undo', 'deployment/web']);
    expect(undo.stdout.trim()).toBe('deployment.apps/web rolled back');
    expect(
      (await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }))
        .code,
    ).toBe(0);
    const after = (
      await c.kubectl(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])
    ).stdout;
    expect(after).toBe('kubemu/hello:v1');
    expect(
      (await c.kubectl(['get', 'rs', '-l', 'app=web', '-o', 'name'])).stdout.trim().split('\n'),
    ).toHaveLength(2);
  });

  it('a rollout to an unknown image stalls and reports ProgressDeadlineExceeded', async () => {
    expect(
      (
        await c.kubectl(['apply', '-f', '-'], {
          input: deployment('stuck', 2, 'kubemu/hello:v1', '  progressDeadlineSeconds: 5\n'),
        })
      ).code,
    ).toBe(0);
    expect(
      (await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=90s'], { timeoutMs: 100_000 }))
        .code,
    ).toBe(0);
    await c.kubectl(['set', 'image', 'deployment/stuck', 'app=kubemu/hello:v404']);
    const status = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=60s'], {
      timeoutMs: 70_000,
    });
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/deployment "stuck" exceeded its progress deadline/);
    const d = await c.getJson(['get', 'deploy', 'stuck']);
    expect(d.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }),
    );
    expect(await readyCount('stuck')).toBeGreaterThanOrEqual(1);
  });

  it('deletes cascade (background, foreground) or orphan, and a namespace takes everything with it', async () => {
    await c.kubectl(['create', 'namespace', 'tmp']);
    for (const n of ['bg', 'fg', 'orphan']) {
      expect(
        (await c.kubectl(['create', 'deployment', n, '--image=kubemu/hello:v1', '--replicas=2', '-n', 'tmp']))
          .code,
      ).toBe(0);
    }
    await c.waitFor(
      'pods of all three',
      async () => (await c.getJson(['get', 'pods', '-n', 'tmp'])).items.length === 6,
    );
    expect((await c.kubectl(['delete', 'deploy', 'bg', '-n', 'tmp', '--cascade=background'])).code).toBe(0);
    expect(
      (
        await c.kubectl(['delete', 'deploy', 'fg', '-n', 'tmp', '--cascade=foreground'], {
          timeoutMs: 60_000,
        })
      ).code,
    ).toBe(0);
    expect((await c.kubectl(['delete', 'deploy', 'orphan', '-n', 'tmp', '--cascade=orphan'])).code).toBe(0);
    await c.waitFor(
      'bg and fg pods gone',
      async () => {
        const left = (await c.getJson(['get', 'pods', '-n', 'tmp'])).items.map(
          (p: any) => p.metadata.labels.app,
        );
        return left.every((a: string) => a === 'orphan') && left.length === 2;
      },
      60_000,
    );
    const rs = (await c.getJson(['get', 'rs', '-n', 'tmp'])).items;
    expect(rs.map((r: any) => r.metadata.labels.app)).toEqual(['orphan']);
    expect(rs[0].metadata.ownerReferences ?? []).toEqual([]);
    const del = await c.kubectl(['delete', 'namespace', 'tmp'], { timeoutMs: 90_000 });
    expect(del.code, del.stderr).toBe(0);
    expect((await c.kubectl(['get', 'namespace', 'tmp'])).stderr).toMatch(/not found/);
  });
});
