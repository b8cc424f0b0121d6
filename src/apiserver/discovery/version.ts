// What /version reports: the release whose API kubemu serves (1.33, src/api/release.ts), so kubectl and clients
// know fields up to it are accepted. kubectl 1.27–1.32 still work against it; kubectl only warns about the skew
// in `kubectl version`.
import type { Info } from 'kubernetes-types/version.js';
import { KUBE_GIT_VERSION, KUBE_MAJOR, KUBE_MINOR } from '../../api/release.js';

export { KUBE_GIT_VERSION, KUBE_MAJOR, KUBE_MINOR };

const GO_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

export interface VersionOptions {
  gitCommit?: string;
  buildDate?: string;
  platform?: string;
  runtime?: string;
}

export function versionInfo(opts: VersionOptions = {}): Info {
  return {
    major: KUBE_MAJOR,
    minor: KUBE_MINOR,
    gitVersion: KUBE_GIT_VERSION,
    gitCommit: opts.gitCommit ?? '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: opts.buildDate ?? '1970-01-01T00:00:00Z',
    // not Go: say honestly what runs the apiserver
    goVersion: opts.runtime ?? `node${process.versions.node}`,
    compiler: 'node',
    platform: opts.platform ?? `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
  };
}
