// Test support for the Endpoints and EndpointSlice controllers: Services and pods in given readiness states on a fake cluster.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { FakeCluster } from '../common/fake-cluster.js';

export const ns = 'default';

export function service(name: string, ports: ServicePort[], extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { team: 'web' } },
    spec: { selector: { app: name }, ports, clusterIP: '127.96.0.10', ...extra },
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

/** create a pod and give it the status a kubelet would write */
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
  let pod = await c.client.pods.updateStatus({
    ...created,
    status: {
      phase: state.phase ?? 'Running',
      ...(state.ip === '' ? {} : { podIP: state.ip ?? '127.244.1.1' }),
      conditions: [{ type: 'Ready', status: state.ready === false ? 'False' : 'True' }],
    },
  });
  if (state.terminating) {
    pod = await c.client.pods.update({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: '2026-01-01T00:00:00Z',
        deletionGracePeriodSeconds: 30,
      },
    });
  }
  return pod;
}

export async function setReady(c: FakeCluster, name: string, ready: boolean): Promise<void> {
  const pod = await c.client.pods.get(name, ns);
  await c.client.pods.updateStatus({
    ...pod,
    status: { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
}
