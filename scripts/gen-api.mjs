// Generates kubemu's object model from upstream's published API spec (api/upstream/v1.33/openapi/*.json, the
// OpenAPI v3 documents of kubernetes/kubernetes api/openapi-spec/v3), so that nothing of it is transcribed by hand:
//
//   src/api/schema/generated/definitions.json  JSON Schemas of every type, with a root per served group/version/kind
//   src/api/schema/generated/patch-meta.json   strategic-merge-patch / structured-merge-diff metadata per type field
//                                              (x-kubernetes-patch-strategy, -patch-merge-key, -list-type,
//                                              -list-map-keys, -map-type, and the defaults of list-map key fields)
//   src/api/schema/generated/openapi-components.json
//                                              upstream's v3 component schemas as published (defaults, x-kubernetes-*
//                                              extensions, allOf wrappers, descriptions), one copy of each: the
//                                              apiserver serves these in /openapi/v3 and /openapi/v2
//
// Run `npm run gen:api` after changing the upstream documents; a unit test (src/api/schema/generated.test.ts)
// fails when the committed files differ from what this script makes.
//
// definitions.json names a type `<package dir>/<version>.<Type>` after its Go package (`core/v1.PodSpec`,
// `meta/v1.ObjectMeta`, `apps/v1.Deployment`, `apimachinery/resource.Quantity`), and roots are keyed
// `<group dir>/<version>/<Kind>` with the group's `.k8s.io` suffix dropped (`core/v1/Pod`, `rbac.authorization/v1/Role`).
// Special types keep the encodings the decoder knows: Quantity `{type: [string, number], format: quantity}`,
// IntOrString inlined as `{type: [integer, string], format: int-or-string}`, Time/MicroTime
// `{type: string, format: date-time}`; int32/int64/byte/double formats are upstream's.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const RELEASE = 'v1.33';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SPEC_DIR = `api/upstream/${RELEASE}/openapi`;
const COMPONENT_REF = '#/components/schemas/';
const DEFINITION_REF = '#/definitions/';

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIMES = new Set([
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
]);

/** upstream component-name prefixes → definitions.json package prefixes (the rest: io.k8s.api.<g>.<v>) */
const PACKAGES = [
  ['io.k8s.apimachinery.pkg.apis.meta.v1.', 'meta/v1.'],
  ['io.k8s.apimachinery.pkg.api.resource.', 'apimachinery/resource.'],
  ['io.k8s.apimachinery.pkg.util.intstr.', 'apimachinery/intstr.'],
  ['io.k8s.apimachinery.pkg.runtime.', 'apimachinery/runtime.'],
  ['io.k8s.apimachinery.pkg.version.', 'apimachinery/version.'],
  ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.', 'apiextensions/v1.'],
  ['io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.', 'apiregistration/v1.'],
];

/** `io.k8s.api.apps.v1.Deployment` → `apps/v1.Deployment` */
export function definitionName(component) {
  for (const [from, to] of PACKAGES) if (component.startsWith(from)) return to + component.slice(from.length);
  const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[a-z0-9]+)\.([A-Za-z0-9]+)$/.exec(component);
  if (!m) throw new Error(`no package mapping for upstream component ${component}`);
  return `${m[1]}/${m[2]}.${m[3]}`;
}

/** the inverse of definitionName */
export function componentName(definition) {
  for (const [from, to] of PACKAGES) if (definition.startsWith(to)) return from + definition.slice(to.length);
  const [pkg, type] = [
    definition.slice(0, definition.indexOf('.')),
    definition.slice(definition.indexOf('.') + 1),
  ];
  return `io.k8s.api.${pkg.replace('/', '.')}.${type}`;
}

/** an API group's directory: '' → core, `rbac.authorization.k8s.io` → rbac.authorization */
export function groupDir(group) {
  return group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
}

/** the upstream documents: file name → parsed document, in file-name order */
export function readSpec(root = ROOT) {
  const dir = join(root, SPEC_DIR);
  const docs = new Map();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('_openapi.json'))
    .sort()) {
    docs.set(file, JSON.parse(readFileSync(join(dir, file), 'utf8')));
  }
  return docs;
}

