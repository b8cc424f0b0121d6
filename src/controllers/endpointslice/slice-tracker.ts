// Remembers the controller's own slice writes so a sync never acts on a cache that has not seen them yet (upstream endpointSliceTracker).
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { keyOf, type Store } from '../../client/index.js';

const DECIMAL = /^\d+$/;

function atLeast(rv: string | undefined, want: string): boolean {
  if (rv === undefined) return false;
  if (DECIMAL.test(rv) && DECIMAL.test(want)) return BigInt(rv) >= BigInt(want);
  return rv === want;
}

export class SliceTracker {
  /** service key → slice key → the resourceVersion we wrote, or undefined for a slice we deleted */
  private readonly written = new Map<string, Map<string, string | undefined>>();

  wrote(serviceKey: string, slice: EndpointSlice): void {
    this.entries(serviceKey).set(keyOf(slice), slice.metadata?.resourceVersion ?? '');
  }

  deleted(serviceKey: string, slice: EndpointSlice): void {
    this.entries(serviceKey).set(keyOf(slice), undefined);
  }

  /** the cache saw the slice deleted: whatever we wrote to it is history (else a slice deleted by someone
   *  else before our cache saw our write would keep the Service stale for ever) */
  observedDeletion(serviceKey: string, slice: EndpointSlice): void {
    const entries = this.written.get(serviceKey);
    entries?.delete(keyOf(slice));
    if (entries?.size === 0) this.written.delete(serviceKey);
  }

  forget(serviceKey: string): void {
    this.written.delete(serviceKey);
  }

  /** true while the cache lacks one of our writes; writes the cache has caught up with are forgotten */
  stale(serviceKey: string, cache: Store<EndpointSlice>): boolean {
    const entries = this.written.get(serviceKey);
    if (!entries) return false;
    for (const [sliceKey, rv] of entries) {
      const cached = cache.get(sliceKey);
      const caughtUp = rv === undefined ? !cached : atLeast(cached?.metadata?.resourceVersion, rv);
      if (caughtUp) entries.delete(sliceKey);
    }
    if (entries.size === 0) this.written.delete(serviceKey);
    return entries.size > 0;
  }

  private entries(serviceKey: string): Map<string, string | undefined> {
    let m = this.written.get(serviceKey);
    if (!m) this.written.set(serviceKey, (m = new Map<string, string | undefined>()));
    return m;
  }
}
