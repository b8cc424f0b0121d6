// What an object counts against a ResourceQuota: upstream's quota evaluators (pkg/quota/v1/evaluator/core: pods,
// services, persistentvolumeclaims; the generic object-count evaluator for everything else), used by the
// ResourceQuota admission plugin and the resourcequota controller alike.
import { add, addQuantity, cmpQuantity, type ResourceList } from './resource-list.js';

type Obj = {
  metadata?: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec?: unknown;
  status?: unknown;
};

interface Container {
  name: string;
  restartPolicy?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  overhead?: ResourceList;
  activeDeadlineSeconds?: number;
  priorityClassName?: string;
}

export interface QuotaLike {
  spec?: {
    hard?: ResourceList;
    scopes?: string[];
    scopeSelector?: { matchExpressions?: { scopeName: string; operator: string; values?: string[] }[] };
  };
  status?: { hard?: ResourceList; used?: ResourceList };
}

/** `count/pods`, `count/deployments.apps` */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

// ---------------------------------------------------------------- pods

const POD_COMPUTE = new Set([
  'pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);

const isHugePages = (k: string): boolean =>
  k.startsWith('hugepages-') || k.startsWith('requests.hugepages-') || k.startsWith('limits.hugepages-');

/** the resources a container must set explicitly once a quota limits them (the pod evaluator's validationSet) */
export const POD_VALIDATION_SET: ReadonlySet<string> = new Set([
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
]);

/** podComputeUsageHelper: the quota resources a set of requests and limits stands for */
export function podComputeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = { pods: '1' };
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (requests[r] !== undefined) {
      out[r] = requests[r];
      out[`requests.${r}`] = requests[r];
    }
    if (limits[r] !== undefined) out[`limits.${r}`] = limits[r];
  }
  for (const [k, v] of Object.entries(requests))
    if (k.startsWith('hugepages-')) {
      out[k] = v;
      out[`requests.${k}`] = v;
    }
  for (const [k, v] of Object.entries(limits)) if (k.startsWith('hugepages-')) out[`limits.${k}`] = v;
  return out;
}

function maxList(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) if (out[k] === undefined || cmpQuantity(v, out[k]) > 0) out[k] = v;
  return out;
}

/** resourcehelper.PodRequests / PodLimits: the containers' sum, at least each init container's, plus overhead
 *  (sidecars — init containers with restartPolicy Always — run alongside and add up) */
export function podResources(spec: PodSpec | undefined, which: 'requests' | 'limits'): ResourceList {
  let sum: ResourceList = {};
  for (const c of spec?.containers ?? []) sum = add(sum, c.resources?.[which] ?? {});
  let sidecars: ResourceList = {};
  let initMax: ResourceList = {};
  for (const c of spec?.initContainers ?? []) {
    const r = c.resources?.[which] ?? {};
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, r);
      initMax = maxList(initMax, sidecars);
    } else {
      initMax = maxList(initMax, add(r, sidecars));
    }
  }
  let out = maxList(add(sum, sidecars), initMax);
  if (spec?.overhead) out = add(out, spec.overhead);
  return out;
}

/** QuotaV1Pod: terminal pods, and pods past their deletion grace period, use no compute resources */
function podIsLive(pod: Obj, now: number): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const m = pod.metadata;
  if (m?.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined) {
    const end = Date.parse(m.deletionTimestamp) + m.deletionGracePeriodSeconds * 1000;
    if (now > end) return false;
  }
  return true;
}

export function podUsage(pod: Obj, now = Date.now()): ResourceList {
  const result: ResourceList = { 'count/pods': '1' };
  if (!podIsLive(pod, now)) return result;
  const spec = pod.spec as PodSpec | undefined;
  return add(result, podComputeUsage(podResources(spec, 'requests'), podResources(spec, 'limits')));
}

function podIsBestEffort(spec: PodSpec | undefined): boolean {
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const r of ['cpu', 'memory']) {
      if (c.resources?.requests?.[r] !== undefined || c.resources?.limits?.[r] !== undefined) return false;
    }
  }
  return true;
}

