// CSIDriver, CSINode, VolumeAttachment and CSIStorageCapacity validation (upstream pkg/apis/storage/validation/validation.go, 1.33).
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  VolumeAttachment,
} from 'kubernetes-types/storage/v1.js';
import { parseQuantity } from '../schema/quantity.js';
import { fe, type FieldError } from '../errors.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  nonNegative,
  type NameValidator,
  validateObjectMeta,
  validateLabelSelector,
  validateObjectMetaUpdate,
} from './meta.js';
import { isDNS1123Subdomain, isQualifiedName } from './names.js';
import { validatePersistentVolumeSpec } from './core-storage.js';

const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
/** validateVolumeLifecycleModes lists them in this order (not sorted) */
const LIFECYCLE_MODES = ['Persistent', 'Ephemeral'];
/** csiNodeIDLongerMaxLength: the CSINode strategy always allows long node IDs */
const CSI_NODE_ID_MAX_LENGTH = 256;
const MAX_ATTACHED_VOLUME_METADATA_SIZE = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE = 1024;

/** ValidateCSIDriverName: a DNS subdomain of at most 63 characters */
function validateCSIDriverName(name: string | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const v = name ?? '';
  if (v.length === 0) errs.push(fe.required(path));
  if (v.length > 63) errs.push(fe.tooLong(path, v, 63));
  for (const m of isDNS1123Subdomain(v.toLowerCase())) errs.push(fe.invalid(path, v, m));
  return errs;
}

/** storage validation's ValidateCSIDriverName for the object's own name: NameIsDNSSubdomain */
const csiDriverNameRules: NameValidator = nameIsDNSSubdomain;

/** validateCSIDriverSpec; upstream's path for attachRequired is `spec.attachedRequired` (sic) */
function validateCSIDriverSpec(d: CSIDriver): FieldError[] {
  const spec = (d.spec ?? {}) as NonNullable<CSIDriver['spec']> & {
    seLinuxMount?: boolean;
    nodeAllocatableUpdatePeriodSeconds?: number;
  };
  const errs: FieldError[] = [];
  if (spec.attachRequired === undefined) errs.push(fe.required('spec.attachedRequired', ''));
  if (spec.podInfoOnMount === undefined) errs.push(fe.required('spec.podInfoOnMount', ''));
  if (spec.storageCapacity === undefined) errs.push(fe.required('spec.storageCapacity', ''));
  if (spec.fsGroupPolicy !== undefined && !FS_GROUP_POLICIES.includes(spec.fsGroupPolicy)) {
    errs.push(fe.notSupported('spec.fsGroupPolicy', spec.fsGroupPolicy, FS_GROUP_POLICIES));
  }
  for (const mode of spec.volumeLifecycleModes ?? []) {
    if (!LIFECYCLE_MODES.includes(mode))
      errs.push(fe.notSupported('spec.volumeLifecycleModes', mode, LIFECYCLE_MODES));
  }
  const audiences = new Set<string>();
  (spec.tokenRequests ?? []).forEach((t, i) => {
    const audience = t.audience ?? '';
    if (audiences.has(audience)) {
      errs.push(fe.duplicate(`spec.tokenRequests[${i}].audience`, audience));
      return;
    }
    audiences.add(audience);
    if (t.expirationSeconds !== undefined) {
      if (t.expirationSeconds < 600)
        errs.push(
          fe.invalid(
            `spec.tokenRequests[${i}].expirationSeconds`,
            t.expirationSeconds,
            'may not specify a duration less than 10 minutes',
          ),
        );
      else if (t.expirationSeconds > 1 << 32)
        errs.push(
          fe.invalid(
            `spec.tokenRequests[${i}].expirationSeconds`,
            t.expirationSeconds,
            'may not specify a duration larger than 2^32 seconds',
          ),
        );
    }
  });
  // SELinuxMountReadWriteOncePod is on (beta) in 1.33: the field is required (defaulted to false)
  if (spec.seLinuxMount === undefined) errs.push(fe.required('spec.seLinuxMount', ''));
  const period = spec.nodeAllocatableUpdatePeriodSeconds;
  if (period !== undefined && period < 10)
    errs.push(
      fe.invalid(
        'spec.nodeAllocatableUpdatePeriodSeconds',
        period,
        'must be greater than or equal to 10 seconds',
      ),
    );
  return errs;
}

