// Links node_modules/.bin/kubemu to dist/cli/main.js (run by `npm install` through `prepare`, and by `npm run build`).
// The root package.json names no `bin` on purpose: for a project whose own package.json has `bin.kubemu`, `npx kubemu`
// "installs" the project into npm's npx cache (~/.npm/_npx/<hash>, a link plus a read of the whole dependency tree
// on every run, and registry look-ups on the first: tens of seconds once, about a second each time after). A
// `kubemu` in node_modules/.bin npx runs at once.
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'cli', 'main.js');
const bin = join(root, 'node_modules', '.bin');
const link = join(bin, 'kubemu');
const target = '../../dist/cli/main.js';

if (!existsSync(main)) {
  console.error(`link-bin: ${main} is missing; run npm run build`);
  process.exit(1);
}
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
