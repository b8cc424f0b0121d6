// upstream's version.CompareKubeAwareVersionStrings: v1 > v1beta2 > v1beta1 > v1alpha1 > anything else (by name).
// Discovery lists a CRD's versions in this order, the first being the preferred one.
const KUBE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

function rank(v: string): [number, number, number] | undefined {
  const m = KUBE.exec(v);
  if (!m) return undefined;
  const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
  return [Number(m[1]), stage, m[3] ? Number(m[3]) : 0];
}

/** negative when `a` comes first (has the higher priority) */
export function compareKubeAwareVersions(a: string, b: string): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra && !rb) return -1;
  if (!ra && rb) return 1;
  if (!ra || !rb) return a < b ? -1 : a > b ? 1 : 0;
  // GA first, then beta, then alpha; within a stage the higher major, then the higher minor
  if (ra[1] !== rb[1]) return rb[1] - ra[1];
  if (ra[0] !== rb[0]) return rb[0] - ra[0];
  return rb[2] - ra[2];
}

export function sortVersions(versions: readonly string[]): string[] {
  return [...versions].sort(compareKubeAwareVersions);
}
