// One minimal valid object per served kind (as a user would send it), for tests across the project.
import type { KubeObject } from '../request.js';
import type { Gvk } from '../schema/index.js';

export interface Fixture {
  gvk: Gvk;
  object: () => KubeObject;
}

const meta = (name: string, namespace?: string) => (namespace ? { name, namespace } : { name });

export const FIXTURES: readonly Fixture[] = [
  {
    gvk: { group: '', version: 'v1', kind: 'Pod' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...meta('web-1', 'default'), labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'kubemu/hello:v1',
            ports: [{ containerPort: 8080, name: 'http' }],
            env: [{ name: 'GREETING', value: 'hi' }],
            resources: { limits: { cpu: '500m', memory: '128Mi' } },
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    }),
  },
  {
    gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
    object: () => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web', 'default'),
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'kubemu/hello:v1' }] },
        },
      },
    }),
  },
  {
    gvk: { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
    object: () => ({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: meta('web-5d8f', 'default'),
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'kubemu/hello' }] },
        },
      },
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Service' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web', 'default'),
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Endpoints' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: meta('web', 'default'),
      subsets: [{ addresses: [{ ip: '127.244.1.2' }], ports: [{ port: 8080 }] }],
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('settings', 'default'),
      data: { 'app.conf': 'x=1' },
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Secret' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('creds', 'default'),
      data: { password: 'c2VjcmV0' },
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Namespace' },
    object: () => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta('team-a') }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Node' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
      spec: { podCIDR: '127.244.1.0/24' },
      status: { capacity: { cpu: '2', memory: '4Gi', pods: '110' } },
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'Event' },
    object: () => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: meta('web-1.17a', 'default'),
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/web-1 to node-1',
      type: 'Normal',
      count: 1,
    }),
  },
  {
    gvk: { group: '', version: 'v1', kind: 'ServiceAccount' },
    object: () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default', 'default') }),
  },
  {
    gvk: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
    object: () => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: meta('node-1', 'kube-node-lease'),
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-05-01T10:00:00.000000Z' },
    }),
  },
  {
    gvk: { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' },
    object: () => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta('web-abc12', 'default'), labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.244.1.2'], conditions: { ready: true }, nodeName: 'node-1' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }),
  },
  {
    gvk: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
    object: () => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: meta('web', 'default'),
      spec: {
        ingressClassName: 'kubemu',
        rules: [
          {
            host: 'web.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    }),
  },
  {
    gvk: { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass' },
    object: () => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: meta('kubemu'),
      spec: { controller: 'kubemu.dev/ingress' },
    }),
  },
  {
    gvk: { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
    object: () => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('web', 'default'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
      },
    }),
  },
  {
    gvk: { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' },
    object: () => ({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('web', 'default'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        targetCPUUtilizationPercentage: 50,
      },
    }),
  },
  {
    gvk: { group: 'events.k8s.io', version: 'v1', kind: 'Event' },
    object: () => ({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: meta('web-1.17b', 'default'),
      eventTime: '2024-05-01T10:00:00.123456Z',
      reportingController: 'kubemu.dev/scheduler',
      reportingInstance: 'scheduler-1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Pod', name: 'web-1', namespace: 'default' },
      note: 'Successfully assigned default/web-1 to node-1',
      type: 'Normal',
    }),
  },
];
