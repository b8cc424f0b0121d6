import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { RESOURCES, findResource } from '../../api/resources.js';
import { printerFor, toTable } from './index.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;

function table(group: string, resource: string, objects: object[], opts: Parameters<typeof toTable>[2] = {}) {
  const ri = findResource(group, resource);
  if (!ri) throw new Error(`no resource ${group}/${resource}`);
  return toTable(ri, objects as KubeObject[], { now: NOW, ...opts });
}
const cells = (group: string, resource: string, obj: object): unknown[] =>
  table(group, resource, [obj]).rows[0].cells;
const columns = (group: string, resource: string): string[] =>
  table(group, resource, []).columnDefinitions.map((c) => (c.priority ? `${c.name}*` : c.name));
const meta = (name: string, extra: object = {}) => ({
  name,
  namespace: 'default',
  creationTimestamp: ago(3 * MIN + 2000),
  ...extra,
});

describe('every served kind', () => {
  it('has a printer whose rows match its columns', () => {
    for (const ri of RESOURCES) {
      const printer = printerFor(ri);
      const obj = { apiVersion: ri.versions[0], kind: ri.kind, metadata: meta('x') };
      expect(printer.cells(obj, { now: NOW }), `${ri.group}/${ri.resource}`).toHaveLength(
        printer.columns.length,
      );
    }
  });

  it('prints NAME and AGE for kinds without a printer', () => {
    const t = toTable({ group: 'example.com', kind: 'Widget' }, [{ metadata: meta('w') }], { now: NOW });
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Age']);
    expect(t.rows[0].cells).toEqual(['w', '3m2s']);
  });
});

describe('table envelope', () => {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('cfg', { resourceVersion: '7', managedFields: [] }),
    data: { a: '1' },
  };

  it('carries PartialObjectMetadata by default, the object for Object, nothing for None', () => {
    expect(table('', 'configmaps', [cm]).rows[0].object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: cm.metadata,
    });
    expect(table('', 'configmaps', [cm], { includeObject: 'Object' }).rows[0].object).toBe(cm);
    expect(table('', 'configmaps', [cm], { includeObject: 'None' }).rows[0]).not.toHaveProperty('object');
  });

  it('copies list metadata, or a single object’s resourceVersion', () => {
    const list = table('', 'configmaps', [cm], {
      listMeta: { resourceVersion: '99', continue: 'abc', remainingItemCount: 3 },
    });
    expect(list).toMatchObject({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '99', continue: 'abc', remainingItemCount: 3 },
    });
    expect(table('', 'configmaps', [cm]).metadata).toEqual({ resourceVersion: '7' });
    expect(table('', 'configmaps', [cm], { noHeaders: true }).columnDefinitions).toEqual([]);
    expect(table('', 'configmaps', [cm], { version: 'v1beta1' }).apiVersion).toBe('meta.k8s.io/v1beta1');
  });
});

describe('deployments and replicasets', () => {
  const template = {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        { name: 'web', image: 'hello:2' },
        { name: 'log', image: 'shell:1' },
      ],
    },
  };

  it('prints a deployment mid-rollout', () => {
    expect(columns('apps', 'deployments')).toEqual([
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: {
        replicas: 4,
        selector: {
          matchLabels: { app: 'web', tier: 'fe' },
          matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }],
        },
        template,
      },
      status: {
        replicas: 5,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
        unavailableReplicas: 2,
      },
    };
    expect(cells('apps', 'deployments', d)).toEqual([
      'web',
      '3/4',
      2,
      3,
      '3m2s',
      'web,log',
      'hello:2,shell:1',
      'app=web,env in (canary,prod),tier=fe',
    ]);
  });

  it('prints a replicaset', () => {
    expect(columns('apps', 'replicasets')).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
    const rs = {
      metadata: meta('web-7d4b9c'),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d4b9c' } },
        template,
      },
      status: { replicas: 3, readyReplicas: 1 },
    };
    expect(cells('apps', 'replicasets', rs)).toEqual([
      'web-7d4b9c',
      3,
      3,
      1,
      '3m2s',
      'web,log',
      'hello:2,shell:1',
      'app=web,pod-template-hash=7d4b9c',
    ]);
    expect(cells('apps', 'replicasets', { metadata: meta('empty'), spec: { selector: {} } })[7]).toBe(
      '<none>',
    );
  });
});

