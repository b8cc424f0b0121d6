import { describe, it, expect, afterEach } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, setPodStatus, settle, type FakeCluster } from '../../testing/fake-cluster.js';
import { PodGCController } from './pod-gc-controller.js';

const PERIOD = 2_000;

/** create a pod as its kubelet would report it: bound to `node` (if given), in `phase` */
async function pod(
  c: FakeCluster,
  name: string,
  opts: { node?: string; phase?: string; finalizers?: string[] } = {},
): Promise<void> {
  await c.client.pods.create({
    metadata: { name, namespace: 'default', ...(opts.finalizers ? { finalizers: opts.finalizers } : {}) },
    spec: { ...(opts.node ? { nodeName: opts.node } : {}), containers: [{ name: 'c', image: 'hello' }] },
  });
  await setPodStatus(c, name, 'default', { phase: opts.phase ?? 'Running' });
}

const names = (c: FakeCluster) =>
  c
    .objects<Pod>('pods')
    .map((p) => p.metadata!.name)
    .sort();

async function tick(c: FakeCluster, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    c.clock.advance(500);
    await settle();
  }
}

describe('PodGCController', () => {
  let ctrl: PodGCController | undefined;
  afterEach(() => ctrl?.stop());

  it('force-deletes pods of a vanished node after the quarantine, and unscheduled terminating pods', async () => {
    const c = await fakeCluster();
    await c.client.nodes.create({ metadata: { name: 'alive' } });
    await pod(c, 'on-alive', { node: 'alive' });
    await pod(c, 'on-gone', { node: 'gone' });
    // an unscheduled pod's delete is immediate: only a finalizer keeps one terminating
    const hold = 'example.com/hold';
    await pod(c, 'unscheduled-terminating', { finalizers: [hold] });
    await c.client.pods.delete('unscheduled-terminating', { namespace: 'default' });
    await pod(c, 'unscheduled');
    ctrl = new PodGCController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
      clock: c.clock,
      gcCheckPeriodMs: PERIOD,
      quarantineMs: PERIOD,
    });
    await ctrl.run();
    await tick(c, PERIOD);
    // first pass: the unscheduled terminating pod is force-deleted (it goes once its finalizer does); the missing
    // node starts its quarantine
    const force = c.requests.findLast((r) => r.verb === 'delete' && r.name === 'unscheduled-terminating');
    expect(force?.options).toMatchObject({
      gracePeriodSeconds: 0,
      preconditions: { uid: expect.any(String) },
    });
    const held = await c.client.pods.get('unscheduled-terminating', 'default');
    await c.client.pods.update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(names(c)).toEqual(['on-alive', 'on-gone', 'unscheduled']);
    await tick(c, PERIOD);
    expect(names(c)).toEqual(['on-alive', 'unscheduled']);
    const del = c.requests.find((r) => r.verb === 'delete' && r.name === 'on-gone')!;
    expect(del.options.gracePeriodSeconds).toBe(0);
    const status = c.requests.findLast((r) => r.subresource === 'status' && r.name === 'on-gone')!;
    expect((status.body as Pod).status).toMatchObject({
      phase: 'Failed',
      conditions: [expect.objectContaining({ type: 'DisruptionTarget', reason: 'DeletionByPodGC' })],
    });
  });

  it('does not delete pods of a node the cache has not seen yet but the apiserver has', async () => {
    const c = await fakeCluster();
    await pod(c, 'p', { node: 'new-node' });
    ctrl = new PodGCController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
      clock: c.clock,
      gcCheckPeriodMs: PERIOD,
      quarantineMs: PERIOD,
    });
    await ctrl.run();
    c.pauseWatches();
    await c.client.nodes.create({ metadata: { name: 'new-node' } });
    await tick(c, 3 * PERIOD);
    expect(names(c)).toEqual(['p']);
    c.resumeWatches();
  });

  it('keeps at most the threshold of terminated pods, deleting the oldest', async () => {
    const c = await fakeCluster();
    await c.client.nodes.create({ metadata: { name: 'n' } });
    // the apiserver stamps creationTimestamp with its clock: the oldest pod is created first
    await pod(c, 'running', { node: 'n' });
    for (let i = 0; i < 5; i++) {
      c.clock.advance(1000);
      await pod(c, `done-${i}`, { node: 'n', phase: i % 2 ? 'Succeeded' : 'Failed' });
    }
    ctrl = new PodGCController({
      client: c.client,
      informers: c.informers,
      logger: silentLogger(),
      clock: c.clock,
      gcCheckPeriodMs: PERIOD,
      terminatedPodThreshold: 3,
    });
    await ctrl.run();
    await tick(c, PERIOD);
    expect(names(c)).toEqual(['done-2', 'done-3', 'done-4', 'running']);
  });
});
