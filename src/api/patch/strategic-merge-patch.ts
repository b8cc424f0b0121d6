// Strategic merge patch, applied as upstream's apimachinery strategicpatch.StrategicMergeMapPatch does: lists merge
// by their patchMergeKey, with $patch, $retainKeys, $setElementOrder and $deleteFromPrimitiveList directives.
// Ported function by function (mergeMap, mergeSlice, mergePatchIntoOriginal, ...) so behaviour and messages match.
import { ApiError, errors } from '../errors.js';
import { isObject } from '../../util/objects.js';
import { goType, goValue, jsonTypeWord } from './go-format.js';
import { setOwn } from './json-values.js';
import { patchMetaFor, type PatchMeta } from './patch-meta.js';

type JsonMap = Record<string, unknown>;

const DIRECTIVE_MARKER = '$patch';
const DELETE_DIRECTIVE = 'delete';
const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

/** upstream's mergepatch error values; which one decides the HTTP status (interpretStrategicMergePatchError) */
const BAD_REQUEST_ERRORS = {
  primitiveList: 'invalid patch format of primitive list',
  retainKeys: 'invalid patch format of retainKeys',
  setElementOrder: 'invalid patch format of setElementOrder list',
} as const;
const NO_LIST_OF_LISTS = 'lists of lists are not supported';

/** An error inside the merge; `kind` says how the apiserver reports it. */
export class StrategicMergeError extends Error {
  constructor(
    message: string,
    readonly kind: 'badRequest' | 'unprocessable' | 'other' = 'other',
  ) {
    super(message);
    this.name = 'StrategicMergeError';
  }
}

const badRequest = (m: string): StrategicMergeError => new StrategicMergeError(m, 'badRequest');
const errNoMergeKey = (m: JsonMap, key: string): StrategicMergeError =>
  new StrategicMergeError(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: unknown): StrategicMergeError =>
  new StrategicMergeError(`expected a ${expected}, but received a ${goType(actual)}`);

interface MergeOptions {
  /** server-side application: merge $deleteFromPrimitiveList and $setElementOrder lists into the result */
  mergeParallelList: boolean;
  ignoreUnmatchedNulls: boolean;
}
const APPLY_OPTIONS: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

/**
 * Apply a strategic merge patch to an object of kind `gvk`, using the kind's patch metadata (kinds without a schema
 * merge maps and replace lists). Errors are ApiErrors worded as the apiserver's.
 */
export function applyStrategicMergePatch(
  target: unknown,
  patch: unknown,
  gvk: { group: string; version: string; kind: string },
): unknown {
  return stripDirectives(strategicMergePatchWithMeta(target, patch, patchMetaFor(gvk)));
}

/**
 * The patch engine with explicit metadata: the exact result upstream's StrategicMergeMapPatch returns (directives
 * inside newly added subtrees are left in, as upstream leaves them for the typed decoder to drop).
 */
export function strategicMergePatchWithMeta(target: unknown, patch: unknown, meta: PatchMeta): JsonMap {
  // the apiserver decodes the patch body into a map: null is an empty patch, anything else not an object is 400
  if (patch !== null && !isObject(patch)) {
    throw errors.badRequest(
      `json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`,
    );
  }
  const original = isObject(target) ? (structuredClone(target) as JsonMap) : {};
  const patchMap = patch === null ? {} : (structuredClone(patch) as JsonMap);
  try {
    return mergeMap(original, patchMap, meta, APPLY_OPTIONS);
  } catch (e) {
    throw toApiError(e);
  }
}

/** upstream's interpretStrategicMergePatchError, plus the generic 500 for any other error */
function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof StrategicMergeError) {
    if (e.kind === 'badRequest') return errors.badRequest(e.message, { cause: e });
    if (e.kind === 'unprocessable') {
      return new ApiError(
        'Invalid',
        'the server rejected our request due to an error in our request',
        {},
        { cause: e },
      );
    }
    // upstream returns these as plain errors: a 500 carrying the merge error's text
    return new ApiError('InternalError', e.message, undefined, { cause: e });
  }
  if (e instanceof RangeError) {
    return new ApiError('InternalError', 'patch is too deeply nested', undefined, { cause: e });
  }
  throw e;
}

function handleDirectiveInMergeMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === REPLACE_DIRECTIVE) {
    // "$patch: replace" on a map: the patch (without the directive) is the new value
    delete patch[DIRECTIVE_MARKER];
    return patch;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw new StrategicMergeError(`unknown patch type: ${goValue(directive)} in map: ${goValue(patch)}`);
}

function containsDirectiveMarker(item: unknown): boolean {
  return isObject(item) && Object.hasOwn(item, DIRECTIVE_MARKER);
}

/** Go's == on two interface{} values holding decoded JSON scalars */
function scalarEqual(a: unknown, b: unknown): boolean {
  return a === b || (a === undefined && b === null) || (a === null && b === undefined);
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return scalarEqual(left, right);
  if (!isObject(left)) throw errBadArgType('map[string]interface {}', left);
  if (!isObject(right)) throw errBadArgType('map[string]interface {}', right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return scalarEqual(left[mergeKey], right[mergeKey]);
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw badRequest(
      prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX
        ? BAD_REQUEST_ERRORS.primitiveList
        : BAD_REQUEST_ERRORS.setElementOrder,
    );
  }
  return s.slice(slash + 1);
}

/** the relative order of items in the patch list must match $setElementOrder, and the patch must be a subset of it */
function validatePatchWithSetOrderList(
  typedPatchList: unknown[],
  setOrderList: unknown[],
  mergeKey: string,
): void {
  if (setOrderList.length === 0 || typedPatchList.length === 0) return;
  const nonDeleteList = mergeKey.length > 0 ? extractToDeleteItems(typedPatchList).nonDelete : typedPatchList;
  let patchIndex = 0;
  let setOrderIndex = 0;
  while (patchIndex < nonDeleteList.length && setOrderIndex < setOrderList.length) {
    if (containsDirectiveMarker(nonDeleteList[patchIndex])) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(nonDeleteList[patchIndex], setOrderList[setOrderIndex], mergeKey)) patchIndex++;
    setOrderIndex++;
  }
  if (patchIndex < nonDeleteList.length && setOrderIndex >= setOrderList.length) {
    throw new StrategicMergeError(
      `The order in patch list:\n${goValue(typedPatchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goValue(setOrderList)}\n`,
    );
  }
}

/** $retainKeys: clear keys of original missing from the list; every key the patch sets must be in it */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retainKeys = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retainKeys)) throw badRequest(BAD_REQUEST_ERRORS.retainKeys);
  const keep = new Set<unknown>(retainKeys);
  for (const [k, v] of Object.entries(patch)) {
    if (
      v === null ||
      k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) ||
      k.startsWith(SET_ELEMENT_ORDER_PREFIX)
    )
      continue;
    if (!keep.has(k)) throw badRequest(BAD_REQUEST_ERRORS.retainKeys);
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k];
  }
}

