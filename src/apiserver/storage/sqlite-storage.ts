// The embedded storage (the k3s/kine pattern): SQLite in WAL mode with group commit, an in-memory
// copy of every object for reads, and a persisted event history so watches survive restarts.
import { chmodSync, existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { KubeObject } from '../../api/request.js';
import type { Clock } from '../../util/clock.js';
import { yieldEventLoop } from '../../util/event-loop.js';
import {
  decodeChunks,
  encodeChunks,
  hasMoreNodesThan,
  Slicer,
  stringifyInSlices,
  textOfChunks,
  type JsonChunk,
} from '../../util/json-slices.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { SortedKeys } from './sorted-keys.js';
import {
  StorageError,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type WriteOptions,
  type StorageWatcher,
  type StoredObject,
} from './storage.js';
import { WatchCache } from './watch-cache.js';
import { StorageWatchers } from './watchers.js';
import {
  decode,
  deepFreeze,
  encodeText,
  sealValue,
  tooLarge,
  unsealValue,
  withRV,
  type StoredValue,
} from './stored-values.js';
import type { ValueTransformer } from './encryption/encryption-at-rest.js';
import { PRIVATE_FILE_MODE } from '../../util/private-files.js';

export const DEFAULT_WATCH_CACHE_SIZE = 10_000;

export interface SqliteStorageOptions {
  /** database file; ':memory:' for unit tests (nothing survives close) */
  path: string;
  logger?: Logger;
  /** events kept for resuming watchers, in memory and in the `events` table (default 10,000) */
  watchCacheSize?: number;
  /**
   * Keep a batch open this long to gather more writes (default 0: commit as soon as the current
   * event-loop turn's I/O callbacks have run, via setImmediate). Timers come from `clock`.
   */
  commitDelayMs?: number;
  clock?: Clock;
  /** deep-freeze every object handed out, so a caller that mutates one throws (tests) */
  freezeObjects?: boolean;
  /**
   * encryption at rest (--encryption-provider-config): every stored value — objects and the history's previous
   * objects — goes through it; without one, values are their JSON text
   */
  transformer?: ValueTransformer;
  /** how often objects written with a TTL are checked for expiry (default 1 s, as kine's TTL loop) */
  ttlSweepMs?: number;
}

export interface SqliteStorageStats {
  /** transactions committed */
  commits: number;
  /** writes acknowledged (all batches) */
  writes: number;
  /** batches that failed to commit */
  failedCommits: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  rv INTEGER NOT NULL,
  value TEXT NOT NULL
);
-- The watch history (like etcd's): the newest events, so a watcher resuming after a restart gets what it missed.
-- Rows hold the previous object only (see loadHistory); a DELETED event's object is prev with the delete's rv.
CREATE TABLE IF NOT EXISTS events (
  rv INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  prev_rv INTEGER,
  prev TEXT
);
-- Objects written with a TTL (Events: --event-ttl) and when they expire, in ms since the epoch: the sweep deletes
-- them as etcd deletes the keys of an expired lease.
CREATE TABLE IF NOT EXISTS ttl (
  key TEXT PRIMARY KEY,
  expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', 1), ('rv', 0);
`;

interface PendingOp {
  resolve: (stored: StoredObject) => void;
  reject: (err: unknown) => void;
  result?: StoredObject;
  error?: StorageError;
}

/** Writes gathered into one open transaction, committed together. */
interface Batch {
  ops: PendingOp[];
  events: StorageEvent[];
  /** this batch's view of changed keys (null: deleted) — decides later ops of the same batch */
  overlay: Map<string, StoredObject | null>;
  /** this batch's expiries (null: the key has none now) */
  ttlOverlay: Map<string, number | null>;
  /** a SQL failure: the whole batch rolls back and every op rejects */
  failure?: unknown;
  /** the rv the store will be at once this batch commits */
  lastRV: number;
}

interface EventRow {
  rv: number;
  type: StorageEvent['type'];
  key: string;
  prev_rv: number | null;
  /** text, or bytes when encrypted at rest */
  prev: string | Buffer | null;
}

/** what to do about a state database that is empty or unreadable */
function recovery(path: string): string {
  return (
    `Restore ${basename(path)} (with its -wal file, if any) from a backup into ${dirname(path)}; ` +
    `or, to start over with an empty cluster, delete ${path}* and start again`
  );
}

/** a SQLite failure as `SQLITE_FULL: database or disk is full`, so the client's 500 says what went wrong */
function describeSqliteError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && code.startsWith('SQLITE_') ? `${code}: ${message}` : message;
}

/** Objects whose JSON is longer than this are encoded a step at a time, the event loop running in between. */
const LARGE_TEXT = 256 * 1024;

/** A write's object encoded ahead of the write: its stored text and a private copy of it. */
interface Encoded {
  text: string;
  copy: KubeObject;
}

/** the JSON of the object a write replaces, when encoded ahead (it is reused if that object is still current) */
interface PrevHint {
  object: KubeObject;
  text: string;
}

/**
 * Objects with more nodes than this (a 30,000-key ConfigMap) are encoded and copied in slices (json-slices.ts):
 * their JSON.stringify and JSON.parse are each a 30–100 ms turn.
 */
const LARGE_NODES = 2000;

/**
 * Storage on SQLite with one cluster-wide resourceVersion that only grows (kept in `meta`, so it
 * survives deletes and restarts). A write's promise resolves only after its transaction committed
 * with `synchronous=FULL`; writes arriving in the same event-loop turn share one transaction (group
 * commit), so 32 concurrent writers pay one fsync, not 32.
 *
 * Reads (get, list) and watches are served from memory: every object is kept decoded, committed
 * state only. **Objects handed out (by get, list, create, update, delete and watch events) are shared
 * between callers and watchers: never mutate them** — copy first (`structuredClone`).
 */
export class SqliteStorage implements Storage {
  private readonly log: Logger;
  private readonly objects = new Map<string, StoredObject>();
  private readonly keys: SortedKeys;
  private readonly cache: WatchCache;
  private readonly watchers: StorageWatchers;
  private readonly commitDelayMs: number;
  private readonly clock: Clock | undefined;
  private readonly freeze: boolean;
  /** the newest committed rv */
  private committedRV: number;
  /** the newest rv handed to a write (a failed batch's rvs are skipped, never reused in-process) */
  private assignedRV: number;
  /** events rows with rv <= this were trimmed */
  private trimmedThrough: number;
  private batch: Batch | undefined;
  private cancelCommit: (() => void) | undefined;
  private closed = false;
  private readonly counters: SqliteStorageStats = { commits: 0, writes: 0, failedCommits: 0 };
  private readonly transformer: ValueTransformer | undefined;
  /** keys whose stored value was read with other than the writing provider: rewritten even when unchanged */
  private readonly staleKeys = new Set<string>();

  private readonly stmt: {
    put: Database.Statement<[string, number, StoredValue]>;
    del: Database.Statement<[string]>;
    event: Database.Statement<[number, string, string, number | null, StoredValue | null]>;
    setRV: Database.Statement<[number]>;
    trim: Database.Statement<[number]>;
    putTtl: Database.Statement<[string, number]>;
    delTtl: Database.Statement<[string]>;
  };
  /** key → when it expires (ms), for the keys written with a TTL */
  private readonly expiries = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    private readonly db: Database.Database,
    opts: SqliteStorageOptions,
  ) {
    this.log = (opts.logger ?? silentLogger()).child({ module: 'sqlite-storage' });
    this.commitDelayMs = opts.commitDelayMs ?? 0;
    this.clock = opts.clock;
    this.freeze = opts.freezeObjects ?? false;
    this.transformer = opts.transformer;
    const cacheSize = opts.watchCacheSize ?? DEFAULT_WATCH_CACHE_SIZE;

    db.exec(SCHEMA);
    this.stmt = {
      put: db.prepare(
        'INSERT INTO kv (key, rv, value) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET rv = excluded.rv, value = excluded.value',
      ),
      del: db.prepare('DELETE FROM kv WHERE key = ?'),
      event: db.prepare('INSERT INTO events (rv, type, key, prev_rv, prev) VALUES (?, ?, ?, ?, ?)'),
      setRV: db.prepare("UPDATE meta SET value = ? WHERE name = 'rv'"),
      trim: db.prepare('DELETE FROM events WHERE rv <= ?'),
      putTtl: db.prepare(
        'INSERT INTO ttl (key, expires) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires = excluded.expires',
      ),
      delTtl: db.prepare('DELETE FROM ttl WHERE key = ?'),
    };
    for (const row of db.prepare('SELECT key, expires FROM ttl').all() as { key: string; expires: number }[])
      this.expiries.set(row.key, row.expires);
    this.sweeper = setInterval(() => this.sweepExpired(), opts.ttlSweepMs ?? 1_000);
    this.sweeper.unref();

    const t0 = performance.now();
    for (const row of db.prepare('SELECT key, rv, value FROM kv').iterate() as IterableIterator<{
      key: string;
      rv: number;
      value: StoredValue;
    }>) {
      const { text, stale } = this.unseal(row.key, row.value);
      if (stale) this.staleKeys.add(row.key);
      this.objects.set(row.key, this.handOut({ key: row.key, rv: row.rv, object: decode(text, row.rv) }));
    }
    this.keys = new SortedKeys(this.objects.keys());

    const metaRV = (db.prepare("SELECT value FROM meta WHERE name = 'rv'").get() as { value: number }).value;
    const maxKV = (db.prepare('SELECT max(rv) AS rv FROM kv').get() as { rv: number | null }).rv ?? 0;
    const maxEvent = (db.prepare('SELECT max(rv) AS rv FROM events').get() as { rv: number | null }).rv ?? 0;
    this.committedRV = this.assignedRV = Math.max(metaRV, maxKV, maxEvent);

    const newestFirst = this.readableHistory(
      db
        .prepare('SELECT rv, type, key, prev_rv, prev FROM events ORDER BY rv DESC LIMIT ?')
        .all(cacheSize) as EventRow[],
    );
    // Without history the window starts now; with it, just before its oldest event.
    const startRV = newestFirst.length > 0 ? newestFirst[newestFirst.length - 1].rv - 1 : this.committedRV;
    this.trimmedThrough = startRV;
    this.cache = new WatchCache(cacheSize, startRV);
    this.watchers = new StorageWatchers(this.cache, this.log);
    this.loadHistory(newestFirst);
    this.log.info(
      {
        path: db.name,
        objects: this.objects.size,
        events: newestFirst.length,
        rv: this.committedRV,
        ms: Math.round(performance.now() - t0),
        ...(this.transformer ? { encryptionAtRest: true, staleValues: this.staleKeys.size } : {}),
      },
      'storage opened',
    );
  }

  /**
   * Open (or create) the database. One that exists but is empty or not a readable SQLite database is refused,
   * with how to recover: SQLite would otherwise start an empty cluster over it, and every object is gone.
   */
  static open(opts: SqliteStorageOptions): SqliteStorage {
    if (opts.path !== ':memory:' && statSync(opts.path, { throwIfNoEntry: false })?.size === 0) {
      // a database is never empty once created: opening it writes its first page
      throw new Error(
        `refusing to start on ${opts.path}: the file is empty (0 bytes), so the cluster it held is gone. ${recovery(opts.path)}`,
      );
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(opts.path);
      // SQLite creates the database with the umask's mode, and its -wal and -shm files with the database's: 0600
      // before anything is written (tightening what an older version left too)
      if (opts.path !== ':memory:')
        for (const file of [opts.path, `${opts.path}-wal`, `${opts.path}-shm`])
          if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      return new SqliteStorage(db, opts);
    } catch (err) {
      db?.close();
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new Error(
          `refusing to start on ${opts.path}: it cannot be read (${code}: ${(err as Error).message}). ${recovery(opts.path)}`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Rebuild watch events from the persisted history. Rows keep only the previous object: an event's
   * new object is the next event's prev on the same key, or the live object if none is newer, so
   * walking newest to oldest rebuilds it — sharing one decoded copy between the two events.
   */
  private loadHistory(newestFirst: (EventRow & { prev: string | null })[]): void {
    const newerPrev = new Map<string, KubeObject | undefined>();
    const events: StorageEvent[] = [];
    for (const { rv, type, key, prev, prev_rv } of newestFirst) {
      const prevObject = prev !== null && prev_rv !== null ? this.handOut(decode(prev, prev_rv)) : undefined;
      let object: KubeObject | undefined;
      if (type === 'DELETED') object = prevObject && this.handOut(withRV(prevObject, rv));
      else if (newerPrev.has(key)) object = newerPrev.get(key);
      else if (this.objects.get(key)?.rv === rv) object = this.objects.get(key)!.object;
      if (!object) throw new Error(`storage history is inconsistent at resourceVersion ${rv} (${key})`);
      newerPrev.set(key, prevObject);
      events.push(prevObject ? { type, key, rv, object, prevObject } : { type, key, rv, object });
    }
    for (let i = events.length - 1; i >= 0; i--) this.cache.push(events[i]);
  }

  /**
   * The history rows with their previous objects as text, newest first, up to the first that does not decrypt: a
   * key since removed from the encryption configuration (rotated away from) leaves older history unreadable, which
   * is then as good as compacted — a watch resuming from before it gets 410 Expired, as after etcd's compaction.
   */
  private readableHistory(newestFirst: EventRow[]): (EventRow & { prev: string | null })[] {
    const readable: (EventRow & { prev: string | null })[] = [];
    for (const row of newestFirst) {
      if (row.prev === null || (typeof row.prev === 'string' && !this.transformer)) {
        readable.push(row as EventRow & { prev: string | null });
        continue;
      }
      try {
        readable.push({ ...row, prev: this.unseal(row.key, row.prev).text });
      } catch (err) {
        this.log.warn(
          { rv: row.rv, key: row.key, err: (err as Error).message },
          'watch history from this resourceVersion back does not decrypt with the encryption configuration: it is dropped (watches from before it get 410 Expired)',
        );
        break;
      }
    }
    return readable;
  }

  private unseal(key: string, value: StoredValue): { text: string; stale: boolean } {
    return unsealValue(this.transformer, key, value);
  }

  private seal(key: string, text: string): StoredValue {
    return sealValue(this.transformer, key, text);
  }

  /**
   * upstream's `stale` from the storage's transformer: the stored value was written with another provider or key
   * than the one that writes now (key rotation), so an update must write it even when the object is unchanged.
   */
  isStale(key: string): boolean {
    return this.staleKeys.has(key);
  }

  private handOut<T>(value: T): T {
    return this.freeze ? deepFreeze(value) : value;
  }

  get(key: string): Promise<StoredObject | undefined> {
    return Promise.resolve(this.objects.get(key));
  }

  list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const { keys, remaining } = this.keys.range(prefix, opts.startAfter, opts.limit ?? 0);
    const items = keys.map((k) => this.objects.get(k)!);
    const result: ListResult = { items, rv: this.committedRV };
    if (remaining > 0 && items.length > 0) {
      result.continueKey = items[items.length - 1].key;
      result.remaining = remaining;
    }
    return Promise.resolve(result);
  }

  currentRV(): number {
    return this.committedRV;
  }

  stats(): SqliteStorageStats {
    return { ...this.counters };
  }

  create(key: string, object: KubeObject, opts: WriteOptions = {}): Promise<StoredObject> {
    const ttl = opts.ttlSeconds;
    const decide = (current: StoredObject | undefined): StorageEvent['type'] => {
      if (current) throw new StorageError('AlreadyExists', key, `${key} already exists`);
      return 'ADDED';
    };
    if (hasMoreNodesThan(object, LARGE_NODES)) {
      return this.encodeInSlices(key, object).then((encoded) =>
        encoded instanceof Error
          ? Promise.reject(encoded)
          : this.write(key, decide, encoded.text, encoded, undefined, ttl),
      );
    }
    const text = encodeText(key, object);
    if (text instanceof Error) return Promise.reject(text);
    if (text.length < LARGE_TEXT) return this.write(key, decide, text, undefined, undefined, ttl);
    return this.encodeLarge(text).then((encoded) =>
      this.write(key, decide, encoded.text, encoded, undefined, ttl),
    );
  }

  /**
   * An object of many nodes: its text, its private copy and the replaced object's text, each built a slice at a
   * time. The same text and copy as encodeText and decode give.
   */
  private async encodeInSlices(
    key: string,
    object: KubeObject,
    prevKey?: string,
  ): Promise<(Encoded & { prev?: PrevHint }) | Error> {
    const slicer = new Slicer();
    let chunks: JsonChunk[];
    try {
      chunks = (await encodeChunks(object, slicer))!;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
    const text = await textOfChunks(chunks, slicer);
    const error = tooLarge(key, text);
    if (error) return error;
    const copy = (await decodeChunks(chunks, slicer)) as KubeObject;
    const before = prevKey === undefined ? undefined : this.objects.get(prevKey);
    if (!before) return { text, copy };
    const prevText = (await stringifyInSlices(before.object, slicer))!;
    return { text, copy, prev: { object: before.object, text: prevText } };
  }

  /**
   * A megabyte object's JSON takes tens of milliseconds to write and as many to read back: each in an
   * event-loop turn of its own, and the replaced object's JSON too, before the write proper.
   */
  private async encodeLarge(text: string, prevKey?: string): Promise<Encoded & { prev?: PrevHint }> {
    await yieldEventLoop();
    const copy = JSON.parse(text) as KubeObject;
    const before = prevKey === undefined ? undefined : this.objects.get(prevKey);
    if (!before) return { text, copy };
    await yieldEventLoop();
    const prev = { object: before.object, text: JSON.stringify(before.object) };
    await yieldEventLoop();
    return { text, copy, prev };
  }

  update(
    key: string,
    object: KubeObject,
    expectedRV: number,
    opts: WriteOptions = {},
  ): Promise<StoredObject> {
    const ttl = opts.ttlSeconds;
    if (hasMoreNodesThan(object, LARGE_NODES)) {
      return this.encodeInSlices(key, object, key).then((encoded) =>
        encoded instanceof Error
          ? Promise.reject(encoded)
          : this.write(key, this.updateDecision(key, expectedRV), encoded.text, encoded, encoded.prev, ttl),
      );
    }
    const text = encodeText(key, object);
    if (text instanceof Error) return Promise.reject(text);
    if (text.length >= LARGE_TEXT) {
      return this.encodeLarge(text, key).then((encoded) =>
        this.write(key, this.updateDecision(key, expectedRV), encoded.text, encoded, encoded.prev, ttl),
      );
    }
    return this.write(key, this.updateDecision(key, expectedRV), text, undefined, undefined, ttl);
  }

  /** when `key` expires as of `batch` (the open batch's writes first), undefined when it has no TTL */
  private expiryOf(key: string, batch?: Batch): number | undefined {
    const overlaid = batch?.ttlOverlay.get(key);
    if (overlaid !== undefined) return overlaid ?? undefined;
    return this.expiries.get(key);
  }

  /**
   * Deletes what has expired, each with a delete of its own (watchers see DELETED), as etcd deletes an expired
   * lease's keys. A key written again meanwhile has a new expiry, or none, and stays.
   */
  private sweepExpired(): void {
    if (this.closed || this.expiries.size === 0) return;
    const now = this.clock?.now() ?? Date.now();
    for (const [key, expires] of this.expiries) {
      if (expires > now) continue;
      this.write(key, (current) => {
        const at = this.expiryOf(key, this.batch);
        if (!current || at === undefined || at > now)
          throw new StorageError('Conflict', key, `${key} was written again: not expired`);
        return 'DELETED';
      }).catch((err: unknown) => {
        if (!(err instanceof StorageError)) this.log.warn({ err, key }, 'expired object not deleted');
      });
    }
  }

  private updateDecision(
    key: string,
    expectedRV: number,
  ): (current: StoredObject | undefined) => StorageEvent['type'] {
    return (current) => {
      if (!current) throw new StorageError('NotFound', key, `${key} not found`);
      if (current.rv !== expectedRV) {
        throw new StorageError(
          'Conflict',
          key,
          `${key}: resourceVersion ${expectedRV} is stale, the object is at ${current.rv}`,
        );
      }
      return 'MODIFIED';
    };
  }

  delete(key: string, expectedRV?: number): Promise<StoredObject> {
    return this.write(key, (current) => {
      if (!current) throw new StorageError('NotFound', key, `${key} not found`);
      if (expectedRV !== undefined && current.rv !== expectedRV) {
        throw new StorageError(
          'Conflict',
          key,
          `${key}: resourceVersion ${expectedRV} is stale, the object is at ${current.rv}`,
        );
      }
      return 'DELETED';
    });
  }

  /**
   * One write inside the open batch: `decide` sees the key's state as of the earlier writes of this
   * batch and either throws a StorageError or names the event. The promise settles after COMMIT.
   */
  private write(
    key: string,
    decide: (current: StoredObject | undefined) => StorageEvent['type'],
    text?: string,
    encoded?: Encoded,
    prevHint?: PrevHint,
    ttlSeconds?: number,
  ): Promise<StoredObject> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    const batch = this.batch ?? this.begin();
    return new Promise<StoredObject>((resolve, reject) => {
      const op: PendingOp = { resolve, reject };
      batch.ops.push(op);
      if (batch.failure !== undefined) return;
      const overlaid = batch.overlay.get(key);
      const current = overlaid === null ? undefined : (overlaid ?? this.objects.get(key));
      let type: StorageEvent['type'];
      try {
        type = decide(current);
      } catch (err) {
        if (err instanceof StorageError) {
          op.error = err;
          return;
        }
        throw err;
      }
      const rv = batch.lastRV + 1;
      try {
        let stored: StoredObject;
        if (type === 'DELETED') {
          stored = { key, rv, object: this.handOut(withRV(current!.object, rv)) };
          this.stmt.del.run(key);
          this.stmt.event.run(rv, type, key, current!.rv, this.seal(key, JSON.stringify(current!.object)));
          if (this.expiryOf(key, batch) !== undefined) {
            this.stmt.delTtl.run(key);
            batch.ttlOverlay.set(key, null);
          }
        } else {
          // The JSON round trip is both the stored text and a private copy: the caller's object is never touched.
          const copy = encoded ? withRV(encoded.copy, rv) : decode(text!, rv);
          stored = { key, rv, object: this.handOut(copy) };
          this.stmt.put.run(key, rv, this.seal(key, text!));
          if (ttlSeconds !== undefined) {
            const expires = (this.clock?.now() ?? Date.now()) + ttlSeconds * 1000;
            this.stmt.putTtl.run(key, expires);
            batch.ttlOverlay.set(key, expires);
          } else if (this.expiryOf(key, batch) !== undefined) {
            // a write without a TTL clears the key's (etcd: a put without a lease detaches it)
            this.stmt.delTtl.run(key);
            batch.ttlOverlay.set(key, null);
          }
          const prevText =
            current && prevHint?.object === current.object
              ? prevHint.text
              : current
                ? JSON.stringify(current.object)
                : null;
          this.stmt.event.run(
            rv,
            type,
            key,
            current?.rv ?? null,
            prevText === null ? null : this.seal(key, prevText),
          );
        }
        batch.lastRV = this.assignedRV = rv;
        batch.overlay.set(key, type === 'DELETED' ? null : stored);
        batch.events.push(
          current
            ? { type, key, rv, object: stored.object, prevObject: current.object }
            : { type, key, rv, object: stored.object },
        );
        op.result = stored;
      } catch (err) {
        batch.failure = err;
      }
    });
  }

  private begin(): Batch {
    const batch: Batch = {
      ops: [],
      events: [],
      overlay: new Map(),
      ttlOverlay: new Map(),
      lastRV: this.assignedRV,
    };
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      batch.failure = err;
    }
    this.batch = batch;
    if (this.commitDelayMs > 0 && this.clock) {
      const timer = this.clock.setTimeout(() => this.commit(), this.commitDelayMs);
      this.cancelCommit = () => timer.cancel();
    } else if (this.commitDelayMs > 0) {
      const timer = setTimeout(() => this.commit(), this.commitDelayMs);
      this.cancelCommit = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.commit());
      this.cancelCommit = () => clearImmediate(immediate);
    }
    return batch;
  }

  /** COMMIT the open batch, then publish it: apply to memory, emit events in rv order, settle promises. */
  private commit(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    this.cancelCommit?.();
    this.cancelCommit = undefined;

    if (batch.failure === undefined) {
      try {
        if (batch.events.length > 0) {
          this.stmt.setRV.run(batch.lastRV);
          // Trim the history to what the in-memory window holds (lagging one batch behind is harmless).
          if (this.cache.startRV > this.trimmedThrough) {
            this.stmt.trim.run(this.cache.startRV);
            this.trimmedThrough = this.cache.startRV;
          }
        }
        this.db.exec('COMMIT');
      } catch (err) {
        batch.failure = err;
      }
    }
    if (batch.failure !== undefined) {
      this.rollback(batch);
      return;
    }

    this.counters.commits++;
    this.counters.writes += batch.events.length;
    this.committedRV = batch.lastRV;
    for (const [key, stored] of batch.overlay) {
      this.staleKeys.delete(key);
      if (stored) {
        if (!this.objects.has(key)) this.keys.insert(key);
        this.objects.set(key, stored);
      } else {
        this.objects.delete(key);
        this.keys.remove(key);
      }
    }
    for (const [key, expires] of batch.ttlOverlay) {
      if (expires === null) this.expiries.delete(key);
      else this.expiries.set(key, expires);
    }
    for (const ev of batch.events) {
      this.watchers.publish(ev);
    }
    for (const op of batch.ops) {
      if (op.result) op.resolve(op.result);
      else op.reject(op.error ?? new Error('storage write was not executed'));
    }
    if (batch.ops.length > 1) this.log.trace({ ops: batch.ops.length, rv: batch.lastRV }, 'group commit');
  }

  private rollback(batch: Batch): void {
    this.counters.failedCommits++;
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch (err) {
      this.log.error({ err }, 'rollback failed');
    }
    this.log.error(
      { err: batch.failure, ops: batch.ops.length },
      'storage commit failed: the batch is rolled back',
    );
    const cause = batch.failure;
    const why = describeSqliteError(cause);
    for (const op of batch.ops) op.reject(new Error(`storage commit failed: ${why}`, { cause }));
  }

  watch(prefix: string, fromRV: number, onEvent: (ev: StorageEvent) => void): StorageWatcher {
    if (this.closed) throw new Error('storage is closed');
    return this.watchers.add(prefix, fromRV, onEvent);
  }

  /** The `etcd` health check on SQLite: the database answers a query. */
  checkHealth(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    try {
      this.db.prepare('SELECT 1').get();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(new Error(`the database does not answer: ${describeSqliteError(err)}`));
    }
  }

  /** Commit pending writes, stop every watcher, close the database. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.commit();
    this.closed = true;
    clearInterval(this.sweeper);
    this.watchers.stopAll();
    this.db.close();
    this.log.info({ rv: this.committedRV }, 'storage closed');
    return Promise.resolve();
  }
}
