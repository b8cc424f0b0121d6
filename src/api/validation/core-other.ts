// Validation of the smaller core/v1 kinds (ConfigMap, Secret, Namespace, Node, ServiceAccount) and Lease.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ConfigMap, Namespace, Node, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  deepEqual,
  immutable,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nonNegative,
  positive,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { goUnmarshalMapError } from './go-json.js';
import { isConfigMapKey, isQualifiedName, isValidConfigMapKey } from './names.js';

/** core.MaxSecretSize, also ConfigMaps' limit */
const MAX_DATA_SIZE = 1024 * 1024;

function meta(
  obj: { metadata?: ConfigMap['metadata'] },
  old: { metadata?: ConfigMap['metadata'] } | undefined,
  namespaced: boolean,
  nameFn = nameIsDNSSubdomain,
): FieldError[] {
  return old
    ? validateObjectMetaUpdate(obj.metadata, old.metadata, namespaced, nameFn)
    : validateObjectMeta(obj.metadata, namespaced, nameFn);
}

function validateImmutableData(
  obj: ConfigMap | Secret,
  old: ConfigMap | Secret | undefined,
  dataFields: ('data' | 'binaryData' | 'stringData')[],
): FieldError[] {
  const errs: FieldError[] = [];
  if (!old?.immutable) return errs;
  if (!obj.immutable) errs.push(fe.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of dataFields) {
    if (!deepEqual((obj as Record<string, unknown>)[f], (old as Record<string, unknown>)[f])) {
      errs.push(fe.forbidden(f, 'field is immutable when `immutable` is set'));
    }
  }
  return errs;
}

export function validateConfigMap(cm: ConfigMap, old?: ConfigMap): FieldError[] {
  const errs = meta(cm, old, true);
  let size = 0;
  // a 30,000-key map: no entry arrays, no message arrays for valid keys, and one byte count for all the values
  const data = cm.data ?? {};
  const values: string[] = [];
  for (const k of Object.keys(data)) {
    if (!isValidConfigMapKey(k)) for (const m of isConfigMapKey(k)) errs.push(fe.invalid(`data[${k}]`, k, m));
    const v = data[k];
    if (typeof v === 'string') values.push(v);
    else size += Buffer.byteLength(v);
  }
  // joined by a 1-byte NUL, so that no two lone surrogates pair up across values and change the count
  if (values.length > 0) size += Buffer.byteLength(values.join('\0')) - (values.length - 1);
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(`binaryData[${k}]`, k, m));
    if (cm.data && k in cm.data)
      errs.push(fe.invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    size += Math.floor((v.length * 3) / 4);
  }
  if (size > MAX_DATA_SIZE)
    errs.push({
      type: 'FieldValueTooLong',
      field: '',
      value: '',
      detail: `must have at most ${MAX_DATA_SIZE} bytes`,
    });
  errs.push(...validateImmutableData(cm, old, ['data', 'binaryData']));
  return errs;
}

const SECRET_TYPE_RE = /^[-._a-zA-Z0-9/]+$/;

export function validateSecret(secret: Secret, old?: Secret): FieldError[] {
  const errs = meta(secret, old, true);
  let size = 0;
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(`data[${k}]`, k, m));
    size += Buffer.byteLength(v, 'base64');
  }
  if (size > MAX_DATA_SIZE) errs.push(fe.tooLong('data', '', MAX_DATA_SIZE));
  const data = secret.data ?? {};
  const decoded = (key: string): Buffer | undefined =>
    key in data ? Buffer.from(data[key] ?? '', 'base64') : undefined;
  const type = secret.type ?? 'Opaque';
  // upstream's ValidateSecret: the keys each well-known type needs (present, or for ssh-auth non-empty)
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fe.required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      const bytes = decoded(key);
      if (bytes === undefined) {
        errs.push(fe.required(`data[${key}]`));
        break;
      }
      const problem = goUnmarshalMapError(bytes);
      if (problem !== undefined) errs.push(fe.invalid(`data[${key}]`, '<secret contents redacted>', problem));
      break;
    }
    case 'kubernetes.io/basic-auth':
      // username or password may be empty, but one of them must be there
      if (!('username' in data) && !('password' in data)) {
        errs.push(fe.required('data[username]'), fe.required('data[password]'));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!decoded('ssh-privatekey')?.length) errs.push(fe.required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!('tls.crt' in data)) errs.push(fe.required('data[tls.crt]'));
      if (!('tls.key' in data)) errs.push(fe.required('data[tls.key]'));
      break;
    default:
      if (!SECRET_TYPE_RE.test(type) || type.length > 253) {
        for (const m of isQualifiedName(type)) errs.push(fe.invalid('type', type, m));
      }
  }
  if (old) {
    errs.push(...immutable(secret.type ?? 'Opaque', old.type ?? 'Opaque', 'type'));
    errs.push(...validateImmutableData(secret, old, ['data']));
  }
  return errs;
}

