// The table printers of every kind kubemu serves besides Pods, ported from upstream's printers.go (kinds as of 1.30).
import type {
  ConfigMap,
  Endpoints,
  Event as CoreEvent,
  Namespace,
  Node,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/request.js';
import { CONTAINERS_DOC, IMAGES_DOC, ageColumn, column, doc, nameColumn, wide } from './columns.js';
import {
  formatLabelSelector,
  formatLabels,
  joinHostPort,
  labelSelectorString,
  layoutContainerCells,
  listWithMore,
  loadBalancerStatus,
  since,
} from './format.js';
import { formatHPAMetrics, toHPAv2 } from './hpa.js';
import { toCoreEvent } from './events.js';
import type { TableCell } from './types.js';
import { objectAge as age, objectName as name, printer } from './printer.js';

// The apiserver always prints with Wide=true (kubectl hides priority-1 columns itself), so nothing is clipped.
const WIDE = true;

export const deploymentPrinter = printer<Deployment>(
  [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', doc('apps/v1.DeploymentStatus', 'updatedReplicas')),
    column('Available', 'string', doc('apps/v1.DeploymentStatus', 'availableReplicas')),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('apps/v1.DeploymentSpec', 'selector'), wide),
  ],
  (d, ctx) => {
    // a missing replicas means 1: upstream decodes (and so defaults) before it prints
    const desired = d.spec?.replicas ?? 1;
    const [names, images] = layoutContainerCells(d.spec?.template?.spec?.containers);
    return [
      name(d),
      `${d.status?.readyReplicas ?? 0}/${desired}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d, ctx),
      names,
      images,
      labelSelectorString(d.spec?.selector),
    ];
  },
);

export const replicaSetPrinter = printer<ReplicaSet>(
  [
    nameColumn(),
    column('Desired', 'integer', doc('apps/v1.ReplicaSetSpec', 'replicas')),
    column('Current', 'integer', doc('apps/v1.ReplicaSetStatus', 'replicas')),
    column('Ready', 'integer', doc('apps/v1.ReplicaSetStatus', 'readyReplicas')),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('apps/v1.ReplicaSetSpec', 'selector'), wide),
  ],
  (rs, ctx) => {
    const [names, images] = layoutContainerCells(rs.spec?.template?.spec?.containers);
    return [
      name(rs),
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(rs, ctx),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
);

function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lbIPs = loadBalancerStatus(svc.status?.loadBalancer?.ingress, WIDE);
      if (externalIPs.length > 0) return [...(lbIPs ? lbIPs.split(',') : []), ...externalIPs].join(',');
      return lbIPs || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** makePortString: `80/TCP`, `80:30080/TCP` */
export function servicePorts(svc: Service): string {
  const text = (svc.spec?.ports ?? [])
    .map((p) =>
      p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`,
    )
    .join(',');
  return text || '<none>';
}

export const servicePrinter = printer<Service>(
  [
    nameColumn(),
    column('Type', 'string', doc('core/v1.ServiceSpec', 'type')),
    column('Cluster-IP', 'string', doc('core/v1.ServiceSpec', 'clusterIP')),
    column('External-IP', 'string', doc('core/v1.ServiceSpec', 'externalIPs')),
    column('Port(s)', 'string', doc('core/v1.ServiceSpec', 'ports')),
    ageColumn(),
    column('Selector', 'string', doc('core/v1.ServiceSpec', 'selector'), wide),
  ],
  (svc, ctx) => [
    name(svc),
    svc.spec?.type ?? 'ClusterIP',
    svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>',
    serviceExternalIP(svc),
    servicePorts(svc),
    age(svc, ctx),
    formatLabels(svc.spec?.selector),
  ],
);

/** formatEndpoints: `ip:port` pairs, at most 3, then `+ N more...` */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if (!ss.ports || ss.ports.length === 0) {
      // headless services may have no ports
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

export const endpointsPrinter = printer<Endpoints>(
  [nameColumn(), column('Endpoints', 'string', doc('core/v1.Endpoints', 'subsets')), ageColumn()],
  (ep, ctx) => [name(ep), formatEndpoints(ep), age(ep, ctx)],
);

export const endpointSlicePrinter = printer<EndpointSlice>(
  [
    nameColumn(),
    column('AddressType', 'string', doc('discovery/v1.EndpointSlice', 'addressType')),
    column('Ports', 'string', doc('discovery/v1.EndpointSlice', 'ports')),
    column('Endpoints', 'string', doc('discovery/v1.EndpointSlice', 'endpoints')),
    ageColumn(),
  ],
  (slice, ctx) => {
    const max = 3;
    const ports: string[] = [];
    let portCount = 0;
    for (const p of slice.ports ?? []) {
      if (ports.length < max) ports.push(p.port !== undefined ? String(p.port) : (p.name ?? '*'));
      portCount++;
    }
    const addresses: string[] = [];
    let addressCount = 0;
    for (const e of slice.endpoints ?? []) {
      for (const a of e.addresses ?? []) {
        if (addresses.length < max) addresses.push(a);
        addressCount++;
      }
    }
    return [
      name(slice),
      slice.addressType ?? '',
      listWithMore(ports, portCount > max, portCount, max),
      listWithMore(addresses, addressCount > max, addressCount, max),
      age(slice, ctx),
    ];
  },
);

export const nodePrinter = printer<Node>(
  [
    nameColumn(),
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    column('Version', 'string', doc('core/v1.NodeSystemInfo', 'kubeletVersion')),
    column('Internal-IP', 'string', doc('core/v1.NodeStatus', 'addresses'), wide),
    column('External-IP', 'string', doc('core/v1.NodeStatus', 'addresses'), wide),
    column('OS-Image', 'string', doc('core/v1.NodeSystemInfo', 'osImage'), wide),
    column('Kernel-Version', 'string', doc('core/v1.NodeSystemInfo', 'kernelVersion'), wide),
    column('Container-Runtime', 'string', doc('core/v1.NodeSystemInfo', 'containerRuntimeVersion'), wide),
  ],
  (node, ctx) => {
    const status: string[] = [];
    // upstream only summarises the Ready condition
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (status.length === 0) status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const info = node.status?.nodeInfo;
    const address = (type: string): string =>
      node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
    return [
      name(node),
      status.join(','),
      nodeRoles(node).join(',') || '<none>',
      age(node, ctx),
      info?.kubeletVersion ?? '',
      address('InternalIP'),
      address('ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
);

/** findNodeRoles: `node-role.kubernetes.io/<role>` labels and the `kubernetes.io/role` label, sorted */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

export const namespacePrinter = printer<Namespace>(
  [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  (ns, ctx) => [name(ns), ns.status?.phase ?? '', age(ns, ctx)],
);

export const configMapPrinter = printer<ConfigMap>(
  [nameColumn(), column('Data', 'string', doc('core/v1.ConfigMap', 'data')), ageColumn()],
  (cm, ctx) => [
    name(cm),
    Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    age(cm, ctx),
  ],
);

export const secretPrinter = printer<Secret>(
  [
    nameColumn(),
    column('Type', 'string', doc('core/v1.Secret', 'type')),
    column('Data', 'string', doc('core/v1.Secret', 'data')),
    ageColumn(),
  ],
  (s, ctx) => [name(s), s.type ?? '', Object.keys(s.data ?? {}).length, age(s, ctx)],
);

// SECRETS is still printed by 1.30–1.34; upstream drops it in 1.35 (kubernetes/kubernetes#117160).
export const serviceAccountPrinter = printer<ServiceAccount>(
  [nameColumn(), column('Secrets', 'string', doc('core/v1.ServiceAccount', 'secrets')), ageColumn()],
  (sa, ctx) => [name(sa), sa.secrets?.length ?? 0, age(sa, ctx)],
);

export const leasePrinter = printer<Lease>(
  [nameColumn(), column('Holder', 'string', doc('coordination/v1.LeaseSpec', 'holderIdentity')), ageColumn()],
  (lease, ctx) => [name(lease), lease.spec?.holderIdentity ?? '', age(lease, ctx)],
);

/** formatHosts: at most 3 hosts, `*` when no rule names one */
function formatHosts(ingress: Ingress): string {
  const rules = ingress.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const joined = list.join(',');
  return more ? `${joined} + ${rules.length - max} more...` : joined;
}

export const ingressPrinter = printer<Ingress>(
  [
    nameColumn(),
    column(
      'Class',
      'string',
      'The name of the IngressClass resource that should be used for additional configuration',
    ),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  (ing, ctx) => [
    name(ing),
    ing.spec?.ingressClassName ?? '<none>',
    formatHosts(ing),
    loadBalancerStatus(ing.status?.loadBalancer?.ingress, WIDE),
    (ing.spec?.tls?.length ?? 0) > 0 ? '80, 443' : '80',
    age(ing, ctx),
  ],
);

export const ingressClassPrinter = printer<IngressClass>(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  (ic, ctx) => {
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) parameters = `${p.kind}${p.apiGroup != null ? `.${p.apiGroup}` : ''}/${p.name}`;
    return [name(ic), ic.spec?.controller ?? '', parameters, age(ic, ctx)];
  },
);

export const hpaPrinter = printer<KubeObject>(
  [
    nameColumn(),
    column('Reference', 'string', doc('autoscaling/v2.HorizontalPodAutoscalerSpec', 'scaleTargetRef')),
    column('Targets', 'string', doc('autoscaling/v2.HorizontalPodAutoscalerSpec', 'metrics')),
    column('MinPods', 'string', doc('autoscaling/v2.HorizontalPodAutoscalerSpec', 'minReplicas')),
    column('MaxPods', 'string', doc('autoscaling/v2.HorizontalPodAutoscalerSpec', 'maxReplicas')),
    column('Replicas', 'string', doc('autoscaling/v2.HorizontalPodAutoscalerStatus', 'currentReplicas')),
    ageColumn(),
  ],
  (obj, ctx) => {
    const hpa = toHPAv2(obj);
    const ref = hpa.spec?.scaleTargetRef;
    return [
      name(hpa),
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      formatHPAMetrics(hpa.spec?.metrics, hpa.status?.currentMetrics),
      hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : '<unset>',
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      age(hpa, ctx),
    ];
  },
);

export const eventPrinter = printer<KubeObject>(
  [
    column('Last Seen', 'string', doc('core/v1.Event', 'lastTimestamp')),
    column('Type', 'string', doc('core/v1.Event', 'type')),
    column('Reason', 'string', doc('core/v1.Event', 'reason')),
    column('Object', 'string', doc('core/v1.Event', 'involvedObject')),
    column('Subobject', 'string', doc('core/v1.ObjectReference', 'fieldPath'), wide),
    column('Source', 'string', doc('core/v1.Event', 'source'), wide),
    column('Message', 'string', doc('core/v1.Event', 'message')),
    column('First Seen', 'string', doc('core/v1.Event', 'firstTimestamp'), wide),
    column('Count', 'string', doc('core/v1.Event', 'count'), wide),
    column('Name', 'string', doc('meta/v1.ObjectMeta', 'name'), { priority: 1, format: 'name' }),
  ],
  (obj, ctx) => eventCells(toCoreEvent(obj), ctx.now),
);

function eventCells(ev: CoreEvent, now: number): TableCell[] {
  const firstTimestamp = ev.firstTimestamp ? since(ev.firstTimestamp, now) : since(ev.eventTime, now);
  let lastTimestamp = ev.lastTimestamp ? since(ev.lastTimestamp, now) : firstTimestamp;
  let count = ev.count ?? 0;
  if (ev.series) {
    lastTimestamp = since(ev.series.lastObservedTime, now);
    count = ev.series.count ?? 0;
  } else if (count === 0) {
    // singleton events have no count in the events.k8s.io API
    count = 1;
  }
  const involved = ev.involvedObject;
  const target = involved?.name
    ? `${(involved.kind ?? '').toLowerCase()}/${involved.name}`
    : (involved?.kind ?? '').toLowerCase();
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return [
    lastTimestamp,
    ev.type ?? '',
    ev.reason ?? '',
    target,
    involved?.fieldPath ?? '',
    instance ? `${component}, ${instance}` : component,
    (ev.message ?? '').trim(),
    firstTimestamp,
    count,
    ev.metadata?.name ?? '',
  ];
}

/** `kubectl get deploy web --subresource=scale`: upstream's Scale printer (its Name column has no name format) */
export const scalePrinter = printer<{
  metadata?: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number };
}>(
  [
    column('Name', 'string', doc('meta/v1.ObjectMeta', 'name')),
    column('Desired', 'integer', 'replicas is the desired number of instances for the scaled object.'),
    column(
      'Available',
      'integer',
      'replicas is the actual number of observed instances of the scaled object.',
    ),
    ageColumn(),
  ],
  (s, ctx) => [name(s), s.spec?.replicas ?? 0, s.status?.replicas ?? 0, age(s, ctx)],
);
