// Unit tests of the shared EventRecorder against the apiserver's registry in memory (src/testing/).
import { describe, expect, it } from 'vitest';
import type { Event } from 'kubernetes-types/core/v1.js';
import type { ApiRequest } from '../api/request.js';
import { silentLogger } from '../util/logger.js';
import { fakeCluster } from '../testing/fake-cluster.js';
import { EventRecorder } from './event-recorder.js';

async function setup(host?: string) {
  const c = await fakeCluster();
  await c.createNamespace('ns');
  const verbs: string[] = [];
  c.onRequest = (req: ApiRequest) => {
    verbs.push(req.verb);
  };
  const rec = new EventRecorder({
    client: c.client,
    component: 'kubelet',
    clock: c.clock,
    ...(host ? { host } : {}),
  });
  const events = (): Event[] => c.objects<Event>('events', 'ns');
  return { c, clock: c.clock, rec, events, verbs };
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };

describe('EventRecorder (shared)', () => {
  it('creates an Event named <object>.<hex> and folds a repeat into count 2', async () => {
    const s = await setup();
    s.rec.event(pod, 'Normal', 'Pulled', 'pulled');
    s.clock.advance(3_000);
    s.rec.event(pod, 'Normal', 'Pulled', 'pulled');
    await s.rec.flush();
    const evs = s.events();
    expect(evs).toHaveLength(1);
    expect(evs[0].metadata?.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(evs[0]).toMatchObject({
      count: 2,
      reason: 'Pulled',
      type: 'Normal',
      source: { component: 'kubelet' },
      reportingComponent: 'kubelet',
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'ns', uid: 'u1' },
    });
    expect(evs[0].source).not.toHaveProperty('host');
    expect(Date.parse(evs[0].lastTimestamp!) - Date.parse(evs[0].firstTimestamp!)).toBe(3_000);
    expect(s.verbs.filter((v) => v === 'create')).toHaveLength(1);
    expect(s.verbs).toContain('patch');
  });

  it('keeps events of different fieldPaths apart and sets source.host', async () => {
    const s = await setup('node-1');
    const ref = { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'ns', uid: 'u1' };
    s.rec.event({ ...ref, fieldPath: 'spec.containers{a}' }, 'Normal', 'Started', 'Started container');
    s.rec.event({ ...ref, fieldPath: 'spec.containers{b}' }, 'Normal', 'Started', 'Started container');
    await s.rec.flush();
    const evs = s.events();
    expect(evs).toHaveLength(2);
    expect(evs.map((e) => e.involvedObject.fieldPath).sort()).toEqual([
      'spec.containers{a}',
      'spec.containers{b}',
    ]);
    for (const e of evs) {
      expect(e.count).toBe(1);
      expect(e.source).toEqual({ component: 'kubelet', host: 'node-1' });
      expect(e.reportingInstance).toBe('node-1');
    }
  });

  it('only logs a failed write, and makes a new Event when the old one is gone', async () => {
    const s = await setup();
    let fail = true;
    s.c.onRequest = (req: ApiRequest) => {
      if (fail && req.verb === 'create') throw new Error('boom');
    };
    const rec = new EventRecorder({ client: s.c.client, component: 'c', logger: silentLogger() });
    expect(() => rec.event(pod, 'Warning', 'Failed', 'x')).not.toThrow();
    await rec.flush();
    expect(s.events()).toHaveLength(0);
    fail = false;
    rec.event(pod, 'Warning', 'Failed', 'x');
    await rec.flush();
    const evs = s.events();
    expect(evs).toHaveLength(1);
    expect(evs[0].count).toBe(2);
  });

  it('writes one event at a time (maxInFlight), in order, so a burst queues here and not at the apiserver', async () => {
    const s = await setup();
    let inFlight = 0;
    let most = 0;
    const reasons: string[] = [];
    s.c.onRequest = async (req: ApiRequest) => {
      if (req.verb !== 'create') return;
      inFlight++;
      most = Math.max(most, inFlight);
      reasons.push((req.body as Event).reason ?? '');
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    };
    for (let i = 0; i < 20; i++)
      s.rec.event({ ...pod, metadata: { ...pod.metadata, uid: `u${i}` } }, 'Normal', `R${i}`, 'm');
    await s.rec.flush();
    expect(s.events()).toHaveLength(20);
    expect(most).toBe(1);
    expect(reasons).toEqual(Array.from({ length: 20 }, (_, i) => `R${i}`));
  });
});
