// Validation of the kinds admission works with (upstream's pkg/apis/core/validation ValidateResourceQuota,
// ValidateLimitRange; pkg/apis/scheduling/validation; pkg/apis/storage/validation ValidateStorageClass).
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { fe, type FieldError } from '../errors.js';
import { compareQuantities, formatQuantity, parseQuantity, quantityValue } from '../schema/quantity.js';
import { immutable, nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName } from './names.js';
import { validatePreemptionPolicy } from './pod.js';

type Meta = { metadata?: ResourceQuota['metadata'] };

function meta(obj: Meta, old: Meta | undefined, namespaced: boolean): FieldError[] {
  return old
    ? validateObjectMetaUpdate(obj.metadata, old.metadata, namespaced, nameIsDNSSubdomain)
    : validateObjectMeta(obj.metadata, namespaced, nameIsDNSSubdomain);
}

// ---------------------------------------------------------------- resource names and quantities

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_QUOTA_RESOURCES = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);
const INTEGER_RESOURCES = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);
const STANDARD_RESOURCES = new Set([...STANDARD_CONTAINER_RESOURCES, ...STANDARD_QUOTA_RESOURCES, 'storage']);

const isHugePages = (n: string): boolean =>
  n.startsWith('hugepages-') || n.startsWith('requests.hugepages-') || n.startsWith('limits.hugepages-');

/**
 * helper.IsExtendedResourceName: not in the kubernetes.io namespace, not `requests.`-prefixed, and a qualified name
 * once prefixed with `requests.` (so `count/pods` and `example.com/dongle` are extended resources)
 */
function isExtendedResourceName(name: string): boolean {
  const native = !name.includes('/') || name.includes('kubernetes.io/');
  if (native || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** helper.IsIntegerResourceName: object counts and extended resources must be whole numbers */
export function isIntegerResourceName(name: string): boolean {
  return INTEGER_RESOURCES.has(name) || isExtendedResourceName(name);
}

/** validateResourceName: a qualified name; without a domain, one of the standard resources */
function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => fe.invalid(path, name, msg));
  if (!name.includes('/') && !STANDARD_RESOURCES.has(name) && !isHugePages(name))
    errs.push(fe.invalid(path, name, 'must be a standard resource type or fully qualified'));
  return errs;
}

/** ValidateResourceQuotaResourceName */
function validateQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => fe.invalid(path, name, msg));
  if (!name.includes('/') && !STANDARD_QUOTA_RESOURCES.has(name) && !isHugePages(name))
    errs.push(fe.invalid(path, name, 'must be a standard resource for quota'));
  return errs;
}

/** ValidateResourceQuantityValue: not negative (ValidateNonnegativeQuantity) and, separately, whole for integer resources */
function validateQuantityValue(resource: string, value: string, path: string): FieldError[] {
  const q = parseQuantity(String(value));
  if (!q) return [fe.invalid(path, value, 'must be a valid quantity')];
  const errs: FieldError[] = [];
  if (q.num < 0n) errs.push(fe.invalid(path, value, 'must be greater than or equal to 0'));
  if (isIntegerResourceName(resource) && q.exp < 0 && q.num % 10n ** BigInt(-q.exp) !== 0n)
    errs.push(fe.invalid(path, value, 'must be an integer'));
  return errs;
}

function validateResourceList(
  list: Record<string, string> | undefined,
  path: string,
  nameFn: (n: string, p: string) => FieldError[],
): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) {
    const p = `${path}[${k}]`;
    errs.push(...nameFn(k, p), ...validateQuantityValue(k, v, p));
  }
  return errs;
}

// ---------------------------------------------------------------- ResourceQuota

/**
 * helper.IsStandardResourceQuotaScope (plus CrossNamespacePodAffinity, accepted there by name). VolumeAttributesClass
 * was added with the VolumeAttributesClass quota scope (1.31); the helper version read predates it.
 */
const QUOTA_SCOPES = [
  'Terminating',
  'NotTerminating',
  'BestEffort',
  'NotBestEffort',
  'PriorityClass',
  'CrossNamespacePodAffinity',
  'VolumeAttributesClass',
];

const POD_OBJECT_COUNT = new Set(['pods']);
const POD_COMPUTE = new Set([
  'cpu',
  'memory',
  'limits.cpu',
  'limits.memory',
  'requests.cpu',
  'requests.memory',
]);

/** helper.IsResourceQuotaScopeValidForResource: which hard limits a scope can restrict */
function scopeValidForResource(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return POD_OBJECT_COUNT.has(resource) || POD_COMPUTE.has(resource);
    case 'BestEffort':
      return POD_OBJECT_COUNT.has(resource);
    case 'VolumeAttributesClass':
      return resource === 'persistentvolumeclaims' || resource === 'requests.storage';
    default:
      return true;
  }
}

