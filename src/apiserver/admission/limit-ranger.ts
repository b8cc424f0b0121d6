// LimitRanger admission (plugin/pkg/admission/limitranger): the LimitRanges of a namespace give containers their
// default requests and limits (mutating, on pod create) and bound what pods, containers and claims may ask for
// (min, max, maxLimitRequestRatio; validating), with upstream's messages.
import type { KubeObject } from '../../api/request.js';
import { cmpQuantity, type ResourceList } from '../../api/quota/resource-list.js';
import { podResources } from '../../api/quota/usage.js';
import { canonicalQuantity, parseQuantity, quantityValue } from '../../api/schema/quantity.js';
import {
  admissionForbidden,
  type AdmissionAttributes,
  type AdmissionPlugin,
  type AdmissionStore,
} from './interface.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

interface LimitRangeItem {
  type: string;
  max?: ResourceList;
  min?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

interface Container {
  name: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

const items = (lr: KubeObject): LimitRangeItem[] =>
  (lr['spec'] as { limits?: LimitRangeItem[] } | undefined)?.limits ?? [];

const show = (q: string): string => canonicalQuantity(q) ?? q;
const sortedEntries = (l: ResourceList | undefined): [string, string][] =>
  Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));

/** handled: pods on create, PersistentVolumeClaims on create and update; no subresources (SupportsAttributes) */
function supports(attrs: AdmissionAttributes): 'pod' | 'pvc' | undefined {
  if (attrs.subresource || attrs.resource.group !== '' || !attrs.object) return undefined;
  if (attrs.oldObject?.metadata?.deletionTimestamp) return undefined;
  if (attrs.resource.resource === 'pods' && attrs.operation === 'CREATE') return 'pod';
  if (attrs.resource.resource === 'persistentvolumeclaims' && attrs.operation !== 'DELETE') return 'pvc';
  return undefined;
}

// ---------------------------------------------------------------- defaults (mutating)

function mergeContainer(
  c: Container,
  limits: ResourceList,
  requests: ResourceList,
  prefix: string,
  notes: string[],
): void {
  const resources = (c.resources ??= {});
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(limits)) {
    const l = (resources.limits ??= {});
    if (l[k] === undefined) {
      l[k] = v;
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(requests)) {
    const r = (resources.requests ??= {});
    if (r[k] === undefined) {
      r[k] = v;
      setRequests.push(k);
    }
  }
  if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name}`);
  if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name}`);
}

