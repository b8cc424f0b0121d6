// `npm run build` bundles every process entry point (scripts/bundle.mjs): each component, started as `kubemu up`
// starts it (`node dist/cli/main.js <component> ...`), loads only bundle files — its own, the CLI's and the shared
// chunks — never tsc's per-module output, and still runs its main (here: refuses an unknown flag as before).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../src/cli/cluster/components.js';
import { DIST } from './helpers/apiserver.js';

const MAIN = join(DIST, 'cli/main.js');
const COMMANDS = ['apiserver', ...COMPONENTS.map((c) => c.command)];
const work = mkdtempSync(join(tmpdir(), 'kubemu-bundle-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A module hook (Node 20: `--import` of a file that registers it) that appends every URL Node loads to $LOADED. */
const HOOKS = join(work, 'hooks.mjs');
const REGISTER = join(work, 'register.mjs');
beforeAll(() => {
  writeFileSync(
    HOOKS,
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED, url + '\\n');
  return next(url, context);
}
`,
  );
  writeFileSync(
    REGISTER,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`,
  );
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, KUBEMU_LOG_LEVEL: 'warn', ...env }, timeout: 30_000 },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
    );
  });
}

describe('the built components are bundles', () => {
  it.each(COMMANDS)('%s: a bundle that loads only bundle files and runs its main', async (command) => {
    const file = join(DIST, 'cmd', `${command}.js`);
    expect(readFileSync(file, 'utf8').split('\n').slice(0, 3).join('\n')).toMatch(
      /kubemu bundle: built by scripts\/bundle\.mjs/,
    );
    const loaded = join(work, `${command}.loaded`);
    const r = await run(['--import', REGISTER, MAIN, command, '--no-such-flag'], { LOADED: loaded });
    // the component's own flag parsing ran: the bundle loaded whole and its main started
    expect(r.stderr).toContain(`kubemu ${command}: Unknown option '--no-such-flag'`);
    expect(r.code).toBe(2);
    const ours = readFileSync(loaded, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith(pathToFileURL(DIST).href))
      .map((url) => relative(DIST, new URL(url).pathname));
    expect(ours).toContain(`cmd/${command}.js`);
    expect(
      ours.filter((f) => f !== 'cli/main.js' && f !== `cmd/${command}.js` && !/^chunks\//.test(f)),
    ).toEqual([]);
  });
});