export function validateNamespace(ns: Namespace, old?: Namespace): FieldError[] {
  const errs = meta(ns, old, false, nameIsDNSLabel);
  for (const [i, f] of (ns.spec?.finalizers ?? []).entries()) {
    const problems = isQualifiedName(f);
    for (const m of problems) errs.push(fe.invalid(`spec.finalizers[${i}]`, f, m));
    if (problems.length === 0 && !f.includes('/') && f !== 'kubernetes') {
      errs.push(
        fe.invalid(
          `spec.finalizers[${i}]`,
          f,
          'name is neither a standard finalizer name nor is it fully qualified',
        ),
      );
    }
  }
  const phase = ns.status?.phase;
  if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating')
    errs.push(fe.notSupported('status.phase', phase, ['Active', 'Terminating']));
  return errs;
}

export function validateNode(node: Node, old?: Node): FieldError[] {
  const errs = meta(node, old, false);
  const spec = node.spec ?? {};
  (spec.taints ?? []).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    if (!t.key) errs.push(fe.required(`${p}.key`));
    else for (const m of isQualifiedName(t.key)) errs.push(fe.invalid(`${p}.key`, t.key, m));
    if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(fe.notSupported(`${p}.effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  if (old?.spec?.podCIDR && spec.podCIDR !== old.spec.podCIDR) {
    errs.push(fe.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  for (const list of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of Object.entries(node.status?.[list] ?? {})) {
      if (v.startsWith('-'))
        errs.push(fe.invalid(`status.${list}[${k}]`, v, 'must be greater than or equal to 0'));
    }
  }
  return errs;
}

export function validateServiceAccount(sa: ServiceAccount, old?: ServiceAccount): FieldError[] {
  return meta(sa, old, true);
}

/** upstream's validLeaseStrategies (pkg/apis/coordination/validation) */
const LEASE_STRATEGIES = ['OldestEmulationVersion'];

/** upstream's ValidateCoordinatedLeaseStrategy: a Kubernetes-defined name, or a prefixed qualified name */
function validateLeaseStrategy(strategy: string, path: string): FieldError[] {
  if (!strategy.includes('/'))
    return LEASE_STRATEGIES.includes(strategy) ? [] : [fe.notSupported(path, strategy, LEASE_STRATEGIES)];
  return isQualifiedName(strategy).map((m) => fe.invalid(path, strategy, m));
}

/** upstream's ValidateLease / ValidateLeaseUpdate (pkg/apis/coordination/validation/validation.go) */
export function validateLease(lease: Lease, old?: Lease): FieldError[] {
  const errs = meta(lease, old, true);
  errs.push(...positive(lease.spec?.leaseDurationSeconds, 'spec.leaseDurationSeconds'));
  errs.push(...nonNegative(lease.spec?.leaseTransitions, 'spec.leaseTransitions'));
  const spec = (lease.spec ?? {}) as { strategy?: string; preferredHolder?: string };
  // upstream's path for this rule is spec.strategy.strategy (a Child of the already-child path): kept as upstream
  if (spec.strategy !== undefined)
    errs.push(...validateLeaseStrategy(spec.strategy, 'spec.strategy.strategy'));
  if (spec.preferredHolder && !spec.strategy)
    errs.push(fe.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}
