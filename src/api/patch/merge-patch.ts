// RFC 7386 JSON merge patch, as the apiserver applies it (evanphx/json-patch v4 MergePatch).
import { errors } from '../errors.js';
import { isObject } from '../../util/objects.js';
import { setOwn } from './json-values.js';

/**
 * Apply a JSON merge patch (already JSON-decoded). `null` or a scalar patch is upstream's 400 "Invalid JSON Patch";
 * an array patch replaces the document (the apiserver then fails to decode it into the kind).
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || (!isObject(patch) && !Array.isArray(patch)))
    throw errors.badRequest('Invalid JSON Patch');
  if (Array.isArray(patch)) return pruneArrayNulls(patch);
  if (!isObject(target)) return pruneNulls(patch);
  return mergeObjects(target, patch);
}

function mergeObjects(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(doc)) setOwn(out, k, doc[k]);
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = Object.hasOwn(out, k) ? out[k] : null;
    setOwn(out, k, cur === null ? pruneNulls(v) : merge(cur, v));
  }
  return out;
}

function merge(cur: unknown, patch: unknown): unknown {
  if (!isObject(cur)) return pruneNulls(patch);
  // upstream keeps a non-object patch value as sent, nulls inside arrays included
  if (!isObject(patch)) return structuredClone(patch);
  return mergeObjects(cur, patch);
}

/** drop null members of objects, recursively; arrays keep their null elements (upstream's pruneNulls) */
function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return pruneArrayNulls(v);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (v[k] !== null) setOwn(out, k, pruneNulls(v[k]));
  }
  return out;
}

function pruneArrayNulls(a: unknown[]): unknown[] {
  return a.map((x) => (x === null ? null : pruneNulls(x)));
}
