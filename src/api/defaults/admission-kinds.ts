// Defaults of the kinds admission works with: core/v1 LimitRange, scheduling.k8s.io/v1 PriorityClass,
// storage.k8s.io/v1 StorageClass (upstream's pkg/apis/{core,scheduling,storage}/v1/defaults.go).
import type { LimitRange } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';

/** SetDefaults_LimitRangeItem: a Container item's default limit falls back to max, its default request to the
 *  default limit, then to min */
export function defaultLimitRange(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    const def: Record<string, string> = { ...(item.default ?? {}) };
    const req: Record<string, string> = { ...(item.defaultRequest ?? {}) };
    for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in req)) req[k] = v;
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(req).length) item.defaultRequest = req;
  }
}

/** SetDefaults_PriorityClass */
export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= 'PreemptLowerPriority';
}

/** SetDefaults_StorageClass */
export function defaultStorageClass(sc: StorageClass): void {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}