export function validateCSIDriver(d: CSIDriver): FieldError[] {
  return [...validateObjectMeta(d.metadata, false, csiDriverNameRules), ...validateCSIDriverSpec(d)];
}

export function validateCSIDriverUpdate(d: CSIDriver, old: CSIDriver): FieldError[] {
  return [
    ...validateObjectMetaUpdate(d.metadata, old.metadata, false, csiDriverNameRules),
    ...validateCSIDriverSpec(d),
    ...immutable(d.spec?.attachRequired, old.spec?.attachRequired, 'spec.attachedRequired'),
    ...immutable(d.spec?.volumeLifecycleModes, old.spec?.volumeLifecycleModes, 'spec.volumeLifecycleModes'),
  ];
}

function validateCSINodeDrivers(node: CSINode): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (node.spec?.drivers ?? []).forEach((driver, i) => {
    const path = `spec.drivers[${i}]`;
    errs.push(...validateCSIDriverName(driver.name, `${path}.name`));
    if (names.has(driver.name)) errs.push(fe.duplicate(`${path}.name`, driver.name));
    names.add(driver.name);
    const nodeID = driver.nodeID ?? '';
    if (nodeID.length === 0) errs.push(fe.required(`${path}.nodeID`, ''));
    if (nodeID.length > CSI_NODE_ID_MAX_LENGTH)
      errs.push(fe.invalid(`${path}.nodeID`, nodeID, `must be ${CSI_NODE_ID_MAX_LENGTH} characters or less`));
    // upstream reports the topology keys' errors on the driver itself
    const keys = new Set<string>();
    for (const key of driver.topologyKeys ?? []) {
      if (key === '') errs.push(fe.required(path, ''));
      if (keys.has(key)) errs.push(fe.duplicate(path, key));
      keys.add(key);
      for (const m of isQualifiedName(key)) errs.push(fe.invalid(path, key, m));
    }
    errs.push(...nonNegative(driver.allocatable?.count, `${path}.allocatable.count`));
  });
  return errs;
}

export function validateCSINode(node: CSINode): FieldError[] {
  return [...validateObjectMeta(node.metadata, false, nameIsDNSSubdomain), ...validateCSINodeDrivers(node)];
}

/**
 * a registered driver is immutable as a whole (MutableCSINodeAllocatableCount, which would free its allocatable
 * count, is alpha and off in 1.33); drivers may come and go
 */
export function validateCSINodeUpdate(node: CSINode, old: CSINode): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(node.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validateCSINodeDrivers(node),
  ];
  for (const before of old.spec?.drivers ?? [])
    for (const driver of node.spec?.drivers ?? [])
      if (driver.name === before.name && !deepEqual(driver, before))
        errs.push(fe.invalid('spec.drivers', driver, 'field is immutable'));
  return errs;
}

/** validateVolumeAttachmentSpec: the attacher present, exactly one source, a node name */
function validateVolumeAttachmentSpec(va: VolumeAttachment): FieldError[] {
  const spec = va.spec;
  if (!spec) return [fe.required('spec')];
  const errs: FieldError[] = [];
  if (!spec.attacher) errs.push(fe.required('spec.attacher', ''));
  const source = spec.source ?? {};
  const hasPV = source.persistentVolumeName !== undefined;
  const hasInline = source.inlineVolumeSpec !== undefined;
  if (!hasPV && !hasInline) {
    errs.push(
      fe.required('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'),
    );
  } else if (hasPV && hasInline) {
    errs.push(
      fe.forbidden('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'),
    );
  } else if (hasPV && source.persistentVolumeName === '') {
    errs.push(fe.required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
  } else if (hasInline) {
    errs.push(...validatePersistentVolumeSpec(source.inlineVolumeSpec, 'spec.source.inlineVolumeSpec', true));
  }
  for (const m of isDNS1123Subdomain(spec.nodeName ?? ''))
    errs.push(fe.invalid('spec.nodeName', spec.nodeName ?? '', m));
  return errs;
}

/**
 * ValidateVolumeAttachmentV1, which the strategy adds on create only: the attacher is a CSI driver name and the
 * volume's name a PersistentVolume name. (Its Required for an empty attacher repeats the spec's; upstream's message
 * lists it once.)
 */
function validateVolumeAttachmentV1(va: VolumeAttachment): FieldError[] {
  const attacher = va.spec?.attacher;
  const errs = attacher ? validateCSIDriverName(attacher, 'spec.attacher') : [];
  const pvName = va.spec?.source?.persistentVolumeName;
  if (pvName)
    for (const m of nameIsDNSSubdomain(pvName, false))
      errs.push(fe.invalid('spec.source.persistentVolumeName', pvName, m));
  return errs;
}

/** validateVolumeAttachmentStatus: the attacher's metadata at most 256 KiB, its errors' messages 1024 bytes */
function validateVolumeAttachmentStatus(va: VolumeAttachment): FieldError[] {
  const status = va.status;
  if (!status) return [];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(status.attachmentMetadata ?? {})) size += k.length + v.length;
  if (size > MAX_ATTACHED_VOLUME_METADATA_SIZE)
    errs.push(fe.tooLong('status.attachmentMetadata', '', MAX_ATTACHED_VOLUME_METADATA_SIZE));
  for (const which of ['attachError', 'detachError'] as const) {
    const e: { message?: string; errorCode?: number } | undefined = status[which];
    if (!e) continue;
    // upstream names the metadata limit in this message (sic)
    if ((e.message ?? '').length > MAX_VOLUME_ERROR_MESSAGE_SIZE)
      errs.push(fe.tooLong(`status.${which}.message`, '', MAX_ATTACHED_VOLUME_METADATA_SIZE));
    if (e.errorCode !== undefined && e.errorCode < 0)
      errs.push(
        fe.invalid(`status.${which}.errorCode`, e.errorCode, 'must be between 0 and 2147483647, inclusive'),
      );
  }
  return errs;
}