describe('services', () => {
  const svc = (spec: object, status: object = {}) => ({
    metadata: meta('web'),
    spec: { clusterIP: '127.96.0.10', clusterIPs: ['127.96.0.10'], selector: { app: 'web' }, ...spec },
    status,
  });

  it('prints a NodePort service', () => {
    expect(columns('', 'services')).toEqual([
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      'Selector*',
    ]);
    const s = svc({
      type: 'NodePort',
      ports: [
        { port: 80, nodePort: 30080, protocol: 'TCP' },
        { port: 53, nodePort: 30053, protocol: 'UDP' },
      ],
    });
    expect(cells('', 'services', s)).toEqual([
      'web',
      'NodePort',
      '127.96.0.10',
      '<none>',
      '80:30080/TCP,53:30053/UDP',
      '3m2s',
      'app=web',
    ]);
  });

  it('prints a LoadBalancer with its ingress IP, and <pending> before it has one', () => {
    const lb = svc(
      { type: 'LoadBalancer', ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] },
      { loadBalancer: { ingress: [{ ip: '127.0.2.1' }] } },
    );
    expect(cells('', 'services', lb).slice(1, 5)).toEqual([
      'LoadBalancer',
      '127.96.0.10',
      '127.0.2.1',
      '443:31443/TCP',
    ]);
    expect(
      cells(
        '',
        'services',
        svc({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30001, protocol: 'TCP' }] }),
      )[3],
    ).toBe('<pending>');
    // external IPs are appended to the load balancer's
    expect(cells('', 'services', { ...lb, spec: { ...lb.spec, externalIPs: ['10.0.0.9'] } })[3]).toBe(
      '127.0.2.1,10.0.0.9',
    );
  });

  it('prints ClusterIP, headless and ExternalName services', () => {
    expect(
      cells('', 'services', svc({ type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] })).slice(1, 5),
    ).toEqual(['ClusterIP', '127.96.0.10', '<none>', '80/TCP']);
    expect(
      cells(
        '',
        'services',
        svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: undefined }),
      ).slice(2),
    ).toEqual(['None', '<none>', '<none>', '3m2s', '<none>']);
    expect(
      cells('', 'services', {
        metadata: meta('db'),
        spec: { type: 'ExternalName', externalName: 'db.example.com' },
      }).slice(1, 5),
    ).toEqual(['ExternalName', '<none>', 'db.example.com', '<none>']);
  });
});

