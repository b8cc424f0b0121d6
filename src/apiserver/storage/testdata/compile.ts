// Test helper: transpiles a storage module and its relative imports to plain ESM, so a child `node` process can load it without a build.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../../..');
const ROOT = resolve(SRC, '..');

/** Compile `entry` (a .ts under src/) and everything it imports relatively; returns the .js path and a cleanup. */
export function compileForNode(entry: string): { file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-storage-'));
  // Bare imports (better-sqlite3, pino) resolve through the project's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const todo = [resolve(entry)];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(dir, relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out);
    for (const m of out.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g))
      todo.push(resolve(dirname(file), `${m[1]}.ts`));
  }
  return {
    file: join(dir, relative(SRC, resolve(entry))).replace(/\.ts$/, '.js'),
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
