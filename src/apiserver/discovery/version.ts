// What /version reports: a Kubernetes minor in the middle of the kubectl versions kubemu supports (1.27–1.33),
// so no supported kubectl is more than three minors away. kubectl only warns about skew in `kubectl version`.
import type { Info } from 'kubernetes-types/version.js';

export const KUBE_MAJOR = '1';
export const KUBE_MINOR = '30';
/** `+kubemu` is build metadata (as k3s's `+k3s1`): semver-equal to v1.30.0, unlike a `-kubemu` pre-release */
export const KUBE_GIT_VERSION = `v${KUBE_MAJOR}.${KUBE_MINOR}.0+kubemu`;

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
