// The structured-merge-diff view of a kind's schema: which maps are structs (named fields) or free-form, which
// lists are atomic, sets or associative (and by which keys), which structs/maps are atomic.
// Built lazily from definitions.json plus the patch-metadata table (list types, merge keys) and upstream's
// +structType/+mapType markers, which definitions.json does not carry.
import { loadDefinitions, type JsonSchema } from '../schema/definitions.js';
import { fieldPatchInfo, shortTypeName } from '../patch/patch-meta.js';
import { rootKey } from '../schema/compile.js';

export type ApplyType =
  | {
      readonly kind: 'struct';
      readonly name: string;
      readonly atomic: boolean;
      /** the declared field's type, undefined when the struct declares no such field */
      field(name: string): ApplyType | undefined;
    }
  | { readonly kind: 'map'; readonly atomic: boolean; readonly element: ApplyType }
  | {
      readonly kind: 'list';
      readonly list: 'atomic' | 'set' | 'map';
      readonly keys: readonly string[];
      readonly element: ApplyType;
    }
  | { readonly kind: 'scalar' }
  /** no schema: maps are granular with no named fields, lists atomic (upstream's deduced type) */
  | { readonly kind: 'untyped' };

/** k8s.io/api and apimachinery types marked `+structType=atomic` */
const ATOMIC_STRUCTS = new Set([
  'SecretReference',
  'FileKeySelector',
  'ObjectFieldSelector',
  'ResourceFieldSelector',
  'ConfigMapKeySelector',
  'SecretKeySelector',
  'NodeSelector',
  'NodeSelectorTerm',
  'TopologySelectorTerm',
  'EvictionResponder',
  'EndpointAddress',
  'EndpointPort',
  'ObjectReference',
  'LocalObjectReference',
  'TypedLocalObjectReference',
  'ScopeSelector',
  'CrossVersionObjectReference',
  'ServiceBackendPort',
  'OwnerReference',
  'LabelSelector',
]);

/** fields that override their type's struct atomicity (`+structType=granular`) */
const GRANULAR_FIELDS = new Set(['PersistentVolumeSpec.claimRef']);

/** map fields marked `+mapType=atomic` */
const ATOMIC_MAP_FIELDS = new Set([
  'PodSpec.nodeSelector',
  'ReplicationControllerSpec.selector',
  'ServiceSpec.selector',
]);

/** defaults of associative-list key fields (upstream reads them from the OpenAPI defaults) */
export const LIST_KEY_DEFAULTS: Readonly<Record<string, unknown>> = { protocol: 'TCP' };

export const UNTYPED: ApplyType = { kind: 'untyped' };
const SCALAR: ApplyType = { kind: 'scalar' };
const REF_PREFIX = '#/definitions/';

const structs = new Map<string, ApplyType>();

/** the type of a served kind's objects; UNTYPED for kinds definitions.json does not describe */
export function applyTypeFor(gvk: { group: string; version: string; kind: string }): ApplyType {
  const defs = loadDefinitions();
  const root = defs.roots[rootKey(gvk.group, gvk.version, gvk.kind)];
  return root ? definitionType(root, false) : UNTYPED;
}

function definitionType(definitionName: string, granular: boolean): ApplyType {
  const cacheKey = `${definitionName}${granular ? '#granular' : ''}`;
  const cached = structs.get(cacheKey);
  if (cached) return cached;
  const schema = loadDefinitions().definitions[definitionName];
  if (!schema) return UNTYPED;
  const typeName = shortTypeName(definitionName);
  let t: ApplyType;
  if (schema.properties) {
    const props = schema.properties;
    const fields = new Map<string, ApplyType>();
    t = {
      kind: 'struct',
      name: typeName,
      atomic: ATOMIC_STRUCTS.has(typeName) && !granular,
      field(name: string): ApplyType | undefined {
        if (!Object.hasOwn(props, name)) return undefined;
        let f = fields.get(name);
        if (!f) {
          f = schemaType(props[name], typeName, name);
          fields.set(name, f);
        }
        return f;
      },
    };
  } else {
    t = schemaType(schema, typeName, '');
  }
  structs.set(cacheKey, t);
  return t;
}

function schemaType(schema: JsonSchema, ownerType: string, property: string): ApplyType {
  if (schema.$ref?.startsWith(REF_PREFIX)) {
    return definitionType(
      schema.$ref.slice(REF_PREFIX.length),
      GRANULAR_FIELDS.has(`${ownerType}.${property}`),
    );
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'array') {
    const info = property ? fieldPatchInfo(ownerType, property) : undefined;
    const element = schema.items ? schemaType(schema.items, ownerType, '') : UNTYPED;
    // schemaconv: an explicit list type wins; else a merge patch strategy makes it associative (by the merge key) or a set
    let list: 'atomic' | 'set' | 'map' = 'atomic';
    let keys: readonly string[] = [];
    if (info?.listType === 'map' && info.listMapKeys?.length) {
      list = 'map';
      keys = info.listMapKeys;
    } else if (info?.listType === 'set') {
      list = 'set';
    } else if (!info?.listType && info?.patchStrategy?.split(',').includes('merge')) {
      if (info.patchMergeKey) {
        list = 'map';
        keys = [info.patchMergeKey];
      } else {
        list = 'set';
      }
    }
    return { kind: 'list', list, keys, element };
  }
  if (type === 'object' || schema.additionalProperties !== undefined || schema.properties) {
    if (typeof schema.additionalProperties === 'object') {
      return {
        kind: 'map',
        atomic: ATOMIC_MAP_FIELDS.has(`${ownerType}.${property}`),
        element: schemaType(schema.additionalProperties, ownerType, ''),
      };
    }
    return UNTYPED;
  }
  return SCALAR;
}

/** the type of a map entry: a struct's declared field, a map's element, or untyped */
export function entryType(t: ApplyType, key: string): { type: ApplyType; named: boolean; declared: boolean } {
  if (t.kind === 'struct') {
    const f = t.field(key);
    return f ? { type: f, named: true, declared: true } : { type: UNTYPED, named: false, declared: false };
  }
  if (t.kind === 'map') return { type: t.element, named: false, declared: true };
  return { type: UNTYPED, named: false, declared: true };
}
