// Server-side apply and managedFields bookkeeping (upstream k8s.io/apimachinery pkg/util/managedfields over
// sigs.k8s.io/structured-merge-diff): pure functions the registry calls for PATCH application/apply-patch+yaml
// (serverSideApply) and for every other write (trackUpdate).
import { errors } from '../errors.js';
import type { KubeObject } from '../request.js';
import { groupVersion } from '../resources.js';
import { deepCopy, deepEqual, isObject } from '../../util/objects.js';
import { applyTypeFor, type ApplyType } from './apply-schema.js';
import { FieldSet, type FieldPath } from './field-set.js';
import {
  conflictError,
  decodeManagedFields,
  encodeManagedFields,
  isResetManagedFields,
  managerKey,
  type Conflict,
  type Managed,
  type ManagedSet,
} from './managed-fields.js';
import { compare, merge, prune, toFieldSet, TypedValueError, type Comparison } from './typed.js';

export { FieldSet, pathString } from './field-set.js';
export { conflictError, decodeManagedFields, encodeManagedFields } from './managed-fields.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface ApplyOptions {
  /** the fieldManager query parameter (kubectl ≥1.18 sends `kubectl` for --server-side) */
  manager: string;
  force: boolean;
  gvk: GroupVersionKind;
  /** RFC 3339 timestamp recorded on the entries this write touches */
  now: string;
  subresource?: string;
  /** a custom resource's openAPIV3Schema: its list and map types (the kind is not in definitions.json) */
  schema?: unknown;
}

export interface TrackOptions {
  manager: string;
  gvk: GroupVersionKind;
  now: string;
  subresource?: string;
  /** a custom resource's openAPIV3Schema */
  schema?: unknown;
}

export interface ApplyResult {
  /** the object to store, with metadata.managedFields updated */
  object: KubeObject;
}

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** upstream stripMetaManager: fields nobody owns */
const STRIP_SET = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...[
    'name',
    'namespace',
    'creationTimestamp',
    'selfLink',
    'uid',
    'clusterName',
    'generation',
    'managedFields',
    'resourceVersion',
  ].map((f) => ['f:metadata', `f:${f}`]),
);

/** upstream's reset fields: a main-resource write never owns status, a status write never owns spec */
function ignoredPrefixes(subresource: string | undefined): FieldPath[] {
  if (subresource === undefined) return [['f:status']];
  if (subresource === 'status') return [['f:spec']];
  return [];
}

