// Strategic-merge-patch metadata — upstream's x-kubernetes-patch-strategy / -patch-merge-key / -list-type /
// -list-map-keys / -map-type, generated from the 1.33 OpenAPI documents into generated/patch-meta.json by
// scripts/gen-api.mjs — and a navigator that walks the generated JSON Schemas (definitions.json) to say, for
// every field of an object, how lists and maps merge.
//
// TYPE_PATCH_INFO[<definitions.json name>] = { mapType?, fields?: { <json property>: FieldPatchInfo } } is the
// generated data (what the OpenAPI documents and server-side apply read too); PATCH_META_TABLE is its fields by
// short type name:
//
//   PATCH_META_TABLE[<Go type name>][<json property>] = { patchStrategy?, patchMergeKey?, listType?, listMapKeys?, … }
//
// Keys are the short Go type names (`PodSpec`, `ObjectMeta`, `ServicePort`), the part after the dot of a
// definitions.json name (`core/v1.PodSpec`); the generator checks that no two packages' types with one short name
// carry different metadata, so a short name is unambiguous.
import { loadGenerated, loadDefinitions, rootDefinition, type JsonSchema } from '../schema/definitions.js';

/** How one field merges, exactly as upstream's OpenAPI extensions say. */
export interface FieldPatchInfo {
  /** `merge`, `replace`, `retainKeys` or `merge,retainKeys` (upstream's tag value, comma-separated) */
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  /** `atomic`, `set` or `map` (+listType) */
  readonly listType?: string;
  readonly listMapKeys?: readonly string[];
  /** `atomic` or `granular` (+mapType / +structType on the field) */
  readonly mapType?: string;
  /** explicit defaults (+default) of an associative list's key fields, which structured-merge-diff fills in */
  readonly listMapKeyDefaults?: Readonly<Record<string, unknown>>;
}

/** One type's entry in generated/patch-meta.json. */
export interface TypePatchInfo {
  /** `atomic` for types marked +structType=atomic / +mapType=atomic */
  readonly mapType?: string;
  readonly fields?: Readonly<Record<string, FieldPatchInfo>>;
}

interface GeneratedPatchMeta {
  generatedFrom: string;
  /** definitions.json name (`core/v1.PodSpec`) → its metadata */
  types: Record<string, TypePatchInfo>;
}

const GENERATED = loadGenerated<GeneratedPatchMeta>('patch-meta.json');

/** the generated metadata of every type, by definitions.json name */
export const TYPE_PATCH_INFO: Readonly<Record<string, TypePatchInfo>> = GENERATED.types;

/** field metadata by short Go type name: PATCH_META_TABLE.PodSpec.containers */
export const PATCH_META_TABLE: Readonly<Record<string, Readonly<Record<string, FieldPatchInfo>>>> =
  Object.fromEntries(
    Object.entries(TYPE_PATCH_INFO).flatMap(([name, t]) =>
      t.fields ? [[shortTypeName(name), t.fields]] : [],
    ),
  );

const BY_SHORT_NAME = new Map(Object.entries(TYPE_PATCH_INFO).map(([name, t]) => [shortTypeName(name), t]));

/** the metadata of one type, by definitions.json (`core/v1.PodSpec`) or short name (`PodSpec`) */
export function typePatchInfo(typeName: string): TypePatchInfo | undefined {
  return Object.hasOwn(TYPE_PATCH_INFO, typeName)
    ? TYPE_PATCH_INFO[typeName]
    : BY_SHORT_NAME.get(shortTypeName(typeName));
}

/** What a field lookup yields: the field's own tags, and the metadata of its value (a list's element type). */
export interface FieldPatchMeta extends FieldPatchInfo {
  readonly meta: PatchMeta;
}

/** Upstream's LookupPatchMeta, for one type: ask each field how it merges while walking an object. */
export interface PatchMeta {
  /** the type name, for error messages (upstream prints the Go kind) */
  readonly name: string;
  field(name: string): FieldPatchMeta;
}

const NO_INFO: FieldPatchMeta = {
  get meta(): PatchMeta {
    return EMPTY_PATCH_META;
  },
};

