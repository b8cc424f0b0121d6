import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePm2Settings } from './pm2.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-pm2-settings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** what pm2's daemon reads (Worker.start: Configuration.getSync('pm2')), asked of pm2 itself */
function pm2Reads(pm2Home: string): unknown {
  const configuration = createRequire(import.meta.url).resolve('pm2/lib/Configuration.js');
  const out = execFileSync(
    process.execPath,
    ['-e', `console.log(JSON.stringify(require(${JSON.stringify(configuration)}).getSync('pm2')))`],
    { env: { ...process.env, PM2_HOME: pm2Home }, encoding: 'utf8' },
  );
  return JSON.parse(out) as unknown;
}

describe("the cluster's pm2 settings", () => {
  it("turn pm2's host metrics off for a new home", () => {
    const home = mkdtempSync(join(work, 'home-'));
    writePm2Settings(join(home, 'module_conf.json'));
    expect(pm2Reads(home)).toEqual({ sysmonit: 'false' });
  });

  it("keep what a home's settings had (an older cluster's `{}`, pm2's own keys)", () => {
    const home = mkdtempSync(join(work, 'home-'));
    const file = join(home, 'module_conf.json');
    writeFileSync(file, JSON.stringify({ pm2: { something: 'kept' }, 'module-x': { a: 1 } }));
    writePm2Settings(file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      pm2: { something: 'kept', sysmonit: 'false' },
      'module-x': { a: 1 },
    });
    expect(pm2Reads(home)).toEqual({ something: 'kept', sysmonit: 'false' });
  });
});
