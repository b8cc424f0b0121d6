// Column definition helpers: every printer's NAME and AGE columns, and the descriptions upstream gives its columns
// (upstream takes them from the types' SwaggerDoc(), the texts of the OpenAPI spec: here from definitions.json).
import { loadDefinitions } from '../../api/schema/definitions.js';
import type { TableColumnDefinition } from './types.js';

/** a field whose description a column carries, looked up when a table is first served */
export class FieldDoc {
  constructor(
    readonly definition: string,
    readonly field: string,
  ) {}

  /** the field's description in definitions.json; '' for a field the spec does not have */
  text(): string {
    const defs = loadDefinitions().definitions;
    // `meta/v1.ObjectMeta`; names in the older per-group style (`apps/v1.PodSpec`) find the type's home package
    const short = this.definition.slice(this.definition.indexOf('.') + 1);
    const def = defs[this.definition] ?? defs[`meta/v1.${short}`] ?? defs[`core/v1.${short}`];
    return def?.properties?.[this.field]?.description ?? '';
  }
}

/** the description of a field, as the API reference gives it: `doc('core/v1.PodStatus', 'podIP')` */
export function doc(definition: string, field: string): FieldDoc {
  return new FieldDoc(definition, field);
}

export function column(
  name: string,
  type: 'string' | 'integer' | 'boolean' | 'date',
  description: string | FieldDoc,
  opts: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  const col = { name, type, format: opts.format ?? '', description: '', priority: opts.priority ?? 0 };
  if (typeof description === 'string') return { ...col, description };
  // resolved on first use, so building the printers at startup does not parse the schemas
  let text: string | undefined;
  return Object.defineProperty(col, 'description', {
    enumerable: true,
    get: () => (text ??= description.text()),
  });
}

export const wide = { priority: 1 };

export const nameColumn = (): TableColumnDefinition =>
  column('Name', 'string', doc('meta/v1.ObjectMeta', 'name'), { format: 'name' });

export const ageColumn = (): TableColumnDefinition =>
  column('Age', 'string', doc('meta/v1.ObjectMeta', 'creationTimestamp'));

export const CONTAINERS_DOC = 'Names of each container in the template.';
export const IMAGES_DOC = 'Images referenced by each container in the template.';