describe('nodes and namespaces', () => {
  const node = (extra: { labels?: object; unschedulable?: boolean; ready?: string } = {}) => ({
    metadata: {
      name: 'node-1',
      creationTimestamp: ago(49 * 60 * MIN),
      labels: { 'kubernetes.io/hostname': 'node-1', ...extra.labels },
    },
    spec: extra.unschedulable ? { unschedulable: true } : {},
    status: {
      conditions: extra.ready
        ? [
            { type: 'MemoryPressure', status: 'False' },
            { type: 'Ready', status: extra.ready },
          ]
        : [],
      addresses: [
        { type: 'InternalIP', address: '127.0.1.1' },
        { type: 'Hostname', address: 'node-1' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.30.0+kubemu',
        osImage: 'kubemu',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'kubemu://0.1.0',
        architecture: 'amd64',
        bootID: '',
        machineID: '',
        operatingSystem: 'linux',
        systemUUID: '',
        kubeProxyVersion: '',
      },
    },
  });

  it('prints a ready node', () => {
    expect(columns('', 'nodes')).toEqual([
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      'Internal-IP*',
      'External-IP*',
      'OS-Image*',
      'Kernel-Version*',
      'Container-Runtime*',
    ]);
    expect(cells('', 'nodes', node({ ready: 'True' }))).toEqual([
      'node-1',
      'Ready',
      '<none>',
      '2d1h',
      'v1.30.0+kubemu',
      '127.0.1.1',
      '<none>',
      'kubemu',
      '6.1.0',
      'kubemu://0.1.0',
    ]);
  });

  it('prints a cordoned, not-ready node with its roles', () => {
    const n = node({
      ready: 'Unknown',
      unschedulable: true,
      labels: {
        'node-role.kubernetes.io/worker': '',
        'node-role.kubernetes.io/control-plane': '',
        'kubernetes.io/role': 'edge',
      },
    });
    expect(cells('', 'nodes', n).slice(1, 3)).toEqual([
      'NotReady,SchedulingDisabled',
      'control-plane,edge,worker',
    ]);
    expect(cells('', 'nodes', node({ ready: 'True', unschedulable: true }))[1]).toBe(
      'Ready,SchedulingDisabled',
    );
    expect(cells('', 'nodes', node())[1]).toBe('Unknown');
  });

  it('prints namespaces', () => {
    expect(columns('', 'namespaces')).toEqual(['Name', 'Status', 'Age']);
    expect(
      cells('', 'namespaces', {
        metadata: { name: 'kube-system', creationTimestamp: ago(10 * MIN) },
        status: { phase: 'Terminating' },
      }),
    ).toEqual(['kube-system', 'Terminating', '10m']);
  });
});

describe('endpoints and endpointslices', () => {
  it('prints at most three endpoints and how many more', () => {
    expect(columns('', 'endpoints')).toEqual(['Name', 'Endpoints', 'Age']);
    const ep = {
      metadata: meta('web'),
      subsets: [
        {
          addresses: ['127.244.1.5', '127.244.1.6', '127.244.2.5'].map((ip) => ({ ip })),
          ports: [
            { port: 8080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, protocol: 'TCP' },
          ],
        },
      ],
    };
    expect(cells('', 'endpoints', ep)[1]).toBe(
      '127.244.1.5:8080,127.244.1.6:8080,127.244.2.5:8080 + 3 more...',
    );
    expect(cells('', 'endpoints', { metadata: meta('none') })[1]).toBe('<none>');
    expect(
      cells('', 'endpoints', {
        metadata: meta('headless'),
        subsets: [{ addresses: [{ ip: '127.244.1.5' }] }],
      })[1],
    ).toBe('127.244.1.5');
  });

  it('prints endpointslices', () => {
    expect(columns('discovery.k8s.io', 'endpointslices')).toEqual([
      'Name',
      'AddressType',
      'Ports',
      'Endpoints',
      'Age',
    ]);
    const slice = {
      metadata: meta('web-abc12'),
      addressType: 'IPv4',
      ports: [{ port: 8080, protocol: 'TCP' }, { name: 'metrics' }],
      endpoints: ['127.244.1.5', '127.244.1.6', '127.244.1.7', '127.244.1.8'].map((a) => ({
        addresses: [a],
      })),
    };
    expect(cells('discovery.k8s.io', 'endpointslices', slice)).toEqual([
      'web-abc12',
      'IPv4',
      '8080,metrics',
      '127.244.1.5,127.244.1.6,127.244.1.7 + 1 more...',
      '3m2s',
    ]);
    expect(
      cells('discovery.k8s.io', 'endpointslices', {
        metadata: meta('empty'),
        addressType: 'IPv4',
        endpoints: [],
      }).slice(2, 4),
    ).toEqual(['<unset>', '<unset>']);
  });
});

describe('config and identity', () => {
  it('prints configmaps, secrets, serviceaccounts and leases', () => {
    expect(columns('', 'configmaps')).toEqual(['Name', 'Data', 'Age']);
    expect(
      cells('', 'configmaps', { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }),
    ).toEqual(['cfg', 3, '3m2s']);
    expect(columns('', 'secrets')).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(
      cells('', 'secrets', {
        metadata: meta('tls'),
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': 'x', 'tls.key': 'y' },
      }),
    ).toEqual(['tls', 'kubernetes.io/tls', 2, '3m2s']);
    expect(columns('', 'serviceaccounts')).toEqual(['Name', 'Secrets', 'Age']);
    expect(cells('', 'serviceaccounts', { metadata: meta('default') })).toEqual(['default', 0, '3m2s']);
    expect(columns('coordination.k8s.io', 'leases')).toEqual(['Name', 'Holder', 'Age']);
    expect(
      cells('coordination.k8s.io', 'leases', {
        metadata: meta('node-1'),
        spec: { holderIdentity: 'node-1' },
      }),
    ).toEqual(['node-1', 'node-1', '3m2s']);
  });
});

describe('events', () => {
  it('prints core events with upstream columns', () => {
    expect(columns('', 'events')).toEqual([
      'Last Seen',
      'Type',
      'Reason',
      'Object',
      'Subobject*',
      'Source*',
      'Message',
      'First Seen*',
      'Count*',
      'Name*',
    ]);
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: meta('web-1.17a'),
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container web in pod web-1_default(u1)\n',
      type: 'Warning',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(10 * MIN),
      lastTimestamp: ago(5000),
      count: 7,
    };
    expect(cells('', 'events', ev)).toEqual([
      '5s',
      'Warning',
      'BackOff',
      'pod/web-1',
      'spec.containers{web}',
      'kubelet, node-1',
      'Back-off restarting failed container web in pod web-1_default(u1)',
      '10m',
      7,
      'web-1.17a',
    ]);
  });

  it('prints events.k8s.io events through the core view', () => {
    const ev = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: meta('web.17b'),
      eventTime: new Date(NOW - 90_000).toISOString().replace('Z', '000Z'),
      regarding: { kind: 'Deployment', name: 'web', namespace: 'default' },
      reason: 'ScalingReplicaSet',
      note: 'Scaled up replica set web-7d4b9c to 3',
      type: 'Normal',
      reportingController: 'deployment-controller',
      reportingInstance: '',
      action: 'Scale',
    };
    expect(cells('events.k8s.io', 'events', ev)).toEqual([
      '90s',
      'Normal',
      'ScalingReplicaSet',
      'deployment/web',
      '',
      'deployment-controller',
      'Scaled up replica set web-7d4b9c to 3',
      '90s',
      1,
      'web.17b',
    ]);
    const series = { ...ev, series: { count: 4, lastObservedTime: new Date(NOW - 2000).toISOString() } };
    const c = cells('events.k8s.io', 'events', series);
    expect([c[0], c[8]]).toEqual(['2s', 4]);
  });
});

