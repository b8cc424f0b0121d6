// Completion indexes of Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go): ordered intervals as
// `status.completedIndexes` / `failedIndexes` write them ("1,3-5"), the index annotation, label and env variable.
import type { Container, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const UNKNOWN_INDEX = -1;
/** names.MaxGeneratedNameLength: 63 minus the 5 random characters */
const MAX_GENERATED_NAME_LENGTH = 58;

export interface Interval {
  first: number;
  last: number;
}

/** Sorted, non-overlapping, non-adjacent intervals of indexes. */
export class OrderedIntervals {
  constructor(readonly intervals: readonly Interval[] = []) {}

  /** parseIndexesFromString: corrupt pieces are skipped, indexes ≥ completions dropped */
  static parse(text: string | undefined, completions: number): OrderedIntervals {
    if (!text) return new OrderedIntervals();
    const out: Interval[] = [];
    for (const piece of text.split(',')) {
      const limits = piece.split('-');
      const first = goAtoi(limits[0]);
      if (first === undefined) continue;
      if (first >= completions) break;
      let last = first;
      if (limits.length > 1) {
        const l = goAtoi(limits[1]);
        if (l === undefined) continue;
        last = Math.min(l, completions - 1);
      }
      const prev = out[out.length - 1];
      if (prev && prev.last === first - 1) prev.last = last;
      else out.push({ first, last });
    }
    return new OrderedIntervals(out);
  }

  /** withOrderedIndexes: these plus `indexes` (sorted ascending) */
  withIndexes(indexes: readonly number[]): OrderedIntervals {
    return this.merge(new OrderedIntervals(indexes.map((i) => ({ first: i, last: i }))));
  }

  merge(other: OrderedIntervals): OrderedIntervals {
    const out: Interval[] = [];
    const push = (iv: Interval): void => {
      const last = out[out.length - 1];
      if (!last || iv.first > last.last + 1) out.push({ ...iv });
      else if (last.last < iv.last) last.last = iv.last;
    };
    const a = this.intervals;
    const b = other.intervals;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) push(a[i].first < b[j].first ? a[i++] : b[j++]);
    while (i < a.length) push(a[i++]);
    while (j < b.length) push(b[j++]);
    return new OrderedIntervals(out);
  }

  total(): number {
    return this.intervals.reduce((n, iv) => n + iv.last - iv.first + 1, 0);
  }

  has(ix: number): boolean {
    return this.intervals.some((iv) => iv.first <= ix && ix <= iv.last);
  }

  /** "1,3-5": two adjacent indexes are written "1,2" as upstream does */
  toString(): string {
    return this.intervals
      .map((iv) =>
        iv.last === iv.first ? `${iv.first}` : `${iv.first}${iv.last === iv.first + 1 ? ',' : '-'}${iv.last}`,
      )
      .join(',');
  }
}

/** strconv.Atoi: an optional sign and digits, nothing else */
function goAtoi(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  return Number(s);
}

/** the pod's completion index from its annotation, or UNKNOWN_INDEX */
export function completionIndex(pod: Pod): number {
  const n = goAtoi(pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION]);
  return n === undefined || n < 0 ? UNKNOWN_INDEX : n;
}

export function indexesOf(pods: readonly Pod[]): number[] {
  const set = new Set<number>();
  for (const p of pods) {
    const ix = completionIndex(p);
    if (ix !== UNKNOWN_INDEX) set.add(ix);
  }
  return [...set].sort((a, b) => a - b);
}

/** firstPendingIndexes: the `count` lowest indexes below `completions` not in `nonPending` */
export function firstPendingIndexes(
  nonPending: OrderedIntervals,
  count: number,
  completions: number,
): number[] {
  const out: number[] = [];
  let candidate = 0;
  for (const iv of nonPending.intervals) {
    for (; candidate < completions && out.length < count && candidate < iv.first; candidate++)
      out.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && out.length < count; candidate++) out.push(candidate);
  return out;
}

/** podGenerateNameWithIndex: `<job>-<index>-`, the job name cut so the generated name stays a DNS label */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  let base = `${jobName}${suffix}`;
  if (base.length > MAX_GENERATED_NAME_LENGTH)
    base = base.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix;
  return base;
}

/** addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the index label (PodIndexLabel is GA) */
export function addCompletionIndexEnv(template: PodTemplateSpec): void {
  const add = (c: Container): void => {
    if (c.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) return;
    c.env = [
      ...(c.env ?? []),
      {
        name: COMPLETION_INDEX_ENV,
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_ANNOTATION}']` } },
      },
    ];
  };
  for (const c of template.spec?.initContainers ?? []) add(c);
  for (const c of template.spec?.containers ?? []) add(c);
}

/** the non-negative int32 value of an annotation, 0 when missing or malformed (parseInt32) */
export function annotationCount(pod: Pod | undefined, key: string): number {
  const n = goAtoi(pod?.metadata?.annotations?.[key]);
  return n === undefined || n < 0 || n > 2 ** 31 - 1 ? 0 : n;
}

export const indexFailureCount = (pod: Pod | undefined): number =>
  annotationCount(pod, INDEX_FAILURE_COUNT_ANNOTATION);
export const indexAbsoluteFailureCount = (pod: Pod | undefined): number =>
  annotationCount(pod, INDEX_FAILURE_COUNT_ANNOTATION) +
  annotationCount(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
