// Loads the generated JSON Schemas (definitions.json, made by scripts/gen-api.mjs from upstream's OpenAPI) once,
// from src/ or — in a build — next to dist/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface JsonSchema {
  type?: string | string[];
  format?: string;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  description?: string;
}

export interface SchemaDefinitions {
  generatedFrom: string;
  /** a definition name's prefix (its Go package) → upstream's OpenAPI package: `meta/v1` → `io.k8s.apimachinery.pkg.apis.meta.v1` */
  packages: Record<string, string>;
  /** `core/v1.PodSpec` → schema; refs inside look like `#/definitions/core/v1.PodSpec` */
  definitions: Record<string, JsonSchema>;
  /** `apps/v1/Deployment`, `rbac.authorization/v1/Role` → `apps/v1.Deployment`, `rbac/v1.Role` */
  roots: Record<string, string>;
}

let loaded: SchemaDefinitions | undefined;

/** a generated file of src/api/schema/generated, parsed */
export function loadGenerated<T>(file: string): T {
  // tsc does not copy JSON it is not asked to import, so a build reads the committed file from src/
  const candidates = [
    new URL(`./generated/${file}`, import.meta.url),
    new URL(`../../../src/api/schema/generated/${file}`, import.meta.url),
  ].map((u) => fileURLToPath(u));
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`${file} not found (looked at ${candidates.join(', ')})`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function loadDefinitions(): SchemaDefinitions {
  return (loaded ??= loadGenerated<SchemaDefinitions>('definitions.json'));
}

/** an API group's directory in the roots table: '' → core, `rbac.authorization.k8s.io` → rbac.authorization */
export function groupDir(group: string): string {
  return group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
}

/** the definition of a group/version/kind (`apps`, `v1`, `Deployment` → `apps/v1.Deployment`), if generated */
export function rootDefinition(gvk: { group: string; version: string; kind: string }): string | undefined {
  return loadDefinitions().roots[`${groupDir(gvk.group)}/${gvk.version}/${gvk.kind}`];
}