describe('ingresses', () => {
  it('prints ingresses and ingressclasses', () => {
    expect(columns('networking.k8s.io', 'ingresses')).toEqual([
      'Name',
      'Class',
      'Hosts',
      'Address',
      'Ports',
      'Age',
    ]);
    const ing = {
      metadata: meta('shop'),
      spec: {
        ingressClassName: 'kubemu',
        tls: [{ hosts: ['shop.example.com'], secretName: 'tls' }],
        rules: ['a', 'b', 'c', 'd'].map((h) => ({ host: `${h}.example.com` })),
      },
      status: { loadBalancer: { ingress: [{ ip: '127.0.2.2' }] } },
    };
    expect(cells('networking.k8s.io', 'ingresses', ing)).toEqual([
      'shop',
      'kubemu',
      'a.example.com,b.example.com,c.example.com + 1 more...',
      '127.0.2.2',
      '80, 443',
      '3m2s',
    ]);
    expect(
      cells('networking.k8s.io', 'ingresses', { metadata: meta('any'), spec: { rules: [{}] } }).slice(1, 5),
    ).toEqual(['<none>', '*', '', '80']);
    expect(columns('networking.k8s.io', 'ingressclasses')).toEqual([
      'Name',
      'Controller',
      'Parameters',
      'Age',
    ]);
    expect(
      cells('networking.k8s.io', 'ingressclasses', {
        metadata: meta('kubemu'),
        spec: { controller: 'kubemu.io/ingress' },
      }),
    ).toEqual(['kubemu', 'kubemu.io/ingress', '<none>', '3m2s']);
    expect(
      cells('networking.k8s.io', 'ingressclasses', {
        metadata: meta('x'),
        spec: {
          controller: 'c',
          parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' },
        },
      })[2],
    ).toBe('IngressParameters.k8s.example.com/p');
  });
});

