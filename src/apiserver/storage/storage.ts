// The storage interface: the apiserver's only view of durable state (SQLite embedded, or etcd).
import type { KubeObject } from '../../api/request.js';

/**
 * Objects are stored as JSON-compatible values. Every write gets the next value of one cluster-wide,
 * monotonically increasing resourceVersion; the store writes it into `metadata.resourceVersion` of
 * the objects it returns (as a decimal string), never into the caller's object.
 */
export interface StoredObject {
  key: string;
  object: KubeObject;
  /** the object's resourceVersion (its last write) */
  rv: number;
}

export interface ListOptions {
  /** at most this many items (0 or undefined: all) */
  limit?: number;
  /** exclusive: start after this key (from a previous page's `continueKey`) */
  startAfter?: string;
  /**
   * the resourceVersion of the list's first page (a continue token's): a store that keeps history (etcd) lists
   * its snapshot at that revision, or fails 'Gone' once compacted; one that does not lists its current state
   */
  atRV?: number;
  /**
   * upstream's resourceVersion="" (a consistent read): the list reflects every write acknowledged before it began.
   * A store whose reads come from a cache fed by a watch (etcd) first waits for the cache to reach the backend's
   * current revision; one whose writes update its reads synchronously (SQLite) is always consistent.
   */
  consistent?: boolean;
}

/**
 * A write's time to live (upstream's TTLFunc: Events get --event-ttl on every create and update). The store deletes
 * the object once it passes, as a delete of its own (watchers see DELETED): etcd through a lease the write is
 * attached to, SQLite by a sweep. A write without one clears what an earlier write set.
 */
export interface WriteOptions {
  ttlSeconds?: number;
}

export interface GetOptions {
  /** as ListOptions.consistent: a GET with resourceVersion="" */
  consistent?: boolean;
}

export interface ListResult {
  items: StoredObject[];
  /** the store's resourceVersion at the time of the list: watch from it to miss nothing */
  rv: number;
  /** set when there are more items: pass as `startAfter` */
  continueKey?: string;
  remaining?: number;
}

export type StorageEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StorageEvent {
  type: StorageEventType;
  key: string;
  /** the new object (for DELETED: the object as it was, with the delete's resourceVersion) */
  object: KubeObject;
  /** the object before this write (MODIFIED and DELETED) — lets watchers with selectors see an object leave */
  prevObject?: KubeObject;
  rv: number;
}

export interface StorageWatcher {
  stop(): void;
}

/**
 * Objects handed out (by reads, writes and watch events) may be shared with other callers and
 * watchers: callers must never mutate them — copy first.
 */
export interface Storage {
  get(key: string, opts?: GetOptions): Promise<StoredObject | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** fails with ApiError AlreadyExists-like `StorageError` when the key exists */
  create(key: string, object: KubeObject, opts?: WriteOptions): Promise<StoredObject>;
  /**
   * Replace the object at key if its current resourceVersion is `expectedRV`
   * (fails with a `StorageError` 'Conflict' otherwise, 'NotFound' if absent).
   */
  update(key: string, object: KubeObject, expectedRV: number, opts?: WriteOptions): Promise<StoredObject>;
  /** delete if the current resourceVersion is `expectedRV` (when given) */
  delete(key: string, expectedRV?: number): Promise<StoredObject>;
  /**
   * Every event on keys under prefix with rv > fromRV, in order, then live ones.
   * Throws a `StorageError` 'Gone' if fromRV is older than what the watch cache holds. `onEnd` is called when the
   * store ends the watch itself (its cache was reinitialised after a relist, as upstream's cacher terminates its
   * watchers): the client resumes from its last resourceVersion or relists.
   */
  watch(
    prefix: string,
    fromRV: number,
    onEvent: (ev: StorageEvent) => void,
    onEnd?: () => void,
  ): StorageWatcher;
  /** the newest resourceVersion written */
  currentRV(): number;
  /**
   * upstream's `stale` from the value transformer: the stored value was written with another encryption provider
   * or key than the one that writes now, so an update must rewrite it even when the object is unchanged
   */
  isStale?(key: string): boolean;
  /**
   * Resolves when the backend answers a read now (the apiserver's `etcd` health check); rejects with the reason.
   * etcd: a linearizable read, so a member without quorum fails it.
   */
  checkHealth?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `Timeout`: the backend did not answer within the request's deadline (upstream's 504); `Unavailable`: the backend
 * failed the request (etcd's own error, e.g. "etcdserver: request timed out", which upstream passes on as a 500).
 */
export type StorageErrorCode =
  'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'TooLarge' | 'Timeout' | 'Unavailable';

/**
 * The largest stored object (its JSON text). etcd refuses a request over its --max-request-bytes (1.5 MiB of
 * protobuf) with "etcdserver: request is too large"; our JSON is wordier than etcd's protobuf, so the limit is the
 * apiserver's body limit (3 MiB): whatever a client could send is stored, and nothing grown past it by patches
 * (which no other check bounds) can make a watch event or list item too big for the internal face's frames.
 */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;

/** Storage's own error; the registry turns it into an ApiError with the resource's name. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message?: string,
  ) {
    super(message ?? `${code}: ${key}`);
    this.name = 'StorageError';
  }
}