/** the strategy's Validate: ValidateVolumeAttachment, then ValidateVolumeAttachmentV1 */
export function validateVolumeAttachment(va: VolumeAttachment): FieldError[] {
  return [
    ...validateObjectMeta(va.metadata, false, nameIsDNSSubdomain),
    ...validateVolumeAttachmentSpec(va),
    ...validateVolumeAttachmentStatus(va),
    ...validateVolumeAttachmentV1(va),
  ];
}

/**
 * The strategy's ValidateUpdate: ValidateVolumeAttachment (not the V1 tightening, which is for new objects) and
 * ValidateVolumeAttachmentUpdate (the spec is immutable)
 */
export function validateVolumeAttachmentUpdate(va: VolumeAttachment, old: VolumeAttachment): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(va.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validateVolumeAttachmentSpec(va),
    ...validateVolumeAttachmentStatus(va),
  ];
  if (!deepEqual(va.spec, old.spec)) errs.push(fe.invalid('spec', va.spec, 'field is immutable'));
  return errs;
}

/**
 * ValidateCSIStorageCapacity: a namespaced object named as a DNS subdomain, nodeTopology a label selector, the
 * class name a DNS subdomain (ValidateClassName, so an empty one is refused), capacity not negative.
 */
export function validateCSIStorageCapacity(c: CSIStorageCapacity): FieldError[] {
  return [...validateObjectMeta(c.metadata, true, nameIsDNSSubdomain), ...validateCapacityFields(c)];
}

function validateCapacityFields(c: CSIStorageCapacity): FieldError[] {
  const errs = validateLabelSelector(c.nodeTopology, 'nodeTopology');
  for (const m of isDNS1123Subdomain(c.storageClassName ?? ''))
    errs.push(fe.invalid('storageClassName', c.storageClassName ?? '', m));
  if (c.capacity !== undefined) {
    // ValidateNonnegativeQuantity
    const q = parseQuantity(String(c.capacity));
    if (q && q.num < 0n) errs.push(fe.invalid('capacity', c.capacity, 'must be greater than or equal to 0'));
  }
  return errs;
}

/**
 * The strategy's ValidateUpdate: the create rules, then ValidateCSIStorageCapacityUpdate (nodeTopology and
 * storageClassName, the inputs of CSI GetCapacity, are immutable).
 */
export function validateCSIStorageCapacityUpdate(
  c: CSIStorageCapacity,
  old: CSIStorageCapacity,
): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(c.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validateCapacityFields(c),
  ];
  if (!deepEqual(c.nodeTopology, old.nodeTopology))
    errs.push(fe.invalid('nodeTopology', c.nodeTopology, 'field is immutable'));
  if (c.storageClassName !== old.storageClassName)
    errs.push(fe.invalid('storageClassName', c.storageClassName, 'field is immutable'));
  return errs;
}
