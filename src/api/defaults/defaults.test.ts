import { describe, it, expect } from 'vitest';
import type { KubeObject } from '../request.js';
import type { Gvk } from '../schema/index.js';
import { applyDefaults, imageTag } from './index.js';

const gvk = (group: string, version: string, kind: string): Gvk => ({ group, version, kind });
function defaulted(g: Gvk, obj: KubeObject): KubeObject {
  applyDefaults(g, obj);
  return obj;
}

const POD_SPEC_DEFAULTS = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
  schedulerName: 'default-scheduler',
};
const CONTAINER_DEFAULTS = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  resources: {},
};

describe('Pod defaults', () => {
  it('fills the spec, containers, probes and ports as upstream (golden)', () => {
    const pod = defaulted(gvk('', 'v1', 'Pod'), {
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'nginx',
            ports: [{ containerPort: 80 }],
            livenessProbe: { httpGet: { port: 80 } },
            resources: { limits: { cpu: '1', memory: '64Mi' }, requests: { cpu: '100m' } },
          },
          {
            name: 'd',
            image: 'repo/app:1.2',
            env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          },
        ],
        volumes: [{ name: 'v' }, { name: 's', secret: { secretName: 'x' } }],
      },
    });
    expect(pod.spec).toEqual({
      ...POD_SPEC_DEFAULTS,
      enableServiceLinks: true,
      containers: [
        {
          ...CONTAINER_DEFAULTS,
          name: 'c',
          image: 'nginx',
          imagePullPolicy: 'Always',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          livenessProbe: {
            httpGet: { port: 80, path: '/', scheme: 'HTTP' },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          resources: { limits: { cpu: '1', memory: '64Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
        },
        {
          ...CONTAINER_DEFAULTS,
          name: 'd',
          image: 'repo/app:1.2',
          imagePullPolicy: 'IfNotPresent',
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } }],
        },
      ],
      volumes: [
        { name: 'v', emptyDir: {} },
        { name: 's', secret: { secretName: 'x', defaultMode: 420 } },
      ],
    });
  });

  it('never overrides what the user set', () => {
    const spec = {
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      containers: [{ name: 'c', image: 'x', imagePullPolicy: 'Never' }],
    };
    const pod = defaulted(gvk('', 'v1', 'Pod'), { metadata: { name: 'p' }, spec });
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      containers: [{ imagePullPolicy: 'Never' }],
    });
  });

  it.each([
    ['nginx', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.25', '1.25'],
    ['localhost:5000/app', 'latest'],
    ['localhost:5000/app:v2', 'v2'],
    ['app@sha256:abc', ''],
  ])('reads the tag of %s as %j', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('Deployment and ReplicaSet defaults', () => {
  it('Deployment: replicas, strategy, history, deadline, template (golden)', () => {
    const d = defaulted(gvk('apps', 'v1', 'Deployment'), {
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } },
      },
    });
    expect(d.spec).toEqual({
      replicas: 1,
      selector: { matchLabels: { a: 'b' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { a: 'b' }, creationTimestamp: null },
        spec: {
          ...POD_SPEC_DEFAULTS,
          containers: [{ ...CONTAINER_DEFAULTS, name: 'c', image: 'x:1', imagePullPolicy: 'IfNotPresent' }],
        },
      },
    });
    expect(d.status).toEqual({});
  });

  it('Deployment: a Recreate strategy gets no rollingUpdate; template pods get no requests-from-limits', () => {
    const d = defaulted(gvk('apps', 'v1', 'Deployment'), {
      spec: {
        strategy: { type: 'Recreate' },
        template: { spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] } },
      },
    });
    expect((d.spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate' });
    expect(JSON.stringify(d)).not.toContain('requests');
  });

  it('ReplicaSet: replicas 1', () => {
    const rs = defaulted(gvk('apps', 'v1', 'ReplicaSet'), {
      spec: { selector: {}, template: { spec: { containers: [] } } },
    });
    expect((rs.spec as { replicas: number }).replicas).toBe(1);
  });
});

describe('Service defaults', () => {
  it('ClusterIP: type, affinity, protocol, targetPort, families, traffic policy (golden)', () => {
    const svc = defaulted(gvk('', 'v1', 'Service'), {
      metadata: { name: 's' },
      spec: { selector: { a: 'b' }, ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] },
    });
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      selector: { a: 'b' },
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  it('NodePort/LoadBalancer get externalTrafficPolicy Cluster; LoadBalancer allocates node ports; ClientIP affinity gets its timeout', () => {
    const np = defaulted(gvk('', 'v1', 'Service'), { spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    expect(np.spec).toMatchObject({ externalTrafficPolicy: 'Cluster' });
    const lb = defaulted(gvk('', 'v1', 'Service'), {
      spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
    });
    expect(lb.spec).toMatchObject({
      externalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    });
    const ext = defaulted(gvk('', 'v1', 'Service'), {
      spec: { type: 'ExternalName', externalName: 'example.com' },
    });
    expect(ext.spec).not.toHaveProperty('ipFamilies');
    expect(ext.spec).not.toHaveProperty('internalTrafficPolicy');
  });
});

describe('other kinds', () => {
  it('Namespace: name label, finalizer, phase Active', () => {
    const ns = defaulted(gvk('', 'v1', 'Namespace'), { metadata: { name: 'team-a' } });
    expect(ns).toEqual({
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });

  it('Secret: type Opaque', () => {
    expect(defaulted(gvk('', 'v1', 'Secret'), { metadata: { name: 's' } }).type).toBe('Opaque');
  });

  it('Node: allocatable from capacity', () => {
    const node = defaulted(gvk('', 'v1', 'Node'), { status: { capacity: { cpu: '2' } } });
    expect(node.status).toEqual({ capacity: { cpu: '2' }, allocatable: { cpu: '2' } });
  });

  it('EndpointSlice ports: name "" and TCP; Endpoints ports TCP', () => {
    const slice = defaulted(gvk('discovery.k8s.io', 'v1', 'EndpointSlice'), {
      addressType: 'IPv4',
      ports: [{ port: 80 }],
    });
    expect(slice.ports).toEqual([{ port: 80, name: '', protocol: 'TCP' }]);
    const ep = defaulted(gvk('', 'v1', 'Endpoints'), { subsets: [{ ports: [{ port: 80 }] }] });
    expect(ep.subsets).toEqual([{ ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('HPA v2: minReplicas 1, CPU 80% when no metrics, behavior filled in', () => {
    const hpa = defaulted(gvk('autoscaling', 'v2', 'HorizontalPodAutoscaler'), {
      spec: {
        maxReplicas: 3,
        scaleTargetRef: { kind: 'Deployment', name: 'd' },
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    });
    expect(hpa.spec).toEqual({
      maxReplicas: 3,
      minReplicas: 1,
      scaleTargetRef: { kind: 'Deployment', name: 'd' },
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 60,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    });
  });

  it('HPA v1: minReplicas 1 only', () => {
    const hpa = defaulted(gvk('autoscaling', 'v1', 'HorizontalPodAutoscaler'), {
      spec: { maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name: 'd' } },
    });
    expect(hpa.spec).toEqual({
      maxReplicas: 3,
      minReplicas: 1,
      scaleTargetRef: { kind: 'Deployment', name: 'd' },
    });
  });

  it('kinds without upstream defaults are untouched', () => {
    const cm = { metadata: { name: 'c' }, data: { a: 'b' } };
    expect(defaulted(gvk('', 'v1', 'ConfigMap'), structuredClone(cm))).toEqual(cm);
  });
});
