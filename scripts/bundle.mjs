// Bundles tsc's output in place (run by `npm run build` after tsc): every process entry point — dist/cli/main.js and
// dist/cmd/*.js — becomes one esbuild bundle of our code and its npm dependencies, with the code that several entries
// share, or that an entry loads lazily (`await import(...)`), in dist/chunks/. Why: a cluster is a dozen Node
// processes, and each spent 150–370 ms of CPU resolving and loading a few hundred module files before it did anything
// (on 2 cores, most of `kubemu up`'s wall time); a bundle is a handful of files.
//
// What keeps working as before:
// - files found at run time beside a module (generated JSON, the offload worker, web/, images/): every
//   `import.meta.url` of ours is rewritten to the URL of the module's own tsc output, which stays in dist/ (every
//   bundle and chunk sits one folder below dist/, so "../<its path in dist>" is that URL);
// - `node dist/cmd/<component>.js`, as tests and benchmarks start a component, and `node dist/cli/main.js <component>`,
//   as `kubemu up` does: same paths, same exports;
// - stack traces: linked source maps, chained through tsc's maps to src/*.ts (`node --enable-source-maps`);
// - packages that load native code or files by path stay plain imports of node_modules (EXTERNAL).
// Run tsc again and dist/ is unbundled and still runs: the chunks left over are referenced by nothing.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const CHUNKS = 'chunks';
/** first line of every bundle: a bundle is never bundled again (its input must be tsc's output) */
const MARK = '// kubemu bundle: built by scripts/bundle.mjs from tsc output; sources in src/';

/**
 * Stay imports of node_modules: pm2 (its daemon and the processes it starts are its own scripts), better-sqlite3
 * (native), dockerode (ssh2 and cpu-features: native), msgpackr-extract (msgpackr's optional native decoder, loaded
 * with require), etcd3 (loads its .proto files from beside its own code at run time), the @peculiar ASN.1 packages
 * certificate-request.ts requires at its first CSR (CommonJS, loaded with require). @peculiar/x509 is bundled:
 * src/util/x509-lib.ts imports it statically, and pki.ts loads that module with `await import()` (an `import()` of
 * the CommonJS package itself could not be: see the check below).
 */
const EXTERNAL = [
  'pm2',
  'better-sqlite3',
  'dockerode',
  'msgpackr-extract',
  'etcd3',
  '@peculiar/asn1-csr',
  '@peculiar/asn1-schema',
  '@peculiar/asn1-x509',
];

/** CommonJS dependencies call require() for Node's built-ins; an ES module has none, so each output file makes one. */
const REQUIRE_SHIM =
  "import { createRequire as __kubemuCreateRequire } from 'node:module';\n" +
  'const require = __kubemuCreateRequire(import.meta.url);';

const entries = [
  join(dist, 'cli', 'main.js'),
  ...readdirSync(join(dist, 'cmd'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dist, 'cmd', f)),
];
for (const entry of entries) {
  if (readFileSync(entry, 'utf8').includes(MARK))
    throw new Error(`${relative(root, entry)} is a bundle already: run tsc first (npm run build does both)`);
}

/** `import.meta.url` in our modules → the URL of the module's own file in dist/, from any output one folder down. */
const ownUrl = {
  name: 'kubemu-own-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (/import\.meta\.(dirname|filename)/.test(text))
        throw new Error(`${args.path}: import.meta.dirname/filename are not rewritten; use import.meta.url`);
      const self = JSON.stringify(`../${relative(dist, args.path).split(sep).join('/')}`);
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${self}, import.meta.url).href`),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

const result = await build({
  entryPoints: entries,
  outdir: dist,
  outbase: dist,
  entryNames: '[dir]/[name]',
  chunkNames: `${CHUNKS}/[name]-[hash]`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  banner: { js: `${MARK}\n${REQUIRE_SHIM}` },
  sourcemap: 'linked',
  sourcesContent: false,
  plugins: [ownUrl],
  write: false,
  metafile: true,
  logLevel: 'warning',
});

// Node gives `await import()` of a CommonJS module its named exports (module.exports' properties); esbuild's bundle
// gives only `default`, so such code would break only once bundled: that package must be external.
for (const [file, input] of Object.entries(result.metafile.inputs)) {
  for (const imp of input.imports) {
    if (imp.kind === 'dynamic-import' && result.metafile.inputs[imp.path]?.format === 'cjs')
      throw new Error(`${file} loads CommonJS ${imp.path} with import(): add its package to EXTERNAL`);
  }
}

for (const out of result.outputFiles) {
  const rel = relative(dist, out.path);
  if (rel.split(sep).length !== 2) throw new Error(`${rel}: every output must sit one folder below dist/`);
}
rmSync(join(dist, CHUNKS), { recursive: true, force: true });
for (const out of result.outputFiles) {
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, out.contents);
}
// tsc writes 0644; `node_modules/.bin/kubemu` links to main.js (scripts/link-bin.mjs)
chmodSync(join(dist, 'cli', 'main.js'), 0o755);
const files = result.outputFiles.filter((f) => f.path.endsWith('.js')).length;
console.log(`bundle: ${entries.length} entry points → ${files} files (dist/cli, dist/cmd, dist/${CHUNKS})`);