/** strategies of a field: [retainKeys?, the other strategy] */
function extractRetainKeysPatchStrategy(strategy: string | undefined): string {
  const strategies = strategy ? strategy.split(',') : [];
  if (strategies.length === 0) return '';
  if (strategies.length === 1) return strategies[0] === RETAIN_KEYS_STRATEGY ? '' : strategies[0];
  if (strategies.length === 2) {
    if (strategies[0] === RETAIN_KEYS_STRATEGY) return strategies[1];
    if (strategies[1] === RETAIN_KEYS_STRATEGY) return strategies[0];
  }
  throw new StrategicMergeError(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

/** Process $setElementOrder lists together with the lists they order (server side: merge, then enforce order). */
function mergePatchIntoOriginal(
  original: JsonMap,
  patch: JsonMap,
  meta: PatchMeta,
  options: MergeOptions,
): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX) || !Object.hasOwn(patch, key)) continue;
    const setElementOrderInPatch = patch[key];
    delete patch[key];
    if (!Array.isArray(setElementOrderInPatch)) throw errBadArgType('[]interface {}', setElementOrderInPatch);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER_PREFIX);
    const foundOriginal = Object.hasOwn(original, originalKey);
    const foundPatch = Object.hasOwn(patch, originalKey);
    const originalList = original[originalKey];
    const patchList = patch[originalKey];
    let originalFieldValue: unknown[] = [];
    let patchFieldValue: unknown[] = [];
    if (foundOriginal) {
      if (!Array.isArray(originalList)) throw errBadArgType('[]interface {}', originalList);
      originalFieldValue = originalList;
    }
    if (foundPatch) {
      if (!Array.isArray(patchList)) throw errBadArgType('[]interface {}', patchList);
      patchFieldValue = patchList;
    }
    const field = meta.field(originalKey);
    const patchStrategy = extractRetainKeysPatchStrategy(field.patchStrategy);
    const mergeKey = field.patchMergeKey ?? '';
    validatePatchWithSetOrderList(patchFieldValue, setElementOrderInPatch, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) {
      merged = originalFieldValue;
    } else if (!foundOriginal && foundPatch) {
      merged = removeDirectives(patchFieldValue).value as unknown[];
    } else if (foundOriginal && foundPatch) {
      const alias: BackingArray = { items: [...originalFieldValue], length: originalFieldValue.length };
      merged = mergeSliceHandler(
        originalFieldValue,
        patchFieldValue,
        field.meta,
        patchStrategy,
        mergeKey,
        false,
        options,
        alias,
      );
      // upstream's merge shifts deletions and appends within the live list's own backing array, and the order
      // below is taken from that array afterwards; replaying it keeps upstream's resulting order exactly
      originalFieldValue = alias.items;
    } else {
      continue;
    }

    const { patchItems, serverOnly } =
      mergeKey.length === 0
        ? partitionPrimitivesByPresentInList(merged, setElementOrderInPatch)
        : partitionMapsByPresentInList(merged, setElementOrderInPatch, mergeKey);
    const kind = sliceElementKind([originalFieldValue, patchFieldValue]);
    setOwn(
      original,
      originalKey,
      normalizeElementOrder(
        patchItems,
        serverOnly,
        setElementOrderInPatch,
        originalFieldValue,
        mergeKey,
        kind,
      ),
    );
    delete patch[originalKey];
  }
}

function partitionPrimitivesByPresentInList(
  original: unknown[],
  partitionBy: unknown[],
): { patchItems: unknown[]; serverOnly: unknown[] } {
  const patchItems: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (partitionBy.some((p) => scalarEqual(p, v))) patchItems.push(v);
    else serverOnly.push(v);
  }
  return { patchItems, serverOnly };
}

function partitionMapsByPresentInList(
  original: unknown[],
  partitionBy: unknown[],
  mergeKey: string,
): { patchItems: unknown[]; serverOnly: unknown[] } {
  const patchItems: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (!isObject(v)) throw errBadArgType('map[string]interface {}', v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    if (findMapInSliceBasedOnKeyValue(partitionBy, mergeKey, v[mergeKey])) patchItems.push(v);
    else serverOnly.push(v);
  }
  return { patchItems, serverOnly };
}

/** Removes `$patch` directives: a map carrying one is dropped (`keep: false`). */
function removeDirectives(obj: unknown): { value: unknown; keep: boolean } {
  if (isObject(obj)) {
    if (Object.hasOwn(obj, DIRECTIVE_MARKER)) return { value: null, keep: false };
    for (const k of Object.keys(obj)) {
      const r = removeDirectives(obj[k]);
      if (r.keep) setOwn(obj, k, r.value);
      else delete obj[k];
    }
    return { value: obj, keep: true };
  }
  if (Array.isArray(obj)) {
    const res: unknown[] = [];
    for (const v of obj) {
      const r = removeDirectives(v);
      if (r.keep) res.push(r.value);
    }
    return { value: res, keep: true };
  }
  return { value: obj, keep: true };
}

