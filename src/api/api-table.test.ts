// The README's table of the served API is the generated one.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from './resources.js';
import { TABLE_END, TABLE_START, apiTable, withApiTable } from './api-table.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

describe('README API table', () => {
  it('lists every served group/version/kind with its verbs and subresources', () => {
    const table = apiTable();
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toHaveLength(RESOURCES.reduce((n, ri) => n + ri.versions.length, 0));
    expect(table).toContain(
      '| `apps/v1` | Deployment | deployments | Namespaced | deploy | all | all | status, scale (autoscaling/v1 Scale) |',
    );
    expect(table).toContain(
      '| `v1` | Pod | pods | Namespaced | po | all | all | status, binding (v1 Binding), eviction (policy/v1 Eviction), log, exec (v1 PodExecOptions), attach (v1 PodAttachOptions), portforward (v1 PodPortForwardOptions), proxy (v1 PodProxyOptions), ephemeralcontainers | resize |',
    );
  });

  it('is up to date in README.md (run `npm run gen:api-table` after changing RESOURCES)', () => {
    expect(readme).toContain(TABLE_START);
    expect(readme).toContain(TABLE_END);
    expect(withApiTable(readme) === readme, 'README.md API table is stale: run npm run gen:api-table').toBe(
      true,
    );
  });
});
