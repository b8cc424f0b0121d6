// OpenAPI v3 component schemas for every served type, post-processed from definitions.json: upstream component
// names, $refs wrapped in allOf where they carry siblings (as upstream's v3 does), IntOrString/Quantity as upstream
// declares them, patch and list-type extensions from PATCH_META_TABLE, x-kubernetes-group-version-kind on kinds,
// and the <Kind>List types definitions.json does not carry.
import { PATCH_META_TABLE, type FieldPatchInfo } from '../../api/patch/patch-meta.js';
import { PLATFORM_PATCH_META } from '../../api/patch/patch-meta-platform.js';
import { RESOURCES, groupVersion } from '../../api/resources.js';
import { loadDefinitions, type JsonSchema } from '../../api/schema/definitions.js';
import {
  INT_OR_STRING,
  META_PACKAGE,
  QUANTITY,
  componentNames,
  packageDir,
  refName,
  splitDefinitionName,
} from './names.js';

/** an OpenAPI schema object: plain JSON, with `x-kubernetes-*` extensions */
export type OpenApiSchema = { [key: string]: unknown };

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export const GVK_EXTENSION = 'x-kubernetes-group-version-kind';
export const V3_REF_PREFIX = '#/components/schemas/';

const LIST_META_DESCRIPTION =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** the types definitions.json has as bare scalars, as upstream's v3 documents them */
const SCALAR_TYPES: Readonly<Record<string, OpenApiSchema>> = {
  [QUANTITY]: {
    description:
      'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the "" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= "+" | "-" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | "" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn\'t choose the capitalization.)\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber> ```\n\nNo matter which of the three exponent forms is used, no quantity may represent a number greater than 2^63-1 in magnitude, nor may it have more than 3 decimal places. Numbers larger or more precise will be capped or rounded up. (E.g.: 0.1m will rounded up to 1m.) This may be extended in the future if we require larger or smaller quantities.\n\nWhen a Quantity is parsed from a string, it will remember the type of suffix it had, and will use the same type again when it is serialized.\n\nBefore serializing, Quantity will be put in "canonical form". This means that Exponent/suffix will be adjusted up or down (with a corresponding increase or decrease in Mantissa) such that:\n\n- No precision is lost - No fractional digits will be emitted - The exponent (or suffix) is as large as possible.\n\nThe sign will be omitted unless the number is negative.\n\nExamples:\n\n- 1.5 will be serialized as "1500m" - 1.5Gi will be serialized as "1536Mi"\n\nNote that the quantity will NEVER be internally represented by a floating point number. That is the whole point of this exercise.\n\nNon-canonical values will still parse as long as they are well formed, but will be re-emitted in their canonical form. (So always use canonical form, or don\'t diff.)\n\nThis format is intended to make it difficult to use these numbers without writing some sort of special handling code in the hopes that that will cause implementors to also use a fixed point implementation.',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  [INT_OR_STRING]: {
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
  },
  [`${META_PACKAGE}.Time`]: {
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.',
    format: 'date-time',
    type: 'string',
  },
  [`${META_PACKAGE}.MicroTime`]: {
    description: 'MicroTime is version of Time with microsecond level precision.',
    format: 'date-time',
    type: 'string',
  },
};

/** types the paths refer to that no served kind contains */
const EXTRA_TYPES: Readonly<Record<string, OpenApiSchema>> = {
  [`${META_PACKAGE}.Patch`]: {
    description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
    type: 'object',
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    description: 'RawExtension is used to hold extensions in external versions.',
    type: 'object',
  },
  [`${META_PACKAGE}.WatchEvent`]: {
    description: 'Event represents a single event to a watched resource.',
    properties: {
      object: {
        allOf: [{ $ref: `${V3_REF_PREFIX}io.k8s.apimachinery.pkg.runtime.RawExtension` }],
        description:
          'Object is:\n * If Type is Added or Modified: the new state of the object.\n * If Type is Deleted: the state of the object immediately before deletion.\n * If Type is Error: *Status is recommended; other types may make sense\n   depending on context.',
      },
      type: { default: '', type: 'string' },
    },
    required: ['type', 'object'],
    type: 'object',
  },
};

export const ref = (component: string): OpenApiSchema => ({ $ref: V3_REF_PREFIX + component });

/** a $ref with siblings becomes allOf:[{$ref}] (a bare $ref may not have siblings in OpenAPI 3.0) */
function withRef(component: string, siblings: OpenApiSchema): OpenApiSchema {
  return Object.keys(siblings).length === 0 ? ref(component) : { allOf: [ref(component)], ...siblings };
}

function patchExtensions(info: FieldPatchInfo | undefined): OpenApiSchema {
  const ext: OpenApiSchema = {};
  if (!info) return ext;
  if (info.listMapKeys) ext['x-kubernetes-list-map-keys'] = [...info.listMapKeys];
  if (info.listType) ext['x-kubernetes-list-type'] = info.listType;
  if (info.patchMergeKey) ext['x-kubernetes-patch-merge-key'] = info.patchMergeKey;
  if (info.patchStrategy) ext['x-kubernetes-patch-strategy'] = info.patchStrategy;
  return ext;
}

class SchemaConverter {
  constructor(private readonly names: ReadonlyMap<string, string>) {}

  private target(jsonRef: string): string {
    const name = this.names.get(refName(jsonRef));
    if (!name) throw new Error(`definitions.json refers to unknown definition ${jsonRef}`);
    return name;
  }

  /** one schema node; `extra` are siblings to add (patch extensions of the field it describes) */
  convert(s: JsonSchema | boolean, extra: OpenApiSchema = {}): OpenApiSchema | boolean {
    if (typeof s === 'boolean') return s;
    const siblings: OpenApiSchema = {};
    if (s.description !== undefined) siblings.description = s.description;
    Object.assign(siblings, extra);
    if (s.$ref) return withRef(this.target(s.$ref), siblings);
    if (s.format === 'int-or-string') return withRef(INT_OR_STRING, siblings);

    const out: OpenApiSchema = {};
    if (Array.isArray(s.type)) out.oneOf = s.type.map((type) => ({ type }));
    else if (s.type !== undefined) out.type = s.type;
    if (s.format !== undefined) out.format = s.format;
    if (s.items) out.items = this.convert(s.items);
    if (s.additionalProperties !== undefined) out.additionalProperties = this.convert(s.additionalProperties);
    return { ...out, ...siblings };
  }

  /** a definition: its properties get the patch metadata of the Go type `short` */
  convertDefinition(s: JsonSchema, short: string): OpenApiSchema {
    const out = this.convert({ ...s, properties: undefined }) as OpenApiSchema;
    if (s.properties) {
      const meta = PATCH_META_TABLE[short] ?? PLATFORM_PATCH_META[short] ?? {};
      const properties: OpenApiSchema = {};
      for (const [name, prop] of Object.entries(s.properties)) {
        properties[name] = this.convert(prop, patchExtensions(meta[name]));
      }
      out.properties = properties;
    }
    if (s.required?.length) out.required = [...s.required];
    return out;
  }
}

/** definitions.json prefixes in the order their copies of a shared type win: the home package first */
function prefixRank(name: string): number {
  const { prefix } = splitDefinitionName(name);
  return prefix === 'meta/v1' ? 0 : prefix === 'core/v1' ? 1 : 2;
}

function addGvk(schema: OpenApiSchema, gvk: GroupVersionKind): void {
  const list = (schema[GVK_EXTENSION] as GroupVersionKind[] | undefined) ?? [];
  if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) {
    list.push({ group: gvk.group, kind: gvk.kind, version: gvk.version });
  }
  schema[GVK_EXTENSION] = list;
}

