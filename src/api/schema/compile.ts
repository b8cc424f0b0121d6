// Compiles the generated JSON Schemas into small typed nodes, once per definition, for the decoder to walk.
import { loadDefinitions, type JsonSchema } from './definitions.js';

export type SchemaNode =
  | {
      t: 'struct';
      name: string;
      goType: string;
      fields: Map<string, SchemaNode>;
      required: readonly string[];
    }
  | { t: 'string' }
  | { t: 'bytes' }
  | { t: 'bool' }
  | { t: 'int'; bits: 32 | 64 }
  | { t: 'array'; items: SchemaNode }
  | { t: 'map'; values: SchemaNode }
  | { t: 'quantity' }
  | { t: 'intOrString' }
  | { t: 'time'; micro: boolean }
  | { t: 'any' };

const REF_PREFIX = '#/definitions/';
const cache = new Map<string, SchemaNode>();
const STRING: SchemaNode = { t: 'string' };
const BOOL: SchemaNode = { t: 'bool' };
const ANY: SchemaNode = { t: 'any' };
const INT32: SchemaNode = { t: 'int', bits: 32 };
const INT64: SchemaNode = { t: 'int', bits: 64 };
const QUANTITY: SchemaNode = { t: 'quantity' };
const INT_OR_STRING: SchemaNode = { t: 'intOrString' };
const BYTES: SchemaNode = { t: 'bytes' };

/** the key of a kind in definitions.json's roots: kubernetes-types' directory is the group's first label
 *  (`rbac.authorization.k8s.io` → `rbac/v1/Role`, '' → `core/v1/Pod`) */
export function rootKey(group: string, version: string, kind: string): string {
  return `${group === '' ? 'core' : group.split('.')[0]}/${version}/${kind}`;
}

/** the definition for one served kind, e.g. (`apps`, `v1`, `Deployment`); undefined when not generated */
export function rootNode(group: string, version: string, kind: string): SchemaNode | undefined {
  const name = loadDefinitions().roots[rootKey(group, version, kind)];
  return name === undefined ? undefined : definitionNode(name);
}

function definitionNode(name: string): SchemaNode {
  const hit = cache.get(name);
  if (hit) return hit;
  const def = loadDefinitions().definitions[name];
  if (!def) throw new Error(`schema definition ${name} missing from definitions.json`);
  if (name.endsWith('.MicroTime')) {
    const micro: SchemaNode = { t: 'time', micro: true };
    cache.set(name, micro);
    return micro;
  }
  if (def.properties) {
    // registered before its fields are compiled, so recursive types terminate
    const node: SchemaNode = {
      t: 'struct',
      name: name.slice(name.indexOf('.') + 1),
      goType: `${goPackage(name)}.${name.slice(name.indexOf('.') + 1)}`,
      fields: new Map(),
      required: def.required ?? [],
    };
    cache.set(name, node);
    for (const [field, schema] of Object.entries(def.properties)) node.fields.set(field, compile(schema));
    return node;
  }
  const node = compile(def);
  cache.set(name, node);
  return node;
}

function goPackage(defName: string): string {
  // `core/v1.PodSpec` → v1; `autoscaling/v2.MetricSpec` → v2
  const gv = defName.slice(0, defName.indexOf('.'));
  return gv.slice(gv.indexOf('/') + 1);
}

function compile(s: JsonSchema): SchemaNode {
  if (s.$ref) return definitionNode(s.$ref.slice(REF_PREFIX.length));
  if (s.format === 'quantity') return QUANTITY;
  if (s.format === 'int-or-string') return INT_OR_STRING;
  if (s.format === 'date-time') return { t: 'time', micro: false };
  if (s.format === 'byte') return BYTES;
  switch (s.type) {
    case 'string':
      return STRING;
    case 'boolean':
      return BOOL;
    case 'integer':
      return s.format === 'int64' ? INT64 : INT32;
    case 'array':
      return { t: 'array', items: s.items ? compile(s.items) : ANY };
    case 'object':
      if (s.properties) throw new Error('inline struct schemas are not generated');
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        return { t: 'map', values: compile(s.additionalProperties) };
      }
      return ANY;
    default:
      return ANY;
  }
}

/** Go's name for a node's type, as encoding/json prints it in errors */
export function goTypeName(n: SchemaNode): string {
  switch (n.t) {
    case 'struct':
      return n.goType;
    case 'string':
      return 'string';
    case 'bytes':
      return '[]uint8';
    case 'bool':
      return 'bool';
    case 'int':
      return n.bits === 32 ? 'int32' : 'int64';
    case 'array':
      return `[]${goTypeName(n.items)}`;
    case 'map':
      return `map[string]${goTypeName(n.values)}`;
    case 'quantity':
      return 'resource.Quantity';
    case 'intOrString':
      return 'intstr.IntOrString';
    case 'time':
      return n.micro ? 'v1.MicroTime' : 'v1.Time';
    case 'any':
      return 'interface {}';
  }
}
