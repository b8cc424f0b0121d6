// Table printers of PersistentVolumes, PersistentVolumeClaims, CSIDrivers, CSINodes, VolumeAttachments,
// PodDisruptionBudgets, RuntimeClasses and ComponentStatuses, ported from upstream's printers.go (1.33).
import type { ComponentStatus, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  VolumeAttachment,
} from 'kubernetes-types/storage/v1.js';
import { canonicalQuantity } from '../../api/schema/quantity.js';
import { ageColumn, column, nameColumn, wide, doc } from './columns.js';
import { objectAge as age, objectName as name, printer } from './printer.js';

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once */
export function accessModesString(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** resource.Quantity.String(): the canonical form, `0` when absent */
function quantityString(q: string | number | undefined): string {
  if (q === undefined) return '0';
  return canonicalQuantity(q) ?? String(q);
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** GetPersistentVolume(Claim)Class: the beta annotation wins over spec.storageClassName */
function storageClassOf(meta: ObjectMeta | undefined, className: string | undefined): string {
  const annotated = meta?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  return annotated !== undefined ? annotated : (className ?? '');
}

export const persistentVolumePrinter = printer<PersistentVolume>(
  [
    nameColumn(),
    column('Capacity', 'string', doc('core/v1.PersistentVolumeSpec', 'capacity')),
    column('Access Modes', 'string', doc('core/v1.PersistentVolumeSpec', 'accessModes')),
    column('Reclaim Policy', 'string', doc('core/v1.PersistentVolumeSpec', 'persistentVolumeReclaimPolicy')),
    column('Status', 'string', doc('core/v1.PersistentVolumeStatus', 'phase')),
    column('Claim', 'string', doc('core/v1.PersistentVolumeSpec', 'claimRef')),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', doc('core/v1.PersistentVolumeStatus', 'reason')),
    ageColumn(),
    column('VolumeMode', 'string', doc('core/v1.PersistentVolumeSpec', 'volumeMode'), wide),
  ],
  (pv, ctx) => {
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    const vac = (spec as { volumeAttributesClassName?: string }).volumeAttributesClassName;
    return [
      name(pv),
      quantityString(spec.capacity?.['storage']),
      accessModesString(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      storageClassOf(pv.metadata, spec.storageClassName),
      vac ?? '<unset>',
      pv.status?.reason ?? '',
      age(pv, ctx),
      spec.volumeMode ?? '<unset>',
    ];
  },
);

export const persistentVolumeClaimPrinter = printer<PersistentVolumeClaim>(
  [
    nameColumn(),
    column('Status', 'string', doc('core/v1.PersistentVolumeClaimStatus', 'phase')),
    column('Volume', 'string', doc('core/v1.PersistentVolumeClaimSpec', 'volumeName')),
    column('Capacity', 'string', doc('core/v1.PersistentVolumeClaimStatus', 'capacity')),
    column('Access Modes', 'string', doc('core/v1.PersistentVolumeClaimStatus', 'accessModes')),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    column('VolumeMode', 'string', doc('core/v1.PersistentVolumeClaimSpec', 'volumeMode'), wide),
  ],
  (pvc, ctx) => {
    const spec = pvc.spec ?? {};
    const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    // capacity and access modes are shown once the claim is bound to a volume
    const bound = !!spec.volumeName;
    const vac = (spec as { volumeAttributesClassName?: string }).volumeAttributesClassName;
    return [
      name(pvc),
      phase,
      spec.volumeName ?? '',
      bound ? quantityString(pvc.status?.capacity?.['storage']) : '',
      bound ? accessModesString(pvc.status?.accessModes) : '',
      storageClassOf(pvc.metadata, spec.storageClassName),
      vac ?? '<unset>',
      age(pvc, ctx),
      spec.volumeMode ?? '<unset>',
    ];
  },
);

export const componentStatusPrinter = printer<ComponentStatus>(
  [
    nameColumn(),
    column('Status', 'string', 'Status of the component conditions'),
    column('Message', 'string', 'Message of the component conditions'),
    column('Error', 'string', 'Error of the component conditions'),
  ],
  (cs) => {
    const healthy = (cs.conditions ?? []).find((c) => c.type === 'Healthy');
    const status = !healthy ? 'Unknown' : healthy.status === 'True' ? 'Healthy' : 'Unhealthy';
    return [name(cs), status, healthy?.message ?? '', healthy?.error ?? ''];
  },
);

/** intstr.IntOrString.String() */
const intOrString = (v: number | string | undefined): string => (v === undefined ? 'N/A' : String(v));

export const podDisruptionBudgetPrinter = printer<PodDisruptionBudget>(
  [
    nameColumn(),
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn(),
  ],
  (pdb, ctx) => [
    name(pdb),
    intOrString(pdb.spec?.minAvailable),
    intOrString(pdb.spec?.maxUnavailable),
    pdb.status?.disruptionsAllowed ?? 0,
    age(pdb, ctx),
  ],
);

export const runtimeClassPrinter = printer<RuntimeClass>(
  // upstream describes Handler with ObjectMeta's (absent) "handler" doc: an empty description
  [nameColumn(), column('Handler', 'string', ''), ageColumn()],
  (rc, ctx) => [name(rc), rc.handler ?? '', age(rc, ctx)],
);

export const csiDriverPrinter = printer<CSIDriver>(
  [
    nameColumn(),
    column('AttachRequired', 'boolean', doc('storage/v1.CSIDriverSpec', 'attachRequired')),
    column('PodInfoOnMount', 'boolean', doc('storage/v1.CSIDriverSpec', 'podInfoOnMount')),
    column('StorageCapacity', 'boolean', doc('storage/v1.CSIDriverSpec', 'storageCapacity')),
    column('TokenRequests', 'string', doc('storage/v1.CSIDriverSpec', 'tokenRequests')),
    column('RequiresRepublish', 'boolean', doc('storage/v1.CSIDriverSpec', 'requiresRepublish')),
    column('Modes', 'string', doc('storage/v1.CSIDriverSpec', 'volumeLifecycleModes')),
    ageColumn(),
  ],
  (d, ctx) => {
    const spec = d.spec ?? {};
    const modes = (spec.volumeLifecycleModes ?? []).join(',');
    return [
      name(d),
      spec.attachRequired ?? true,
      spec.podInfoOnMount ?? false,
      spec.storageCapacity ?? false,
      spec.tokenRequests ? spec.tokenRequests.map((t) => t.audience ?? '').join(',') : '<unset>',
      spec.requiresRepublish ?? false,
      modes || '<none>',
      age(d, ctx),
    ];
  },
);

export const csiNodePrinter = printer<CSINode>(
  [
    nameColumn(),
    column('Drivers', 'integer', 'Drivers indicates the number of CSI drivers registered on the node'),
    ageColumn(),
  ],
  (n, ctx) => [name(n), n.spec?.drivers?.length ?? 0, age(n, ctx)],
);

export const volumeAttachmentPrinter = printer<VolumeAttachment>(
  [
    nameColumn(),
    column('Attacher', 'string', doc('storage/v1.VolumeAttachmentSpec', 'attacher'), {
      format: 'name',
    }),
    column('PV', 'string', doc('storage/v1.VolumeAttachmentSource', 'persistentVolumeName')),
    column('Node', 'string', doc('storage/v1.VolumeAttachmentSpec', 'nodeName')),
    column('Attached', 'boolean', doc('storage/v1.VolumeAttachmentStatus', 'attached')),
    ageColumn(),
  ],
  (va, ctx) => [
    name(va),
    va.spec?.attacher ?? '',
    va.spec?.source?.persistentVolumeName ?? '',
    va.spec?.nodeName ?? '',
    va.status?.attached ?? false,
    age(va, ctx),
  ],
);

/** printCSIStorageCapacity: no Age column; an unset capacity prints as <unset> */
export const csiStorageCapacityPrinter = printer<CSIStorageCapacity>(
  [
    nameColumn(),
    column('StorageClassName', 'string', doc('storage/v1.CSIStorageCapacity', 'storageClassName')),
    column('Capacity', 'string', doc('storage/v1.CSIStorageCapacity', 'capacity')),
  ],
  (c) => [
    name(c),
    c.storageClassName ?? '',
    c.capacity === undefined ? '<unset>' : (canonicalQuantity(c.capacity) ?? String(c.capacity)),
  ],
);
