// Maps definitions.json names (`apps/v1.PodSpec`, `policy/v1.ObjectMeta`) to upstream's OpenAPI component names
// (`io.k8s.api.core.v1.PodSpec`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`).
//
// definitions.json is generated per kubernetes-types group-version file, so every type a kind reaches is repeated
// under the kind's prefix. Which Go package a type really lives in follows from the imports of those files:
// meta/v1 and api/resource types are imported everywhere; the only core/v1 types other packages import are
// CORE_IMPORTS, and everything reachable from them is core/v1 too.
import type { JsonSchema, SchemaDefinitions } from '../../api/schema/definitions.js';

export const META_PACKAGE = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/** the types of k8s.io/apimachinery/pkg/apis/meta/v1 (kubernetes-types meta/v1.d.ts exports) */
const META_TYPES: ReadonlySet<string> = new Set([
  'APIGroup',
  'APIGroupList',
  'APIResource',
  'APIResourceList',
  'APIVersions',
  'Condition',
  'DeleteOptions',
  'FieldsV1',
  'GroupVersionForDiscovery',
  'LabelSelector',
  'LabelSelectorRequirement',
  'ListMeta',
  'ManagedFieldsEntry',
  'MicroTime',
  'ObjectMeta',
  'OwnerReference',
  'Patch',
  'Preconditions',
  'ServerAddressByClientCIDR',
  'Status',
  'StatusCause',
  'StatusDetails',
  'Time',
  'WatchEvent',
]);

/** core/v1 types imported by the other served packages (apps, batch, discovery, events, networking, node, storage) */
const CORE_IMPORTS: ReadonlySet<string> = new Set([
  'PodTemplateSpec',
  'PersistentVolumeClaim',
  'ObjectReference',
  'EventSource',
  'TypedLocalObjectReference',
  // storage/v1 VolumeAttachmentSource.inlineVolumeSpec, node/v1 Scheduling.tolerations
  'PersistentVolumeSpec',
  'Toleration',
]);

/** kubernetes-types directory of an API group: '' → core, `coordination.k8s.io` → coordination */
export function packageDir(group: string): string {
  return group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
}

/** `io.k8s.api.apps.v1` for a definitions prefix `apps/v1` */
function apiPackage(prefix: string): string {
  return `io.k8s.api.${prefix.replace('/', '.')}`;
}

export function splitDefinitionName(name: string): { prefix: string; short: string } {
  const dot = name.indexOf('.');
  return { prefix: name.slice(0, dot), short: name.slice(dot + 1) };
}

export function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, '');
}

function refsOf(schema: JsonSchema | boolean | undefined, out: string[]): string[] {
  if (!schema || typeof schema === 'boolean') return out;
  if (schema.$ref) out.push(refName(schema.$ref));
  for (const p of Object.values(schema.properties ?? {})) refsOf(p, out);
  refsOf(schema.items, out);
  refsOf(schema.additionalProperties, out);
  return out;
}

/** Every definitions.json name → its upstream component name. */
export function componentNames(defs: SchemaDefinitions): Map<string, string> {
  // a prefix's own types: reachable from its root kinds without passing through a core/v1 import
  const own = new Set<string>();
  const queue = Object.values(defs.roots).filter(
    (name) => !splitDefinitionName(name).prefix.startsWith('core/'),
  );
  while (queue.length > 0) {
    const name = queue.pop()!;
    const { short } = splitDefinitionName(name);
    if (
      own.has(name) ||
      META_TYPES.has(short) ||
      short === 'Quantity' ||
      short === 'RawExtension' ||
      CORE_IMPORTS.has(short)
    )
      continue;
    own.add(name);
    queue.push(...refsOf(defs.definitions[name], []));
  }
  const names = new Map<string, string>();
  for (const name of Object.keys(defs.definitions)) {
    const { prefix, short } = splitDefinitionName(name);
    if (short === 'Quantity') names.set(name, QUANTITY);
    // apps/v1 ControllerRevision.data: k8s.io/apimachinery/pkg/runtime
    else if (short === 'RawExtension') names.set(name, RAW_EXTENSION);
    else if (META_TYPES.has(short) || prefix === 'meta/v1') names.set(name, `${META_PACKAGE}.${short}`);
    else if (own.has(name)) names.set(name, `${apiPackage(prefix)}.${short}`);
    else names.set(name, `io.k8s.api.core.v1.${short}`);
  }
  return names;
}