function podMatchesScope(
  spec: PodSpec | undefined,
  scope: string,
  operator = 'Exists',
  values: string[] = [],
): boolean {
  switch (scope) {
    case 'Terminating':
      return spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return spec?.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds < 0;
    case 'BestEffort':
      return podIsBestEffort(spec);
    case 'NotBestEffort':
      return !podIsBestEffort(spec);
    case 'PriorityClass': {
      const pc = spec?.priorityClassName ?? '';
      if (operator === 'Exists') return pc !== '';
      if (operator === 'DoesNotExist') return pc === '';
      if (operator === 'In') return values.includes(pc);
      if (operator === 'NotIn') return !values.includes(pc);
      return false;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------- the evaluators

export interface Evaluator {
  /** does this evaluator account for the quota resource? (MatchingResources) */
  covers(resourceName: string): boolean;
  usage(obj: Obj, now?: number): ResourceList;
  /** does the quota's scope select the object? */
  matchesScopes(quota: QuotaLike, obj: Obj): boolean;
}

function noScopes(quota: QuotaLike): boolean {
  return !quota.spec?.scopes?.length && !quota.spec?.scopeSelector?.matchExpressions?.length;
}

const podEvaluator: Evaluator = {
  covers: (k) => k === 'count/pods' || POD_COMPUTE.has(k) || isHugePages(k),
  usage: podUsage,
  matchesScopes(quota, obj) {
    const spec = obj.spec as PodSpec | undefined;
    for (const s of quota.spec?.scopes ?? []) if (!podMatchesScope(spec, s)) return false;
    for (const e of quota.spec?.scopeSelector?.matchExpressions ?? [])
      if (!podMatchesScope(spec, e.scopeName, e.operator, e.values)) return false;
    return true;
  },
};

const serviceEvaluator: Evaluator = {
  covers: (k) =>
    k === 'count/services' ||
    k === 'services' ||
    k === 'services.nodeports' ||
    k === 'services.loadbalancers',
  usage(obj) {
    const spec = obj.spec as { type?: string; ports?: { nodePort?: number }[] } | undefined;
    const out: ResourceList = { 'count/services': '1', services: '1' };
    const ports = spec?.ports?.length ?? 0;
    if (spec?.type === 'NodePort') out['services.nodeports'] = String(ports);
    if (spec?.type === 'LoadBalancer') {
      out['services.loadbalancers'] = '1';
      out['services.nodeports'] = String(spec.ports?.filter((p) => p.nodePort !== 0).length ?? ports);
    }
    return out;
  },
  matchesScopes: noScopes,
};

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

const pvcEvaluator: Evaluator = {
  covers: (k) =>
    k === 'count/persistentvolumeclaims' ||
    k === 'persistentvolumeclaims' ||
    k === 'requests.storage' ||
    (k.includes(STORAGE_CLASS_SUFFIX) &&
      (k.endsWith('/requests.storage') || k.endsWith('/persistentvolumeclaims'))),
  usage(obj) {
    const spec = obj.spec as
      { storageClassName?: string; resources?: { requests?: ResourceList } } | undefined;
    const out: ResourceList = { 'count/persistentvolumeclaims': '1', persistentvolumeclaims: '1' };
    const storage = spec?.resources?.requests?.['storage'];
    if (storage !== undefined) out['requests.storage'] = addQuantity(undefined, storage);
    const cls = spec?.storageClassName;
    if (cls) {
      out[`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`] = '1';
      if (storage !== undefined) out[`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`] = storage;
    }
    return out;
  },
  matchesScopes: noScopes,
};

/** the generic object-count evaluator, with the legacy short names configmaps/secrets/… */
function countEvaluator(group: string, resource: string): Evaluator {
  const count = objectCountName(group, resource);
  const legacy =
    group === '' && ['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'].includes(resource);
  return {
    covers: (k) => k === count || (legacy && k === resource),
    usage: () => (legacy ? { [count]: '1', [resource]: '1' } : { [count]: '1' }),
    matchesScopes: noScopes,
  };
}

export function evaluatorFor(group: string, resource: string): Evaluator {
  if (group === '' && resource === 'pods') return podEvaluator;
  if (group === '' && resource === 'services') return serviceEvaluator;
  if (group === '' && resource === 'persistentvolumeclaims') return pvcEvaluator;
  return countEvaluator(group, resource);
}

/** the `group/resource`s whose objects a quota resource name counts (for recomputing usage) */
export function resourcesCounted(resourceName: string): { group: string; resource: string } | undefined {
  if (podEvaluator.covers(resourceName)) return { group: '', resource: 'pods' };
  if (serviceEvaluator.covers(resourceName)) return { group: '', resource: 'services' };
  if (pvcEvaluator.covers(resourceName)) return { group: '', resource: 'persistentvolumeclaims' };
  if (['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'].includes(resourceName))
    return { group: '', resource: resourceName };
  if (resourceName.startsWith('count/')) {
    const gr = resourceName.slice('count/'.length);
    const dot = gr.indexOf('.');
    return dot < 0 ? { group: '', resource: gr } : { group: gr.slice(dot + 1), resource: gr.slice(0, dot) };
  }
  return undefined;
}

/** the usage of a set of objects of one resource, for the quota's hard resources that resource covers */
export function usageOf(
  group: string,
  resource: string,
  objects: readonly Obj[],
  quota: QuotaLike,
  now = Date.now(),
): ResourceList {
  const ev = evaluatorFor(group, resource);
  const hard = Object.keys(quota.spec?.hard ?? {}).filter((k) => ev.covers(k));
  let total: ResourceList = {};
  for (const k of hard) total[k] = '0';
  for (const o of objects) {
    if (!ev.matchesScopes(quota, o)) continue;
    const u = ev.usage(o, now);
    const masked: ResourceList = {};
    for (const k of hard) if (u[k] !== undefined) masked[k] = u[k];
    total = add(total, masked);
  }
  return total;
}
