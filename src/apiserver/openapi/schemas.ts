// OpenAPI v3 component schemas for every served type, post-processed from definitions.json: upstream component
// names, $refs wrapped in allOf where they carry siblings (as upstream's v3 does), IntOrString/Quantity as upstream
// declares them, patch, list-type and map-type extensions from the generated patch metadata,
// x-kubernetes-group-version-kind on served kinds, and <Kind>List types for kinds upstream's spec has none for.
import { typePatchInfo, type FieldPatchInfo } from '../../api/patch/patch-meta.js';
import { RESOURCES, groupVersion } from '../../api/resources.js';
import { loadDefinitions, type JsonSchema, type SchemaDefinitions } from '../../api/schema/definitions.js';
import { INT_OR_STRING, META_PACKAGE, QUANTITY, componentNames, packageDir, refName } from './names.js';

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

/** the types definitions.json has as bare scalars, in the form upstream's v3 documents give them */
function scalarTypes(defs: SchemaDefinitions): Record<string, OpenApiSchema> {
  const description = (name: string) => ({ description: defs.definitions[name]?.description ?? '' });
  return {
    [QUANTITY]: {
      ...description('apimachinery/resource.Quantity'),
      oneOf: [{ type: 'string' }, { type: 'number' }],
    },
    [INT_OR_STRING]: {
      ...description('apimachinery/intstr.IntOrString'),
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    },
    [`${META_PACKAGE}.Time`]: { ...description('meta/v1.Time'), format: 'date-time', type: 'string' },
    [`${META_PACKAGE}.MicroTime`]: {
      ...description('meta/v1.MicroTime'),
      format: 'date-time',
      type: 'string',
    },
  };
}

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
  if (info.mapType) ext['x-kubernetes-map-type'] = info.mapType;
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

  /** a definition (`core/v1.PodSpec`): it and its properties get the type's generated patch metadata */
  convertDefinition(s: JsonSchema, definitionName: string): OpenApiSchema {
    const out = this.convert({ ...s, properties: undefined }) as OpenApiSchema;
    const typeInfo = typePatchInfo(definitionName);
    if (typeInfo?.mapType) out['x-kubernetes-map-type'] = typeInfo.mapType;
    if (s.properties) {
      const meta = typeInfo?.fields ?? {};
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
  const scalars = scalarTypes(defs);

  for (const defName of Object.keys(defs.definitions).sort()) {
    const component = names.get(defName)!;
    if (schemas.has(component)) continue;
    const scalar = scalars[component];
    schemas.set(
      component,
      scalar ? structuredClone(scalar) : converter.convertDefinition(defs.definitions[defName], defName),
    );
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
        // connect subresources (exec, attach, portforward) take options in the query, no body: no schema
        if (!sub.kind || sub.kind === ri.kind || sub.kind.endsWith('Options')) continue;
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