/** No metadata anywhere: maps merge, lists are replaced whole (what a kind without a schema gets). */
export const EMPTY_PATCH_META: PatchMeta = { name: 'struct', field: () => NO_INFO };

/** the metadata of `type.property`, by short or definitions.json name (`core/v1.PodSpec`) */
export function fieldPatchInfo(typeName: string, property: string): FieldPatchInfo | undefined {
  const fields = typePatchInfo(typeName)?.fields;
  return fields && Object.hasOwn(fields, property) ? fields[property] : undefined;
}

export function shortTypeName(definitionName: string): string {
  return definitionName.slice(definitionName.lastIndexOf('.') + 1);
}

const REF_PREFIX = '#/definitions/';
const byDefinition = new Map<string, PatchMeta>();

/** PatchMeta of a definitions.json definition, e.g. `core/v1.PodSpec`; memoised, built lazily as fields are asked for. */
export function patchMetaForDefinition(definitionName: string): PatchMeta {
  const cached = byDefinition.get(definitionName);
  if (cached) return cached;
  const schema = loadDefinitions().definitions[definitionName];
  const meta = schema ? structMeta(definitionName, schema) : EMPTY_PATCH_META;
  byDefinition.set(definitionName, meta);
  return meta;
}

/** PatchMeta of a served kind (its root definition in definitions.json), or EMPTY_PATCH_META for kinds without one. */
export function patchMetaFor(gvk: { group: string; version: string; kind: string }): PatchMeta {
  const root = rootDefinition(gvk);
  return root ? patchMetaForDefinition(root) : EMPTY_PATCH_META;
}

function structMeta(definitionName: string, schema: JsonSchema): PatchMeta {
  const fields = new Map<string, FieldPatchMeta>();
  const typeName = shortTypeName(definitionName);
  return {
    name: typeName,
    field(name: string): FieldPatchMeta {
      let f = fields.get(name);
      if (!f) {
        const propSchema = Object.hasOwn(schema.properties ?? {}, name)
          ? schema.properties![name]
          : undefined;
        // unknown fields carry no metadata, as upstream treats fields it has no tags for
        f = propSchema ? withMeta(fieldPatchInfo(definitionName, name) ?? {}, propSchema) : NO_INFO;
        fields.set(name, f);
      }
      return f;
    },
  };
}

function withMeta(info: FieldPatchInfo, propSchema: JsonSchema): FieldPatchMeta {
  let meta: PatchMeta | undefined;
  return {
    ...info,
    get meta(): PatchMeta {
      return (meta ??= valueMeta(propSchema));
    },
  };
}

/** The metadata of a value: a $ref'd struct, a list's element, or a map whose every key has the value schema. */
function valueMeta(schema: JsonSchema): PatchMeta {
  if (schema.$ref?.startsWith(REF_PREFIX))
    return patchMetaForDefinition(schema.$ref.slice(REF_PREFIX.length));
  if (schema.items) return valueMeta(schema.items);
  if (typeof schema.additionalProperties === 'object') {
    // upstream: a Go map has no tags of its own; every key yields the element type
    const element: FieldPatchMeta = withMeta({}, schema.additionalProperties);
    return { name: 'map', field: () => element };
  }
  return EMPTY_PATCH_META;
}

/** Build a PatchMeta from a small table of types (tests, and kinds described outside definitions.json). */
export function patchMetaFromTable(
  types: Record<string, Record<string, FieldPatchInfo & { type?: string }>>,
  root: string,
): PatchMeta {
  const metas = new Map<string, PatchMeta>();
  const metaOf = (typeName: string): PatchMeta => {
    let m = metas.get(typeName);
    if (!m) {
      const fields = types[typeName] ?? {};
      m = {
        name: typeName,
        field(name: string): FieldPatchMeta {
          const f = Object.hasOwn(fields, name) ? fields[name] : undefined;
          if (!f) return NO_INFO;
          const { type, ...info } = f;
          return { ...info, meta: type ? metaOf(type) : EMPTY_PATCH_META };
        },
      };
      metas.set(typeName, m);
    }
    return m;
  };
  return metaOf(root);
}
