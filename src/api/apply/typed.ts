// structured-merge-diff's walks over a typed value (typed/tofieldset.go, compare.go, merge.go, remove.go):
// the field set a value sets, the comparison of two values, the merge of an applied configuration into a live
// object, and the pruning of fields an applier stopped setting.
import { deepCopy, deepEqual, isObject } from '../../util/objects.js';
import { entryType, type ApplyType } from './apply-schema.js';
import {
  FieldSet,
  fieldElement,
  keyElement,
  pathString,
  valueElement,
  type PathElement,
} from './field-set.js';

/** A value that does not fit its schema where upstream refuses it (only raised for applied configurations). */
export class TypedValueError extends Error {}

interface WalkOptions {
  /** refuse what upstream's ObjectToTyped refuses: undeclared fields, items without keys, duplicate keys */
  strict: boolean;
}

type Shape = 'scalar' | 'list' | 'map';

function shapeOf(v: unknown): Shape {
  return Array.isArray(v) ? 'list' : isObject(v) ? 'map' : 'scalar';
}

function granularList(t: ApplyType): t is Extract<ApplyType, { kind: 'list' }> {
  return t.kind === 'list' && t.list !== 'atomic';
}

function granularMap(t: ApplyType): boolean {
  return t.kind === 'struct' || t.kind === 'map' ? !t.atomic : t.kind === 'untyped';
}

/** the path element of one list item: `k:{...}` for associative lists, `v:...` for sets */
export function itemElement(
  item: unknown,
  t: Extract<ApplyType, { kind: 'list' }>,
  index: number,
  path: readonly PathElement[],
  opts: WalkOptions,
): PathElement {
  if (t.list === 'set') {
    if (opts.strict && (isObject(item) || Array.isArray(item))) {
      throw new TypedValueError(`${pathString(path)}: element ${index}: expected a scalar in a set`);
    }
    return valueElement(item);
  }
  if (!isObject(item)) {
    if (opts.strict)
      throw new TypedValueError(
        `${pathString(path)}: element ${index}: expected map, got ${JSON.stringify(item)}`,
      );
    return `i:${index}`;
  }
  const key: Record<string, unknown> = {};
  for (const k of t.keys) {
    let v = item[k];
    if (v === undefined || v === null) v = t.keyDefaults[k];
    if (v === undefined) {
      if (opts.strict) {
        throw new TypedValueError(
          `${pathString(path)}: element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`,
        );
      }
      continue;
    }
    key[k] = v;
  }
  return keyElement(key);
}

// ------------------------------------------------------------------ ToFieldSet

/** every field a value sets (upstream ToFieldSet) */
export function toFieldSet(value: unknown, t: ApplyType, opts: WalkOptions = { strict: false }): FieldSet {
  const set = new FieldSet();
  walkFieldSet(value, t, [], set, opts);
  return set;
}

function walkFieldSet(v: unknown, t: ApplyType, path: PathElement[], set: FieldSet, opts: WalkOptions): void {
  if (Array.isArray(v)) {
    if (!granularList(t)) {
      set.insert(path);
      return;
    }
    const seen = new Set<PathElement>();
    const duplicates = new Set<PathElement>();
    const elements = v.map((item, i) => itemElement(item, t, i, path, opts));
    for (const pe of elements) {
      if (seen.has(pe)) {
        if (opts.strict)
          throw new TypedValueError(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
        duplicates.add(pe);
      }
      seen.add(pe);
    }
    for (const pe of duplicates) set.insert([...path, pe]);
    v.forEach((item, i) => {
      const pe = elements[i];
      if (duplicates.has(pe)) return;
      walkFieldSet(item, t.element, [...path, pe], set, opts);
      set.insert([...path, pe]);
    });
    return;
  }
  if (isObject(v) && granularMap(t)) {
    for (const [key, val] of Object.entries(v)) {
      if (val === undefined) continue;
      const entry = entryType(t, key);
      const p = [...path, fieldElement(key)];
      if (!entry.declared && opts.strict)
        throw new TypedValueError(`${pathString(p)}: field not declared in schema`);
      walkFieldSet(val, entry.type, p, set, opts);
      if (val === null || (isObject(val) && Object.keys(val).length === 0) || !entry.named) set.insert(p);
    }
    return;
  }
  set.insert(path);
}

// ------------------------------------------------------------------ Compare

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** what changed between two values (upstream TypedValue.Compare) */
export function compare(lhs: unknown, rhs: unknown, t: ApplyType): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walkCompare(lhs, rhs, t, [], c);
  return c;
}

const isEmptyValue = (x: unknown): boolean =>
  x === undefined || (Array.isArray(x) ? x.length === 0 : Object.keys(x as object).length === 0);

