// An ordered index of the store's keys, so prefix lists with pagination need no sort per request.

/** First index in `keys` whose key is >= `key` (binary search). */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface KeyRange {
  keys: string[];
  /** keys under the prefix after the returned ones */
  remaining: number;
}

/**
 * Keys kept sorted by JS string order (UTF-16 code units; equal to byte order for the ASCII keys
 * Kubernetes uses). Inserting is a binary search plus a splice: a memmove of the pointer array, cheap
 * next to the fsync every write pays anyway.
 */
export class SortedKeys {
  private readonly keys: string[];

  constructor(initial: Iterable<string> = []) {
    this.keys = [...new Set(initial)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  get size(): number {
    return this.keys.length;
  }

  insert(key: string): void {
    const i = lowerBound(this.keys, key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  remove(key: string): void {
    const i = lowerBound(this.keys, key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  /** Keys starting with `prefix`, strictly after `startAfter`, at most `limit` of them (0: all). */
  range(prefix: string, startAfter?: string, limit = 0): KeyRange {
    const keys = this.keys;
    let start = lowerBound(keys, prefix);
    if (startAfter !== undefined && startAfter >= prefix) {
      start = lowerBound(keys, startAfter);
      if (keys[start] === startAfter) start++;
    }
    // Keys under a prefix are contiguous, so their end is a second binary search, not a scan.
    let lo = start;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid].startsWith(prefix)) lo = mid + 1;
      else hi = mid;
    }
    const end = lo;
    const stop = limit > 0 ? Math.min(end, start + limit) : end;
    return { keys: keys.slice(start, stop), remaining: end - stop };
  }
}
