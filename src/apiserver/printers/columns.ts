// Column definition helpers: every printer's NAME and AGE columns, and the descriptions upstream gives its columns.
import { FIELD_DOCS } from './column-docs.js';
import type { TableColumnDefinition } from './types.js';

/** the description of a field, as the API reference gives it: `doc('core/v1.PodStatus', 'podIP')` */
export function doc(definition: string, field: string): string {
  return FIELD_DOCS[`${definition}#${field}`] ?? '';
}

export function column(
  name: string,
  type: 'string' | 'integer' | 'boolean',
  description: string,
  opts: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

export const wide = { priority: 1 };

export const nameColumn = (): TableColumnDefinition =>
  column('Name', 'string', doc('core/v1.ObjectMeta', 'name'), { format: 'name' });

export const ageColumn = (): TableColumnDefinition =>
  column('Age', 'string', doc('core/v1.ObjectMeta', 'creationTimestamp'));

export const CONTAINERS_DOC = 'Names of each container in the template.';
export const IMAGES_DOC = 'Images referenced by each container in the template.';
