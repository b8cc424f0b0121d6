// Upstream's flowcontrol.Backoff as the kubelet uses it for CrashLoopBackOff and ImagePullBackOff.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  now?: () => number;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/**
 * Per-key exponential backoff: the first failure is retried at once, then initial, 2×, 4×… up to max.
 * A key untouched for more than 2×max starts over (a container that ran fine for a while is forgiven).
 */
export class Backoff {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.now = options.now ?? Date.now;
  }

  private expired(eventTime: number, entry: Entry): boolean {
    return eventTime - entry.lastUpdate > 2 * this.options.maxMs;
  }

  /** Records one more retry at eventTime (default now) and returns the new backoff. */
  next(key: string, eventTime = this.now()): number {
    const entry = this.entries.get(key);
    const backoffMs =
      !entry || this.expired(eventTime, entry)
        ? this.options.initialMs
        : Math.min(entry.backoffMs * 2, this.options.maxMs);
    this.entries.set(key, { backoffMs, lastUpdate: this.now() });
    return backoffMs;
  }

  /** The current backoff of key (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** true while less than the current backoff has passed since eventTime (e.g. when the container finished). */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) return false;
    return this.now() - eventTime < entry.backoffMs;
  }

  /** When the backoff that started at eventTime ends. */
  until(key: string, eventTime: number): number {
    return eventTime + this.get(key);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key with this prefix (a pod's containers when the pod goes away). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
