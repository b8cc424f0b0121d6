// CSIDriver, CSINode and VolumeAttachment validation (upstream pkg/apis/storage/validation/validation.go, 1.33).
import type { CSIDriver, CSINode, VolumeAttachment } from 'kubernetes-types/storage/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  nonNegative,
  type NameValidator,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isDNS1123Subdomain, isQualifiedName } from './names.js';

const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const LIFECYCLE_MODES = ['Ephemeral', 'Persistent'];
const CSI_NODE_ID_MAX_LENGTH = 192;

/** ValidateCSIDriverName: a DNS subdomain of at most 63 characters */
function validateCSIDriverName(name: string | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const v = name ?? '';
  if (v.length === 0) errs.push(fe.required(path));
  if (v.length > 63) errs.push(fe.tooLong(path, v, 63));
  for (const m of isDNS1123Subdomain(v.toLowerCase())) errs.push(fe.invalid(path, v, m));
  return errs;
}

/** a CSIDriver is named after its driver: the name rules are the driver name's */
const csiDriverNameRules: NameValidator = (name, prefix) =>
  name.length > 63 ? ['must be no more than 63 characters'] : nameIsDNSSubdomain(name.toLowerCase(), prefix);

function validateCSIDriverSpec(d: CSIDriver): FieldError[] {
  const spec = d.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.attachRequired === undefined) errs.push(fe.required('spec.attachRequired'));
  if (spec.podInfoOnMount === undefined) errs.push(fe.required('spec.podInfoOnMount'));
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
    if (audiences.has(audience)) errs.push(fe.duplicate(`spec.tokenRequests[${i}].audience`, audience));
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
  return errs;
}

export function validateCSIDriver(d: CSIDriver): FieldError[] {
  return [...validateObjectMeta(d.metadata, false, csiDriverNameRules), ...validateCSIDriverSpec(d)];
}

export function validateCSIDriverUpdate(d: CSIDriver, old: CSIDriver): FieldError[] {
  return [
    ...validateObjectMetaUpdate(d.metadata, old.metadata, false, csiDriverNameRules),
    ...validateCSIDriverSpec(d),
    ...immutable(d.spec?.attachRequired, old.spec?.attachRequired, 'spec.attachRequired'),
    ...immutable(d.spec?.fsGroupPolicy, old.spec?.fsGroupPolicy, 'spec.fsGroupPolicy'),
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
    if (nodeID.length === 0) errs.push(fe.required(`${path}.nodeID`));
    else if (nodeID.length > CSI_NODE_ID_MAX_LENGTH)
      errs.push(fe.tooLong(`${path}.nodeID`, nodeID, CSI_NODE_ID_MAX_LENGTH));
    const keys = new Set<string>();
    (driver.topologyKeys ?? []).forEach((key, j) => {
      const p = `${path}.topologyKeys`;
      if (key === '') errs.push(fe.required(p));
      if (keys.has(key)) errs.push(fe.duplicate(p, key));
      keys.add(key);
      for (const m of isQualifiedName(key)) errs.push(fe.invalid(`${p}[${j}]`, key, m));
    });
    errs.push(...nonNegative(driver.allocatable?.count, `${path}.allocatable.count`));
  });
  return errs;
}

export function validateCSINode(node: CSINode): FieldError[] {
  return [...validateObjectMeta(node.metadata, false, nameIsDNSSubdomain), ...validateCSINodeDrivers(node)];
}

/** a driver's nodeID and topologyKeys are fixed once registered (drivers may come and go) */
export function validateCSINodeUpdate(node: CSINode, old: CSINode): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(node.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validateCSINodeDrivers(node),
  ];
  (node.spec?.drivers ?? []).forEach((driver, i) => {
    const before = (old.spec?.drivers ?? []).find((d) => d.name === driver.name);
    if (!before) return;
    if (driver.nodeID !== before.nodeID)
      errs.push(fe.invalid(`spec.drivers[${i}].nodeID`, driver.nodeID, 'field is immutable'));
    if (!deepEqual(driver.topologyKeys, before.topologyKeys))
      errs.push(
        fe.invalid(`spec.drivers[${i}].topologyKeys`, driver.topologyKeys ?? [], 'field is immutable'),
      );
  });
  return errs;
}

function validateVolumeAttachmentSpec(va: VolumeAttachment): FieldError[] {
  const spec = va.spec;
  if (!spec) return [fe.required('spec')];
  const errs = validateCSIDriverName(spec.attacher, 'spec.attacher');
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
  }
  for (const m of isDNS1123Subdomain(spec.nodeName ?? ''))
    errs.push(fe.invalid('spec.nodeName', spec.nodeName ?? '', m));
  return errs;
}

export function validateVolumeAttachment(va: VolumeAttachment): FieldError[] {
  return [...validateObjectMeta(va.metadata, false, nameIsDNSSubdomain), ...validateVolumeAttachmentSpec(va)];
}

/** the spec is immutable */
export function validateVolumeAttachmentUpdate(va: VolumeAttachment, old: VolumeAttachment): FieldError[] {
  const errs = validateObjectMetaUpdate(va.metadata, old.metadata, false, nameIsDNSSubdomain);
  if (!deepEqual(va.spec, old.spec)) errs.push(fe.invalid('spec', va.spec, 'field is immutable'));
  return errs;
}
