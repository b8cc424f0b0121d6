// The apiserver reads its RBAC bootstrap policy from the build's JSON copy (scripts/rbac-policy-json.mjs), not from
// upstream's YAML files at every start: the copy must be exactly what the YAML says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapPolicy, policyFromYaml } from '../src/apiserver/auth/rbac/bootstrap.js';
import { DIST } from './helpers/apiserver.js';

describe('the RBAC bootstrap policy of the build', () => {
  it('holds every object of upstream YAML files, in order', () => {
    const compiled = JSON.parse(
      readFileSync(join(DIST, 'apiserver/auth/rbac/bootstrap-policy.json'), 'utf8'),
    ) as unknown;
    const fromYaml = policyFromYaml();
    expect(fromYaml.length).toBeGreaterThan(50);
    expect(compiled).toEqual(fromYaml);
  });

  it('is what the built apiserver module reads', async () => {
    const built = (await import(join(DIST, 'apiserver/auth/rbac/bootstrap.js'))) as {
      bootstrapPolicy: typeof bootstrapPolicy;
    };
    expect(built.bootstrapPolicy()).toEqual(bootstrapPolicy());
  });
});
