// Maps definitions.json names (`core/v1.PodSpec`, `meta/v1.ObjectMeta`) to upstream's OpenAPI component names
// (`io.k8s.api.core.v1.PodSpec`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`). definitions.json is
// generated from upstream's OpenAPI documents (scripts/gen-api.mjs), one definition per upstream component,
// prefixed by its Go package; its `packages` table gives each prefix's upstream package.
import { groupDir, type SchemaDefinitions } from '../../api/schema/definitions.js';

export const META_PACKAGE = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** an API group's directory: '' → core, `coordination.k8s.io` → coordination */
export const packageDir = groupDir;

export function splitDefinitionName(name: string): { prefix: string; short: string } {
  const dot = name.indexOf('.');
  return { prefix: name.slice(0, dot), short: name.slice(dot + 1) };
}

export function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, '');
}

/** Every definitions.json name → its upstream component name. */
export function componentNames(defs: SchemaDefinitions): Map<string, string> {
  const names = new Map<string, string>();
  for (const name of Object.keys(defs.definitions)) {
    const { prefix, short } = splitDefinitionName(name);
    const pkg = defs.packages[prefix];
    if (!pkg) throw new Error(`definitions.json has no package for ${name}`);
    names.set(name, `${pkg}.${short}`);
  }
  return names;
}
