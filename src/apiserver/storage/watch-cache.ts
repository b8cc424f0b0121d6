// The watch cache: a bounded, rv-ordered window of recent storage events that watchers resume from.
import type { StorageEvent } from './storage.js';

/**
 * A ring buffer of the newest `capacity` events. It holds every event with rv > `startRV`, so a
 * watch from any rv >= `startRV` can be served; older ones must relist (410 Gone upstream).
 */
export class WatchCache {
  private readonly ring: (StorageEvent | undefined)[];
  private head = 0;
  private count = 0;
  private start: number;

  constructor(
    readonly capacity: number,
    startRV = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`watch cache capacity must be >= 1, got ${capacity}`);
    this.ring = new Array<StorageEvent | undefined>(capacity);
    this.start = startRV;
  }

  /** Every event with rv > startRV is in the cache. */
  get startRV(): number {
    return this.start;
  }

  get size(): number {
    return this.count;
  }

  /** Append an event; its rv must be greater than every cached one. */
  push(ev: StorageEvent): void {
    if (this.count === this.capacity) {
      this.start = this.ring[this.head]!.rv;
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.ring[(this.head + this.count) % this.capacity] = ev;
    this.count++;
  }

  /**
   * Forget every event with rv <= `rv` (the store's history was compacted through it): a watch from before
   * it must relist, as after etcd's compaction.
   */
  dropThrough(rv: number): void {
    if (rv <= this.start) return;
    while (this.count > 0 && this.ring[this.head]!.rv <= rv) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    this.start = rv;
  }

  /** Forget every event: the store relisted at `rv`, and only watches from `rv` on can be served. */
  reset(rv: number): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.start = rv;
  }

  private at(i: number): StorageEvent {
    return this.ring[(this.head + i) % this.capacity]!;
  }

  /** Cached events with rv > fromRV whose key starts with prefix, oldest first. */
  since(fromRV: number, prefix = ''): StorageEvent[] {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv <= fromRV) lo = mid + 1;
      else hi = mid;
    }
    const out: StorageEvent[] = [];
    for (let i = lo; i < this.count; i++) {
      const ev = this.at(i);
      if (ev.key.startsWith(prefix)) out.push(ev);
    }
    return out;
  }
}
