// OpenAPI v3 component schemas for every served type: upstream's 1.33 component schemas as published
// (openapi-components.json, copied verbatim from api/upstream by scripts/gen-api.mjs: defaults, x-kubernetes-*
// extensions, allOf wrappers and descriptions are upstream's), plus <Kind>List types for any served kind whose
// list upstream's documents lack and x-kubernetes-group-version-kind entries for any served kind they do not name.
import { RESOURCES, groupVersion } from '../../api/resources.js';
import { loadDefinitions, loadGenerated } from '../../api/schema/definitions.js';
import { META_PACKAGE, componentNames, packageDir } from './names.js';

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
export const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
export const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

export const ref = (component: string): OpenApiSchema => ({ $ref: V3_REF_PREFIX + component });

/** openapi-components.json */
interface UpstreamComponents {
  generatedFrom: string;
  schemas: Record<string, OpenApiSchema>;
}

function addGvk(schema: OpenApiSchema, gvk: GroupVersionKind): void {
  const list = (schema[GVK_EXTENSION] as GroupVersionKind[] | undefined) ?? [];
  if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) {
    list.push({ group: gvk.group, kind: gvk.kind, version: gvk.version });
  }
  schema[GVK_EXTENSION] = list;
}

/** the shape of upstream's generated <Kind>List types, for a served kind whose list upstream does not publish */
export function listSchema(itemComponent: string, kind: string): OpenApiSchema {
  return {
    description: `${kind}List is a list of ${kind} objects.`,
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
      items: {
        description: `Items is the list of ${kind} objects.`,
        items: { allOf: [ref(itemComponent)], default: {} },
        type: 'array',
      },
      kind: { description: KIND_DESCRIPTION, type: 'string' },
      metadata: {
        allOf: [ref(`${META_PACKAGE}.ListMeta`)],
        default: {},
        description: LIST_META_DESCRIPTION,
      },
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
  /** components whose Swagger 2.0 form is not derived from the v3 one (custom resources: upstream's v2 pruning) */
  readonly v2?: ReadonlyMap<string, OpenApiSchema>;
}

/** what the served custom resources add to the components: schemas by name, and each one's group-version-kind */
export interface ComponentOverlay {
  generation: number;
  schemas: ReadonlyMap<string, OpenApiSchema>;
  v2: ReadonlyMap<string, OpenApiSchema>;
  byGvk: ReadonlyMap<string, string>;
}
let overlaySource: (() => ComponentOverlay | undefined) | undefined;
let overlaid: { generation: number; components: Components } | undefined;

/** install the custom resources' components (src/apiserver/customresources/openapi.ts) */
export function setComponentOverlay(source: (() => ComponentOverlay | undefined) | undefined): void {
  overlaySource = source;
  overlaid = undefined;
}

/** All component schemas: the built-in ones and those of the custom resources served now. */
export function components(): Components {
  const base = baseComponents();
  const overlay = overlaySource?.();
  if (!overlay || overlay.schemas.size === 0) return base;
  if (overlaid?.generation === overlay.generation) return overlaid.components;
  const schemas = new Map(base.schemas);
  for (const [name, schema] of overlay.schemas) schemas.set(name, schema);
  const merged: Components = {
    schemas,
    v2: overlay.v2,
    componentOf(gvk) {
      return overlay.byGvk.get(gvkKey(gvk)) ?? base.componentOf(gvk);
    },
  };
  overlaid = { generation: overlay.generation, components: merged };
  return merged;
}

export function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

let cached: Components | undefined;

/** The built-in component schemas (v3 form), computed once. */
function baseComponents(): Components {
  if (cached) return cached;
  const defs = loadDefinitions();
  const names = componentNames(defs);
  const upstream = loadGenerated<UpstreamComponents>('openapi-components.json');
  const schemas = new Map<string, OpenApiSchema>(Object.entries(upstream.schemas));

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
  // upstream registers DeleteOptions (and WatchEvent) in every group-version (its documents already list them all)
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