/** helper.IsStandardQuotaResourceName */
const isStandardQuotaResource = (name: string): boolean =>
  STANDARD_QUOTA_RESOURCES.has(name) || name.startsWith('requests.hugepages-');

/** the pairs no quota may hold both of */
const CONFLICTING_SCOPES = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
];

/** the hard limits a scope cannot restrict, sorted as upstream's sets.List */
const hardOutsideScope = (hard: string[], scope: string): string[] =>
  hard.filter((k) => isStandardQuotaResource(k) && !scopeValidForResource(scope, k));

/** validateResourceQuotaScopes: every error is on `spec.scopes` with the whole list as its value */
function validateQuotaScopes(spec: NonNullable<ResourceQuota['spec']>, hard: string[]): FieldError[] {
  const scopes = spec.scopes ?? [];
  const errs: FieldError[] = [];
  for (const scope of scopes) {
    if (!QUOTA_SCOPES.includes(scope)) errs.push(fe.invalid('spec.scopes', scopes, 'unsupported scope'));
    for (const _ of hardOutsideScope(hard, scope))
      errs.push(fe.invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
  }
  for (const pair of CONFLICTING_SCOPES)
    if (pair.every((p) => scopes.includes(p)))
      errs.push(fe.invalid('spec.scopes', scopes, 'conflicting scopes'));
  return errs;
}

/** scopes whose selector may only say they exist */
const EXISTS_ONLY_SCOPES = new Set([
  'BestEffort',
  'NotBestEffort',
  'Terminating',
  'NotTerminating',
  'CrossNamespacePodAffinity',
]);

/** validateScopedResourceSelectorRequirement */
function validateScopeSelector(spec: NonNullable<ResourceQuota['spec']>, hard: string[]): FieldError[] {
  const selector = spec.scopeSelector;
  if (!selector) return [];
  const path = 'spec.scopeSelector.matchExpressions';
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const req of selector.matchExpressions ?? []) {
    if (!QUOTA_SCOPES.includes(req.scopeName))
      errs.push(fe.invalid(`${path}.scopeName`, req.scopeName, 'unsupported scope'));
    for (const _ of hardOutsideScope(hard, req.scopeName))
      errs.push(fe.invalid(path, selector, 'unsupported scope applied to resource'));
    if (EXISTS_ONLY_SCOPES.has(req.scopeName) && req.operator !== 'Exists')
      errs.push(
        fe.invalid(
          `${path}.operator`,
          req.operator,
          "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          errs.push(
            fe.required(
              `${path}.values`,
              "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
            ),
          );
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0)
          errs.push(
            fe.invalid(
              `${path}.values`,
              values,
              "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
            ),
          );
        break;
      default:
        errs.push(fe.invalid(`${path}.operator`, req.operator, 'not a valid selector operator'));
    }
    seen.add(req.scopeName);
  }
  // upstream reports the conflict with spec.scopes as its value (not the selector)
  for (const pair of CONFLICTING_SCOPES)
    if (pair.every((p) => seen.has(p)))
      errs.push(fe.invalid(path, spec.scopes ?? null, 'conflicting scopes'));
  return errs;
}

/** ValidateResourceQuotaSpec: hard limits, then scopes, then the scope selector */
function validateQuotaSpec(rq: ResourceQuota): FieldError[] {
  const spec = rq.spec ?? {};
  const hard = Object.keys(spec.hard ?? {}).sort();
  return [
    ...validateResourceList(spec.hard, 'spec.hard', validateQuotaResourceName),
    ...validateQuotaScopes(spec, hard),
    ...validateScopeSelector(spec, hard),
  ];
}

/** ValidateResourceQuotaStatus */
function validateQuotaStatus(rq: ResourceQuota): FieldError[] {
  return [
    ...validateResourceList(rq.status?.hard, 'status.hard', validateQuotaResourceName),
    ...validateResourceList(rq.status?.used, 'status.used', validateQuotaResourceName),
  ];
}

export function validateResourceQuota(rq: ResourceQuota): FieldError[] {
  return [...meta(rq, undefined, true), ...validateQuotaSpec(rq), ...validateQuotaStatus(rq)];
}

/** ValidateResourceQuotaUpdate: scopes compared as sets, the error on spec.scopes with the new list */
export function validateResourceQuotaUpdate(rq: ResourceQuota, old: ResourceQuota): FieldError[] {
  const errs = [...meta(rq, old, true), ...validateQuotaSpec(rq)];
  const now = new Set(rq.spec?.scopes ?? []);
  const before = new Set(old.spec?.scopes ?? []);
  if (now.size !== before.size || [...now].some((s) => !before.has(s)))
    errs.push(fe.invalid('spec.scopes', rq.spec?.scopes ?? null, 'field is immutable'));
  return errs;
}