/** Go reflect kinds of decoded JSON, as far as merging cares */
type Kind = 'map' | 'slice' | 'string' | 'int' | 'float' | 'bool' | 'nil';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

function mergeMap(original: JsonMap | null, patch: JsonMap, meta: PatchMeta, options: MergeOptions): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE_MARKER))
    return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);
  const orig: JsonMap = original ?? {};
  applyRetainKeysDirective(orig, patch);
  mergePatchIntoOriginal(orig, patch, meta, options);

  for (const rawKey of Object.keys(patch)) {
    if (!Object.hasOwn(patch, rawKey)) continue;
    const patchV = patch[rawKey];
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      k = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    }

    // null deletes the field (unmatched nulls are ignored)
    if (patchV === null) {
      delete orig[k];
      continue;
    }

    if (!Object.hasOwn(orig, k)) {
      if (!isDeleteList) {
        // not in the original: take the patch value
        discardNullValuesFromPatch(patchV);
        const r = removeDirectives(patchV);
        if (r.keep) setOwn(orig, k, r.value);
      }
      continue;
    }

    const origV = orig[k];
    const origKind = kindOf(origV);
    const patchKind = kindOf(patchV);
    if (origKind !== patchKind) {
      if (!isDeleteList) {
        discardNullValuesFromPatch(patchV);
        const r = removeDirectives(patchV);
        if (r.keep) setOwn(orig, k, r.value);
        else delete orig[k];
      }
      continue;
    }

    if (origKind === 'map') {
      const field = meta.field(k);
      const strategy = extractRetainKeysPatchStrategy(field.patchStrategy);
      setOwn(orig, k, mergeMapHandler(origV as JsonMap, patchV as JsonMap, field.meta, strategy, options));
    } else if (origKind === 'slice') {
      const field = meta.field(k);
      const strategy = extractRetainKeysPatchStrategy(field.patchStrategy);
      setOwn(
        orig,
        k,
        mergeSliceHandler(
          origV,
          patchV,
          field.meta,
          strategy,
          field.patchMergeKey ?? '',
          isDeleteList,
          options,
        ),
      );
    } else {
      const r = removeDirectives(patchV);
      if (r.keep) setOwn(orig, k, r.value);
      else delete orig[k];
    }
  }
  return orig;
}

/** drops null members of maps in a value the patch adds (upstream's discardNullValuesFromPatch) */
function discardNullValuesFromPatch(v: unknown): void {
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValuesFromPatch(v[k]);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) discardNullValuesFromPatch(x);
  }
}

function mergeMapHandler(
  original: JsonMap,
  patch: JsonMap,
  meta: PatchMeta,
  strategy: string,
  options: MergeOptions,
): JsonMap {
  return strategy !== REPLACE_DIRECTIVE ? mergeMap(original, patch, meta, options) : patch;
}

function mergeSliceHandler(
  original: unknown,
  patch: unknown,
  meta: PatchMeta,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
  options: MergeOptions,
  alias?: BackingArray,
): unknown[] {
  if (!Array.isArray(original)) throw errBadArgType('[]interface {}', original);
  if (!Array.isArray(patch)) throw errBadArgType('[]interface {}', patch);
  // delete lists are handled the same way whatever the field's strategy
  if (strategy === MERGE_DIRECTIVE || isDeleteList) {
    return mergeSlice(original, patch, meta, mergeKey, options, isDeleteList, alias);
  }
  return patch;
}

