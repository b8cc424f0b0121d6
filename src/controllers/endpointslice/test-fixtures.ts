// Test support for the Endpoints and EndpointSlice controllers: Services and pods in given readiness states on a fake cluster.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { FakeCluster } from '../../testing/fake-cluster.js';

export const ns = 'default';

export function service(name: string, ports: ServicePort[], extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { team: 'web' } },
    spec: { selector: { app: name }, ports, ...extra },
  };
}

export interface PodState {
  ip?: string;
  ready?: boolean;
  terminating?: boolean;
  phase?: string;
  node?: string;
  /** containerPort of the container port named `http` */
  httpPort?: number;
  labels?: Record<string, string>;
}

/** create a pod bound to a node and give it the status its kubelet would write */
export async function podIn(c: FakeCluster, name: string, app: string, state: PodState = {}): Promise<Pod> {
  const created = await c.client.pods.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: state.labels ?? { app } },
    spec: {
      nodeName: state.node ?? 'node-1',
      containers: [
        {
          name: 'c',
          image: 'hello',
          ports: [{ name: 'http', containerPort: state.httpPort ?? 8080, protocol: 'TCP' }],
        },
      ],
    },
  });
  const pod = await c.client.pods.updateStatus({
    ...created,
    status: {
      phase: state.phase ?? 'Running',
      ...(state.ip === '' ? {} : { podIP: state.ip ?? '127.244.1.1' }),
      conditions: [{ type: 'Ready', status: state.ready === false ? 'False' : 'True' }],
    },
  });
  // a bound pod's delete is graceful: it stays, terminating, for its grace period (30 s by default)
  if (state.terminating) return (await c.client.pods.delete(name, { namespace: ns })) as Pod;
  return pod;
}

export async function setReady(c: FakeCluster, name: string, ready: boolean): Promise<void> {
  const pod = await c.client.pods.get(name, ns);
  await c.client.pods.updateStatus({
    ...pod,
    status: { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}