/**
 * ValidateResourceQuotaStatusUpdate. Its `resourceVersion: Required value` is not checked here: upstream's store gives an
 * unconditional update the stored resourceVersion before validating, so no request meets it.
 */
export function validateResourceQuotaStatusUpdate(rq: ResourceQuota, old: ResourceQuota): FieldError[] {
  return [...meta(rq, old, true), ...validateQuotaStatus(rq)];
}

// ---------------------------------------------------------------- LimitRange

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];

const fmt = (s: string): string => {
  const q = parseQuantity(s);
  return q ? formatQuantity(q) : s;
};

export function validateLimitRange(lr: LimitRange, old?: LimitRange): FieldError[] {
  const errs = meta(lr, old, true);
  const seen = new Set<string>();
  (lr.spec?.limits ?? []).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    if (!LIMIT_TYPES.includes(item.type)) errs.push(fe.notSupported(`${p}.type`, item.type, LIMIT_TYPES));
    if (seen.has(item.type)) errs.push(fe.duplicate(`${p}.type`, item.type));
    seen.add(item.type);
    const lists = {
      max: item.max ?? {},
      min: item.min ?? {},
      default: item.default ?? {},
      defaultRequest: item.defaultRequest ?? {},
      maxLimitRequestRatio: item.maxLimitRequestRatio ?? {},
    };
    for (const [field, list] of Object.entries(lists))
      for (const k of Object.keys(list)) errs.push(...validateResourceName(k, `${p}.${field}[${k}]`));
    if (item.type === 'Pod') {
      if (Object.keys(lists.default).length)
        errs.push(fe.forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(lists.defaultRequest).length)
        errs.push(fe.forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    if (item.type === 'PersistentVolumeClaim') {
      const hasStorage = 'storage' in lists.min || 'storage' in lists.max;
      if (!hasStorage)
        errs.push(
          fe.required(
            `${p}.limits`,
            'either minimum or maximum storage value is required, but neither was provided',
          ),
        );
    }
    const keys = new Set(Object.values(lists).flatMap((l) => Object.keys(l)));
    for (const k of keys) {
      const min = lists.min[k];
      const max = lists.max[k];
      const def = lists.default[k];
      const defReq = lists.defaultRequest[k];
      const ratio = lists.maxLimitRequestRatio[k];
      const gt = (a: string | undefined, b: string | undefined): boolean =>
        a !== undefined && b !== undefined && compareQuantities(a, b) > 0;
      if (gt(min, max))
        errs.push(
          fe.invalid(`${p}.min[${k}]`, min, `min value ${fmt(min)} is greater than max value ${fmt(max)}`),
        );
      if (gt(min, defReq))
        errs.push(
          fe.invalid(
            `${p}.defaultRequest[${k}]`,
            defReq,
            `min value ${fmt(min)} is greater than default request value ${fmt(defReq)}`,
          ),
        );
      if (gt(defReq, max))
        errs.push(
          fe.invalid(
            `${p}.defaultRequest[${k}]`,
            defReq,
            `default request value ${fmt(defReq)} is greater than max value ${fmt(max)}`,
          ),
        );
      if (gt(defReq, def))
        errs.push(
          fe.invalid(
            `${p}.defaultRequest[${k}]`,
            defReq,
            `default request value ${fmt(defReq)} is greater than default limit value ${fmt(def)}`,
          ),
        );
      if (gt(min, def))
        errs.push(
          fe.invalid(
            `${p}.default[${k}]`,
            min,
            `min value ${fmt(min)} is greater than default value ${fmt(def)}`,
          ),
        );
      if (gt(def, max))
        errs.push(
          fe.invalid(
            `${p}.default[${k}]`,
            max,
            `default value ${fmt(def)} is greater than max value ${fmt(max)}`,
          ),
        );
      if (ratio !== undefined) {
        if (compareQuantities(ratio, '1') < 0)
          errs.push(
            fe.invalid(`${p}.maxLimitRequestRatio[${k}]`, ratio, `ratio ${fmt(ratio)} is less than 1`),
          );
        if (min !== undefined && max !== undefined) {
          const qMin = parseQuantity(min);
          const qMax = parseQuantity(max);
          const qRatio = parseQuantity(ratio);
          if (qMin && qMax && qRatio && quantityValue(qMin) > 0) {
            const maxRatio = quantityValue(qMax) / quantityValue(qMin);
            if (quantityValue(qRatio) > maxRatio)
              errs.push(
                fe.invalid(
                  `${p}.maxLimitRequestRatio[${k}]`,
                  ratio,
                  `ratio ${fmt(ratio)} is greater than max/min = ${maxRatio.toFixed(6)}`,
                ),
              );
          }
        }
      }
    }
  });
  return errs;
}