/** Go's GroupVersionKind.String(), as upstream's error messages print it */
function gvkString(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}, Kind=${gvk.kind}`;
}

/** The object without metadata.managedFields: a shallow copy sharing everything else, to be read, never mutated. */
function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Struct fields Go always serialises (non-pointer structs): present, empty, in upstream's zero object. */
const ZERO_PRESENT_FIELDS = ['metadata', 'spec', 'status', 'template', 'strategy', 'updateStrategy'];

function zeroValue(t: ApplyType, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.kind !== 'struct' || depth > 3) return out;
  for (const name of ZERO_PRESENT_FIELDS) {
    const f = t.field(name);
    if (f?.kind === 'struct' && !f.atomic) out[name] = zeroValue(f, depth + 1);
  }
  return out;
}

/** the empty object upstream compares a create against (runtime.ObjectCreater.New, as unstructured) */
function zeroObject(t: ApplyType, gvk: GroupVersionKind): KubeObject {
  return { apiVersion: groupVersion(gvk.group, gvk.version), kind: gvk.kind, ...zeroValue(t, 0) };
}

/** in place: a comparison is its caller's own */
function filterComparison(c: Comparison, ignore: readonly FieldPath[]): Comparison {
  if (ignore.length === 0) return c;
  c.added.dropPrefixes(ignore);
  c.modified.dropPrefixes(ignore);
  c.removed.dropPrefixes(ignore);
  return c;
}

function cloneManaged(m: Managed): Managed {
  return new Map([...m].map(([k, v]) => [k, { ...v, set: v.set.copy() }]));
}

/** Null values are "unset" once the object is decoded into its Go type; drop them from maps. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    Object.defineProperty(out, k, {
      value: withoutNulls(x),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Upstream's Updater.Update wrapped in managedFieldsUpdater and stripMetaManager: the writer becomes owner of
 * what it changed or added, every manager loses what the write changed or removed. Mutates `managed`.
 */
function recordUpdate(
  managed: Managed,
  liveValue: unknown,
  newValue: unknown,
  t: ApplyType,
  key: string,
  apiVersion: string,
  now: string,
  ignore: readonly FieldPath[],
): void {
  // the comparison's sets and `managed`'s are this call's own (decoded or built for it): changed in place
  const cmp = filterComparison(compare(liveValue, newValue, t), ignore);
  const changed = cmp.modified.absorb(cmp.added);
  for (const [k, ms] of managed) {
    ms.set.subtract(changed).subtract(cmp.removed);
    if (ms.set.isEmpty()) managed.delete(k);
  }
  const current = changed.dropPrefixes(ignore).subtract(STRIP_SET);
  if (current.isEmpty()) return;
  const previous = managed.get(key);
  managed.set(key, {
    set: previous ? current.absorb(previous.set) : current,
    apiVersion,
    applied: false,
    time: now,
  });
}

/**
 * managedFields bookkeeping for an ordinary write (create, update, non-apply patch): `manager` becomes the
 * owner (operation Update) of every field it changed. `old` is undefined for a create. Returns a copy of
 * `next` with metadata.managedFields updated. Managed fields sent in the request are honoured as upstream
 * does (`[]` or `[{}]` clears them); an existing object with no managed fields stays untracked until an apply.
 */
export function trackUpdate(old: KubeObject | undefined, next: KubeObject, opts: TrackOptions): KubeObject {
  const result = deepCopy(next);
  const meta = (result.metadata ??= {});
  const requested: unknown = meta.managedFields;
  delete meta.managedFields;
  const t = applyTypeFor(opts.gvk, opts.schema);
  const apiVersion = groupVersion(opts.gvk.group, opts.gvk.version);
  let managed: Managed;
  if (opts.subresource === undefined && isResetManagedFields(requested)) {
    managed = new Map() as Managed;
  } else {
    const fromRequest = opts.subresource === undefined ? decodeManagedFields(requested) : undefined;
    managed =
      fromRequest && fromRequest.size > 0
        ? fromRequest
        : (decodeManagedFields(old?.metadata?.managedFields) ?? (new Map() as Managed));
  }
  if (managed.size === 0 && old?.metadata?.uid) return result;
  const key = managerKey({
    manager: opts.manager,
    operation: 'Update',
    apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  });
  const liveValue = old ? withoutManagedFields(old) : zeroObject(t, opts.gvk);
  recordUpdate(managed, liveValue, result, t, key, apiVersion, opts.now, ignoredPrefixes(opts.subresource));
  const encoded = encodeManagedFields(managed);
  if (encoded) meta.managedFields = encoded;
  return result;
}

interface ApplyOutcome {
  object: unknown;
  managed: Managed;
  conflicts: Conflict[];
}

/**
 * Apply `config` (the applied configuration, already parsed from YAML) as `manager` onto `live` (undefined →
 * create). Throws ApiError 409 (reason Conflict, causes FieldManagerConflict) when another manager owns a field
 * the config sets to a different value and !force; 400 for a configuration upstream cannot type.
 */
export function serverSideApply(
  live: KubeObject | undefined,
  config: KubeObject,
  opts: ApplyOptions,
): ApplyResult {
  const gv = groupVersion(opts.gvk.group, opts.gvk.version);
  if (!isObject(config))
    throw errors.badRequest('error decoding YAML: the applied configuration is not an object');
  if (config.apiVersion !== gv) {
    const given = typeof config.apiVersion === 'string' ? config.apiVersion : '';
    throw errors.badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${given}, expected: ${gv}`,
    );
  }
  const configMeta: unknown = config.metadata;
  if (
    isObject(configMeta) &&
    configMeta['managedFields'] !== undefined &&
    configMeta['managedFields'] !== null
  ) {
    throw errors.badRequest('metadata.managedFields must be nil');
  }
  const t = applyTypeFor(opts.gvk, opts.schema);
  let configSet: FieldSet;
  try {
    configSet = toFieldSet(config, t, { strict: true });
  } catch (e) {
    if (!(e instanceof TypedValueError)) throw e;
    const m = isObject(configMeta) ? configMeta : {};
    const ns = typeof m['namespace'] === 'string' ? m['namespace'] : '';
    const name = typeof m['name'] === 'string' ? m['name'] : '';
    throw errors.badRequest(
      `failed to create typed patch object (${ns}/${name}; ${gvkString(opts.gvk)}): ${e.message}`,
      {
        cause: e,
      },
    );
  }

  const liveValue: KubeObject = live ? withoutManagedFields(live) : {};
  let managed: Managed =
    (live && decodeManagedFields(live.metadata?.managedFields)) || new Map<string, ManagedSet>();
  if (live && managed.size === 0) {
    // upstream skipNonAppliedManager: what exists before the first apply belongs to "before-first-apply"
    managed = new Map() as Managed;
    const key = managerKey({ manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: gv });
    recordUpdate(
      managed,
      zeroObject(t, opts.gvk),
      liveValue,
      t,
      key,
      gv,
      opts.now,
      ignoredPrefixes(opts.subresource),
    );
  }
  const applyKey = managerKey({
    manager: opts.manager,
    operation: 'Apply',
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  });
  const ignore = ignoredPrefixes(opts.subresource);
  const appliedSet = configSet.withoutPrefixes(ignore);

  const attempt = (force: boolean): ApplyOutcome => {
    const m = cloneManaged(managed);
    const lastSet = m.get(applyKey)?.set ?? new FieldSet();
    const previousTime = m.get(applyKey)?.time;
    m.set(applyKey, {
      set: appliedSet,
      apiVersion: gv,
      applied: true,
      ...(previousTime ? { time: previousTime } : {}),
    });
    let owned = new FieldSet();
    for (const ms of m.values()) owned = owned.union(ms.set);
    const merged = prune(merge(liveValue, config, t) ?? {}, t, lastSet, owned);
    const cmp = filterComparison(compare(liveValue, merged, t), ignore);
    const changed = cmp.modified.union(cmp.added);
    const conflicts: Conflict[] = [];
    for (const k of [...m.keys()].sort()) {
      if (k === applyKey) continue;
      for (const path of m.get(k)!.set.intersection(changed).paths()) conflicts.push({ manager: k, path });
    }
    if (conflicts.length > 0 && !force) return { object: merged, managed: m, conflicts };
    for (const [k, ms] of m) {
      if (k === applyKey) continue;
      ms.set = ms.set.difference(changed).difference(cmp.removed);
      if (ms.set.isEmpty()) m.delete(k);
    }
    const mine = m.get(applyKey)!;
    mine.set = mine.set.difference(STRIP_SET);
    if (mine.set.isEmpty()) m.delete(applyKey);
    return { object: merged, managed: m, conflicts: [] };
  };

  let outcome = attempt(opts.force);
  if (outcome.conflicts.length > 0) {
    // upstream lastAppliedManager: kubectl moving from client-side to server-side apply may take over the
    // fields its last-applied annotation still describes
    const allowed =
      opts.manager === 'kubectl' && live ? allowedFromLastApplied(live, liveValue, t, gv) : undefined;
    if (!allowed) throw conflictError(outcome.conflicts);
    const remaining = outcome.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw conflictError(remaining);
    outcome = attempt(true);
  }

  const unchanged = live !== undefined && deepEqual(liveValue, outcome.object);
  const object = (unchanged ? deepCopy(liveValue) : withoutNulls(outcome.object)) as KubeObject;
  const mine = outcome.managed.get(applyKey);
  if (mine && !unchanged) mine.time = opts.now;
  const meta = (object.metadata ??= {});
  if (
    opts.manager === 'kubectl' &&
    typeof meta.annotations?.[LAST_APPLIED_ANNOTATION] === 'string' &&
    meta.annotations[LAST_APPLIED_ANNOTATION]
  ) {
    meta.annotations = { ...meta.annotations, [LAST_APPLIED_ANNOTATION]: buildLastApplied(config) };
  }
  const encoded = encodeManagedFields(outcome.managed);
  if (encoded) meta.managedFields = encoded;
  else delete meta.managedFields;
  return { object };
}

