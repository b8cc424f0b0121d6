// The Job's back-off before replacing failed pods (upstream backoff_utils.go): 10 s doubling to 6 min after each
// consecutive failure, reset by a success. kubemu scales both by the controller's `podFailureBackoffMs`.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { indexAbsoluteFailureCount } from './indexes.js';

export interface BackoffRecord {
  key: string;
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  update(record: BackoffRecord): void {
    this.records.set(record.key, { ...record });
  }

  remove(key: string): void {
    this.records.delete(key);
  }

  /** newBackoffRecord: the stored record advanced by the pods that finished since the last sync */
  next(key: string, newSucceeded: Pod[], newFailed: Pod[]): BackoffRecord {
    const old = this.records.get(key);
    const record: BackoffRecord = old ? { ...old } : { key, failuresAfterLastSuccess: 0 };
    const succeeded = newSucceeded.map(finishedTime).sort((a, b) => a - b);
    const failed = newFailed.map(finishedTime).sort((a, b) => a - b);
    if (succeeded.length === 0) {
      if (failed.length === 0) return record;
      record.failuresAfterLastSuccess += failed.length;
      record.lastFailureTime = failed[failed.length - 1];
      return record;
    }
    record.failuresAfterLastSuccess = 0;
    delete record.lastFailureTime;
    const lastSuccess = succeeded[succeeded.length - 1];
    for (let i = failed.length - 1; i >= 0 && failed[i] > lastSuccess; i--) {
      record.lastFailureTime ??= failed[i];
      record.failuresAfterLastSuccess++;
    }
    return record;
  }
}

/** getFinishedTime: the last container's finish, else Ready=False's transition, else deletion, else creation */
export function finishedTime(pod: Pod): number {
  const fromContainers = containersFinishedAt(pod);
  if (fromContainers !== undefined) return fromContainers;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  const del = pod.metadata?.deletionTimestamp;
  if (del) return Date.parse(del) - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return Date.parse(pod.metadata?.creationTimestamp ?? '') || 0;
}

function containersFinishedAt(pod: Pod): number | undefined {
  const sidecars = new Set(
    (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []).filter((s) => sidecars.has(s.name)),
  ];
  let latest: number | undefined;
  for (const s of statuses) {
    const at = s.state?.terminated?.finishedAt;
    if (!at) return undefined;
    latest = Math.max(latest ?? 0, Date.parse(at));
  }
  return latest;
}

/** getRemainingTimeForFailuresCount: base · 2^(failures-1), capped, minus the time since the last failure */
export function remainingBackoff(
  failures: number,
  lastFailureTime: number | undefined,
  now: number,
  baseMs: number,
  maxMs: number,
): number {
  if (failures === 0 || lastFailureTime === undefined) return 0;
  let backoff = baseMs;
  for (let i = 1; i < failures; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = now - lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

/** getRemainingTimePerIndex: the back-off of an index whose last failed pod is `lastFailed` */
export function remainingBackoffPerIndex(
  lastFailed: Pod | undefined,
  now: number,
  baseMs: number,
  maxMs: number,
): number {
  if (!lastFailed) return 0;
  return remainingBackoff(
    indexAbsoluteFailureCount(lastFailed) + 1,
    finishedTime(lastFailed),
    now,
    baseMs,
    maxMs,
  );
}
