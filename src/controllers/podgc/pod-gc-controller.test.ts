import { describe, it, expect, afterEach } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { rfc3339 } from '../../util/objects.js';
import { fakeCluster, settle, type FakeCluster } from '../common/fake-cluster.js';
import { PodGCController } from './pod-gc-controller.js';

const PERIOD = 2_000;

function pod(
  name: string,
  opts: { node?: string; phase?: string; terminating?: boolean; created?: number } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      ...(opts.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
      ...(opts.created !== undefined ? { creationTimestamp: rfc3339(opts.created) } : {}),
    },
    spec: { ...(opts.node ? { nodeName: opts.node } : {}), containers: [{ name: 'c', image: 'hello' }] },
    status: { phase: opts.phase ?? 'Running' },
  };
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
    const c = fakeCluster();
    await c.client.nodes.create({ metadata: { name: 'alive' } });
    await c.client.pods.create(pod('on-alive', { node: 'alive' }));
    await c.client.pods.create(pod('on-gone', { node: 'gone' }));
    await c.client.pods.create(pod('unscheduled-terminating', { terminating: true }));
    await c.client.pods.create(pod('unscheduled'));
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
    // first pass: the unscheduled terminating pod goes; the missing node starts its quarantine
    expect(names(c)).toEqual(['on-alive', 'on-gone', 'unscheduled']);
    await tick(c, PERIOD);
    expect(names(c)).toEqual(['on-alive', 'unscheduled']);
    const del = c.handler.requests.find((r) => r.verb === 'delete' && r.name === 'on-gone')!;
    expect(del.options.gracePeriodSeconds).toBe(0);
    const status = c.handler.requests.find((r) => r.subresource === 'status' && r.name === 'on-gone')!;
    expect((status.body as Pod).status).toMatchObject({
      phase: 'Failed',
      conditions: [expect.objectContaining({ type: 'DisruptionTarget', reason: 'DeletionByPodGC' })],
    });
  });

  it('does not delete pods of a node the cache has not seen yet but the apiserver has', async () => {
    const c = fakeCluster();
    await c.client.pods.create(pod('p', { node: 'new-node' }));
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
    const c = fakeCluster();
    await c.client.nodes.create({ metadata: { name: 'n' } });
    const t0 = c.clock.now();
    for (let i = 0; i < 5; i++)
      await c.client.pods.create(
        pod(`done-${i}`, { node: 'n', phase: i % 2 ? 'Succeeded' : 'Failed', created: t0 + i * 1000 }),
      );
    await c.client.pods.create(pod('running', { node: 'n', created: t0 - 5000 }));
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
