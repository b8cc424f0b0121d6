import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBaselineCacheDir, dependencyDifferences, prepareBaselineBuild } from './baseline-build.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('dependencyDifferences', () => {
  it('lists changed, added and removed packages of both fields, and nothing when they match', () => {
    expect(
      dependencyDifferences(
        { dependencies: { ws: '^8.0.0', yaml: '^2.0.0' }, devDependencies: { vitest: '^1.0.0' } },
        { dependencies: { ws: '^8.1.0', x: '1' }, devDependencies: { vitest: '^1.0.0' } },
      ),
    ).toEqual([
      'dependencies.ws: ^8.0.0 → ^8.1.0',
      'dependencies.x: (none) → 1',
      'dependencies.yaml: ^2.0.0 → (none)',
    ]);
    expect(dependencyDifferences({ dependencies: { ws: '1' } }, { dependencies: { ws: '1' } })).toEqual([]);
  });
});

describe('defaultBaselineCacheDir', () => {
  it('prefers KUBEMU_BENCH_CACHE, then XDG_CACHE_HOME', () => {
    expect(defaultBaselineCacheDir({ KUBEMU_BENCH_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(defaultBaselineCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/kubemu/bench-baseline');
  });
});

describe('prepareBaselineBuild', () => {
  // a two-commit repository whose package.json and tsconfig look like ours, built with our node_modules' tsc
  let work: string;
  let repo: string;
  let first: string;
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repo, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@t',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@t',
      },
    })
      .toString()
      .trim();
  const commit = (version: string, deps: Record<string, string>): string => {
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ type: 'module', dependencies: deps }));
    writeFileSync(join(repo, 'src/cmd/apiserver.ts'), `export const version: string = '${version}';\n`);
    git('add', '-A');
    git('commit', '-qm', version);
    return git('rev-parse', 'HEAD');
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'kubemu-baseline-test-'));
    repo = join(work, 'repo');
    mkdirSync(join(repo, 'src/cmd'), { recursive: true });
    git('init', '-q');
    writeFileSync(join(repo, '.gitignore'), 'node_modules\ndist\n');
    writeFileSync(
      join(repo, 'tsconfig.build.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', outDir: 'dist', rootDir: 'src', types: [] } }),
    );
    first = commit('one', { ws: '^8.0.0' });
    commit('two', { ws: '^8.1.0' });
    symlinkSync(join(REPO, 'node_modules'), join(repo, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds the revision once, into the cache under its hash, and says how its dependencies differ', async () => {
    const cacheDir = join(work, 'cache');
    const a = prepareBaselineBuild(first.slice(0, 7), { repoRoot: repo, cacheDir });
    expect(a).toMatchObject({ commit: first, dist: join(cacheDir, first, 'dist'), built: true });
    expect(a.depDifferences).toEqual(['dependencies.ws: ^8.0.0 → ^8.1.0']);
    const mod = (await import(join(a.dist, 'cmd/apiserver.js'))) as { version: string };
    expect(mod.version).toBe('one');
    expect(existsSync(join(cacheDir, first, 'node_modules', 'typescript'))).toBe(true);
    // no temporary directory left beside the entry; a second call finds the build
    expect(readdirSync(cacheDir)).toEqual([first]);
    expect(prepareBaselineBuild(first, { repoRoot: repo, cacheDir }).built).toBe(false);
  });

  it('names a revision that does not exist', () => {
    expect(() => prepareBaselineBuild('no-such-rev', { repoRoot: repo, cacheDir: join(work, 'c2') })).toThrow(
      /baseline revision "no-such-rev" is not a commit/,
    );
  });
});
