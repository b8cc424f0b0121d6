// Which kubectl a bench runs: the plain binary a user installs, matching the server's minor version. The `kubectl`
// on this machine's PATH may be the Google Cloud SDK's version dispatcher (a Go program beside `kubectl.1.27` …
// `kubectl.1.33` that first asks the server for its version, then execs the matching one): every call through it
// pays an extra process and an extra request that a user's kubectl does not. When the `kubectl` on PATH has such
// siblings, the one of the server's major.minor is the plain kubectl; otherwise `kubectl` is already plain.
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface KubectlBinaries {
  /** what a user's kubectl is: the plain binary of the server's version (or `kubectl` itself when plain) */
  plain: string;
  /** the `kubectl` on PATH when it is a dispatcher in front of `plain`, else undefined */
  dispatcher?: string;
}

/** The first `name` on PATH, resolved through symlinks; undefined when there is none. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/**
 * The plain kubectl for a server of `gitVersion` (`v1.33.0`, `v1.33.0+kubemu`): `kubectl.<major>.<minor>` beside
 * the `kubectl` on PATH when that exists (the Cloud SDK's layout), else `kubectl` itself.
 */
export function kubectlBinaries(
  gitVersion: string,
  path = process.env.PATH ?? '',
  exists: (file: string) => boolean = existsSync,
): KubectlBinaries {
  const kubectl = onPath('kubectl', path);
  if (!kubectl) throw new Error('kubectl is not on PATH');
  const m = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  if (!m) return { plain: kubectl };
  const versioned = join(dirname(kubectl), `kubectl.${m[1]}.${m[2]}`);
  return exists(versioned) ? { plain: versioned, dispatcher: kubectl } : { plain: kubectl };
}
