import { describe, it, expect, afterEach } from 'vitest';
import type { Event, Pod, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { ResourceClient } from '../../client/index.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { newReplicationManager } from './replication-controller.js';

const ns = 'default';

/** the docs' replication.yaml (kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/) */
const nginxRC = (): ReplicationController => ({
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: { name: 'nginx', namespace: ns },
  spec: {
    replicas: 3,
    selector: { app: 'nginx' },
    template: {
      metadata: { name: 'nginx', labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'kubemu/hello:v1', ports: [{ containerPort: 80 }] }] },
    },
  },
});

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

const rcClient = (c: FakeCluster): ResourceClient<ReplicationController> =>
  c.client.resource('', 'v1', 'replicationcontrollers');
const livePods = (c: FakeCluster): Pod[] =>
  c.objects<Pod>('pods', ns).filter((p) => !p.metadata?.deletionTimestamp);
const rcOf = (c: FakeCluster): ReplicationController =>
  c.objects<ReplicationController>('replicationcontrollers', ns)[0];

describe('ReplicationController manager', () => {
  it('keeps spec.replicas pods owned by the RC, reports status, scales through the scale subresource', async () => {
    const c = await fakeCluster();
    const ctl = newReplicationManager({ client: c.client, informers: c.informers, clock: c.clock });
    stops.push(() => {
      ctl.stop();
      c.informers.stop();
    });
    await ctl.run();
    await rcClient(c).create(nginxRC());
    await until(() => livePods(c).length === 3, '3 pods');
    const pod = livePods(c)[0];
    expect(pod.metadata?.generateName).toBe('nginx-');
    expect(pod.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: 'v1',
        kind: 'ReplicationController',
        name: 'nginx',
        controller: true,
      }),
    ]);
    for (const p of livePods(c)) await markPodReady(c, p);
    await until(() => rcOf(c).status?.readyReplicas === 3, 'status');
    expect(rcOf(c).status).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      observedGeneration: 1,
    });
    // what `kubectl scale rc nginx --replicas=1` does
    const scale = await rcClient(c).getScale('nginx', ns);
    await rcClient(c).updateScale('nginx', { ...scale, spec: { replicas: 1 } }, { namespace: ns });
    await until(() => livePods(c).length === 1, 'scaled down');
    await finishTerminatingPods(c, ns);
    await until(() => rcOf(c).status?.replicas === 1, 'status after scale');
    await ctl.flushEvents();
    const events = c
      .objects<Event>('events', ns)
      .filter((e) => e.involvedObject.kind === 'ReplicationController');
    expect(events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['SuccessfulCreate', 'SuccessfulDelete']),
    );
    expect(events[0].source?.component ?? events[0].reportingComponent).toContain('replicationcontroller');
  });
});
