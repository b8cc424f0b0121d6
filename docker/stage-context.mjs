#!/usr/bin/env node
// Makes a PREBUILT=1 build context from this checkout's built output, for machines whose containers cannot reach
// npm: `npm run build && node docker/stage-context.mjs DIR`, then build with KUBEMU_BUILD_CONTEXT=DIR PREBUILT=1.
// It holds the Dockerfile, docker/, dist/, images/, package.json, the generated schemas, the RBAC bootstrap policy
// and production node_modules.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dest = process.argv[2];
if (!dest) {
  console.error('usage: node docker/stage-context.mjs DIR');
  process.exit(2);
}
if (!existsSync(join(repo, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
for (const p of [
  'Dockerfile',
  'docker',
  'dist',
  'images',
  'package.json',
  'src/api/schema/generated',
  // read at run time: the apiserver's RBAC bootstrap policy (upstream's data)
  'api/upstream/rbac-bootstrap',
]) {
  cpSync(join(repo, p), join(dest, p), { recursive: true });
}
// production dependencies only, as `npm prune --omit=dev` would leave them (read from the installed tree: offline)
const paths = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], {
  cwd: repo,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
})
  .split('\n')
  .filter((p) => p.startsWith(join(repo, 'node_modules')));
for (const p of paths) cpSync(p, join(dest, relative(repo, p)), { recursive: true });
cpSync(join(repo, 'node_modules/.bin'), join(dest, 'node_modules/.bin'), {
  recursive: true,
  verbatimSymlinks: true,
});
console.log(dest);
