// Part of `npm install` (prepare, after the build): links node_modules/.bin/kubemu to this clone's
// dist/cli/main.js, so `npx kubemu` in the clone runs it at once. Without the link, npm exec installs the clone
// into its cache as a package of its own on every call and runs prepare (a whole tsc build) each time.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'cli', 'main.js');
// as another project's dependency, npm links the bin itself
if (
  basename(dirname(root)) !== 'node_modules' &&
  existsSync(join(root, 'node_modules')) &&
  existsSync(main)
) {
  // tsc writes 0644; npm makes a bin executable when it links one, and so must we
  chmodSync(main, 0o755);
  const bin = join(root, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  rmSync(join(bin, 'kubemu'), { force: true });
  symlinkSync('../../dist/cli/main.js', join(bin, 'kubemu'));
}