/** the one element kind of some lists; lists of lists and mixed lists are errors */
function sliceElementKind(slices: unknown[][]): Kind {
  let prev: Kind | undefined;
  for (const s of slices) {
    for (const v of s) {
      const k = kindOf(v);
      if (prev === undefined) {
        prev = k;
        if (prev === 'slice') throw new StrategicMergeError(NO_LIST_OF_LISTS, 'unprocessable');
      } else if (prev !== k) {
        throw new StrategicMergeError(`list element types are not identical: ${goValue(slices)}`);
      }
    }
  }
  if (prev === undefined) throw new StrategicMergeError('no elements in any of the given slices');
  return prev;
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  meta: PatchMeta,
  mergeKey: string,
  options: MergeOptions,
  isDeleteList: boolean,
  alias?: BackingArray,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind([original, patch]);
  let merged: unknown[];
  let orig = original;
  let pat = patch;
  if (kind !== 'map') {
    if (options.mergeParallelList && isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '')
      throw new StrategicMergeError(`cannot merge lists without merge key for ${meta.name}`);
    let replaced: boolean;
    ({
      original: orig,
      patch: pat,
      replaced,
    } = mergeSliceWithSpecialElements(original, patch, mergeKey, alias));
    merged = mergeSliceWithoutSpecialElements(
      orig,
      pat,
      mergeKey,
      meta,
      options,
      replaced ? undefined : alias,
    );
  }
  const { patchItems, serverOnly } =
    mergeKey.length === 0
      ? partitionPrimitivesByPresentInList(merged, pat)
      : partitionMapsByPresentInList(merged, pat, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, pat, orig, mergeKey, kind);
}

/** handles `$patch` items of a merging list: delete by merge key, replace the whole list; others are errors */
function mergeSliceWithSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  alias?: BackingArray,
): { original: unknown[]; patch: unknown[]; replaced: boolean } {
  const withoutSpecial: unknown[] = [];
  let replace = false;
  let orig = original;
  for (const v of patch) {
    const item = v as JsonMap;
    if (!Object.hasOwn(item, DIRECTIVE_MARKER)) {
      withoutSpecial.push(v);
      continue;
    }
    const patchType = item[DIRECTIVE_MARKER];
    if (patchType === DELETE_DIRECTIVE) {
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      orig = deleteMatchingEntries(orig, mergeKey, item[mergeKey], alias);
    } else if (patchType === REPLACE_DIRECTIVE) {
      // keep scanning, to prune any other $patch elements
      replace = true;
    } else if (patchType === MERGE_DIRECTIVE) {
      throw new StrategicMergeError('merging lists cannot yet be specified in the patch');
    } else {
      throw new StrategicMergeError(`unknown patch type: ${goValue(patchType)} in map: ${goValue(item)}`);
    }
  }
  return replace
    ? { original: withoutSpecial, patch: [], replaced: true }
    : { original: orig, patch: withoutSpecial, replaced: false };
}

function deleteMatchingEntries(
  original: unknown[],
  mergeKey: string,
  mergeValue: unknown,
  alias?: BackingArray,
): unknown[] {
  let out = original;
  for (;;) {
    const found = findMapInSliceBasedOnKeyValue(out, mergeKey, mergeValue);
    if (!found) return out;
    out = [...out.slice(0, found.index), ...out.slice(found.index + 1)];
    if (alias) {
      // Go's append(s[:i], s[i+1:]...): shift left in place, the last slot keeps its old value
      for (let t = found.index; t < alias.length - 1; t++) alias.items[t] = alias.items[t + 1];
      alias.length--;
    }
  }
}

/** The live list's backing array as Go's in-place deletions and appends leave it (its length never grows). */
interface BackingArray {
  items: unknown[];
  /** the length of the slice being merged, which shrinks on deletion and grows on append */
  length: number;
}

function mergeSliceWithoutSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  meta: PatchMeta,
  options: MergeOptions,
  alias?: BackingArray,
): unknown[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as JsonMap;
    if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    // merge into the item with this merge key value, or append
    const found = findMapInSliceBasedOnKeyValue(out, mergeKey, item[mergeKey]);
    if (found) {
      out[found.index] = mergeMap(found.map, item, meta, options);
      if (alias && found.index < alias.items.length) alias.items[found.index] = out[found.index];
    } else {
      out.push(v);
      // appending into room left by deletions writes into the live list's array
      if (alias && alias.length < alias.items.length) alias.items[alias.length] = v;
      if (alias) alias.length++;
    }
  }
  return out;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  return current.filter((v) => !toDelete.some((d) => scalarEqual(d, v)));
}

