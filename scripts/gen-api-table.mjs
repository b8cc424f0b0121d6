// Writes the served-API table into README.md between its api-table markers (from the built dist/: run through
// `npm run gen:api-table`, which builds first). A unit test (src/api/api-table.test.ts) fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withApiTable } from '../dist/api/api-table.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
writeFileSync(readme, withApiTable(readFileSync(readme, 'utf8')));
console.log(`wrote the API table into ${readme}`);
