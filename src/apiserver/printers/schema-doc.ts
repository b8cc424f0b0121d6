// Column descriptions for the printers of the workload and storage kinds, read from the generated schemas
// (upstream takes them from the types' SwaggerDoc(), the same texts).
import { loadDefinitions } from '../../api/schema/definitions.js';

/** the description of `field` in `definition`, e.g. `schemaDoc('batch/v1.JobStatus', 'succeeded')` */
export function schemaDoc(definition: string, field: string): string {
  return loadDefinitions().definitions[definition]?.properties?.[field]?.description ?? '';
}