/** PodMutateLimitFunc: the Container items' default and defaultRequest fill what containers leave unset */
export function applyLimitRangeDefaults(lr: KubeObject, pod: KubeObject): void {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  for (const item of items(lr)) {
    if (item.type !== 'Container') continue;
    Object.assign(limits, item.default ?? {});
    Object.assign(requests, item.defaultRequest ?? {});
  }
  const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  const notes: string[] = [];
  for (const c of spec.containers ?? []) mergeContainer(c, limits, requests, 'container', notes);
  for (const c of spec.initContainers ?? []) mergeContainer(c, limits, requests, 'init container', notes);
  if (notes.length) {
    const m = (pod.metadata ??= {});
    m.annotations = {
      ...(m.annotations ?? {}),
      [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
    };
  }
}

// ---------------------------------------------------------------- constraints (validating)

function minConstraint(
  type: string,
  r: string,
  enforced: string,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  if (req[r] === undefined)
    return `minimum ${r} usage per ${type} is ${show(enforced)}.  No request is specified`;
  if (cmpQuantity(req[r], enforced) < 0)
    return `minimum ${r} usage per ${type} is ${show(enforced)}, but request is ${show(req[r])}`;
  if (lim[r] !== undefined && cmpQuantity(lim[r], enforced) < 0)
    return `minimum ${r} usage per ${type} is ${show(enforced)}, but limit is ${show(lim[r])}`;
  return undefined;
}

function maxConstraint(
  type: string,
  r: string,
  enforced: string,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  if (lim[r] === undefined)
    return `maximum ${r} usage per ${type} is ${show(enforced)}.  No limit is specified`;
  if (cmpQuantity(lim[r], enforced) > 0)
    return `maximum ${r} usage per ${type} is ${show(enforced)}, but limit is ${show(lim[r])}`;
  if (req[r] !== undefined && cmpQuantity(req[r], enforced) > 0)
    return `maximum ${r} usage per ${type} is ${show(enforced)}, but request is ${show(req[r])}`;
  return undefined;
}

function maxRequestConstraint(
  type: string,
  r: string,
  enforced: string,
  req: ResourceList,
): string | undefined {
  if (req[r] === undefined)
    return `maximum ${r} usage per ${type} is ${show(enforced)}.  No request is specified`;
  if (cmpQuantity(req[r], enforced) > 0)
    return `maximum ${r} usage per ${type} is ${show(enforced)}, but request is ${show(req[r])}`;
  return undefined;
}

const value = (q: string | undefined): number => {
  const p = q === undefined ? undefined : parseQuantity(q);
  return p ? quantityValue(p) : 0;
};

function ratioConstraint(
  type: string,
  r: string,
  enforced: string,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  const reqValue = value(req[r]);
  const limValue = value(lim[r]);
  if (req[r] === undefined || reqValue === 0)
    return `${r} max limit to request ratio per ${type} is ${show(enforced)}, but no request is specified or request is 0`;
  if (lim[r] === undefined || limValue === 0)
    return `${r} max limit to request ratio per ${type} is ${show(enforced)}, but no limit is specified or limit is 0`;
  const observed = limValue / reqValue;
  // upstream compares in milli-units: a ratio within a thousandth of the maximum passes
  if (Math.round(observed * 1000) > Math.round(value(enforced) * 1000))
    return `${r} max limit to request ratio per ${type} is ${show(enforced)}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function checkItem(item: LimitRangeItem, req: ResourceList, lim: ResourceList, errs: string[]): void {
  const push = (e: string | undefined): void => {
    if (e) errs.push(e);
  };
  for (const [k, v] of sortedEntries(item.min)) push(minConstraint(item.type, k, v, req, lim));
  for (const [k, v] of sortedEntries(item.max)) push(maxConstraint(item.type, k, v, req, lim));
  for (const [k, v] of sortedEntries(item.maxLimitRequestRatio))
    push(ratioConstraint(item.type, k, v, req, lim));
}

/** PodValidateLimitFunc / PersistentVolumeClaimValidateLimitFunc: the violations, in upstream's words */
export function limitRangeViolations(lr: KubeObject, kind: 'pod' | 'pvc', obj: KubeObject): string[] {
  const errs: string[] = [];
  for (const item of items(lr)) {
    if (kind === 'pvc') {
      if (item.type !== 'PersistentVolumeClaim') continue;
      const req =
        (obj['spec'] as { resources?: { requests?: ResourceList } } | undefined)?.resources?.requests ?? {};
      for (const [k, v] of sortedEntries(item.min)) {
        const e = minConstraint(item.type, k, v, req, {});
        if (e) errs.push(e);
      }
      for (const [k, v] of sortedEntries(item.max)) {
        const e = maxRequestConstraint(item.type, k, v, req);
        if (e) errs.push(e);
      }
      continue;
    }
    const spec = (obj['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
    if (item.type === 'Container') {
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])])
        checkItem(item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
    } else if (item.type === 'Pod') {
      checkItem(item, podResources(spec, 'requests'), podResources(spec, 'limits'), errs);
    }
  }
  return errs;
}

async function limitRanges(attrs: AdmissionAttributes, store: AdmissionStore): Promise<KubeObject[]> {
  return store.list('', 'limitranges', attrs.namespace);
}

export const limitRangerPlugin: AdmissionPlugin = {
  name: 'LimitRanger',
  async admit(attrs, store) {
    if (supports(attrs) !== 'pod') return;
    for (const lr of await limitRanges(attrs, store)) applyLimitRangeDefaults(lr, attrs.object!);
  },
  async validate(attrs, store) {
    const kind = supports(attrs);
    if (!kind) return;
    for (const lr of await limitRanges(attrs, store)) {
      const errs = limitRangeViolations(lr, kind, attrs.object!);
      // utilerrors.NewAggregate: one error as it is, several in brackets
      if (errs.length) throw admissionForbidden(attrs, errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
    }
  },
};
