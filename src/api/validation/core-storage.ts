// PersistentVolume and PersistentVolumeClaim validation (upstream pkg/apis/core/validation/validation.go, 1.33).
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PersistentVolumeSpec,
} from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { compareQuantities, parseQuantity } from '../schema/quantity.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isDNS1123Subdomain } from './names.js';
import { validateNodeSelector } from './node-selector.js';

// sets.List order (sorted), as upstream lists the supported values
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const HOST_PATH_TYPES = [
  '',
  'BlockDevice',
  'CharDevice',
  'Directory',
  'DirectoryOrCreate',
  'File',
  'FileOrCreate',
  'Socket',
];

/** the persistent volume sources of a PersistentVolumeSpec, in upstream's order of checks */
const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cinder',
  'cephfs',
  'iscsi',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
] as const;

function validateAccessModes(
  modes: string[] | undefined,
  path: string,
  requiredDetail?: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!modes || modes.length === 0) {
    errs.push(fe.required(path, requiredDetail));
    return errs;
  }
  let rwop = false;
  let other = false;
  for (const mode of modes) {
    if (!ACCESS_MODES.includes(mode)) errs.push(fe.notSupported(path, mode, ACCESS_MODES));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(fe.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** ValidatePositiveQuantityValue */
function positiveQuantity(value: string | number | undefined, path: string): FieldError[] {
  const q = parseQuantity(String(value));
  if (!q) return [fe.invalid(path, value, 'must be a valid quantity')];
  return compareQuantities(String(value), '0') > 0
    ? []
    : [fe.invalid(path, value, 'must be greater than zero')];
}

function validateClassName(name: string | undefined, path: string): FieldError[] {
  if (!name) return [];
  return isDNS1123Subdomain(name).map((m) => fe.invalid(path, name, m));
}

function validateVolumeMode(mode: string | undefined, path: string): FieldError[] {
  return mode !== undefined && !VOLUME_MODES.includes(mode)
    ? [fe.notSupported(path, mode, VOLUME_MODES)]
    : [];
}

/** the per-source required fields a user meets first (validateHostPathVolumeSource, validateNFSVolumeSource, …) */
function validateSource(kind: string, source: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const str = (f: string): string => (typeof source[f] === 'string' ? source[f] : '');
  switch (kind) {
    case 'hostPath':
    case 'local':
      if (!str('path')) errs.push(fe.required(`${path}.path`));
      else if (str('path').split('/').includes('..'))
        errs.push(fe.invalid(`${path}.path`, str('path'), "must not contain '..'"));
      // validateHostPathType
      if (
        kind === 'hostPath' &&
        typeof source['type'] === 'string' &&
        !HOST_PATH_TYPES.includes(source['type'])
      )
        errs.push(fe.notSupported(`${path}.type`, source['type'], HOST_PATH_TYPES));
      break;
    case 'nfs':
      if (!str('server')) errs.push(fe.required(`${path}.server`));
      if (!str('path')) errs.push(fe.required(`${path}.path`));
      else if (!str('path').startsWith('/'))
        errs.push(fe.invalid(`${path}.path`, str('path'), 'must be an absolute path'));
      break;
    case 'flexVolume':
      if (!str('driver')) errs.push(fe.required(`${path}.driver`));
      break;
    case 'csi':
      if (!str('driver')) errs.push(fe.required(`${path}.driver`));
      if (!str('volumeHandle')) errs.push(fe.required(`${path}.volumeHandle`));
      break;
  }
  return errs;
}

/** upstream's message for what an inline volume (VolumeAttachment's spec.source.inlineVolumeSpec) may not have */
const NOT_INLINE = 'may not be specified in the context of inline volumes';

/**
 * ValidatePersistentVolumeSpec at `path`; `inline` is upstream's validateInlinePersistentVolumeSpec (a
 * VolumeAttachment's inlineVolumeSpec): no claimRef, capacity, node affinity or class, a csi source, Retain and
 * Filesystem only.
 */
export function validatePersistentVolumeSpec(
  spec: PersistentVolumeSpec | undefined,
  path = 'spec',
  inline = false,
): FieldError[] {
  if (!spec) return [fe.required(path)];
  const errs: FieldError[] = [];
  if (inline) {
    if (spec.claimRef) errs.push(fe.forbidden(`${path}.claimRef`, NOT_INLINE));
    if (Object.keys(spec.capacity ?? {}).length !== 0)
      errs.push(fe.forbidden(`${path}.capacity`, NOT_INLINE));
    if (!spec.csi)
      errs.push(fe.required(`${path}.csi`, 'has to be specified in the context of inline volumes'));
  }
  errs.push(...validateAccessModes(spec.accessModes, `${path}.accessModes`));
  if (!inline) {
    const capacity = (spec.capacity ?? {}) as Record<string, string | number>;
    const keys = Object.keys(capacity);
    if (keys.length === 0) errs.push(fe.required(`${path}.capacity`));
    if (!('storage' in capacity) || keys.length > 1)
      errs.push(fe.notSupported(`${path}.capacity`, capacity, ['storage']));
    for (const k of keys) errs.push(...positiveQuantity(capacity[k], `${path}.capacity[${k}]`));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && inline && policy !== 'Retain') {
    errs.push(
      fe.forbidden(
        `${path}.persistentVolumeReclaimPolicy`,
        'may only be Retain in the context of inline volumes',
      ),
    );
  } else if (policy && !inline && !RECLAIM_POLICIES.includes(policy)) {
    errs.push(fe.notSupported(`${path}.persistentVolumeReclaimPolicy`, policy, RECLAIM_POLICIES));
  }
  // validateVolumeNodeAffinity
  if (spec.nodeAffinity && inline) errs.push(fe.forbidden(`${path}.nodeAffinity`, NOT_INLINE));
  else if (spec.nodeAffinity) {
    if (spec.nodeAffinity.required)
      errs.push(...validateNodeSelector(spec.nodeAffinity.required, `${path}.nodeAffinity.required`));
    else errs.push(fe.required(`${path}.nodeAffinity.required`, 'must specify required node constraints'));
  }
  let sources = 0;
  for (const kind of PV_SOURCES) {
    const source = (spec as Record<string, unknown>)[kind];
    if (source === undefined || source === null) continue;
    // upstream counts a flexVolume without checking it is the only source
    if (sources > 0 && kind !== 'flexVolume') {
      errs.push(fe.forbidden(`${path}.${kind}`, 'may not specify more than 1 volume type'));
      continue;
    }
    sources++;
    errs.push(...validateSource(kind, source as Record<string, unknown>, `${path}.${kind}`));
    if (kind === 'local' && (inline || !spec.nodeAffinity))
      errs.push(fe.required(`${path}.nodeAffinity`, 'Local volume requires node affinity'));
  }
  if (sources === 0) errs.push(fe.required(path, 'must specify a volume type'));
  const hostPath = spec.hostPath?.path;
  if (
    hostPath !== undefined &&
    hostPath.replace(/\/+$/, '') === '' &&
    hostPath.startsWith('/') &&
    policy === 'Recycle'
  ) {
    errs.push(
      fe.forbidden(
        `${path}.persistentVolumeReclaimPolicy`,
        "may not be 'recycle' for a hostPath mount of '/'",
      ),
    );
  }
  if (spec.storageClassName && inline) errs.push(fe.forbidden(`${path}.storageClassName`, NOT_INLINE));
  else errs.push(...validateClassName(spec.storageClassName, `${path}.storageClassName`));
  if (spec.volumeMode !== undefined && inline) {
    if (spec.volumeMode !== 'Filesystem')
      errs.push(
        fe.forbidden(
          `${path}.volumeMode`,
          'may not specify volumeMode other than Filesystem in the context of inline volumes',
        ),
      );
  } else errs.push(...validateVolumeMode(spec.volumeMode, `${path}.volumeMode`));
  return errs;
}

export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  return [
    ...validateObjectMeta(pv.metadata, false, nameIsDNSSubdomain),
    ...validatePersistentVolumeSpec(pv.spec),
  ];
}

/** the spec without its capacity, access modes, reclaim policy, class, mount options, … (what is mutable) */
function pvSource(spec: PersistentVolumeSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of PV_SOURCES) {
    const v = (spec as Record<string, unknown> | undefined)?.[kind];
    if (v !== undefined) out[kind] = v;
  }
  return out;
}

