// Renders the path model and component schemas as upstream's two documents: OpenAPI 3.0 per group-version
// (/openapi/v3/apis/apps/v1) and one Swagger 2.0 document for everything (/openapi/v2).
import { KUBE_GIT_VERSION } from '../discovery/version.js';
import { INT_OR_STRING, QUANTITY } from './names.js';
import { tagOf, type Operation, type Parameter, type PathItem } from './paths.js';
import { components, referencedComponents, ref, V3_REF_PREFIX, type OpenApiSchema } from './schemas.js';

const BEARER = {
  description: 'Bearer Token authentication',
  in: 'header',
  name: 'authorization',
  type: 'apiKey',
};

function v3Parameter(p: Parameter): OpenApiSchema {
  return {
    description: p.description,
    in: p.in,
    name: p.name,
    ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true },
  };
}

function v2Parameter(p: Parameter): OpenApiSchema {
  return {
    description: p.description,
    in: p.in,
    name: p.name,
    ...(p.required ? { required: true } : {}),
    type: p.type,
    uniqueItems: true,
  };
}

function extensions(op: Operation): OpenApiSchema {
  return {
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version },
  };
}

function v3Operation(op: Operation, tag: string): OpenApiSchema {
  const out: OpenApiSchema = { description: op.description, operationId: op.operationId };
  if (op.parameters.length) out.parameters = op.parameters.map(v3Parameter);
  if (op.body) {
    out.requestBody = {
      content: Object.fromEntries(
        op.body.contentTypes.map((ct) => [ct, { schema: ref(op.body!.component) }]),
      ),
      ...(op.body.required ? { required: true } : {}),
    };
  }
  out.responses = Object.fromEntries(
    op.responses.map((r) => {
      const schema = r.text ? { type: 'string' } : r.component ? ref(r.component) : undefined;
      return [
        r.code,
        schema
          ? {
              content: Object.fromEntries(op.produces.map((ct) => [ct, { schema }])),
              description: r.description,
            }
          : { description: r.description },
      ];
    }),
  );
  return { ...out, tags: [tag], ...extensions(op) };
}

function v2Operation(op: Operation, tag: string): OpenApiSchema {
  const out: OpenApiSchema = {
    consumes: op.body ? op.body.contentTypes : ['*/*'],
    description: op.description,
    operationId: op.operationId,
  };
  const parameters: OpenApiSchema[] = [];
  if (op.body)
    parameters.push({
      in: 'body',
      name: 'body',
      ...(op.body.required ? { required: true } : {}),
      schema: v2Ref(op.body.component),
    });
  parameters.push(...op.parameters.map(v2Parameter));
  if (parameters.length) out.parameters = parameters;
  out.produces = op.produces;
  out.responses = Object.fromEntries(
    op.responses.map((r) => {
      const schema = r.text ? { type: 'string' } : r.component ? v2Ref(r.component) : undefined;
      return [r.code, { description: r.description, ...(schema ? { schema } : {}) }];
    }),
  );
  out.schemes = ['https'];
  return { ...out, tags: [tag], ...extensions(op) };
}

function v2Ref(component: string): OpenApiSchema {
  return { $ref: `#/definitions/${component}` };
}

function renderPaths(items: PathItem[], version: 'v2' | 'v3'): Record<string, OpenApiSchema> {
  const paths: Record<string, OpenApiSchema> = {};
  for (const item of items) {
    const entry: OpenApiSchema = {};
    for (const op of item.operations) {
      const tag = tagOf(groupOfPath(item.path), versionOfPath(item.path));
      entry[op.method] = version === 'v3' ? v3Operation(op, tag) : v2Operation(op, tag);
    }
    if (item.parameters.length)
      entry.parameters = item.parameters.map(version === 'v3' ? v3Parameter : v2Parameter);
    paths[item.path] = entry;
  }
  return paths;
}

/** the group of a URL path: `/apis/apps/v1/...` → apps, `/api/v1/...` → '' */
function groupOfPath(path: string): string {
  const parts = path.split('/');
  return parts[1] === 'apis' ? parts[2] : '';
}

function versionOfPath(path: string): string {
  const parts = path.split('/');
  return parts[1] === 'apis' ? parts[3] : parts[2];
}

export function renderV3(items: PathItem[]): OpenApiSchema {
  const { schemas } = components();
  const paths = renderPaths(items, 'v3');
  const used = [...referencedComponents([paths], schemas)].sort();
  return {
    components: {
      schemas: Object.fromEntries(used.map((name) => [name, schemas.get(name)])),
      securitySchemes: { BearerToken: BEARER },
    },
    info: { title: 'Kubernetes', version: 'unversioned' },
    openapi: '3.0.0',
    paths,
  };
}

/**
 * a v3 schema as upstream's Swagger 2.0 document has it: #/definitions refs, a bare $ref with siblings instead of
 * allOf, and no `default` (upstream publishes defaults in v3 only). `inProperties`: the node is a `properties` map,
 * whose keys are field names (JSONSchemaProps has fields named `default` and `allOf`), not keywords.
 */
function toV2Schema(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => toV2Schema(n));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as OpenApiSchema;
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(obj)) {
    if (inProperties) {
      out[key] = toV2Schema(value);
    } else if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace(V3_REF_PREFIX, '#/definitions/');
    } else if (key === 'allOf' && Array.isArray(value) && value.length === 1) {
      Object.assign(out, toV2Schema(value[0]));
    } else if (key !== 'default') {
      out[key] = toV2Schema(value, key === 'properties');
    }
  }
  return out;
}

/** Swagger 2.0 has no oneOf: upstream's v2 says string for both (with format int-or-string for IntOrString) */
const V2_SCALARS: Readonly<Record<string, (v3: OpenApiSchema) => OpenApiSchema>> = {
  [INT_OR_STRING]: (v3) => ({ description: v3.description, format: 'int-or-string', type: 'string' }),
  [QUANTITY]: (v3) => ({ description: v3.description, type: 'string' }),
};

export function renderV2(items: PathItem[]): OpenApiSchema {
  const { schemas, v2 } = components();
  const paths = renderPaths(items, 'v2');
  // only the types the served paths reach (as v3 does per group-version), not every type of the release
  const used = referencedComponents([renderPaths(items, 'v3')], schemas);
  const definitions: Record<string, unknown> = {};
  for (const name of [...used].sort()) {
    const schema = schemas.get(name)!;
    definitions[name] = V2_SCALARS[name] ? V2_SCALARS[name](schema) : toV2Schema(v2?.get(name) ?? schema);
  }
  return {
    definitions,
    info: { title: 'Kubernetes', version: KUBE_GIT_VERSION },
    paths,
    security: [{ BearerToken: [] }],
    securityDefinitions: { BearerToken: BEARER },
    swagger: '2.0',
  };
}