function findMapInSliceBasedOnKeyValue(
  list: unknown[],
  key: string,
  value: unknown,
): { map: JsonMap; index: number } | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isObject(item)) throw new StrategicMergeError(`value for key ${i} is not a map`);
    if (Object.hasOwn(item, key) && scalarEqual(item[key], value)) return { map: item, index: i };
  }
  return undefined;
}

/** upstream's "clever" in-place dedup: a later duplicate is overwritten by the last element (order fixed later) */
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (scalarEqual(s[i], s[j])) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

function indexIn(list: unknown[], val: unknown, mergeKey: string, kind: Kind): number {
  const valueOf = (item: unknown): unknown =>
    kind === 'map' ? (isObject(item) ? item[mergeKey] : null) : item;
  const want = valueOf(val);
  return list.findIndex((v) => scalarEqual(want, valueOf(v)));
}

function extractToDeleteItems(list: unknown[]): { nonDelete: unknown[]; toDelete: unknown[] } {
  const nonDelete: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType('map[string]interface {}', v);
    if (Object.hasOwn(v, DIRECTIVE_MARKER) && v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE) toDelete.push(v);
    else nonDelete.push(v);
  }
  return { nonDelete, toDelete };
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isObject(item)) throw errBadArgType('map[string]interface {}', item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** sort `toSort` by the positions of its items in `order` (stable; items missing from `order` keep their place) */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: Kind): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    ({ nonDelete: items, toDelete } = extractToDeleteItems(toSort));
  }
  const positions = items.map((item) => indexIn(order, item, mergeKey, kind));
  const sorted = stableSortByPosition(items, positions);
  return [...sorted, ...toDelete];
}

/**
 * Go's sort.SliceStable with upstream's less (`i before j` iff both are in the order list and i comes first; true
 * when either is missing). Insertion sort, which is what SliceStable runs for the short lists patches carry.
 */
function stableSortByPosition(items: unknown[], positions: number[]): unknown[] {
  const a = items.map((item, i) => ({ item, pos: positions[i] }));
  const less = (x: { pos: number }, y: { pos: number }): boolean =>
    x.pos >= 0 && y.pos >= 0 ? x.pos < y.pos : true;
  const blockSize = 20;
  const insertionSort = (lo: number, hi: number): void => {
    for (let i = lo + 1; i < hi; i++) {
      for (let j = i; j > lo && less(a[j], a[j - 1]); j--) [a[j], a[j - 1]] = [a[j - 1], a[j]];
    }
  };
  if (a.length <= blockSize) {
    insertionSort(0, a.length);
    return a.map((x) => x.item);
  }
  // longer lists: every item is found in `order` in practice, where a plain stable sort gives the same result
  return a
    .map((x, i) => ({ ...x, i }))
    .sort((x, y) => (x.pos >= 0 && y.pos >= 0 ? x.pos - y.pos : x.i - y.i))
    .map((x) => x.item);
}

/** sort the patch items by the patch order and the server-only items by the live order, then interleave them */
function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: Kind,
): unknown[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServerOnly = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServerOnly, sortedPatch, serverOrder, mergeKey, kind);
}

/**
 * Insert each server-only item (`left`) among the patch items (`right`): before the first patch item that comes
 * after it in the live list; a patch item not in the live list goes first.
 */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: Kind,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

const DIRECTIVE_KEY = /^\$(patch|retainKeys)$|^\$(setElementOrder|deleteFromPrimitiveList)\//;

/**
 * Drop directive keys left inside subtrees the patch added whole. Upstream's typed decoder discards them as unknown
 * fields; kubemu stores what the merge returns, so it drops them here.
 */
function stripDirectives<T>(v: T): T {
  if (Array.isArray(v)) {
    for (const x of v) stripDirectives(x);
  } else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (DIRECTIVE_KEY.test(k)) delete v[k];
      else stripDirectives(v[k]);
    }
  }
  return v;
}
