// Printers of the kinds admission works with, as upstream's printers.go: ResourceQuota, LimitRange,
// PriorityClass, StorageClass.
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { canonicalQuantity } from '../../api/schema/quantity.js';
import { ageColumn, column, nameColumn } from './columns.js';
import type { KindPrinter } from './types.js';
import { objectAge as age, objectName as name, printer } from './printer.js';

const quantity = (v: string | undefined): string => (v === undefined ? '0' : (canonicalQuantity(v) ?? v));

/** printResourceQuota: `resource: used/hard` for each hard resource, limits.* in LIMIT, the rest in REQUEST */
export const resourceQuotaPrinter = printer<ResourceQuota>(
  [
    nameColumn(),
    column(
      'Request',
      'string',
      'Request represents a minimum amount of cpu/memory that a container may consume.',
    ),
    column(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
    ageColumn(),
  ],
  (rq, ctx) => {
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const request: string[] = [];
    const limit: string[] = [];
    for (const r of Object.keys(hard).sort()) {
      const pieces = r.split('.');
      const out = pieces.length > 1 && pieces[0] === 'limits' ? limit : request;
      out.push(`${r}: ${quantity(used[r])}/${quantity(hard[r])}`);
    }
    return [name(rq), request.join(', '), limit.join(', '), age(rq, ctx)];
  },
);

/** printLimitRange: NAME and CREATED AT */
export const limitRangePrinter: KindPrinter = {
  columns: [
    nameColumn(),
    {
      name: 'Created At',
      type: 'date',
      format: '',
      description:
        'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
      priority: 0,
    },
  ],
  cells: (obj) => {
    const lr = obj as LimitRange;
    return [name(lr), lr.metadata?.creationTimestamp ?? ''];
  },
};

export const priorityClassPrinter = printer<PriorityClass>(
  [
    nameColumn(),
    column(
      'Value',
      'integer',
      'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.',
    ),
    column(
      'Global-Default',
      'boolean',
      'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.',
    ),
    ageColumn(),
    column(
      'PreemptionPolicy',
      'string',
      'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.',
    ),
  ],
  (pc, ctx) => [name(pc), pc.value, pc.globalDefault ?? false, age(pc, ctx), pc.preemptionPolicy ?? ''],
);

/** the annotation that makes a StorageClass the default (upstream's storageutil.IsDefaultAnnotation) */
export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

export function isDefaultStorageClass(sc: { metadata?: { annotations?: Record<string, string> } }): boolean {
  const a = sc.metadata?.annotations ?? {};
  return (
    a[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true'
  );
}

export const storageClassPrinter = printer<StorageClass>(
  [
    nameColumn(),
    column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    column(
      'ReclaimPolicy',
      'string',
      'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.',
    ),
    column(
      'VolumeBindingMode',
      'string',
      'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.',
    ),
    column(
      'AllowVolumeExpansion',
      'string',
      'allowVolumeExpansion shows whether the storage class allow volume expand.',
    ),
    ageColumn(),
  ],
  (sc, ctx) => [
    isDefaultStorageClass(sc) ? `${name(sc)} (default)` : name(sc),
    sc.provisioner,
    sc.reclaimPolicy ?? 'Delete',
    sc.volumeBindingMode ?? 'Immediate',
    sc.allowVolumeExpansion ?? false,
    age(sc, ctx),
  ],
);
