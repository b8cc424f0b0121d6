// ObjectMeta, labels, annotations and label selectors, validated as upstream's apimachinery validation does.
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
} from './names.js';

/** how a kind's names are checked: returns messages; `prefix` for generateName (a trailing '-' is fine) */
export type NameValidator = (name: string, prefix: boolean) => string[];

const maskTrailingDash = (name: string): string =>
  name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
export const nameIsDNSSubdomain: NameValidator = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);
/** path.ValidatePathSegmentName: what the generic store checks for kinds whose strategy checks no name */
export const nameIsPathSegment: NameValidator = (name, prefix) => isValidPathSegmentName(name, prefix);

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
// plus the finalizer the apiextensions-apiserver puts on a CRD being deleted (it validates CRDs' metadata with
// apimachinery's rules, which check finalizers as qualified names only)
const STANDARD_FINALIZERS = new Set([
  'kubernetes',
  'orphan',
  'foregroundDeletion',
  'customresourcecleanup.apiextensions.k8s.io',
]);

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!labels) return errs;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) errs.push(fe.invalid(path, k, m));
    for (const m of isValidLabelValue(v)) errs.push(fe.invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(
  annotations: Record<string, string> | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!annotations) return errs;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fe.invalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fe.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** ValidateObjectMeta: name/generateName, namespace presence, labels, annotations, owner references, finalizers */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  requiresNamespace: boolean,
  nameFn: NameValidator,
  path = 'metadata',
): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName) {
    for (const msg of nameFn(m.generateName, true))
      errs.push(fe.invalid(`${path}.generateName`, m.generateName, msg));
  }
  if (!m.name) {
    if (!m.generateName) errs.push(fe.required(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const msg of nameFn(m.name, false)) errs.push(fe.invalid(`${path}.name`, m.name, msg));
  }
  if (requiresNamespace) {
    if (!m.namespace) errs.push(fe.required(`${path}.namespace`));
    else
      for (const msg of isDNS1123Label(m.namespace))
        errs.push(fe.invalid(`${path}.namespace`, m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fe.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(m, `${path}.ownerReferences`));
  for (const f of m.finalizers ?? []) {
    const fpath = `${path}.finalizers`;
    const problems = isQualifiedName(f);
    for (const msg of problems) errs.push(fe.invalid(fpath, f, msg));
    if (problems.length === 0 && !f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(fe.invalid(fpath, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

function validateOwnerReferences(m: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  for (const ref of m.ownerReferences ?? []) {
    if (!ref.apiVersion)
      errs.push(fe.invalid(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(fe.invalid(`${path}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(fe.invalid(`${path}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(fe.invalid(`${path}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller) controllers.push(ref.name);
  }
  if (controllers.length > 1) {
    errs.push(
      fe.invalid(
        path,
        m.ownerReferences,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  }
  return errs;
}

/** ValidateObjectMetaUpdate: the new meta is valid, and name/namespace/uid/creationTimestamp did not change */
export function validateObjectMetaUpdate(
  meta: ObjectMeta | undefined,
  old: ObjectMeta | undefined,
  requiresNamespace: boolean,
  nameFn: NameValidator,
  path = 'metadata',
): FieldError[] {
  const errs = validateObjectMeta(meta, requiresNamespace, nameFn, path);
  const m = meta ?? {};
  const o = old ?? {};
  errs.push(...immutable(m.name, o.name, `${path}.name`));
  errs.push(...immutable(m.namespace, o.namespace, `${path}.namespace`));
  errs.push(...immutable(m.uid, o.uid, `${path}.uid`));
  errs.push(...immutable(m.creationTimestamp, o.creationTimestamp, `${path}.creationTimestamp`));
  if (o.deletionTimestamp !== undefined)
    errs.push(...immutable(m.deletionTimestamp, o.deletionTimestamp, `${path}.deletionTimestamp`));
  if (o.deletionGracePeriodSeconds !== undefined) {
    errs.push(
      ...immutable(
        m.deletionGracePeriodSeconds,
        o.deletionGracePeriodSeconds,
        `${path}.deletionGracePeriodSeconds`,
      ),
    );
  }
  return errs;
}

/** ValidateImmutableField */
export function immutable(value: unknown, old: unknown, path: string): FieldError[] {
  return deepEqual(value, old) ? [] : [fe.invalid(path, value, 'field is immutable')];
}

/** equality of decoded JSON values; an absent key equals an absent value */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k in ao) if (ao[k] !== undefined && !deepEqual(ao[k], bo[k])) return false;
  for (const k in bo) if (bo[k] !== undefined && ao[k] === undefined) return false;
  return true;
}

export function nonNegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0
    ? [fe.invalid(path, value, 'must be greater than or equal to 0')]
    : [];
}

export function positive(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value <= 0 ? [fe.invalid(path, value, 'must be greater than 0')] : [];
}

/** metav1 ValidateLabelSelector */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!sel) return errs;
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          errs.push(fe.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          errs.push(
            fe.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
          );
        break;
      default:
        errs.push(fe.invalid(`${p}.operator`, req.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(req.key ?? '')) errs.push(fe.invalid(`${p}.key`, req.key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(fe.invalid(`${p}.values[${j}]`, v, m));
    });
  });
  errs.push(...validateLabels(sel.matchLabels, `${path}.matchLabels`));
  return errs;
}

export function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) === 0;
}

export { selectorMatches } from '../labels.js';

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** apimachinery's IsDomainPrefixedPath: "acme.io/foo", a DNS subdomain, a slash and an HTTP path */
export function isDomainPrefixedPath(value: string, path: string): FieldError[] {
  if (value.length === 0) return [fe.required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? '' : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (host.length === 0 || rest.length === 0)
    return [fe.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((msg) => fe.invalid(path, host, msg));
  if (!HTTP_PATH_RE.test(rest))
    errs.push(fe.invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`));
  return errs;
}