function listSchema(itemComponent: string, kind: string): OpenApiSchema {
  return {
    description: `${kind}List is a list of ${kind} objects.`,
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
      items: {
        description: `Items is the list of ${kind} objects.`,
        items: ref(itemComponent),
        type: 'array',
      },
      kind: { description: KIND_DESCRIPTION, type: 'string' },
      metadata: withRef(`${META_PACKAGE}.ListMeta`, { description: LIST_META_DESCRIPTION }),
    },
    required: ['items'],
    type: 'object',
  };
}

export interface Components {
  /** component name → v3 schema */
  readonly schemas: ReadonlyMap<string, OpenApiSchema>;
  /** the component of a served group-version-kind (`apps/v1/Deployment`), lists and subresource kinds included */
  componentOf(gvk: GroupVersionKind): string;
}

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

let cached: Components | undefined;

/** All component schemas (v3 form), computed once. */
export function components(): Components {
  if (cached) return cached;
  const defs = loadDefinitions();
  const names = componentNames(defs);
  const converter = new SchemaConverter(names);
  const schemas = new Map<string, OpenApiSchema>();

  const ordered = Object.keys(defs.definitions).sort(
    (a, b) => prefixRank(a) - prefixRank(b) || a.localeCompare(b),
  );
  for (const defName of ordered) {
    const component = names.get(defName)!;
    if (schemas.has(component)) continue;
    const scalar = SCALAR_TYPES[component];
    schemas.set(
      component,
      scalar
        ? structuredClone(scalar)
        : converter.convertDefinition(defs.definitions[defName], splitDefinitionName(defName).short),
    );
  }
  for (const [name, schema] of Object.entries({ ...SCALAR_TYPES, ...EXTRA_TYPES })) {
    if (!schemas.has(name)) schemas.set(name, structuredClone(schema));
  }

  const byGvk = new Map<string, string>();
  const register = (gvk: GroupVersionKind, component: string) => {
    const schema = schemas.get(component);
    if (!schema) throw new Error(`no schema ${component} for ${gvkKey(gvk)}`);
    addGvk(schema, gvk);
    byGvk.set(gvkKey(gvk), component);
  };
  const rootComponent = (group: string, version: string, kind: string): string => {
    const defName = defs.roots[`${packageDir(group)}/${version}/${kind}`];
    const component = defName && names.get(defName);
    if (!component) throw new Error(`definitions.json has no root ${packageDir(group)}/${version}/${kind}`);
    return component;
  };

  for (const ri of RESOURCES) {
    for (const version of ri.versions) {
      const component = rootComponent(ri.group, version, ri.kind);
      register({ group: ri.group, version, kind: ri.kind }, component);
      const list = `${component}List`;
      if (!schemas.has(list)) schemas.set(list, listSchema(component, ri.kind));
      register({ group: ri.group, version, kind: `${ri.kind}List` }, list);
      for (const sub of ri.subresources) {
        if (!sub.kind || sub.kind === ri.kind) continue;
        const group = sub.group ?? ri.group;
        const subVersion = sub.version ?? version;
        register({ group, version: subVersion, kind: sub.kind }, rootComponent(group, subVersion, sub.kind));
      }
    }
  }
  register({ group: '', version: 'v1', kind: 'Status' }, `${META_PACKAGE}.Status`);
  // upstream registers DeleteOptions (and WatchEvent) in every group-version
  const gvs = new Set(RESOURCES.flatMap((ri) => ri.versions.map((v) => `${ri.group}/${v}`)));
  for (const gv of ['/v1', ...gvs]) {
    const [group, version] = gv.split('/') as [string, string];
    addGvk(schemas.get(`${META_PACKAGE}.DeleteOptions`)!, { group, version, kind: 'DeleteOptions' });
    addGvk(schemas.get(`${META_PACKAGE}.WatchEvent`)!, { group, version, kind: 'WatchEvent' });
  }

  cached = {
    schemas,
    componentOf(gvk) {
      const component = byGvk.get(gvkKey(gvk));
      if (!component) throw new Error(`no component for ${groupVersion(gvk.group, gvk.version)} ${gvk.kind}`);
      return component;
    },
  };
  return cached;
}

/** the components a set of schemas refer to, transitively */
export function referencedComponents(
  roots: Iterable<unknown>,
  schemas: ReadonlyMap<string, OpenApiSchema>,
): Set<string> {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(V3_REF_PREFIX)) {
        const name = value.slice(V3_REF_PREFIX.length);
        if (!found.has(name)) {
          found.add(name);
          walk(schemas.get(name));
        }
      } else {
        walk(value);
      }
    }
  };
  for (const root of roots) walk(root);
  return found;
}
