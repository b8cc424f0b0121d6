// The dashboard's state: watch events in, a view model out. Pure and DOM-free, so node tests it and the browser
// imports the compiled file (served as /dashboard/model.js) — keep it free of runtime imports.
import type { Event, Node, Pod, Service, Endpoints } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EtcdMemberStatus } from '../util/etcd-member-status.js';

/**
 * What the dashboard watches. One HTTP/1.1 stream carries all of them (GET /dashboard/watch): a browser opens at
 * most six connections to a host, so a watch per kind would starve the log stream and a second tab.
 */
export const WATCHED = {
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  pods: { group: '', version: 'v1', resource: 'pods' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
  hpas: { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' },
  events: { group: '', version: 'v1', resource: 'events' },
  // kube-system's: the apiservers' identity Leases and the controller-manager's and scheduler's leader Leases
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' },
} as const;
export type Kind = keyof typeof WATCHED;

export const WATCH_STREAM_PATH = '/dashboard/watch';

/** A line of the dashboard's watch stream: a kind's full list (first, and after a relist) or one watch event. */
export type StreamLine =
  | { kind: Kind; type: 'SYNC'; items: WatchEventLike['object'][] }
  | { kind: 'etcd'; type: 'STATUS'; members: EtcdMemberView[] }
  | { kind: Kind; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: WatchEventLike['object'] }
  | { kind: Kind; type: 'ERROR'; object: { message?: string; code?: number } };

/** Node usage, listed (metrics.k8s.io cannot be watched) when the cluster serves it. */
export const NODE_METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/nodes';

/** An etcd member as the apiserver serving the page sees it (etcd storage only; sent when it changes). */
export type EtcdMemberView = EtcdMemberStatus;

interface Objects {
  nodes: Node;
  pods: Pod;
  deployments: Deployment;
  replicasets: ReplicaSet;
  services: Service;
  endpoints: Endpoints;
  ingresses: Ingress;
  hpas: HorizontalPodAutoscaler;
  events: Event;
  leases: Lease;
}

export interface WatchEventLike {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
}

export interface DashboardState {
  objects: { [K in Kind]: Map<string, Objects[K]> };
  /** replicas over time per HPA key, oldest first */
  hpaHistory: Map<string, { t: number; replicas: number }[]>;
  /** node name → usage in cores and bytes */
  nodeUsage: Map<string, { cpu: number; memory: number }>;
  /** the etcd members, when the cluster stores on etcd */
  etcd: EtcdMemberView[];
}

export const HPA_HISTORY_POINTS = 60;
/** events kept; the view shows fewer */
export const EVENTS_KEPT = 300;

export function createState(): DashboardState {
  return {
    objects: {
      nodes: new Map(),
      pods: new Map(),
      deployments: new Map(),
      replicasets: new Map(),
      services: new Map(),
      endpoints: new Map(),
      ingresses: new Map(),
      hpas: new Map(),
      events: new Map(),
      leases: new Map(),
    },
    hpaHistory: new Map(),
    nodeUsage: new Map(),
    etcd: [],
  };
}

export function objectKey(o: WatchEventLike['object']): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

function recordHpa(
  state: DashboardState,
  key: string,
  hpa: HorizontalPodAutoscaler | undefined,
  now: number,
): void {
  if (!hpa) return;
  const replicas = hpa.status?.currentReplicas ?? 0;
  const history = state.hpaHistory.get(key) ?? [];
  if (history.at(-1)?.replicas !== replicas || history.length === 0) history.push({ t: now, replicas });
  if (history.length > HPA_HISTORY_POINTS) history.splice(0, history.length - HPA_HISTORY_POINTS);
  state.hpaHistory.set(key, history);
}

function eventTime(e: Event): string {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '';
}

function trimEvents(state: DashboardState): void {
  const events = state.objects.events;
  if (events.size <= EVENTS_KEPT + 50) return;
  const oldest = [...events.entries()].sort((a, b) => eventTime(a[1]).localeCompare(eventTime(b[1])));
  for (const [k] of oldest.slice(0, events.size - EVENTS_KEPT)) events.delete(k);
}

/** Apply one watch event; returns whether anything the view shows may have changed. */
export function applyEvent(state: DashboardState, kind: Kind, ev: WatchEventLike, now = Date.now()): boolean {
  if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') return false;
  const map = state.objects[kind] as Map<string, unknown>;
  const key = objectKey(ev.object);
  if (ev.type === 'DELETED') {
    if (kind === 'hpas') state.hpaHistory.delete(key);
    return map.delete(key);
  }
  const prev = map.get(key) as WatchEventLike['object'] | undefined;
  // a resent object (relist, duplicate delivery) changes nothing
  if (prev && prev.metadata?.resourceVersion === ev.object.metadata?.resourceVersion) return false;
  map.set(key, ev.object);
  if (kind === 'hpas') recordHpa(state, key, ev.object, now);
  if (kind === 'events') trimEvents(state);
  return true;
}

/** A fresh list (first load or relist after 410): replaces everything of that kind. */
export function replaceAll(
  state: DashboardState,
  kind: Kind,
  items: WatchEventLike['object'][],
  now = Date.now(),
): void {
  const map = state.objects[kind] as Map<string, unknown>;
  map.clear();
  for (const item of items) applyEvent(state, kind, { type: 'ADDED', object: item }, now);
  if (kind === 'hpas')
    for (const k of [...state.hpaHistory.keys()]) if (!map.has(k)) state.hpaHistory.delete(k);
}

export interface NodeMetricsItem {
  metadata?: { name?: string };
  usage?: { cpu?: string; memory?: string };
}

export function setNodeMetrics(state: DashboardState, items: NodeMetricsItem[]): void {
  state.nodeUsage.clear();
  for (const m of items) {
    const name = m.metadata?.name;
    if (!name) continue;
    state.nodeUsage.set(name, { cpu: parseQuantity(m.usage?.cpu), memory: parseQuantity(m.usage?.memory) });
  }
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A Kubernetes quantity ("500m", "4Gi", "1e3") as a number; NaN when unreadable, 0 when absent. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const unit = m[2] ? SUFFIX[m[2]] : 1;
  return unit === undefined ? NaN : Number(m[1]) * unit;
}

// ---------- the view model ----------

export interface PodView {
  key: string;
  namespace: string;
  name: string;
  node: string;
  phase: string;
  /** what `kubectl get pods` prints in STATUS */
  status: string;
  ready: string;
  allReady: boolean;
  restarts: number;
  image: string;
  /** the first container's image tag, e.g. v2 */
  tag: string;
  owner: string;
  podIP: string;
  terminating: boolean;
}

export interface NodeView {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  unschedulable: boolean;
  internalIP: string;
  cpu: { capacity: number; usage: number | undefined };
  memory: { capacity: number; usage: number | undefined };
  maxPods: number;
  pods: PodView[];
}

export interface DeploymentView {
  key: string;
  namespace: string;
  name: string;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** per ReplicaSet with pods: its tag and replica count, newest first */
  revisions: { tag: string; replicas: number }[];
  rolling: boolean;
}

export interface ServiceView {
  key: string;
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  externalIP: string;
  ports: string;
  endpoints: string[];
  notReady: number;
}

export interface IngressView {
  key: string;
  namespace: string;
  name: string;
  address: string;
  rules: { host: string; path: string; backend: string }[];
}

export interface HpaView {
  key: string;
  namespace: string;
  name: string;
  target: string;
  min: number;
  max: number;
  current: number;
  desired: number;
  utilization: number | undefined;
  targetUtilization: number | undefined;
  history: number[];
}

export interface EventView {
  key: string;
  time: string;
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
}

export interface DashboardView {
  nodes: NodeView[];
  /** pods not (yet) on a known node */
  unscheduled: PodView[];
  deployments: DeploymentView[];
  services: ServiceView[];
  ingresses: IngressView[];
  hpas: HpaView[];
  events: EventView[];
  controlPlane: ControlPlaneView;
  counts: { nodes: number; readyNodes: number; pods: number; runningPods: number };
}

/** The control plane's members and leaders, from kube-system's Leases and (on etcd) the members' own status. */
export interface ControlPlaneView {
  /** the etcd members; empty when the cluster stores on SQLite */
  etcd: (EtcdMemberView & { key: string })[];
  /** one per apiserver identity Lease: its host, and whether it renewed within three renew intervals (30 s) */
  apiServers: { key: string; host: string; renewedAgoS: number; live: boolean }[];
  /** the leader-election Leases: the holder's host (its identity before `_`), and whether the lease is current */
  leaders: { key: string; lease: string; holder: string; live: boolean }[];
}

/** upstream's identity Lease label (apiserver.kubernetes.io/identity=kube-apiserver) */
const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
/** an apiserver renews its identity Lease every 10 s: one silent for three intervals is shown as not renewing */
const IDENTITY_STALE_MS = 30_000;

function leaseRenewed(l: Lease): number {
  return Date.parse(l.spec?.renewTime ?? l.spec?.acquireTime ?? '');
}

export function controlPlaneView(state: DashboardState, now: number): ControlPlaneView {
  const apiServers: ControlPlaneView['apiServers'] = [];
  const leaders: ControlPlaneView['leaders'] = [];
  for (const [key, l] of state.objects.leases) {
    const renewed = leaseRenewed(l);
    const ago = Number.isFinite(renewed) ? Math.max(0, now - renewed) : Infinity;
    if (l.metadata?.labels?.[IDENTITY_LABEL] === 'kube-apiserver') {
      apiServers.push({
        key,
        host: l.metadata.labels['kubernetes.io/hostname'] ?? l.metadata.name ?? '',
        renewedAgoS: Math.round(ago / 1000),
        live: ago <= IDENTITY_STALE_MS,
      });
    } else if (l.spec?.holderIdentity !== undefined) {
      const holder = l.spec.holderIdentity ?? '';
      leaders.push({
        key,
        lease: l.metadata?.name ?? '',
        holder: holder.includes('_') ? holder.slice(0, holder.indexOf('_')) : holder,
        live: holder !== '' && ago <= (l.spec.leaseDurationSeconds ?? 15) * 1000,
      });
    }
  }
  return {
    etcd: state.etcd.map((m) => ({ ...m, key: m.endpoint })),
    apiServers: apiServers.sort((a, b) => a.host.localeCompare(b.host)),
    leaders: leaders.sort((a, b) => a.lease.localeCompare(b.lease)),
  };
}

export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}

/** kubectl's STATUS column, simplified: the waiting/terminated reason of a container, else the phase. */
export function podStatus(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  let reason = pod.status?.reason ?? pod.status?.phase ?? 'Pending';
  for (const c of pod.status?.initContainerStatuses ?? []) {
    if (c.state?.terminated?.exitCode === 0) continue;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      return `Init:${c.state.waiting.reason}`;
    if (c.state?.terminated) return `Init:${c.state.terminated.reason ?? 'Error'}`;
    if (c.state?.running || c.state?.waiting)
      return 'Init:0/' + String(pod.spec?.initContainers?.length ?? 0);
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  if (reason === 'Pending' && pod.spec?.nodeName) reason = 'ContainerCreating';
  return reason;
}

function controllerOf(o: {
  metadata?: { ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
}) {
  const refs = o.metadata?.ownerReferences ?? [];
  return refs.find((r) => r.controller) ?? refs[0];
}

function podView(state: DashboardState, pod: Pod): PodView {
  const namespace = pod.metadata?.namespace ?? '';
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = pod.spec?.containers ?? [];
  const readyCount = statuses.filter((c) => c.ready).length;
  const image = containers[0]?.image ?? '';
  let owner = '';
  const ref = controllerOf(pod);
  if (ref) {
    owner = `${ref.kind}/${ref.name}`;
    if (ref.kind === 'ReplicaSet') {
      const rsRef = controllerOf(state.objects.replicasets.get(`${namespace}/${ref.name}`) ?? {});
      if (rsRef?.kind === 'Deployment') owner = `Deployment/${rsRef.name}`;
    }
  }
  return {
    key: pod.metadata?.uid ?? `${namespace}/${pod.metadata?.name ?? ''}`,
    namespace,
    name: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Pending',
    status: podStatus(pod),
    ready: `${readyCount}/${containers.length}`,
    allReady: containers.length > 0 && readyCount === containers.length,
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    image,
    tag: imageTag(image),
    owner,
    podIP: pod.status?.podIP ?? '',
    terminating: !!pod.metadata?.deletionTimestamp,
  };
}

function nodeReady(node: Node): NodeView['ready'] {
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status === 'True' ? 'True' : c?.status === 'False' ? 'False' : 'Unknown';
}

const byName = <T extends { namespace?: string; name: string }>(a: T, b: T): number =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
  a.name.localeCompare(b.name, undefined, { numeric: true });

function deploymentView(state: DashboardState, key: string, d: Deployment): DeploymentView {
  const namespace = d.metadata?.namespace ?? '';
  const name = d.metadata?.name ?? '';
  const revisions = [...state.objects.replicasets.values()]
    .filter(
      (rs) =>
        rs.metadata?.namespace === namespace &&
        controllerOf(rs)?.name === name &&
        controllerOf(rs)?.kind === 'Deployment',
    )
    .filter((rs) => (rs.status?.replicas ?? 0) > 0 || (rs.spec?.replicas ?? 0) > 0)
    .sort(
      (a, b) =>
        Number(b.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0) -
        Number(a.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
    )
    .map((rs) => ({
      tag: imageTag(rs.spec?.template?.spec?.containers?.[0]?.image ?? ''),
      replicas: rs.status?.replicas ?? 0,
    }));
  const desired = d.spec?.replicas ?? 1;
  const updated = d.status?.updatedReplicas ?? 0;
  const total = d.status?.replicas ?? 0;
  return {
    key,
    namespace,
    name,
    desired,
    updated,
    ready: d.status?.readyReplicas ?? 0,
    available: d.status?.availableReplicas ?? 0,
    revisions,
    rolling: updated < desired || total > updated || revisions.length > 1,
  };
}

function serviceView(state: DashboardState, key: string, s: Service): ServiceView {
  const ep = state.objects.endpoints.get(key);
  const endpoints: string[] = [];
  let notReady = 0;
  for (const subset of ep?.subsets ?? []) {
    const port = subset.ports?.[0]?.port;
    for (const a of subset.addresses ?? []) endpoints.push(port ? `${a.ip}:${port}` : a.ip);
    notReady += subset.notReadyAddresses?.length ?? 0;
  }
  const ingress = s.status?.loadBalancer?.ingress ?? [];
  return {
    key,
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    type: s.spec?.type ?? 'ClusterIP',
    clusterIP: s.spec?.clusterIP ?? '',
    externalIP:
      [...ingress.map((i) => i.ip ?? i.hostname ?? ''), ...(s.spec?.externalIPs ?? [])]
        .filter(Boolean)
        .join(',') || (s.spec?.type === 'LoadBalancer' ? '<pending>' : ''),
    ports: (s.spec?.ports ?? [])
      .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
      .join(','),
    endpoints: endpoints.sort(),
    notReady,
  };
}

function ingressView(key: string, ing: Ingress): IngressView {
  const rules: IngressView['rules'] = [];
  for (const r of ing.spec?.rules ?? []) {
    for (const p of r.http?.paths ?? []) {
      const svc = p.backend.service;
      rules.push({
        host: r.host ?? '*',
        path: p.path ?? '/',
        backend: svc
          ? `${svc.name}:${svc.port?.number ?? svc.port?.name ?? ''}`
          : (p.backend.resource?.name ?? ''),
      });
    }
  }
  const def = ing.spec?.defaultBackend?.service;
  if (def)
    rules.push({
      host: '*',
      path: '(default)',
      backend: `${def.name}:${def.port?.number ?? def.port?.name ?? ''}`,
    });
  return {
    key,
    namespace: ing.metadata?.namespace ?? '',
    name: ing.metadata?.name ?? '',
    address: (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').join(','),
    rules,
  };
}

function hpaView(state: DashboardState, key: string, h: HorizontalPodAutoscaler): HpaView {
  const cpuSpec = h.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const cpuNow = h.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  return {
    key,
    namespace: h.metadata?.namespace ?? '',
    name: h.metadata?.name ?? '',
    target: `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}`,
    min: h.spec?.minReplicas ?? 1,
    max: h.spec?.maxReplicas ?? 0,
    current: h.status?.currentReplicas ?? 0,
    desired: h.status?.desiredReplicas ?? 0,
    utilization: cpuNow?.resource?.current?.averageUtilization,
    targetUtilization: cpuSpec?.resource?.target?.averageUtilization,
    history: (state.hpaHistory.get(key) ?? []).map((p) => p.replicas),
  };
}

export const EVENTS_SHOWN = 30;

/** The whole picture, derived afresh (O(objects)); the renderer diffs it against the page by key. */
export function buildView(state: DashboardState, now = Date.now()): DashboardView {
  const o = state.objects;
  const nodes = new Map<string, NodeView>();
  for (const n of o.nodes.values()) {
    const name = n.metadata?.name ?? '';
    const usage = state.nodeUsage.get(name);
    const cap = n.status?.allocatable ?? n.status?.capacity ?? {};
    nodes.set(name, {
      name,
      ready: nodeReady(n),
      unschedulable: !!n.spec?.unschedulable,
      internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      cpu: { capacity: parseQuantity(cap['cpu']), usage: usage?.cpu },
      memory: { capacity: parseQuantity(cap['memory']), usage: usage?.memory },
      maxPods: parseQuantity(cap['pods']),
      pods: [],
    });
  }
  const unscheduled: PodView[] = [];
  let runningPods = 0;
  for (const p of o.pods.values()) {
    const view = podView(state, p);
    if (view.phase === 'Running') runningPods++;
    const node = nodes.get(view.node);
    (node ? node.pods : unscheduled).push(view);
  }
  for (const n of nodes.values()) n.pods.sort(byName);
  const nodeList = [...nodes.values()].sort(byName);
  const events = [...o.events.entries()]
    .sort((a, b) => eventTime(b[1]).localeCompare(eventTime(a[1])))
    .slice(0, EVENTS_SHOWN)
    .map(([key, e]) => ({
      key,
      time: eventTime(e),
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
      message: e.message ?? '',
      count: e.count ?? 1,
    }));
  return {
    nodes: nodeList,
    unscheduled: unscheduled.sort(byName),
    deployments: [...o.deployments].map(([k, d]) => deploymentView(state, k, d)).sort(byName),
    services: [...o.services].map(([k, s]) => serviceView(state, k, s)).sort(byName),
    ingresses: [...o.ingresses].map(([k, i]) => ingressView(k, i)).sort(byName),
    hpas: [...o.hpas].map(([k, h]) => hpaView(state, k, h)).sort(byName),
    events,
    controlPlane: controlPlaneView(state, now),
    counts: {
      nodes: nodeList.length,
      readyNodes: nodeList.filter((n) => n.ready === 'True').length,
      pods: o.pods.size,
      runningPods,
    },
  };
}
