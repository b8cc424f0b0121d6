// The structured-merge-diff view of a kind's schema: which maps are structs (named fields) or free-form, which
// lists are atomic, sets or associative (and by which keys), which structs/maps are atomic.
// Built lazily from definitions.json plus the generated patch metadata (list types, merge keys, list key defaults,
// and upstream's +structType/+mapType markers as x-kubernetes-map-type), which definitions.json does not carry.
import { loadDefinitions, rootDefinition, type JsonSchema } from '../schema/definitions.js';
import { fieldPatchInfo, shortTypeName, typePatchInfo } from '../patch/patch-meta.js';

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
      /** explicit defaults of key fields, used when an item omits one (upstream reads them from the OpenAPI) */
      readonly keyDefaults: Readonly<Record<string, unknown>>;
      readonly element: ApplyType;
    }
  | { readonly kind: 'scalar' }
  /** no schema: maps are granular with no named fields, lists atomic (upstream's deduced type) */
  | { readonly kind: 'untyped' };

export const UNTYPED: ApplyType = { kind: 'untyped' };
const SCALAR: ApplyType = { kind: 'scalar' };
const REF_PREFIX = '#/definitions/';

const structs = new Map<string, ApplyType>();

/**
 * the type of a served kind's objects; UNTYPED for kinds definitions.json does not describe. A custom resource's
 * comes from its CRD's openAPIV3Schema (`crdSchema`), as upstream's structural-to-smd conversion does.
 */
export function applyTypeFor(
  gvk: { group: string; version: string; kind: string },
  crdSchema?: unknown,
): ApplyType {
  if (crdSchema !== undefined) return crdType(crdSchema, true);
  const root = rootDefinition(gvk);
  return root ? definitionType(root, undefined) : UNTYPED;
}

const crdTypes = new WeakMap<object, ApplyType>();

/** a CRD structural schema node's type: `resource` adds apiVersion, kind and an ObjectMeta metadata */
function crdType(node: unknown, resource: boolean): ApplyType {
  if (typeof node !== 'object' || node === null) return UNTYPED;
  const cached = resource ? undefined : crdTypes.get(node);
  if (cached) return cached;
  const s = node as Record<string, unknown>;
  let t: ApplyType;
  if (s['x-kubernetes-int-or-string'] === true) t = SCALAR;
  else if (s['type'] === 'array') {
    const listType = s['x-kubernetes-list-type'];
    const keys = Array.isArray(s['x-kubernetes-list-map-keys'])
      ? (s['x-kubernetes-list-map-keys'] as string[])
      : [];
    const items = s['items'];
    const keyDefaults: Record<string, unknown> = {};
    const itemProps = (items as { properties?: Record<string, { default?: unknown }> } | undefined)
      ?.properties;
    for (const k of keys) if (itemProps?.[k]?.default !== undefined) keyDefaults[k] = itemProps[k].default;
    t = {
      kind: 'list',
      list: listType === 'set' ? 'set' : listType === 'map' && keys.length ? 'map' : 'atomic',
      keys: listType === 'map' ? keys : [],
      keyDefaults,
      element: crdType(items, false),
    };
  } else if (
    s['type'] === 'object' ||
    s['properties'] ||
    s['additionalProperties'] !== undefined ||
    resource
  ) {
    const props = (s['properties'] ?? {}) as Record<string, unknown>;
    const embedded = resource || s['x-kubernetes-embedded-resource'] === true;
    const atomic = s['x-kubernetes-map-type'] === 'atomic';
    if (
      typeof s['additionalProperties'] === 'object' &&
      s['additionalProperties'] !== null &&
      !s['properties']
    ) {
      t = { kind: 'map', atomic, element: crdType(s['additionalProperties'], false) };
    } else if (!s['properties'] && !embedded) {
      t =
        s['x-kubernetes-preserve-unknown-fields'] === true
          ? UNTYPED
          : { kind: 'map', atomic, element: UNTYPED };
    } else {
      const fields = new Map<string, ApplyType>();
      t = {
        kind: 'struct',
        name: '',
        atomic,
        field(name: string): ApplyType | undefined {
          let f = fields.get(name);
          if (f) return f;
          if (embedded && name === 'metadata') f = definitionType('meta/v1.ObjectMeta', undefined);
          else if (embedded && (name === 'apiVersion' || name === 'kind')) f = SCALAR;
          else if (Object.hasOwn(props, name))
            f = crdType(
              props[name],
              props[name] !== null &&
                (props[name] as Record<string, unknown>)['x-kubernetes-embedded-resource'] === true,
            );
          if (f) fields.set(name, f);
          return f;
        },
      };
    }
  } else t = SCALAR;
  if (!resource) crdTypes.set(node, t);
  return t;
}

/** a definition's type; `fieldMapType` is the referring field's x-kubernetes-map-type, which overrides the type's */
function definitionType(definitionName: string, fieldMapType: string | undefined): ApplyType {
  const cacheKey = `${definitionName}#${fieldMapType ?? ''}`;
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
      atomic: (fieldMapType ?? typePatchInfo(definitionName)?.mapType) === 'atomic',
      field(name: string): ApplyType | undefined {
        if (!Object.hasOwn(props, name)) return undefined;
        let f = fields.get(name);
        if (!f) {
          f = schemaType(props[name], definitionName, name);
          fields.set(name, f);
        }
        return f;
      },
    };
  } else {
    t = schemaType(schema, definitionName, '');
  }
  structs.set(cacheKey, t);
  return t;
}

/** `ownerType` is the definitions.json name of the struct declaring `property` ('' for list items, map values) */
function schemaType(schema: JsonSchema, ownerType: string, property: string): ApplyType {
  const info = property ? fieldPatchInfo(ownerType, property) : undefined;
  if (schema.$ref?.startsWith(REF_PREFIX)) {
    return definitionType(schema.$ref.slice(REF_PREFIX.length), info?.mapType);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'array') {
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
    return { kind: 'list', list, keys, keyDefaults: info?.listMapKeyDefaults ?? {}, element };
  }
  if (type === 'object' || schema.additionalProperties !== undefined || schema.properties) {
    if (typeof schema.additionalProperties === 'object') {
      return {
        kind: 'map',
        atomic: info?.mapType === 'atomic',
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
