// pods/eviction on the real registry: PodDisruptionBudgets are honoured as upstream's EvictionREST does.
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../../api/errors.js';
import { fakeCluster, markPodReady, setPodStatus, type FakeCluster } from '../../../testing/fake-cluster.js';

const ns = 'default';

async function pod(
  c: FakeCluster,
  name: string,
  opts: { ready?: boolean; labels?: Record<string, string> } = {},
) {
  const created = await c.client.pods.create({
    metadata: { name, namespace: ns, labels: opts.labels ?? { app: 'zk' } },
    spec: { containers: [{ name: 'app', image: 'kubemu/hello' }] },
  });
  if (opts.ready ?? true) await markPodReady(c, created);
  else {
    await c.client.pods.bind({
      metadata: { name, namespace: ns },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
    });
    await setPodStatus(c, name, ns, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
    });
  }
}

const pdbs = (c: FakeCluster) =>
  c.client.resource<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets');

/** a PDB with the status the disruption controller would have written */
async function budget(
  c: FakeCluster,
  name: string,
  status: {
    currentHealthy: number;
    desiredHealthy: number;
    disruptionsAllowed: number;
    expectedPods: number;
  },
  spec: PodDisruptionBudget['spec'] = {},
  observed = true,
): Promise<PodDisruptionBudget> {
  const created = await pdbs(c).create({
    metadata: { name, namespace: ns },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'zk' } }, ...spec },
  });
  return pdbs(c).updateStatus({
    ...created,
    status: { ...status, observedGeneration: observed ? created.metadata!.generation! : 0 },
  });
}

function evict(c: FakeCluster, name: string, body: Record<string, unknown> = {}, dryRun?: boolean) {
  return c.client.pods.createSubresource<{ metadata: { name: string } }, Status>(
    name,
    'eviction',
    { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns }, ...body } as never,
    { namespace: ns, ...(dryRun ? { dryRun: true } : {}) },
  );
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

const get = (c: FakeCluster, name: string): Promise<Pod> => c.client.pods.get(name, ns);

describe('pods/eviction', () => {
  it('without a budget deletes the pod gracefully, marked DisruptionTarget by the Eviction API', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await evict(c, 'zk-0');
    const p = await get(c, 'zk-0');
    expect(p.metadata?.deletionTimestamp).toBeTruthy();
    expect(p.status?.conditions?.find((x) => x.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
    });
  });

  it('refuses with 429 and the DisruptionBudget cause when the budget allows no disruption', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await budget(c, 'zk-pdb', {
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 2,
    });
    const err = await refusal(evict(c, 'zk-0'));
    expect(err.code).toBe(429);
    expect(err.reason).toBe('TooManyRequests');
    expect(err.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(err.details?.causes).toEqual([
      {
        reason: 'DisruptionBudget',
        message: 'The disruption budget zk-pdb needs 2 healthy pods and has 2 currently',
      },
    ]);
    expect((await get(c, 'zk-0')).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('takes one disruption from the budget, notes the pod, and refuses the next eviction', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await pod(c, 'zk-1');
    await budget(c, 'zk-pdb', {
      currentHealthy: 3,
      desiredHealthy: 2,
      disruptionsAllowed: 1,
      expectedPods: 3,
    });
    await evict(c, 'zk-0');
    const pdb = await pdbs(c).get('zk-pdb', ns);
    expect(pdb.status?.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb.status?.disruptedPods ?? {})).toEqual(['zk-0']);
    expect(pdb.status?.conditions?.find((x) => x.type === 'DisruptionAllowed')).toMatchObject({
      status: 'False',
      reason: 'InsufficientPods',
    });
    expect((await get(c, 'zk-0')).metadata?.deletionTimestamp).toBeTruthy();
    expect((await refusal(evict(c, 'zk-1'))).code).toBe(429);
  });

  it('asks to come back in 10 s while the budget is not yet processed (observedGeneration behind)', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await budget(
      c,
      'zk-pdb',
      { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 },
      {},
      false,
    );
    const err = await refusal(evict(c, 'zk-0'));
    expect(err.code).toBe(429);
    expect(err.details?.retryAfterSeconds).toBe(10);
    expect(err.details?.causes?.[0]?.message).toBe(
      'The disruption budget zk-pdb is still being processed by the server.',
    );
  });

  it('an unready pod: IfHealthyBudget evicts only while the budget is met, AlwaysAllow always', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0', { ready: false });
    await budget(c, 'zk-pdb', {
      currentHealthy: 1,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 3,
    });
    expect((await refusal(evict(c, 'zk-0'))).code).toBe(429);
    const pdb = await pdbs(c).get('zk-pdb', ns);
    await pdbs(c).update({ ...pdb, spec: { ...pdb.spec, unhealthyPodEvictionPolicy: 'AlwaysAllow' } });
    const updated = await pdbs(c).get('zk-pdb', ns);
    await pdbs(c).updateStatus({
      ...updated,
      status: { ...updated.status!, observedGeneration: updated.metadata!.generation! },
    });
    await evict(c, 'zk-0');
    expect((await get(c, 'zk-0')).metadata?.deletionTimestamp).toBeTruthy();
    // nothing was taken from the budget for an unhealthy pod
    expect((await pdbs(c).get('zk-pdb', ns)).status?.disruptedPods).toBeUndefined();
  });

  it('deletes a pending pod without asking its budget', async () => {
    const c = await fakeCluster();
    await c.client.pods.create({
      metadata: { name: 'zk-0', namespace: ns, labels: { app: 'zk' } },
      spec: { containers: [{ name: 'app', image: 'kubemu/hello' }] },
    });
    await budget(c, 'zk-pdb', {
      currentHealthy: 0,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 1,
    });
    await evict(c, 'zk-0');
    await expect(get(c, 'zk-0')).rejects.toMatchObject({ code: 404 });
  });

  it('dry run (query or deleteOptions) checks the budget and changes nothing', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await budget(c, 'zk-pdb', {
      currentHealthy: 3,
      desiredHealthy: 2,
      disruptionsAllowed: 1,
      expectedPods: 3,
    });
    await evict(c, 'zk-0', {}, true);
    await evict(c, 'zk-0', { deleteOptions: { dryRun: ['All'] } });
    expect((await get(c, 'zk-0')).metadata?.deletionTimestamp).toBeUndefined();
    expect((await pdbs(c).get('zk-pdb', ns)).status?.disruptionsAllowed).toBe(1);
  });

  it('accepts a policy/v1beta1 Eviction with deleteOptions, and refuses a body naming another pod', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    await evict(c, 'zk-0', { apiVersion: 'policy/v1beta1', deleteOptions: { gracePeriodSeconds: 0 } });
    await expect(get(c, 'zk-0')).rejects.toMatchObject({ code: 404 });
    await pod(c, 'zk-1');
    const err = await refusal(evict(c, 'zk-1', { metadata: { name: 'other', namespace: ns } }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('name in URL does not match name in Eviction object');
  });

  it('refuses a pod selected by two budgets with upstream 500', async () => {
    const c = await fakeCluster();
    await pod(c, 'zk-0');
    const s = { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 };
    await budget(c, 'a', s);
    await budget(c, 'b', s);
    const err = await refusal(evict(c, 'zk-0'));
    expect(err.code).toBe(500);
    expect(err.message).toBe(
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  });
});
