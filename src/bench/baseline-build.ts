// A build of an older commit of this repository, for A/B benchmarks in the same run: the tree from
// `git archive`, compiled with that commit's own tsconfig by the current node_modules' tsc, cached by commit hash.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface BaselineBuild {
  /** the full commit hash */
  commit: string;
  /** the build's dist/ directory (its cmd/apiserver.js is what benchmarks start) */
  dist: string;
  /** whether this call compiled it (false: found in the cache) */
  built: boolean;
  /** dependency differences between the baseline's package.json and the current one (empty: the same) */
  depDifferences: string[];
}

export interface BaselineOptions {
  /** the repository the revision is resolved in, and whose node_modules the build uses */
  repoRoot: string;
  /** where builds are kept, one directory per commit hash */
  cacheDir: string;
  /** progress lines (the build takes a while) */
  log?: (line: string) => void;
}

/** The cache directory: $KUBEMU_BENCH_CACHE, else $XDG_CACHE_HOME/kubemu/bench-baseline, else ~/.cache/... */
export function defaultBaselineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBEMU_BENCH_CACHE) return env.KUBEMU_BENCH_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubemu', 'bench-baseline');
}

type Deps = Record<string, string>;

/** The names whose versions differ (or that only one side has) across dependencies and devDependencies. */
export function dependencyDifferences(
  baseline: { dependencies?: Deps; devDependencies?: Deps },
  current: { dependencies?: Deps; devDependencies?: Deps },
): string[] {
  const out: string[] = [];
  for (const field of ['dependencies', 'devDependencies'] as const) {
    const a = baseline[field] ?? {};
    const b = current[field] ?? {};
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[name] === b[name]) continue;
      out.push(`${field}.${name}: ${a[name] ?? '(none)'} → ${b[name] ?? '(none)'}`);
    }
  }
  return out;
}

function git(repoRoot: string, args: string[]): Buffer {
  return execFileSync('git', ['-C', repoRoot, ...args], {
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Points dir/node_modules at the current repository's node_modules (again: the cache may outlive a checkout). */
function linkNodeModules(dir: string, repoRoot: string): void {
  const link = join(dir, 'node_modules');
  try {
    lstatSync(link);
    rmSync(link, { force: true });
  } catch {
    // no link yet
  }
  symlinkSync(join(repoRoot, 'node_modules'), link, 'dir');
}

/**
 * Resolves `revision` to a commit and returns a build of it, compiling it once: the commit's tree is
 * extracted with `git archive` into a temporary directory beside the cache entry, built with
 * `tsc -p tsconfig.build.json`, then renamed into place, so an interrupted build never looks finished.
 */
export function prepareBaselineBuild(revision: string, opts: BaselineOptions): BaselineBuild {
  const log = opts.log ?? (() => undefined);
  let commit: string;
  try {
    commit = git(opts.repoRoot, ['rev-parse', '--verify', `${revision}^{commit}`])
      .toString()
      .trim();
  } catch {
    throw new Error(`baseline revision "${revision}" is not a commit of ${opts.repoRoot}`);
  }
  const dir = join(opts.cacheDir, commit);
  const current = JSON.parse(readFileSync(join(opts.repoRoot, 'package.json'), 'utf8')) as Parameters<
    typeof dependencyDifferences
  >[1];
  let built = false;
  if (!existsSync(join(dir, 'dist', 'cmd', 'apiserver.js'))) {
    mkdirSync(opts.cacheDir, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      log(`baseline ${commit.slice(0, 12)}: extracting and building in ${tmp}`);
      execFileSync('tar', ['-x', '-C', tmp], { input: git(opts.repoRoot, ['archive', commit]) });
      linkNodeModules(tmp, opts.repoRoot);
      const tsc = join(opts.repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: tmp, stdio: 'inherit' });
      // a commit whose build bundles dist/ (npm run build): the baseline runs as that commit's users ran it
      if (existsSync(join(tmp, 'scripts', 'bundle.mjs')))
        execFileSync(process.execPath, [join(tmp, 'scripts', 'bundle.mjs')], { cwd: tmp, stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
      built = true;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  linkNodeModules(dir, opts.repoRoot);
  const baselinePkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Parameters<
    typeof dependencyDifferences
  >[0];
  return {
    commit,
    dist: join(dir, 'dist'),
    built,
    depDifferences: dependencyDifferences(baselinePkg, current),
  };
}
