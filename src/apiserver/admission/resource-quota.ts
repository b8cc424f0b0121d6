// ResourceQuota admission (plugin/pkg/admission/resourcequota): a create (or an update that grows usage) is
// charged to every ResourceQuota of the namespace that covers it, in status.used; one that would exceed a
// quota's status.hard is refused with upstream's message. A dry run is checked but charges nothing. Freed usage
// (deletes) is given back by the controller-manager's resourcequota controller, which recomputes status.used.
import type { KubeObject } from '../../api/request.js';
import {
  add,
  isZero,
  lessThanOrEqual,
  mask,
  prettyPrint,
  subtract,
  type ResourceList,
} from '../../api/quota/resource-list.js';
import { POD_VALIDATION_SET, evaluatorFor, podComputeUsage, type QuotaLike } from '../../api/quota/usage.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from './interface.js';

interface Container {
  name: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

/** podEvaluator.Constraints: once a quota limits cpu or memory, every container must say how much it wants */
export function podConstraints(required: readonly string[], pod: KubeObject): string | undefined {
  const requiredSet = required.filter((r) => POD_VALIDATION_SET.has(r));
  if (!requiredSet.length) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const usage = podComputeUsage(c.resources?.requests ?? {}, c.resources?.limits ?? {});
    for (const r of requiredSet) {
      if (usage[r] !== undefined) continue;
      const names = missing.get(r) ?? new Set<string>();
      names.add(c.name);
      missing.set(r, names);
    }
  }
  if (!missing.size) return undefined;
  return [...missing.keys()]
    .sort()
    .map((r) => `must specify ${r} for: ${[...missing.get(r)!].sort().join(',')}`)
    .join('; ');
}

/** which operations each evaluator charges: pods and plain object counts on create, services and claims also on update */
function handles(attrs: AdmissionAttributes): boolean {
  if (attrs.subresource || !attrs.namespace || !attrs.object) return false;
  if (attrs.operation === 'CREATE') return true;
  if (attrs.operation !== 'UPDATE' || attrs.resource.group !== '') return false;
  return attrs.resource.resource === 'services' || attrs.resource.resource === 'persistentvolumeclaims';
}

/** hasUsageStats: the controller has computed usage for every restricted resource the quota limits */
function hasUsageStats(quota: QuotaLike, restricted: readonly string[]): boolean {
  const used = quota.status?.used ?? {};
  return Object.keys(quota.status?.hard ?? {}).every((k) => !restricted.includes(k) || used[k] !== undefined);
}

/** the usage this request adds */
function deltaUsage(attrs: AdmissionAttributes): ResourceList {
  const ev = evaluatorFor(attrs.resource.group, attrs.resource.resource);
  let delta = ev.usage(attrs.object!);
  if (attrs.operation === 'UPDATE' && attrs.oldObject) {
    const prev = ev.usage(attrs.oldObject);
    delta = subtract(delta, prev);
    for (const [k, v] of Object.entries(delta)) if (v.startsWith('-')) delta[k] = '0';
  }
  return delta;
}

interface Pertinent {
  quota: KubeObject & QuotaLike;
  requested: ResourceList;
}

/** refuse if the quota would be exceeded with `requested` on top of `used` */
function check(
  attrs: AdmissionAttributes,
  quota: KubeObject & QuotaLike,
  requested: ResourceList,
): ResourceList {
  const used = quota.status?.used ?? {};
  const hard = quota.status?.hard ?? {};
  const newUsage = add(used, requested);
  const maskedNew = mask(newUsage, Object.keys(requested));
  const { ok, exceeded } = lessThanOrEqual(maskedNew, hard);
  if (!ok) {
    throw admissionForbidden(
      attrs,
      `exceeded quota: ${quota.metadata?.name ?? ''}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
    );
  }
  return newUsage;
}

export const resourceQuotaPlugin: AdmissionPlugin = {
  name: 'ResourceQuota',
  async validate(attrs, store) {
    if (!handles(attrs)) return;
    const quotas = (await store.list('', 'resourcequotas', attrs.namespace)) as (KubeObject & QuotaLike)[];
    if (!quotas.length) return;
    const ev = evaluatorFor(attrs.resource.group, attrs.resource.resource);
    const obj = attrs.object!;
    const delta = deltaUsage(attrs);
    const pertinent: Pertinent[] = [];
    for (const quota of quotas) {
      const restricted = Object.keys(quota.status?.hard ?? {}).filter((k) => ev.covers(k));
      if (!restricted.length || !ev.matchesScopes(quota, obj)) continue;
      if (attrs.resource.group === '' && attrs.resource.resource === 'pods') {
        const err = podConstraints(restricted, obj);
        if (err) throw admissionForbidden(attrs, `failed quota: ${quota.metadata?.name ?? ''}: ${err}`);
      }
      if (!hasUsageStats(quota, restricted)) {
        throw admissionForbidden(
          attrs,
          `status unknown for quota: ${quota.metadata?.name ?? ''}, resources: ${[...restricted].sort().join(',')}`,
        );
      }
      pertinent.push({ quota, requested: mask(delta, restricted) });
    }
    if (!pertinent.length || Object.values(delta).every(isZero)) return;
    // every quota must allow it before any is charged
    for (const p of pertinent) check(attrs, p.quota, p.requested);
    if (attrs.dryRun) return;
    for (const p of pertinent) {
      const name = p.quota.metadata?.name ?? '';
      await store.update('', 'resourcequotas', attrs.namespace, name, (current) => {
        const q = current as KubeObject & QuotaLike;
        // the fresh object: a concurrent charge may have used up the room in the meantime
        const used = check(attrs, q, p.requested);
        return { ...q, status: { ...(q.status ?? {}), used } };
      });
    }
  },
};
