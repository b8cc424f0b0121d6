// Links node_modules/.bin/kubemu to this clone's dist/cli/main.js (run by `npm install` through `prepare`, and by
// `npm run build`), so `npx kubemu` in the clone runs it at once. The root package.json names no `bin` on purpose:
// for a project whose own package.json has `bin.kubemu`, `npx kubemu` "installs" the project into npm's npx cache
// (~/.npm/_npx/<hash>) and runs `prepare` (a whole tsc build) there: about 20 s the first time, a read of the whole
// dependency tree every time after.
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'cli', 'main.js');
const bin = join(root, 'node_modules', '.bin');
const link = join(bin, 'kubemu');
const target = '../../dist/cli/main.js';

// installed as another project's dependency: that project's node_modules/.bin is npm's business
if (basename(dirname(root)) === 'node_modules') process.exit(0);
if (!existsSync(main)) {
  console.error(`link-bin: ${main} is missing; run npm run build`);
  process.exit(1);
}
// tsc writes 0644; npm makes a bin executable when it links one, and so must we
chmodSync(main, 0o755);
mkdirSync(bin, { recursive: true });
let current;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : undefined;
} catch {
  current = undefined;
}
if (current !== target) {
  rmSync(link, { force: true });
  symlinkSync(target, link);
}
