// Loads the generated JSON Schemas (definitions.json) once, from src/ or — in a build — next to dist/.
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
  /** `core/v1.PodSpec` → schema; refs inside look like `#/definitions/core/v1.PodSpec` */
  definitions: Record<string, JsonSchema>;
  /** `apps/v1/Deployment` → `apps/v1.Deployment` */
  roots: Record<string, string>;
}

let loaded: SchemaDefinitions | undefined;

export function loadDefinitions(): SchemaDefinitions {
  if (loaded) return loaded;
  // tsc does not copy JSON it is not asked to import, so a build reads the committed file from src/
  const candidates = [
    new URL('./generated/definitions.json', import.meta.url),
    new URL('../../../src/api/schema/generated/definitions.json', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`definitions.json not found (looked at ${candidates.join(', ')})`);
  loaded = JSON.parse(readFileSync(path, 'utf8')) as SchemaDefinitions;
  return loaded;
}