export function validatePersistentVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(pv.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validatePersistentVolumeSpec(pv.spec),
  ];
  if (!deepEqual(pvSource(pv.spec), pvSource(old.spec))) {
    errs.push(
      fe.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'),
    );
  }
  errs.push(...immutable(pv.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
  if (old.spec?.nodeAffinity)
    errs.push(...immutable(pv.spec?.nodeAffinity, old.spec.nodeAffinity, 'nodeAffinity'));
  return errs;
}

export function validatePersistentVolumeStatusUpdate(
  pv: PersistentVolume,
  old: PersistentVolume,
): FieldError[] {
  const errs = validateObjectMetaUpdate(pv.metadata, old.metadata, false, nameIsDNSSubdomain);
  const phases = ['Available', 'Bound', 'Failed', 'Pending', 'Released'];
  const phase = pv.status?.phase;
  if (phase && !phases.includes(phase)) errs.push(fe.notSupported('status.phase', phase, phases));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec (also a StatefulSet's volumeClaimTemplates) */
export function validatePersistentVolumeClaimSpec(
  spec: PersistentVolumeClaimSpec | undefined,
  path: string,
): FieldError[] {
  if (!spec) return [fe.required(path)];
  const errs = validateAccessModes(
    spec.accessModes,
    `${path}.accessModes`,
    'at least 1 access mode is required',
  );
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  const storage = (spec.resources?.requests as Record<string, string | number> | undefined)?.['storage'];
  if (storage === undefined) errs.push(fe.required(`${path}.resources[storage]`));
  else errs.push(...positiveQuantity(storage, `${path}.resources[storage]`));
  errs.push(...validateClassName(spec.storageClassName, `${path}.storageClassName`));
  errs.push(...validateVolumeMode(spec.volumeMode, `${path}.volumeMode`));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  return [
    ...validateObjectMeta(pvc.metadata, true, nameIsDNSSubdomain),
    ...validatePersistentVolumeClaimSpec(pvc.spec, 'spec'),
  ];
}

const storageOf = (spec: PersistentVolumeClaimSpec | undefined): string | number | undefined =>
  (spec?.resources?.requests as Record<string, string | number> | undefined)?.['storage'];

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** validateStorageClassUpgradeFromAnnotation: a class given by the old beta annotation may move into the field */
function storageClassFromAnnotation(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): boolean {
  const oldAnnotation = old.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const newAnnotation = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const name = pvc.spec?.storageClassName;
  return (
    oldAnnotation !== undefined &&
    old.spec?.storageClassName === undefined &&
    name !== undefined &&
    name === oldAnnotation &&
    (newAnnotation === undefined || newAnnotation === oldAnnotation)
  );
}

/** validateStorageClassUpgradeFromNil: a claim without a class may be given one (once) */
function storageClassFromNil(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): boolean {
  const oldAnnotation = old.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const name = pvc.spec?.storageClassName;
  return (
    name !== undefined &&
    old.spec?.storageClassName === undefined &&
    (oldAnnotation === undefined || name === oldAnnotation)
  );
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable but for volumeName (set once), storageClassName
 * (set once, from nil or from the beta annotation), the requests of a bound claim and volumeAttributesClassName;
 * the storage request may shrink only above status.capacity (RecoverVolumeExpansionFailure, beta and on in 1.33)
 */
export function validatePersistentVolumeClaimUpdate(
  pvc: PersistentVolumeClaim,
  old: PersistentVolumeClaim,
): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(pvc.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validatePersistentVolumeClaim(pvc).filter((e) => !e.field.startsWith('metadata')),
  ];
  let classMayChange = storageClassFromAnnotation(pvc, old);
  if (!classMayChange) {
    const annotation = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
    if (annotation !== (old.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '')) {
      errs.push(
        fe.invalid(`metadata.annotations.${BETA_STORAGE_CLASS_ANNOTATION}`, annotation, 'field is immutable'),
      );
    }
    classMayChange = storageClassFromNil(pvc, old);
  }
  const comparable = (
    spec: PersistentVolumeClaimSpec | undefined,
    isNew: boolean,
  ): Record<string, unknown> => {
    const out = { ...(spec ?? {}) } as Record<string, unknown>;
    delete out['volumeAttributesClassName'];
    if (!old.spec?.volumeName) delete out['volumeName'];
    if (classMayChange) delete out['storageClassName'];
    if (isNew && pvc.status?.phase === 'Bound' && spec?.resources?.requests) {
      const resources = { ...((out['resources'] as Record<string, unknown>) ?? {}) };
      resources['requests'] = {
        ...(resources['requests'] ?? {}),
        storage: storageOf(old.spec),
      };
      out['resources'] = resources;
    }
    return out;
  };
  if (!deepEqual(comparable(pvc.spec, true), comparable(old.spec, false))) {
    // (upstream appends a Go cmp.Diff of its internal spec on the following lines)
    errs.push(
      fe.forbidden(
        'spec',
        'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      ),
    );
  }
  const newSize = String(storageOf(pvc.spec) ?? '0');
  const oldSize = String(storageOf(old.spec) ?? '0');
  const statusSize = String(
    (old.status?.capacity as Record<string, string | number> | undefined)?.['storage'] ?? '0',
  );
  if (compareQuantities(newSize, oldSize) < 0 && compareQuantities(newSize, statusSize) <= 0) {
    errs.push(fe.forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...immutable(pvc.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
  return errs;
}

export function validatePersistentVolumeClaimStatusUpdate(
  pvc: PersistentVolumeClaim,
  old: PersistentVolumeClaim,
): FieldError[] {
  const errs = validateObjectMetaUpdate(pvc.metadata, old.metadata, true, nameIsDNSSubdomain);
  const phases = ['Bound', 'Lost', 'Pending'];
  const phase = pvc.status?.phase;
  if (phase && !phases.includes(phase)) errs.push(fe.notSupported('status.phase', phase, phases));
  const capacity = (pvc.status?.capacity ?? {}) as Record<string, string | number>;
  for (const [k, v] of Object.entries(capacity)) {
    if (compareQuantities(String(v), '0') < 0)
      errs.push(fe.invalid(`status.capacity[${k}]`, v, 'must be greater than or equal to 0'));
  }
  return errs;
}
