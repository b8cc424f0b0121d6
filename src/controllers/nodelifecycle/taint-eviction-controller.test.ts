import { describe, it, expect, afterEach } from 'vitest';
import type { Event, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { fakeCluster, setPodStatus, settle, type FakeCluster } from '../../testing/fake-cluster.js';
import { TaintEvictionController } from './taint-eviction-controller.js';
import { TAINT_UNREACHABLE, matchingTolerations, minTolerationMs } from './taints.js';

const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
const tolerateFor = (seconds?: number): Toleration => ({
  key: TAINT_UNREACHABLE,
  operator: 'Exists',
  effect: 'NoExecute',
  ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}),
});

async function setup(): Promise<{ c: FakeCluster; ctrl: TaintEvictionController }> {
  // DefaultTolerationSeconds admission would give every pod a toleration of not-ready and unreachable: off here
  // (as with --disable-admission-plugins) so that a pod can tolerate nothing
  const c = await fakeCluster({ admission: { disable: ['DefaultTolerationSeconds'] } });
  await c.client.nodes.create({ metadata: { name: 'n1' } });
  const pod = async (name: string, tolerations: Toleration[] = []) => {
    await c.client.pods.create({
      metadata: { name, namespace: 'default' },
      spec: { nodeName: 'n1', tolerations, containers: [{ name: 'c', image: 'hello' }] },
    });
    await setPodStatus(c, name, 'default', { phase: 'Running' });
  };
  await pod('intolerant');
  await pod('two-seconds', [tolerateFor(2)]);
  await pod('forever', [tolerateFor()]);
  const ctrl = new TaintEvictionController({
    client: c.client,
    informers: c.informers,
    logger: silentLogger(),
    clock: c.clock,
  });
  await ctrl.run();
  await settle();
  return { c, ctrl };
}

async function taintNode(c: FakeCluster, taints: Taint[]): Promise<void> {
  const n = await c.client.nodes.get('n1');
  await c.client.nodes.update({ ...n, spec: { ...n.spec, taints } });
  await settle();
}

/** pods not being deleted (an evicted pod stays, terminating, for its grace period) */
const podNames = (c: FakeCluster) =>
  c
    .objects<Pod>('pods')
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata!.name)
    .sort();

describe('taint helpers', () => {
  it('matches tolerations like upstream and finds the minimum toleration time', () => {
    expect(matchingTolerations([unreachable], [{ operator: 'Exists' }]).allTolerated).toBe(true);
    expect(matchingTolerations([unreachable], [{ key: 'other', operator: 'Exists' }]).allTolerated).toBe(
      false,
    );
    expect(
      matchingTolerations([unreachable], [{ ...tolerateFor(5), effect: 'NoSchedule' }]).allTolerated,
    ).toBe(false);
    expect(minTolerationMs([tolerateFor(5), tolerateFor(2)])).toBe(2000);
    expect(minTolerationMs([tolerateFor()])).toBe(-1);
    expect(minTolerationMs([tolerateFor(0)])).toBe(0);
  });
});

describe('TaintEvictionController', () => {
  let ctrl: TaintEvictionController | undefined;
  afterEach(() => ctrl?.stop());

  it('evicts intolerant pods at once and tolerating pods after tolerationSeconds', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    expect(podNames(s.c)).toEqual(['forever', 'intolerant', 'two-seconds']);
    const deletesBefore = s.c.requests.filter((r) => r.verb === 'delete').length;
    expect(deletesBefore).toBe(0);
    await taintNode(s.c, [unreachable]);
    expect(podNames(s.c)).toEqual(['forever', 'two-seconds']);
    s.c.clock.advance(1_999);
    await settle();
    expect(podNames(s.c)).toEqual(['forever', 'two-seconds']);
    s.c.clock.advance(1);
    await settle();
    expect(podNames(s.c)).toEqual(['forever']);
    s.c.clock.advance(600_000);
    await settle();
    expect(podNames(s.c)).toEqual(['forever']);
    // DisruptionTarget first, then the delete; and the Event upstream writes
    const statusWrite = s.c.requests.findLast((r) => r.subresource === 'status' && r.name === 'two-seconds');
    expect((statusWrite?.body as Pod).status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'DisruptionTarget', reason: 'DeletionByTaintManager' }),
      ]),
    );
    await settle();
    const events = s.c.objects<Event>('events').map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain('TaintManagerEviction: Marking for deletion Pod default/two-seconds');
    expect(events).toContain('TaintManagerEviction: Marking for deletion Pod default/intolerant');
  });

  it('cancels a scheduled eviction when the taint goes away in time', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    await taintNode(s.c, [unreachable]);
    expect(s.ctrl.isScheduled('default/two-seconds')).toBe(true);
    s.c.clock.advance(1_000);
    await settle();
    await taintNode(s.c, []);
    expect(s.ctrl.isScheduled('default/two-seconds')).toBe(false);
    s.c.clock.advance(5_000);
    await settle();
    expect(podNames(s.c)).toEqual(['forever', 'two-seconds']);
    const events = s.c.objects<Event>('events').map((e) => e.message);
    expect(events).toContain('Cancelling deletion of Pod default/two-seconds');
  });
});
