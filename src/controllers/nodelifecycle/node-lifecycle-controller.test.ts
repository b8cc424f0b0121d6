import { describe, it, expect, afterEach } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../util/logger.js';
import { rfc3339, rfc3339Micro } from '../../util/objects.js';
import { fakeCluster, setPodStatus, settle, type FakeCluster } from '../../testing/fake-cluster.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './taints.js';

const GRACE = 3_000;
const PERIOD = 500;

async function setup(): Promise<{ c: FakeCluster; ctrl: NodeLifecycleController }> {
  const c = await fakeCluster();
  const now = rfc3339(c.clock.now());
  await c.client.nodes.create({
    metadata: { name: 'n1' },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
    },
  });
  await c.client.leases.create({
    metadata: { name: 'n1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'n1', renewTime: rfc3339Micro(c.clock.now()) },
  });
  await c.client.pods.create({
    metadata: { name: 'p1', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'hello' }] },
  });
  await setPodStatus(c, 'p1', 'default', {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
  });
  const ctrl = new NodeLifecycleController({
    client: c.client,
    informers: c.informers,
    logger: silentLogger(),
    clock: c.clock,
    nodeMonitorGracePeriodMs: GRACE,
    nodeMonitorPeriodMs: PERIOD,
  });
  await ctrl.run();
  await settle();
  return { c, ctrl };
}

async function renewLease(c: FakeCluster): Promise<void> {
  const lease = await c.client.leases.get('n1', 'kube-node-lease');
  await c.client.leases.update({ ...lease, spec: { ...lease.spec, renewTime: rfc3339Micro(c.clock.now()) } });
}

/** advance the fake clock in monitor periods, letting each pass finish */
async function advance(
  c: FakeCluster,
  ctrl: NodeLifecycleController,
  ms: number,
  each?: () => Promise<void>,
) {
  for (let done = 0; done < ms; done += PERIOD) {
    c.clock.advance(Math.min(PERIOD, ms - done));
    await settle();
    await ctrl.lastPass();
    await settle();
    if (each) {
      await each();
      await settle();
    }
  }
}

const ready = (n: Node) => n.status?.conditions?.find((x) => x.type === 'Ready');
const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

describe('NodeLifecycleController', () => {
  let ctrl: NodeLifecycleController | undefined;
  afterEach(() => ctrl?.stop());

  it('keeps a node whose lease is renewed Ready, untainted', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    await advance(s.c, s.ctrl, 10_000, () => renewLease(s.c));
    const node = await s.c.client.nodes.get('n1');
    expect(ready(node)?.status).toBe('True');
    expect(node.spec?.taints ?? []).toEqual([]);
  });

  it('marks a node Unknown once its lease is not renewed for the grace period, taints it, marks pods not ready', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    await advance(s.c, s.ctrl, 2_000, () => renewLease(s.c));
    // last renewal seen at t=2000; nothing after. At 2000 + GRACE it is not yet overdue (upstream: strictly after).
    await advance(s.c, s.ctrl, GRACE);
    let node = await s.c.client.nodes.get('n1');
    expect(ready(node)?.status).toBe('True');
    await advance(s.c, s.ctrl, PERIOD);
    node = await s.c.client.nodes.get('n1');
    expect(ready(node)).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect(node.status?.conditions?.find((x) => x.type === 'MemoryPressure')?.status).toBe('Unknown');
    expect(taintKeys(node)).toEqual([`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]);
    expect(node.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBeTruthy();
    const pod = await s.c.client.pods.get('p1', 'default');
    expect(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('False');
    const events = s.c.objects<Event>('events');
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toEqual(
      expect.arrayContaining([
        'NodeNotReady: Node n1 status is now: NodeNotReady',
        'NodeNotReady: Node is not ready',
      ]),
    );
  });

  it('removes the taints when the kubelet comes back, and uses not-ready when it reports Ready=False', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    await advance(s.c, s.ctrl, GRACE + 2 * PERIOD);
    expect(taintKeys(await s.c.client.nodes.get('n1'))).toContain(`${TAINT_UNREACHABLE}:NoExecute`);
    // the kubelet reports again, not ready this time
    const postStatus = async (status: 'True' | 'False'): Promise<void> => {
      const n = await s.c.client.nodes.get('n1');
      const now = rfc3339(s.c.clock.now());
      await s.c.client.nodes.updateStatus({
        ...n,
        status: {
          ...n.status,
          conditions: [
            {
              type: 'Ready',
              status,
              reason: 'KubeletNotReady',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      });
      await renewLease(s.c);
    };
    await postStatus('False');
    await advance(s.c, s.ctrl, PERIOD);
    expect(taintKeys(await s.c.client.nodes.get('n1'))).toEqual([
      `${TAINT_NOT_READY}:NoExecute`,
      `${TAINT_NOT_READY}:NoSchedule`,
    ]);
    await postStatus('True');
    await advance(s.c, s.ctrl, PERIOD);
    const node = await s.c.client.nodes.get('n1');
    expect(taintKeys(node)).toEqual([]);
    expect(ready(node)?.status).toBe('True');
  });

  it('a lease renewed without status posts keeps the node alive', async () => {
    const s = await setup();
    ctrl = s.ctrl;
    const lease: Lease = await s.c.client.leases.get('n1', 'kube-node-lease');
    expect(lease.spec?.holderIdentity).toBe('n1');
    await advance(s.c, s.ctrl, 3 * GRACE, () => renewLease(s.c));
    expect(ready(await s.c.client.nodes.get('n1'))?.status).toBe('True');
    const pods = s.c.objects<Pod>('pods');
    expect(pods[0].status?.conditions?.[0].status).toBe('True');
  });
});
