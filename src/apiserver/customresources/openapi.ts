// The OpenAPI components of the served custom resources, as upstream's apiextensions-apiserver builds them
// (pkg/controller/openapi/builder): one component per served version named after the reversed group
// (`io.cert-manager.v1.Certificate`), the version's openAPIV3Schema with apiVersion, kind and an ObjectMeta
// metadata, its List, and x-kubernetes-group-version-kind; the Swagger 2.0 form drops what v2 cannot say
// (nullable, anyOf/oneOf/not), as upstream's ToStructuralOpenAPIV2 does.
import { deepCopy } from '../../util/objects.js';
import { META_PACKAGE } from '../openapi/names.js';
import {
  API_VERSION_DESCRIPTION,
  GVK_EXTENSION,
  KIND_DESCRIPTION,
  gvkKey,
  listSchema,
  ref,
  setComponentOverlay,
  type ComponentOverlay,
  type OpenApiSchema,
} from '../openapi/schemas.js';
import type { CustomResource } from './definition.js';
import type { ServedCustomResources } from './served.js';

const METADATA_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/** `cert-manager.io`, `v1`, `Certificate` → `io.cert-manager.v1.Certificate` */
export function componentName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

export function customResourceSchema(cr: CustomResource, version: string): OpenApiSchema {
  const schema =
    deepCopy(cr.schema(version) ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) ?? {};
  const props = (schema['properties'] ?? {}) as Record<string, OpenApiSchema>;
  schema['type'] ??= 'object';
  schema['properties'] = {
    ...props,
    apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
    kind: { description: KIND_DESCRIPTION, type: 'string' },
    metadata: { allOf: [ref(`${META_PACKAGE}.ObjectMeta`)], description: METADATA_DESCRIPTION },
  };
  schema[GVK_EXTENSION] = [{ group: cr.ri.group, kind: cr.ri.kind, version }];
  return schema;
}

const V2_DROPPED = new Set(['nullable', 'anyOf', 'oneOf', 'not', 'x-kubernetes-validations']);

/** upstream's v2 form of a structural schema */
function toV2(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => toV2(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (inProperties) out[key] = toV2(value);
    else if (V2_DROPPED.has(key)) continue;
    else out[key] = toV2(value, key === 'properties');
  }
  return out;
}

export function buildOverlay(served: ServedCustomResources): ComponentOverlay {
  const schemas = new Map<string, OpenApiSchema>();
  const v2 = new Map<string, OpenApiSchema>();
  const byGvk = new Map<string, string>();
  for (const cr of served.customResources()) {
    for (const version of cr.ri.versions) {
      const name = componentName(cr.ri.group, version, cr.ri.kind);
      const schema = customResourceSchema(cr, version);
      schemas.set(name, schema);
      v2.set(name, toV2(schema) as OpenApiSchema);
      byGvk.set(gvkKey({ group: cr.ri.group, version, kind: cr.ri.kind }), name);
      const list = listSchema(name, cr.ri.kind);
      list[GVK_EXTENSION] = [{ group: cr.ri.group, kind: cr.listKind, version }];
      const listName = `${name}List`;
      schemas.set(listName, list);
      byGvk.set(gvkKey({ group: cr.ri.group, version, kind: `${cr.ri.kind}List` }), listName);
    }
  }
  return { generation: served.generation, schemas, v2, byGvk };
}

/** make the OpenAPI documents include `served`'s resources */
export function installOpenApi(served: ServedCustomResources): void {
  let cached: ComponentOverlay | undefined;
  setComponentOverlay(() => {
    if (cached?.generation !== served.generation) cached = buildOverlay(served);
    return cached;
  });
}