describe('horizontalpodautoscalers', () => {
  const hpa = (spec: object, status: object = {}, apiVersion = 'autoscaling/v2') => ({
    apiVersion,
    kind: 'HorizontalPodAutoscaler',
    metadata: meta('web'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      ...spec,
    },
    status: { currentReplicas: 3, desiredReplicas: 3, ...status },
  });
  const cpu = (averageUtilization?: number) => ({
    type: 'Resource',
    resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } },
  });

  it('prints an HPA with metrics', () => {
    expect(columns('autoscaling', 'horizontalpodautoscalers')).toEqual([
      'Name',
      'Reference',
      'Targets',
      'MinPods',
      'MaxPods',
      'Replicas',
      'Age',
    ]);
    const h = hpa(
      { metrics: [cpu(50)] },
      {
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 85, averageValue: '170m' } },
          },
        ],
      },
    );
    expect(cells('autoscaling', 'horizontalpodautoscalers', h)).toEqual([
      'web',
      'Deployment/web',
      'cpu: 85%/50%',
      '1',
      10,
      3,
      '3m2s',
    ]);
  });

  it('prints <unknown> before metrics arrive, and at most two metrics', () => {
    expect(cells('autoscaling', 'horizontalpodautoscalers', hpa({ metrics: [cpu(50)] }))[2]).toBe(
      'cpu: <unknown>/50%',
    );
    const many = hpa({
      metrics: [
        cpu(50),
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '200Mi' } },
        },
        {
          type: 'Pods',
          pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
        },
      ],
    });
    expect(cells('autoscaling', 'horizontalpodautoscalers', many)[2]).toBe(
      'cpu: <unknown>/50%, memory: <unknown>/200Mi + 1 more...',
    );
    expect(cells('autoscaling', 'horizontalpodautoscalers', hpa({ metrics: [] }))[2]).toBe('<none>');
    expect(cells('autoscaling', 'horizontalpodautoscalers', hpa({ minReplicas: undefined }))[3]).toBe(
      '<unset>',
    );
  });

  it('prints an autoscaling/v1 HPA as its v2 view', () => {
    const v1 = hpa(
      { targetCPUUtilizationPercentage: 80 },
      { currentCPUUtilizationPercentage: 12 },
      'autoscaling/v1',
    );
    expect(cells('autoscaling', 'horizontalpodautoscalers', v1)[2]).toBe('cpu: 12%/80%');
  });
});

describe('scale subresource', () => {
  it('prints autoscaling/v1 Scale as upstream does', () => {
    const t = toTable(
      { group: 'autoscaling', kind: 'Scale' },
      [
        {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: meta('web'),
          spec: { replicas: 5 },
          status: { replicas: 3, selector: 'app=web' },
        },
      ],
      { now: NOW },
    );
    expect(t.columnDefinitions.map((c) => [c.name, c.format])).toEqual([
      ['Name', ''],
      ['Desired', ''],
      ['Available', ''],
      ['Age', ''],
    ]);
    expect(t.rows[0].cells).toEqual(['web', 5, 3, '3m2s']);
  });
});
