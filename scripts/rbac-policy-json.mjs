// Writes the RBAC bootstrap policy (api/upstream/rbac-bootstrap/*.yaml, upstream's data) as JSON beside tsc's output
// of src/apiserver/auth/rbac/bootstrap.ts, which reads it instead of parsing the YAML at every apiserver start
// (run by `npm run build`/`prepare` after tsc, before the bundles).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { COMPILED_POLICY, policyFromYaml } = await import('../dist/apiserver/auth/rbac/bootstrap.js');
writeFileSync(fileURLToPath(COMPILED_POLICY), JSON.stringify(policyFromYaml()));
