// Generates src/api/schema/generated/definitions.json — JSON Schemas of the Kubernetes object model —
// from the `kubernetes-types` package (itself generated from upstream's OpenAPI), so that kubemu never
// hand-writes the object model. Run with `npm run gen:schemas` after upgrading kubernetes-types.
//
// kubernetes-types types every number as `number`; upstream's OpenAPI says which are int32/int64. We take
// those formats from @kubernetes/client-node's generated models (also built from upstream's OpenAPI),
// walking both models in parallel from each root kind, and mark them `integer` with `format`.
// Quantity becomes `{type: [string, number], format: quantity}` (upstream accepts both on decode),
// IntOrString `{type: [integer, string], format: int-or-string}`, Time/MicroTime `format: date-time`,
// []byte fields (base64 strings) `format: byte`.
import { createGenerator } from 'ts-json-schema-generator';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(root, 'node_modules', 'kubernetes-types');
const modelsDir = join(root, 'node_modules', '@kubernetes', 'client-node', 'dist', 'gen', 'models');
const version = JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')).version;

// group/version directory in kubernetes-types → the root kinds we serve from it, with client-node's class name
const roots = {
  'core/v1': {
    Namespace: 'V1Namespace',
    Node: 'V1Node',
    Pod: 'V1Pod',
    Service: 'V1Service',
    Endpoints: 'V1Endpoints',
    ConfigMap: 'V1ConfigMap',
    Secret: 'V1Secret',
    Event: 'CoreV1Event',
    ServiceAccount: 'V1ServiceAccount',
    Binding: 'V1Binding',
    PodList: 'V1PodList',
    ReplicationController: 'V1ReplicationController',
    PodTemplate: 'V1PodTemplate',
    PersistentVolume: 'V1PersistentVolume',
    PersistentVolumeClaim: 'V1PersistentVolumeClaim',
    ComponentStatus: 'V1ComponentStatus',
  },
  'coordination/v1': { Lease: 'V1Lease' },
  'apps/v1': {
    Deployment: 'V1Deployment',
    ReplicaSet: 'V1ReplicaSet',
    StatefulSet: 'V1StatefulSet',
    DaemonSet: 'V1DaemonSet',
    ControllerRevision: 'V1ControllerRevision',
  },
  'batch/v1': { Job: 'V1Job', CronJob: 'V1CronJob' },
  'node/v1': { RuntimeClass: 'V1RuntimeClass' },
  'storage/v1': { CSIDriver: 'V1CSIDriver', CSINode: 'V1CSINode', VolumeAttachment: 'V1VolumeAttachment' },
  'discovery/v1': { EndpointSlice: 'V1EndpointSlice' },
  'networking/v1': { Ingress: 'V1Ingress', IngressClass: 'V1IngressClass' },
  'autoscaling/v2': { HorizontalPodAutoscaler: 'V2HorizontalPodAutoscaler' },
  'autoscaling/v1': { HorizontalPodAutoscaler: 'V1HorizontalPodAutoscaler', Scale: 'V1Scale' },
  'events/v1': { Event: 'EventsV1Event' },
  'policy/v1': { Eviction: 'V1Eviction', PodDisruptionBudget: 'V1PodDisruptionBudget' },
  'meta/v1': {
    Status: 'V1Status',
    DeleteOptions: 'V1DeleteOptions',
    ObjectMeta: 'V1ObjectMeta',
    ListMeta: 'V1ListMeta',
  },
};

const out = { generatedFrom: `kubernetes-types@${version}`, definitions: {}, roots: {} };
const rootClasses = [];
for (const [gv, kinds] of Object.entries(roots)) {
  const path = join(typesDir, `${gv}.d.ts`);
  const gen = createGenerator({
    path,
    tsconfig: join(root, 'tsconfig.json'),
    type: '*',
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    skipTypeCheck: true,
    additionalProperties: true,
  });
  for (const [kind, cls] of Object.entries(kinds)) {
    const schema = gen.createSchema(kind);
    for (const [name, def] of Object.entries(schema.definitions ?? {})) {
      // Qualify each definition by the file it came from: names like `Event` exist in several groups.
      out.definitions[qualify(gv, name)] = rewriteRefs(def, gv);
    }
    // with topRef: false the root kind itself is the schema, not one of its definitions
    const { definitions: _defs, $schema: _s, ...top } = schema;
    out.definitions[qualify(gv, kind)] = rewriteRefs(top, gv);
    out.roots[`${gv}/${kind}`] = qualify(gv, kind);
    rootClasses.push([qualify(gv, kind), cls]);
  }
}