/** fields of the last-applied annotation whose values the live object still has */
function allowedFromLastApplied(
  live: KubeObject,
  liveValue: KubeObject,
  t: ApplyType,
  gv: string,
): FieldSet | undefined {
  const raw = live.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!raw) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(lastApplied) || lastApplied['apiVersion'] !== gv) return undefined;
  let set: FieldSet;
  try {
    set = toFieldSet(lastApplied, t, { strict: true });
  } catch {
    return undefined;
  }
  const cmp = compare(lastApplied, liveValue, t);
  return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
}

/** the annotation kubectl would write: the configuration without the annotation, as Go's JSON encoder writes it */
function buildLastApplied(config: KubeObject): string {
  const copy = deepCopy(config);
  if (copy.metadata?.annotations) {
    const annotations = { ...copy.metadata.annotations };
    delete annotations[LAST_APPLIED_ANNOTATION];
    copy.metadata.annotations = annotations;
  }
  return `${sortedJson(copy)}\n`;
}

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The manager of a write that names none. Upstream takes the User-Agent's product (`kube-controller-manager`,
 * `kubelet`); requests here carry the user, whose system names map onto the same component names.
 */
export function defaultFieldManager(user: { username: string } | undefined): string {
  const name = user?.username ?? '';
  if (name.startsWith('system:node:')) return 'kubelet';
  if (name.startsWith('system:serviceaccount:')) return name.slice(name.lastIndexOf(':') + 1);
  return name.replace(/^system:/, '') || 'unknown';
}