/** every component schema of the documents (shared types repeat across documents, identically) */
function collectComponents(docs) {
  const components = new Map();
  for (const [file, doc] of docs) {
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      const seen = components.get(name);
      if (seen && JSON.stringify(seen) !== JSON.stringify(schema)) {
        throw new Error(`${file}: component ${name} differs from another document's copy`);
      }
      components.set(name, schema);
    }
  }
  return new Map([...components].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** the referenced component of a property schema: `$ref`, or upstream v3's `allOf: [{$ref}]` with siblings */
function refOf(s) {
  if (s.$ref) return s.$ref.slice(COMPONENT_REF.length);
  if (s.allOf?.length === 1 && s.allOf[0].$ref) return s.allOf[0].$ref.slice(COMPONENT_REF.length);
  return undefined;
}

/** one schema node → definitions.json form (no defaults, enums or x-kubernetes-* extensions: those live elsewhere) */
function convert(s) {
  const ref = refOf(s);
  const out = {};
  if (ref === INT_OR_STRING) {
    out.type = ['integer', 'string'];
    out.format = 'int-or-string';
  } else if (ref) {
    out.$ref = DEFINITION_REF + definitionName(ref);
  } else {
    if (s.type !== undefined) out.type = s.type;
    if (s.format !== undefined) out.format = s.format;
    if (s.properties) {
      out.properties = {};
      for (const [name, prop] of Object.entries(s.properties)) out.properties[name] = convert(prop);
    }
    if (s.required?.length) out.required = [...s.required];
    if (s.items) out.items = convert(s.items);
    if (s.additionalProperties !== undefined) {
      out.additionalProperties =
        typeof s.additionalProperties === 'boolean'
          ? s.additionalProperties
          : convert(s.additionalProperties);
    }
  }
  if (s.description !== undefined) out.description = s.description;
  return out;
}

function definitionOf(component, schema) {
  const description = schema.description === undefined ? {} : { description: schema.description };
  if (component === QUANTITY) return { type: ['string', 'number'], format: 'quantity', ...description };
  if (component === INT_OR_STRING)
    return { type: ['integer', 'string'], format: 'int-or-string', ...description };
  if (TIMES.has(component)) return { type: 'string', format: 'date-time', ...description };
  return convert(schema);
}

/** definitions.json: every type, and a root for every group/version/kind the documents name */
export function buildDefinitions(docs, components = collectComponents(docs)) {
  const definitions = {};
  const roots = {};
  for (const [component, schema] of components) {
    // IntOrString is inlined where used; its definition only carries upstream's description
    const name = definitionName(component);
    definitions[name] = definitionOf(component, schema);
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      roots[`${groupDir(gvk.group)}/${gvk.version}/${gvk.kind}`] = name;
    }
  }
  // meta/v1 types the apiserver decodes on their own (request bodies and list metadata), as before
  for (const kind of ['Status', 'DeleteOptions', 'ObjectMeta', 'ListMeta'])
    roots[`meta/v1/${kind}`] = `meta/v1.${kind}`;
  // definitions.json prefix → upstream's package prefix, so consumers can print upstream component names
  const packages = {};
  for (const name of Object.keys(definitions)) {
    const prefix = name.slice(0, name.indexOf('.'));
    const component = componentName(name);
    packages[prefix] = component.slice(0, component.length - (name.length - prefix.length));
  }
  return {
    generatedFrom: `kubernetes ${RELEASE} OpenAPI v3 (${SPEC_DIR})`,
    packages: Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    definitions,
    roots: Object.fromEntries(Object.entries(roots).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** the merge metadata of one property, or undefined when it has none */
function fieldMeta(prop, components) {
  const info = {};
  if (prop['x-kubernetes-patch-strategy']) info.patchStrategy = prop['x-kubernetes-patch-strategy'];
  if (prop['x-kubernetes-patch-merge-key']) info.patchMergeKey = prop['x-kubernetes-patch-merge-key'];
  if (prop['x-kubernetes-list-type']) info.listType = prop['x-kubernetes-list-type'];
  if (prop['x-kubernetes-list-map-keys']) info.listMapKeys = [...prop['x-kubernetes-list-map-keys']];
  if (prop['x-kubernetes-map-type']) info.mapType = prop['x-kubernetes-map-type'];
  // structured-merge-diff fills absent key fields of associative lists from the key field's default; only
  // explicit (+default=) values count: the zero values v3 prints for required fields ('' for a container's
  // name) are no defaults, and upstream refuses a container without a name
  const keys = info.listMapKeys ?? (info.patchMergeKey ? [info.patchMergeKey] : []);
  const element = prop.items && refOf(prop.items);
  if (keys.length && element) {
    const elementProps = components.get(element)?.properties ?? {};
    const defaults = {};
    for (const key of keys) {
      const d = elementProps[key]?.default;
      if (d !== undefined && d !== '' && d !== 0 && d !== false) defaults[key] = d;
    }
    if (Object.keys(defaults).length) info.listMapKeyDefaults = defaults;
  }
  return Object.keys(info).length ? info : undefined;
}

/** patch-meta.json: per definitions.json type, its own map type and its fields' merge metadata */
export function buildPatchMeta(docs, components = collectComponents(docs)) {
  const types = {};
  for (const [component, schema] of components) {
    const entry = {};
    if (schema['x-kubernetes-map-type']) entry.mapType = schema['x-kubernetes-map-type'];
    const fields = {};
    for (const [name, prop] of Object.entries(schema.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const info = fieldMeta(prop, components);
      if (info) fields[name] = info;
    }
    if (Object.keys(fields).length) entry.fields = fields;
    if (Object.keys(entry).length) types[definitionName(component)] = entry;
  }
  // consumers may look a type up by its short Go name (`PodSpec`): that must be unambiguous
  const byShort = new Map();
  for (const [name, entry] of Object.entries(types)) {
    const short = name.slice(name.indexOf('.') + 1);
    const other = byShort.get(short);
    if (other && JSON.stringify(types[other]) !== JSON.stringify(entry)) {
      throw new Error(`${other} and ${name} carry different patch metadata under one short name`);
    }
    byShort.set(short, name);
  }
  return { generatedFrom: `kubernetes ${RELEASE} OpenAPI v3 (${SPEC_DIR})`, types };
}

/** openapi-components.json: every upstream component schema, verbatim (collectComponents checked the copies agree) */
export function buildOpenApiComponents(docs, components = collectComponents(docs)) {
  return {
    generatedFrom: `kubernetes ${RELEASE} OpenAPI v3 (${SPEC_DIR})`,
    schemas: Object.fromEntries(components),
  };
}

/** every generated file: repository path → content */
export function generate(root = ROOT) {
  const docs = readSpec(root);
  const components = collectComponents(docs);
  const json = (value) => `${JSON.stringify(value, null, 1)}\n`;
  return new Map([
    ['src/api/schema/generated/definitions.json', json(buildDefinitions(docs, components))],
    ['src/api/schema/generated/patch-meta.json', json(buildPatchMeta(docs, components))],
    ['src/api/schema/generated/openapi-components.json', json(buildOpenApiComponents(docs, components))],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [path, content] of generate()) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), content);
    console.log(`wrote ${path} (${content.length} bytes)`);
  }
}
