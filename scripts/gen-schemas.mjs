// Generates src/api/schema/generated/definitions.json — JSON Schemas of the Kubernetes object model —
// from the `kubernetes-types` package (itself generated from upstream's OpenAPI), so that kubemu never
// hand-writes the object model. Run with `npm run gen:schemas` after upgrading kubernetes-types.
import { createGenerator } from 'ts-json-schema-generator';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(root, 'node_modules', 'kubernetes-types');
const version = JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')).version;

// group/version directory in kubernetes-types → the root kinds we serve from it
const roots = {
  'core/v1': ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'Event', 'ServiceAccount', 'Binding', 'PodList'],
  'coordination/v1': ['Lease'],
  'apps/v1': ['Deployment', 'ReplicaSet'],
  'discovery/v1': ['EndpointSlice'],
  'networking/v1': ['Ingress', 'IngressClass'],
  'autoscaling/v2': ['HorizontalPodAutoscaler'],
  'autoscaling/v1': ['HorizontalPodAutoscaler', 'Scale'],
  'events/v1': ['Event'],
  'policy/v1': ['Eviction'],
  'meta/v1': ['Status', 'DeleteOptions', 'ObjectMeta', 'ListMeta'],
};

const out = { generatedFrom: `kubernetes-types@${version}`, definitions: {}, roots: {} };
for (const [gv, kinds] of Object.entries(roots)) {
  const path = join(typesDir, `${gv}.d.ts`);
  const gen = createGenerator({ path, tsconfig: join(root, 'tsconfig.json'), type: '*', expose: 'export', topRef: false, jsDoc: 'extended', skipTypeCheck: true, additionalProperties: true });
  for (const kind of kinds) {
    const schema = gen.createSchema(kind);
    for (const [name, def] of Object.entries(schema.definitions ?? {})) {
      // Qualify each definition by the file it came from: names like `Event` exist in several groups.
      out.definitions[qualify(gv, name)] = rewriteRefs(def, gv);
    }
    out.roots[`${gv}/${kind}`] = qualify(gv, kind);
  }
}
function qualify(gv, name) {
  return `${gv}.${name}`;
}
function rewriteRefs(node, gv) {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, gv));
  if (node && typeof node === 'object') {
    const copy = {};
    for (const [k, v] of Object.entries(node)) {
      copy[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/definitions/', `#/definitions/${gv}.`) : rewriteRefs(v, gv);
    }
    return copy;
  }
  return node;
}
mkdirSync(join(root, 'src/api/schema/generated'), { recursive: true });
writeFileSync(join(root, 'src/api/schema/generated/definitions.json'), JSON.stringify(out, null, 1));
console.log(`wrote ${Object.keys(out.definitions).length} definitions from kubernetes-types@${version}`);