// ---------------------------------------------------------------- PriorityClass

/** upstream's scheduling.HighestUserDefinablePriority */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** the classes every cluster has (scheduling.SystemPriorityClasses) */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; description: string }[] = [
  {
    name: 'system-node-critical',
    value: 2_000_001_000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: 2_000_000_000,
    description:
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/** scheduling.IsKnownSystemPriorityClass */
function knownSystemClassError(pc: PriorityClass): string | undefined {
  const name = pc.metadata?.name ?? '';
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (pc.value !== spc.value) return `value of ${name} PriorityClass must be ${spc.value}`;
  if (pc.globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = meta(pc, undefined, false);
  const name = pc.metadata?.name ?? '';
  if (name.startsWith('system-')) {
    const err = knownSystemClassError(pc);
    if (err)
      errs.push(
        fe.forbidden(
          'metadata.name',
          `priority class names with 'system-' prefix are reserved for system use only. error: ${err}`,
        ),
      );
  } else if (pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(
      fe.forbidden(
        'value',
        `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
      ),
    );
  }
  if (pc.preemptionPolicy !== undefined)
    errs.push(...validatePreemptionPolicy(pc.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs = meta(pc, old, false);
  if (pc.value !== old.value) errs.push(fe.forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(pc.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

// ---------------------------------------------------------------- StorageClass

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
/** storage validation's maxProvisionerParameterSize / Len */
const MAX_PARAMETERS_SIZE = 256 * 1024;
const MAX_PARAMETERS = 512;

export function validateStorageClass(sc: StorageClass): FieldError[] {
  const errs = meta(sc, undefined, false);
  if (!sc.provisioner) errs.push(fe.required('provisioner', ''));
  else {
    for (const msg of isQualifiedName(sc.provisioner.toLowerCase()))
      errs.push(fe.invalid('provisioner', sc.provisioner, msg));
  }
  errs.push(...validateParameters(sc.parameters, 'parameters'));
  if (sc.reclaimPolicy !== undefined && !RECLAIM_POLICIES.includes(sc.reclaimPolicy))
    errs.push(fe.notSupported('reclaimPolicy', sc.reclaimPolicy, RECLAIM_POLICIES));
  if (sc.volumeBindingMode === undefined) errs.push(fe.required('volumeBindingMode', ''));
  else if (!BINDING_MODES.includes(sc.volumeBindingMode))
    errs.push(fe.notSupported('volumeBindingMode', sc.volumeBindingMode, BINDING_MODES));
  errs.push(...validateAllowedTopologies(sc.allowedTopologies, 'allowedTopologies'));
  return errs;
}

/** validateParameters: at most 512 entries (nothing else is checked then), keys not empty, 256 KiB in all */
export function validateParameters(params: Record<string, string> | undefined, path: string): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PARAMETERS) return [fe.tooLong(path, '', MAX_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length === 0) errs.push(fe.invalid(path, k, 'field can not be empty.'));
    size += k.length + v.length;
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(fe.tooLong(path, '', MAX_PARAMETERS_SIZE));
  return errs;
}

/**
 * validateAllowedTopologies with core's ValidateTopologySelectorTerm: each expression's values are required and
 * unique, its key a label name, keys unique within a term; two terms with the same expressions are duplicates.
 */
function validateAllowedTopologies(terms: StorageClass['allowedTopologies'], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen: string[] = [];
  (terms ?? []).forEach((term, i) => {
    const exprPath = `${path}[${i}].matchLabelExpressions`;
    const exprs = new Map<string, string[]>();
    (term.matchLabelExpressions ?? []).forEach((req, j) => {
      const p = `${exprPath}[${j}]`;
      const values = new Set<string>();
      if ((req.values ?? []).length === 0) errs.push(fe.required(`${p}.values`, ''));
      (req.values ?? []).forEach((v, k) => {
        if (values.has(v)) errs.push(fe.duplicate(`${p}.values[${k}]`, v));
        values.add(v);
      });
      for (const m of isQualifiedName(req.key)) errs.push(fe.invalid(`${p}.key`, req.key, m));
      if (exprs.has(req.key)) errs.push(fe.duplicate(`${p}.key`, req.key));
      exprs.set(req.key, [...values].sort());
    });
    const canonical = JSON.stringify([...exprs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (seen.includes(canonical)) errs.push(fe.duplicate(exprPath, ''));
    seen.push(canonical);
  });
  return errs;
}

export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs = meta(sc, old, false);
  const same = (a: unknown, b: unknown): boolean => immutable(a, b, '').length === 0;
  if (!same(sc.parameters ?? {}, old.parameters ?? {}))
    errs.push(fe.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner)
    errs.push(fe.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy)
    errs.push(fe.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(sc.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}