/** a leaf: added, removed or modified as a whole */
function compareLeaf(l: unknown, r: unknown, path: PathElement[], c: Comparison): void {
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
  else if (!deepEqual(l, r)) c.modified.insert(path);
}

// `path` is one array for the whole walk, pushed and popped around each step down: every write's managedFields
// bookkeeping compares whole objects, and a new path array per node was most of what that allocated.
function walkCompare(l: unknown, r: unknown, t: ApplyType, path: PathElement[], c: Comparison): void {
  if (l === undefined && r === undefined) return;
  const lShape = l === undefined ? undefined : shapeOf(l);
  const rShape = r === undefined ? undefined : shapeOf(r);
  if (lShape && rShape && lShape !== rShape) {
    // a value that changed shape: upstream reports the node modified and walks the new value's children as added
    c.modified.insert(path);
    if (rShape !== 'scalar') walkChildren(undefined, r, t, path, c);
    return;
  }
  const shape = (rShape ?? lShape)!;
  if (shape === 'scalar') return compareLeaf(l, r, path, c);
  const granular = shape === 'list' ? granularList(t) : granularMap(t);
  if (!granular || (isEmptyValue(l) && isEmptyValue(r))) return compareLeaf(l, r, path, c);
  walkChildren(l, r, t, path, c);
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

function walkChildren(l: unknown, r: unknown, t: ApplyType, path: PathElement[], c: Comparison): void {
  if (Array.isArray(l) || Array.isArray(r)) {
    if (!granularList(t)) return;
    const lItems = indexItems(Array.isArray(l) ? l : [], t, path);
    const rItems = indexItems(Array.isArray(r) ? r : [], t, path);
    const all = [...lItems.keys(), ...[...rItems.keys()].filter((pe) => !lItems.has(pe))];
    for (const pe of all) {
      const ls = lItems.get(pe) ?? [];
      const rs = rItems.get(pe) ?? [];
      path.push(pe);
      if (ls.length <= 1 && rs.length <= 1) {
        walkCompare(ls[0], rs[0], t.element, path, c);
      } else if (ls.length >= 2 && rs.length >= 2) {
        if (!deepEqual(ls, rs)) c.modified.insert(path);
      } else if (ls.length >= 2) {
        if (rs.length) walkCompare(undefined, rs[0], t.element, path, c);
        c.removed.insert(path);
      } else {
        if (ls.length) walkCompare(ls[0], undefined, t.element, path, c);
        c.added.insert(path);
      }
      path.pop();
    }
    return;
  }
  const lm = isObject(l) ? l : {};
  const rm = isObject(r) ? r : {};
  // the keys of both, each once: the left's in order, then the right's the left has not
  for (const key of Object.keys(lm)) compareEntry(lm, rm, key, t, path, c);
  for (const key of Object.keys(rm)) if (!Object.hasOwn(lm, key)) compareEntry(lm, rm, key, t, path, c);
}

function compareEntry(
  lm: Record<string, unknown>,
  rm: Record<string, unknown>,
  key: string,
  t: ApplyType,
  path: PathElement[],
  c: Comparison,
): void {
  path.push(fieldElement(key));
  walkCompare(lm[key], rm[key], entryType(t, key).type, path, c);
  path.pop();
}

function indexItems(
  items: unknown[],
  t: Extract<ApplyType, { kind: 'list' }>,
  path: PathElement[],
): Map<PathElement, unknown[]> {
  const m = new Map<PathElement, unknown[]>();
  items.forEach((item, i) => {
    const pe = itemElement(item, t, i, path, { strict: false });
    const list = m.get(pe);
    if (list) list.push(item);
    else m.set(pe, [item]);
  });
  return m;
}

// ------------------------------------------------------------------ Merge

/** the applied configuration merged into the live object (upstream TypedValue.Merge); inputs are not modified */
export function merge(lhs: unknown, rhs: unknown, t: ApplyType): unknown {
  return walkMerge(lhs, rhs, t, []);
}

function walkMerge(l: unknown, r: unknown, t: ApplyType, path: PathElement[]): unknown {
  if (r === undefined) return deepCopy(l);
  if (l === undefined) return deepCopy(r);
  const shape = shapeOf(r);
  if (shape !== shapeOf(l) || shape === 'scalar') return deepCopy(r);
  if (shape === 'list') {
    const ll = l as unknown[];
    const rl = r as unknown[];
    if (!granularList(t) || (ll.length === 0 && rl.length === 0)) return deepCopy(r);
    const out = mergeLists(ll, rl, t, path);
    return out.length > 0 ? out : undefined;
  }
  const lm = l as Record<string, unknown>;
  const rm = r as Record<string, unknown>;
  if (!granularMap(t) || (Object.keys(lm).length === 0 && Object.keys(rm).length === 0)) return deepCopy(r);
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
    const merged = walkMerge(lm[key], rm[key], entryType(t, key).type, [...path, fieldElement(key)]);
    if (merged !== undefined) setOwn(out, key, merged);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** upstream's merge of two granular lists: lhs order, with items shared with rhs emitted in rhs order */
function mergeLists(
  lhs: unknown[],
  rhs: unknown[],
  t: Extract<ApplyType, { kind: 'list' }>,
  path: PathElement[],
): unknown[] {
  const opts = { strict: false };
  const rhsPEs: PathElement[] = [];
  const observedRHS = new Map<PathElement, unknown>();
  rhs.forEach((item, i) => {
    const pe = itemElement(item, t, i, path, opts);
    if (observedRHS.has(pe)) return; // the applied configuration's duplicates are refused earlier (toFieldSet, strict)
    observedRHS.set(pe, item);
    rhsPEs.push(pe);
  });
  const lhsPEs: PathElement[] = [];
  const observedLHS = new Map<PathElement, unknown>();
  lhs.forEach((item, i) => {
    const pe = itemElement(item, t, i, path, opts);
    // a duplicated live item merges as null, as upstream's AllowDuplicates does
    observedLHS.set(pe, observedLHS.has(pe) ? null : item);
    lhsPEs.push(pe);
  });
  const sharedOrder = rhsPEs.filter((pe) => observedLHS.has(pe));
  // an index, not shift(): shifting a list of n items n times is quadratic
  let sharedIndex = 0;
  let nextShared: PathElement | undefined = sharedOrder[sharedIndex++];
  const mergedRHS = new Set<PathElement>();
  const out: unknown[] = [];
  const emit = (pe: PathElement, l: unknown, r: unknown): void => {
    const m = walkMerge(l, r, t.element, [...path, pe]);
    if (m !== undefined) out.push(m);
  };
  let lI = 0;
  let rI = 0;
  while (lI < lhsPEs.length || rI < rhsPEs.length) {
    if (lI < lhsPEs.length && rI < rhsPEs.length) {
      const pe = lhsPEs[lI];
      if (pe === rhsPEs[rI]) {
        mergedRHS.add(pe);
        emit(pe, observedLHS.get(pe), observedRHS.get(pe));
        lI++;
        rI++;
        nextShared = sharedOrder[sharedIndex++];
        continue;
      }
      if (observedRHS.has(pe) && nextShared !== undefined && nextShared !== pe) {
        lI++;
        continue;
      }
    }
    if (lI < lhsPEs.length) {
      const pe = lhsPEs[lI];
      if (!observedRHS.has(pe)) {
        emit(pe, lhs[lI], undefined);
        lI++;
        continue;
      } else if (mergedRHS.has(pe)) {
        lI++;
      }
    }
    if (rI < rhsPEs.length) {
      const pe = rhsPEs[rI];
      mergedRHS.add(pe);
      emit(pe, observedLHS.get(pe), observedRHS.get(pe));
      rI++;
      if (nextShared !== undefined && nextShared === pe) nextShared = sharedOrder[sharedIndex++];
    }
  }
  return out;
}

// ------------------------------------------------------------------ Prune

/**
 * Remove what the applier owned last time and no longer sets, unless some manager (the applier's new set
 * included) still owns it: upstream's prune + addBackOwnedItems + addBackDanglingItems, which together remove,
 * top-down, each node that is in the last applied set and in no current set (named struct fields count as
 * members of a set when anything below them is).
 */
export function prune(value: unknown, t: ApplyType, lastSet: FieldSet, owned: FieldSet): unknown {
  if (lastSet.isEmpty()) return value;
  return walkPrune(value, t, [], lastSet, owned);
}

function walkPrune(v: unknown, t: ApplyType, path: PathElement[], last: FieldSet, owned: FieldSet): unknown {
  if (Array.isArray(v)) {
    if (!granularList(t) || v.length === 0) return v;
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const pe = itemElement(item, t, i, path, { strict: false });
      const p = [...path, pe];
      if (last.has(p) && !owned.has(p)) return;
      out.push(walkPrune(item, t.element, p, last, owned));
    });
    return out.length > 0 ? out : undefined;
  }
  if (isObject(v) && granularMap(t) && Object.keys(v).length > 0) {
    const out: Record<string, unknown> = {};
    for (const [key, val] of Object.entries(v)) {
      const entry = entryType(t, key);
      const p = [...path, fieldElement(key)];
      const inLast = entry.named ? last.hasPrefix(p) : last.has(p);
      const inOwned = entry.named ? owned.hasPrefix(p) : owned.has(p);
      if (inLast && !inOwned) continue;
      const pruned = walkPrune(val, entry.type, p, last, owned);
      if (pruned !== undefined) setOwn(out, key, pruned);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