// --- formats from client-node's models ---
const classCache = new Map();
async function attributes(cls) {
  if (classCache.has(cls)) return classCache.get(cls);
  const file = join(modelsDir, `${cls}.js`);
  let attrs = null;
  if (existsSync(file)) {
    const mod = await import(pathToFileURL(file).href);
    attrs = new Map(mod[cls].getAttributeTypeMap().map((a) => [a.baseName, a]));
  }
  classCache.set(cls, attrs);
  return attrs;
}
const refName = (ref) => ref.slice('#/definitions/'.length);
const visited = new Set();
let marked = 0;
async function annotate(defName, cls) {
  const key = `${defName}|${cls}`;
  if (visited.has(key)) return;
  visited.add(key);
  const def = out.definitions[defName];
  const attrs = await attributes(cls);
  if (!def?.properties || !attrs) return;
  for (const [prop, schema] of Object.entries(def.properties)) {
    const attr = attrs.get(prop);
    if (!attr) continue;
    let node = schema;
    let type = attr.type;
    const arr = /^Array<(.+)>$/.exec(type);
    if (arr && node.type === 'array') {
      node = node.items;
      type = arr[1];
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map && node.type === 'object' && node.additionalProperties) {
      node = node.additionalProperties;
      type = map[1];
    }
    if (node.type === 'number' && (attr.format === 'int32' || attr.format === 'int64')) {
      node.type = 'integer';
      node.format = attr.format;
      marked++;
    } else if (node.type === 'string' && attr.format === 'byte') {
      // base64 on the wire ([]byte in Go): Secret.data, ConfigMap.binaryData
      node.format = 'byte';
    } else if (node.$ref && /^[A-Z]/.test(type)) {
      await annotate(refName(node.$ref), type);
    }
  }
}
for (const [defName, cls] of rootClasses) await annotate(defName, cls);

// --- special types, and leftovers client-node did not cover ---
const unmarked = [];
function special(node, where) {
  if (Array.isArray(node)) return node.forEach((n, i) => special(n, `${where}[${i}]`));
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node.type) && node.type.includes('number') && node.type.includes('string')) {
    node.type = ['integer', 'string'];
    node.format = 'int-or-string';
  } else if (node.type === 'number') {
    // no float fields exist in the served kinds; integers it is (int32, as most upstream counts are)
    node.type = 'integer';
    node.format = 'int32';
    unmarked.push(where);
  }
  // the apiserver checks apiVersion/kind itself (and HPA is served in two versions)
  if (node.const !== undefined) delete node.const;
  for (const [k, v] of Object.entries(node)) if (typeof v === 'object') special(v, `${where}.${k}`);
}
for (const [name, def] of Object.entries(out.definitions)) {
  const base = name.slice(name.indexOf('.') + 1);
  if (base === 'Quantity') out.definitions[name] = { type: ['string', 'number'], format: 'quantity' };
  else if (base === 'Time' || base === 'MicroTime')
    out.definitions[name] = { type: 'string', format: 'date-time' };
  else special(def, name);
}
if (unmarked.length)
  console.log(
    `no format known for ${unmarked.length} numbers (made int32): ${unmarked.slice(0, 5).join(', ')}…`,
  );

function qualify(gv, name) {
  return `${gv}.${name}`;
}
function rewriteRefs(node, gv) {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, gv));
  if (node && typeof node === 'object') {
    const copy = {};
    for (const [k, v] of Object.entries(node)) {
      copy[k] =
        k === '$ref' && typeof v === 'string'
          ? v.replace('#/definitions/', `#/definitions/${gv}.`)
          : rewriteRefs(v, gv);
    }
    return copy;
  }
  return node;
}
mkdirSync(join(root, 'src/api/schema/generated'), { recursive: true });
writeFileSync(join(root, 'src/api/schema/generated/definitions.json'), JSON.stringify(out, null, 1));
console.log(
  `wrote ${Object.keys(out.definitions).length} definitions from kubernetes-types@${version} (${marked} integer formats from client-node)`,
);
