// metadata.managedFields as upstream's managedfields package reads and writes it: one entry per manager
// identity (manager, operation, apiVersion for updaters, subresource), the set in FieldsV1, entries sorted.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../errors.js';
import { FieldSet, pathString, type FieldPath } from './field-set.js';

export interface ManagerIdentity {
  manager: string;
  operation: 'Apply' | 'Update';
  /** only part of an updater's identity: an applier keeps one entry whatever version it applies with */
  apiVersion?: string;
  subresource?: string;
}

export interface ManagedSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
  time?: string;
}

/** manager identity (upstream BuildManagerIdentifier's JSON, fields in Go order) → its set */
export type Managed = Map<string, ManagedSet>;

export function managerKey(id: ManagerIdentity): string {
  const o: Record<string, string> = { manager: id.manager, operation: id.operation };
  if (id.operation === 'Update' && id.apiVersion) o['apiVersion'] = id.apiVersion;
  if (id.subresource) o['subresource'] = id.subresource;
  return JSON.stringify(o);
}

function parseKey(key: string): ManagerIdentity {
  return JSON.parse(key) as ManagerIdentity;
}

/**
 * Decode managedFields; undefined when an entry is malformed (upstream then falls back to other managed
 * fields or none at all).
 */
export function decodeManagedFields(entries: unknown): Managed | undefined {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) return undefined;
  for (const e of entries as unknown[]) {
    if (typeof e !== 'object' || e === null) return undefined;
    const entry = e as ManagedFieldsEntry;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') return undefined;
    if (typeof entry.apiVersion !== 'string' || !entry.apiVersion) return undefined;
    if (entry.fieldsType !== 'FieldsV1') return undefined;
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1 ?? {});
    } catch {
      return undefined;
    }
    const key = managerKey({
      manager: typeof entry.manager === 'string' ? entry.manager : '',
      operation: entry.operation,
      apiVersion: entry.apiVersion,
      ...(typeof entry.subresource === 'string' && entry.subresource
        ? { subresource: entry.subresource }
        : {}),
    });
    managed.set(key, {
      set,
      apiVersion: entry.apiVersion,
      applied: entry.operation === 'Apply',
      ...(typeof entry.time === 'string' ? { time: entry.time } : {}),
    });
  }
  return managed;
}

/** upstream's isResetManagedFields: `[]` or `[{}]` in a request clears managedFields */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return (
    entries.length === 1 &&
    typeof entries[0] === 'object' &&
    entries[0] !== null &&
    Object.keys(entries[0] as object).length === 0
  );
}

function seconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** encode, sorted as upstream's sortEncodedManagedFields; undefined when nobody manages anything */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  const entries: ManagedFieldsEntry[] = [];
  for (const [key, ms] of managed) {
    if (ms.set.isEmpty()) continue;
    const id = parseKey(key);
    const entry: ManagedFieldsEntry = {
      manager: id.manager,
      operation: ms.applied ? 'Apply' : 'Update',
      apiVersion: ms.apiVersion,
      ...(ms.time ? { time: ms.time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: ms.set.toFieldsV1(),
      ...(id.subresource ? { subresource: id.subresource } : {}),
    };
    entries.push(entry);
  }
  if (entries.length === 0) return undefined;
  const cmp = (a: string | undefined, b: string | undefined): number =>
    (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
  entries.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
  return entries;
}

/** upstream printManager: `"kubectl"`, `"kube-controller-manager" using apps/v1`, `"x" with subresource "status"` */
export function printManager(key: string): string {
  const id = parseKey(key);
  let s = JSON.stringify(id.manager);
  if (id.subresource) s = `${s} with subresource ${JSON.stringify(id.subresource)}`;
  if (id.operation === 'Update') s = `${s} using ${id.apiVersion ?? ''}`;
  return s;
}

export interface Conflict {
  manager: string;
  path: FieldPath;
}

/** 409 exactly as upstream's NewConflictError / NewApplyConflict words it */
export function conflictError(conflicts: readonly Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0];
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, FieldPath[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
    const lines: string[] = [];
    for (const manager of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(manager)}:`);
      for (const p of byManager.get(manager)!) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, { causes });
}
