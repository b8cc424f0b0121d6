// Storage on etcd v3 (upstream's etcd3 store): keys as the registry names them (`/registry/<resource>/<ns>/<name>`),
// resourceVersion = etcd's mod revision, writes as compare-and-swap transactions on the mod revision, and an
// in-memory mirror plus watch window fed by one etcd watch (upstream's cacher over its etcd3 watcher).
import {
  ConsecutiveBreaker,
  ConstantBackoff,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
} from 'cockatiel';
import {
  Etcd3,
  isRecoverableError,
  type IKeyValue,
  type IWatchResponse,
  type Watcher as EtcdWatcher,
} from 'etcd3';
import type { KubeObject } from '../../api/request.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { ValueTransformer } from './encryption/encryption-at-rest.js';
import { SortedKeys } from './sorted-keys.js';
import {
  StorageError,
  type GetOptions,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type WriteOptions,
  type StorageWatcher,
  type StoredObject,
} from './storage.js';
import {
  decode,
  deepFreeze,
  encodeText,
  sealValue,
  unsealValue,
  withRV,
  type StoredValue,
} from './stored-values.js';
import { WatchCache } from './watch-cache.js';
import { StorageWatchers } from './watchers.js';
import { EtcdLeaseManager } from './etcd-lease-manager.js';

export const DEFAULT_ETCD_WATCH_CACHE_SIZE = 10_000;

/** upstream's compactRevKey: the compactors of every apiserver on one etcd agree through it */
export const COMPACT_REV_KEY = 'compact_rev_key';

/** upstream's 410 for a continue token whose revision etcd compacted (storage/etcd3/store.go) */
export const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

export interface EtcdStorageOptions {
  /** etcd client URLs (--etcd-servers), e.g. http://127.0.0.1:2379 */
  endpoints: string[];
  /**
   * etcd keys are this prefix + the storage key (default '': the registry's keys already start with /registry);
   * the store owns every etcd key under `${keyPrefix}/`
   */
  keyPrefix?: string;
  logger?: Logger;
  /** events kept in memory for resuming watchers (default 10,000) */
  watchCacheSize?: number;
  /** upstream's --etcd-compaction-interval in ms (default 5 min; 0: this apiserver never compacts) */
  compactionIntervalMs?: number;
  /** deep-freeze every object handed out, so a caller that mutates one throws (tests) */
  freezeObjects?: boolean;
  /** encryption at rest (--encryption-provider-config), applied to every value written and read */
  transformer?: ValueTransformer;
  /**
   * how long a request waits for etcd (default 10 s, above etcd's own "request timed out" of 5 s + 2 election
   * timeouts): an etcd without quorum fails writes and consistent reads, never hangs them
   */
  requestTimeoutMs?: number;
}

/** upstream's finisher when a request outlives its context: the message of its 504 Timeout */
export const REQUEST_TIMEOUT_MESSAGE =
  'request did not complete within requested timeout - context deadline exceeded';

/** upstream's cacher waits this long for the watch cache to reach a consistent read's revision (blockTimeout) */
const FRESHNESS_WAIT_MS = 3000;

/** a write acknowledged by etcd, waiting for the feed to reach its revision */
interface PendingWrite {
  resolve: (stored: StoredObject | undefined) => void;
  reject: (err: unknown) => void;
}

const PAGE = 500;
/** results of applied revisions kept for writes whose etcd reply comes after the feed applied them */
const RECENT_RESULTS = 4096;

const rev = (v: string | number | undefined | null): number => Number(v ?? 0);

/**
 * A gRPC or etcd failure in the words upstream's apiserver passes on (etcd's own, "etcdserver: request timed out");
 * the etcd3 client's gRPC prefix ("14 UNAVAILABLE: ") dropped.
 */
function describeEtcdError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^\d+ [A-Z_]+: /, '');
}

/** a request to etcd that failed or timed out, as a StorageError the registry turns into upstream's Status */
function etcdFailure(key: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof EtcdTimeout) return new StorageError('Timeout', key, REQUEST_TIMEOUT_MESSAGE);
  if (isBrokenCircuitError(err))
    return new StorageError('Unavailable', key, 'etcd: no member could be reached (connection refused)');
  if (/request is too large/.test(describeEtcdError(err)))
    return new StorageError('TooLarge', key, 'etcdserver: request is too large');
  return new StorageError('Unavailable', key, describeEtcdError(err));
}

/** a member that could not be reached at all (down, or a partition): another may answer */
function unreachable(err: Error): boolean {
  return (
    isRecoverableError(err) && /No connection established|ECONNREFUSED|ECONNRESET|connect /.test(err.message)
  );
}

/** upstream's --etcd-healthcheck-timeout default */
const HEALTH_CHECK_TIMEOUT_MS = 2_000;
/** a health answer serves the checks of the next second */
const HEALTH_CHECK_REUSE_MS = 1_000;

/** our deadline on an etcd request passed (upstream: the request context's deadline) */
class EtcdTimeout extends Error {}

function isCompacted(err: unknown): boolean {
  return /required revision has been compacted/.test(describeEtcdError(err));
}

/**
 * The store keeps a decoded copy of every object it owns, fed by a single etcd watch from the revision of its
 * initial list: reads (get, list at the current revision) and watches are served from memory, and a write's
 * promise settles only once the feed has applied the write's revision, so a client reads its own writes. Writes
 * go to etcd as transactions comparing the key's mod revision (create: create revision 0), so two apiservers on
 * one etcd never overwrite each other; a continued list reads etcd at its first page's revision.
 *
 * **Objects handed out are shared between callers and watchers: never mutate them.**
 */
export class EtcdStorage implements Storage {
  private readonly log: Logger;
  private readonly objects = new Map<string, StoredObject>();
  private keys = new SortedKeys([]);
  private readonly cache: WatchCache;
  private readonly watchers: StorageWatchers;
  private readonly staleKeys = new Set<string>();
  private readonly pending = new Map<number, PendingWrite[]>();
  private readonly recent = new Map<number, StoredObject>();
  private readonly prefix: string;
  private readonly freeze: boolean;
  private readonly transformer: ValueTransformer | undefined;
  private readonly timeoutMs: number;
  /** the newest revision the mirror has applied (or etcd's progress notify confirmed) */
  private appliedRV: number;
  private feed: EtcdWatcher | undefined;
  private compactions: EtcdWatcher | undefined;
  /** watchers etcd cancelled (compacted past their revision): etcd3 has forgotten them already */
  private readonly dropped = new WeakSet<EtcdWatcher>();
  private compactor: NodeJS.Timeout | undefined;
  /** leases for writes with a TTL: granted by etcd, never kept alive */
  private readonly leases: EtcdLeaseManager;
  /** consistent reads waiting for the mirror to reach a revision */
  private freshWaiters: { rv: number; resolve: (fresh: boolean) => void }[] = [];
  /** set while the mirror relists after its feed ended (upstream's cacher reinitialising) */
  private relisting: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly client: Etcd3,
    opts: EtcdStorageOptions,
    startRV: number,
  ) {
    this.log = (opts.logger ?? silentLogger()).child({ module: 'etcd-storage' });
    this.prefix = opts.keyPrefix ?? '';
    this.freeze = opts.freezeObjects ?? false;
    this.transformer = opts.transformer;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.appliedRV = startRV;
    this.cache = new WatchCache(opts.watchCacheSize ?? DEFAULT_ETCD_WATCH_CACHE_SIZE, startRV);
    this.watchers = new StorageWatchers(this.cache, this.log);
    this.leases = new EtcdLeaseManager({
      grant: async (ttl) => (await client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 })).ID,
    });
  }

  /** Connect, load every object under the prefix at one revision, and start the feed from the next one. */
  static async open(opts: EtcdStorageOptions): Promise<EtcdStorage> {
    if (opts.endpoints.length === 0) throw new Error('--etcd-servers is required with --storage etcd');
    const client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: 2000,
      grpcOptions: {
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        'grpc.max_send_message_length': 16 * 1024 * 1024,
        // a member that comes back is dialled again within a second (grpc's default backoff grows to 2 min)
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
      faultHandling: {
        // a member that cannot be reached is passed over for 1 s: requests go to the live members at once. A member
        // that answers with an error ("etcdserver: request timed out" without quorum) is not: that is the answer.
        host: () =>
          circuitBreaker(handleWhen(unreachable), {
            halfOpenAfter: 1000,
            breaker: new ConsecutiveBreaker(1),
          }),
        global: retry(handleWhen(unreachable), {
          maxAttempts: opts.endpoints.length,
          backoff: new ConstantBackoff(50),
        }),
      },
    });
    try {
      const t0 = performance.now();
      const first = await client
        .getAll()
        .prefix(`${opts.keyPrefix ?? ''}/`)
        .limit(1)
        .exec();
      const startRV = rev(first.header.revision);
      const store = new EtcdStorage(client, opts, startRV);
      await store.load(startRV);
      await store.startFeed(startRV);
      store.startCompactor(opts.compactionIntervalMs ?? 5 * 60_000);
      store.log.info(
        {
          endpoints: opts.endpoints,
          objects: store.objects.size,
          rv: startRV,
          ms: Math.round(performance.now() - t0),
          ...(opts.transformer ? { encryptionAtRest: true, staleValues: store.staleKeys.size } : {}),
        },
        'storage opened',
      );
      return store;
    } catch (err) {
      client.close();
      throw new Error(`etcd at ${opts.endpoints.join(',')}: ${describeEtcdError(err)}`, { cause: err });
    }
  }

  private etcdKey(key: string): string {
    return this.prefix + key;
  }

  private storageKey(kv: IKeyValue): string {
    return kv.key.toString().slice(this.prefix.length);
  }

  private handOut<T>(value: T): T {
    return this.freeze ? deepFreeze(value) : value;
  }

  /** a value from etcd: plaintext JSON as text, an encrypted value as bytes (as SQLite's TEXT and BLOB rows) */
  private unseal(key: string, value: Buffer): { text: string; stale: boolean } {
    const encrypted = value.subarray(0, 8).toString('latin1') === 'k8s:enc:';
    const stored: StoredValue = encrypted ? value : value.toString();
    return unsealValue(this.transformer, key, stored);
  }

  private decodeKv(kv: IKeyValue): StoredObject {
    const key = this.storageKey(kv);
    const r = rev(kv.mod_revision);
    const { text, stale } = this.unseal(key, kv.value);
    if (stale) this.staleKeys.add(key);
    else this.staleKeys.delete(key);
    return { key, rv: r, object: this.handOut(decode(text, r)) };
  }

  /** the keys under prefix (after startAfter) at revision `at`, a page at a time */
  private async *range(prefix: string, at: number, startAfter?: string): AsyncGenerator<IKeyValue[]> {
    const end = prefixEnd(Buffer.from(this.etcdKey(prefix)));
    let start = Buffer.from(
      startAfter === undefined ? this.etcdKey(prefix) : `${this.etcdKey(startAfter)}\0`,
    );
    for (;;) {
      const res = await this.client
        .getAll()
        .inRange({ start, end })
        .revision(at)
        .sort('Key', 'Ascend')
        .limit(PAGE)
        .exec();
      const kvs = res.kvs;
      if (kvs.length > 0) yield kvs;
      if (!res.more || kvs.length === 0) return;
      start = Buffer.concat([kvs[kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  private async load(at: number): Promise<void> {
    for await (const kvs of this.range('/', at)) {
      for (const kv of kvs) {
        const stored = this.decodeKv(kv);
        this.objects.set(stored.key, stored);
        this.keys.insert(stored.key);
      }
    }
  }

  private async startFeed(from: number): Promise<void> {
    // every key of etcd, so every revision reaches the mirror (a write elsewhere only advances it): a consistent
    // read waits for etcd's current revision, which may be another prefix's write or compact_rev_key's
    const feed = await this.client
      .watch()
      .inRange({ start: Buffer.from([0]), end: Buffer.from([0]) })
      .startRevision(String(from + 1))
      .create();
    this.feed = feed;
    feed.on('data', (res) => this.onFeed(res));
    feed.on('disconnected', (err) => {
      if (!this.closed)
        this.log.warn({ err: describeEtcdError(err) }, 'etcd watch disconnected: reconnecting');
    });
    feed.on('connected', () => this.log.info({ rv: this.appliedRV }, 'etcd watch connected'));
    feed.on('error', (err) => {
      this.dropped.add(feed);
      void this.relist(feed, err);
    });
    // every apiserver's compactor writes the revision it compacts at here first: all windows end at it
    const compactions = await this.client
      .watch()
      .key(COMPACT_REV_KEY)
      .startRevision(String(from + 1))
      .create();
    if (this.compactions) void this.cancelWatcher(this.compactions);
    this.compactions = compactions;
    compactions.on('put', (kv) => {
      const at = Number(kv.value.toString());
      if (Number.isSafeInteger(at) && at > 0) this.dropHistoryBefore(at);
    });
    compactions.on('error', (err) => {
      this.dropped.add(compactions);
      this.log.error(
        { err: describeEtcdError(err) },
        'watch on compact_rev_key ended: compactions by other apiservers are not seen',
      );
    });
  }

  /** etcd keeps revision r itself: a watch from r - 1 (events > r - 1) is still served */
  private dropHistoryBefore(r: number): void {
    if (r - 1 <= this.cache.startRV) return;
    this.cache.dropThrough(r - 1);
    this.log.info({ rv: r }, 'etcd history compacted: watches from before it get 410 Gone');
  }

  /**
   * Cancels a watcher, unless etcd cancelled it already: etcd3 drops a watcher as it reports etcd's cancellation
   * ('error'), and a cancel of it after that sends etcd a cancel request for an id the client no longer knows, whose
   * answer etcd3 throws on out of its stream listener ("Failed to find watcher for IWatchResponse": an unhandled
   * rejection, which ends the apiserver) and whose 'end' never comes. Never waits longer than the request deadline.
   */
  private async cancelWatcher(w: EtcdWatcher): Promise<void> {
    if (this.dropped.has(w)) return;
    await this.withTimeout(w.cancel()).catch(() => undefined);
  }

  /**
   * The feed ended (etcd compacted past the revision it resumes from, after a partition say): upstream's cacher
   * relists and reinitialises its watch cache. The mirror is replaced by etcd's state at its current revision, the
   * watch window restarts there (a watch from before it is 410 Gone "too old resource version" and its client
   * relists), and every watch now open is ended so its client resumes or relists. Retried each second until etcd
   * answers; writes meanwhile wait for the new feed.
   */
  private relist(feed: EtcdWatcher, err: unknown): Promise<void> {
    if (this.closed || feed !== this.feed) return this.relisting ?? Promise.resolve();
    this.feed = undefined;
    this.log.warn(
      { err: describeEtcdError(err), rv: this.appliedRV },
      'etcd watch feeding the cache ended: relisting',
    );
    void this.cancelWatcher(feed);
    const run = async (): Promise<void> => {
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          const head = await this.withTimeout(this.client.get(COMPACT_REV_KEY).exec());
          const at = rev(head.header.revision);
          const objects = new Map<string, StoredObject>();
          for await (const kvs of this.range('/', at))
            for (const kv of kvs) {
              const stored = this.decodeKv(kv);
              objects.set(stored.key, stored);
            }
          if (this.closed) return;
          this.objects.clear();
          for (const [k, v] of objects) this.objects.set(k, v);
          this.keys = new SortedKeys(objects.keys());
          this.cache.reset(at);
          this.watchers.endAll();
          this.advance(Math.max(at, this.appliedRV));
          await this.startFeed(at);
          this.log.info({ rv: at, objects: objects.size, attempt }, 'relisted from etcd: watches restarted');
          return;
        } catch (e) {
          this.log.warn({ err: describeEtcdError(e), attempt }, 'relist from etcd failed: retrying in 1 s');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    this.relisting = run().finally(() => (this.relisting = undefined));
    return this.relisting;
  }

  private onFeed(res: IWatchResponse): void {
    for (const ev of res.events) this.apply(ev.type, ev.kv);
    // a progress notification (no events): every change up to this revision has been delivered
    const headerRV = rev(res.header.revision);
    if (res.events.length === 0 && headerRV > this.appliedRV) this.advance(headerRV);
  }

  private apply(type: string, kv: IKeyValue): void {
    const r = rev(kv.mod_revision);
    if (r <= this.appliedRV) return; // replayed after a reconnect
    if (!kv.key.toString().startsWith(this.etcdKey('/'))) {
      this.advance(r); // a key that is not ours (compact_rev_key, another prefix): the revision passed
      return;
    }
    const key = this.storageKey(kv);
    const current = this.objects.get(key);
    let event: StorageEvent;
    let stored: StoredObject;
    if (type === 'Delete') {
      if (!current) {
        this.advance(r);
        return;
      }
      stored = { key, rv: r, object: this.handOut(withRV(current.object, r)) };
      this.objects.delete(key);
      this.keys.remove(key);
      this.staleKeys.delete(key);
      event = { type: 'DELETED', key, rv: r, object: stored.object, prevObject: current.object };
    } else {
      try {
        stored = this.decodeKv(kv);
      } catch (err) {
        // a value this apiserver cannot read (another apiserver's key): dropped loudly, never served half-read
        this.log.error(
          { key, rv: r, err: describeEtcdError(err) },
          'value from etcd does not decode: skipped',
        );
        this.advance(r);
        return;
      }
      if (!current) this.keys.insert(key);
      this.objects.set(key, stored);
      event = current
        ? { type: 'MODIFIED', key, rv: r, object: stored.object, prevObject: current.object }
        : { type: 'ADDED', key, rv: r, object: stored.object };
    }
    this.watchers.publish(event);
    this.recent.set(r, stored);
    if (this.recent.size > RECENT_RESULTS) this.recent.delete(this.recent.keys().next().value!);
    this.advance(r);
  }

  /** the mirror is at `r`: settle the writes it was waiting for */
  private advance(r: number): void {
    this.appliedRV = r;
    for (const [pendingRV, waiters] of this.pending) {
      if (pendingRV > r) continue;
      this.pending.delete(pendingRV);
      const stored = this.recent.get(pendingRV);
      for (const w of waiters) w.resolve(stored);
    }
    if (this.freshWaiters.length > 0) {
      const ready = this.freshWaiters.filter((w) => w.rv <= r);
      this.freshWaiters = this.freshWaiters.filter((w) => w.rv > r);
      for (const w of ready) w.resolve(true);
    }
  }

  /**
   * upstream's consistent read from the cache (ConsistentListFromCache): etcd's current revision by a quorum read,
   * then a wait of up to 3 s for the mirror to reach it. Resolves with that revision and whether the mirror is
   * there; fails like a write when etcd cannot answer (no quorum).
   */
  private async consistentRV(key: string): Promise<{ rv: number; fresh: boolean }> {
    if (this.closed) throw new Error('storage is closed');
    let target: number;
    try {
      target = rev((await this.withTimeout(this.client.get(COMPACT_REV_KEY).exec())).header.revision);
    } catch (err) {
      throw etcdFailure(key, err);
    }
    if (target <= this.appliedRV) return { rv: target, fresh: true };
    const fresh = await new Promise<boolean>((resolve) => {
      const waiter = { rv: target, resolve };
      this.freshWaiters.push(waiter);
      setTimeout(() => {
        this.freshWaiters = this.freshWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, FRESHNESS_WAIT_MS);
    });
    return { rv: target, fresh };
  }

  /**
   * The write at revision r, once the mirror has applied it: the feed's object, or (the mirror relisted past it)
   * the one this write made.
   */
  private async settled(r: number, written: () => StoredObject): Promise<StoredObject> {
    const stored =
      r <= this.appliedRV
        ? this.recent.get(r)
        : await new Promise<StoredObject | undefined>((resolve, reject) => {
            const list = this.pending.get(r) ?? [];
            list.push({ resolve, reject });
            this.pending.set(r, list);
          });
    return stored ?? written();
  }

  private withTimeout<T>(p: Promise<T>, ms = this.timeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new EtcdTimeout(REQUEST_TIMEOUT_MESSAGE)), ms);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** the lease a write with a TTL is attached to (upstream's leaseManager), undefined without one */
  private async leaseFor(key: string, opts: WriteOptions): Promise<string | undefined> {
    if (opts.ttlSeconds === undefined) return undefined;
    try {
      return await this.withTimeout(this.leases.leaseFor(Math.max(1, Math.ceil(opts.ttlSeconds))));
    } catch (err) {
      throw etcdFailure(key, err);
    }
  }

  /**
   * One transaction: `compare` holds → put (or delete) the key; otherwise read it back to say why (NotFound or
   * Conflict). Resolves with what the feed made of the write.
   */
  private async txn(
    key: string,
    compare: { target: 'Create' | 'Mod' | 'Version'; cmp: '==' | '>'; value: number },
    op: { put: StoredValue; lease?: string } | { delete: true },
    onFailed: (current: IKeyValue | undefined) => StorageError,
    written: (r: number) => StoredObject,
  ): Promise<StoredObject> {
    if (this.closed) throw new Error('storage is closed');
    const k = this.etcdKey(key);
    const put = (v: StoredValue) => this.client.put(k).value(v);
    // a put without a lease detaches the key from any it had (etcd), as a write without a TTL clears it
    const then =
      'put' in op
        ? op.lease !== undefined
          ? put(op.put).lease(op.lease)
          : put(op.put)
        : this.client.delete().key(k);
    let res;
    try {
      res = await this.withTimeout(
        this.client
          .if(k, compare.target, compare.cmp, compare.value)
          .then(then)
          .else(this.client.get(k))
          .commit(),
      );
    } catch (err) {
      throw etcdFailure(key, err);
    }
    if (!res.succeeded) throw onFailed(res.responses[0]?.response_range?.kvs?.[0]);
    const r = rev(res.header.revision);
    return this.settled(r, () => written(r));
  }

  async get(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    if (opts.consistent) {
      const { rv, fresh } = await this.consistentRV(key);
      if (!fresh) {
        // the mirror lags etcd: read etcd itself at that revision, as upstream's fallback does
        const res = await this.withTimeout(this.client.get(this.etcdKey(key)).revision(rv).exec()).catch(
          (err: unknown) => {
            throw etcdFailure(key, err);
          },
        );
        return res.kvs[0] ? this.decodeKv(res.kvs[0]) : undefined;
      }
    }
    return this.objects.get(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit ?? 0;
    if (opts.atRV !== undefined && opts.atRV < this.appliedRV) return this.listAt(prefix, opts.atRV, opts);
    if (opts.consistent && opts.atRV === undefined) {
      const { rv, fresh } = await this.consistentRV(prefix);
      if (!fresh) return this.listAt(prefix, rv, opts);
    }
    const { keys, remaining } = this.keys.range(prefix, opts.startAfter, limit);
    const items = keys.map((k) => this.objects.get(k)!);
    const result: ListResult = { items, rv: this.appliedRV };
    if (remaining > 0 && items.length > 0) {
      result.continueKey = items[items.length - 1].key;
      result.remaining = remaining;
    }
    return result;
  }

  /** a continued list: etcd's snapshot at the first page's revision (410 once compacted, as upstream) */
  private async listAt(prefix: string, at: number, opts: ListOptions): Promise<ListResult> {
    const limit = opts.limit ?? 0;
    const items: StoredObject[] = [];
    let more = false;
    try {
      outer: for await (const kvs of this.range(prefix, at, opts.startAfter)) {
        for (const kv of kvs) {
          if (limit && items.length === limit) {
            more = true;
            break outer;
          }
          items.push(this.decodeKv(kv));
        }
      }
    } catch (err) {
      if (isCompacted(err)) throw new StorageError('Gone', prefix, CONTINUE_EXPIRED);
      throw etcdFailure(prefix, err);
    }
    const result: ListResult = { items, rv: at };
    if (more) result.continueKey = items[items.length - 1].key;
    return result;
  }

  currentRV(): number {
    return this.appliedRV;
  }

  isStale(key: string): boolean {
    return this.staleKeys.has(key);
  }

  async create(key: string, object: KubeObject, opts: WriteOptions = {}): Promise<StoredObject> {
    const text = encodeText(key, object);
    if (text instanceof Error) throw text;
    return this.txn(
      key,
      { target: 'Create', cmp: '==', value: 0 },
      { put: sealValue(this.transformer, key, text), lease: await this.leaseFor(key, opts) },
      () => new StorageError('AlreadyExists', key, `${key} already exists`),
      (r) => ({ key, rv: r, object: this.handOut(decode(text, r)) }),
    );
  }

  async update(
    key: string,
    object: KubeObject,
    expectedRV: number,
    opts: WriteOptions = {},
  ): Promise<StoredObject> {
    const text = encodeText(key, object);
    if (text instanceof Error) throw text;
    return this.txn(
      key,
      { target: 'Mod', cmp: '==', value: expectedRV },
      { put: sealValue(this.transformer, key, text), lease: await this.leaseFor(key, opts) },
      (current) => this.failure(key, expectedRV, current),
      (r) => ({ key, rv: r, object: this.handOut(decode(text, r)) }),
    );
  }

  delete(key: string, expectedRV?: number): Promise<StoredObject> {
    const before = this.objects.get(key);
    return this.txn(
      key,
      expectedRV === undefined
        ? { target: 'Version', cmp: '>', value: 0 }
        : { target: 'Mod', cmp: '==', value: expectedRV },
      { delete: true },
      (current) => this.failure(key, expectedRV ?? 0, current),
      (r) => {
        if (!before) throw new StorageError('NotFound', key, `${key} not found`);
        return { key, rv: r, object: this.handOut(withRV(before.object, r)) };
      },
    );
  }

  private failure(key: string, expectedRV: number, current: IKeyValue | undefined): StorageError {
    if (!current) return new StorageError('NotFound', key, `${key} not found`);
    return new StorageError(
      'Conflict',
      key,
      `${key}: resourceVersion ${expectedRV} is stale, the object is at ${rev(current.mod_revision)}`,
    );
  }

  watch(
    prefix: string,
    fromRV: number,
    onEvent: (ev: StorageEvent) => void,
    onEnd?: () => void,
  ): StorageWatcher {
    if (this.closed) throw new Error('storage is closed');
    return this.watchers.add(prefix, fromRV, onEvent, onEnd);
  }

  /**
   * upstream's compactor (storage/etcd3/compact.go): every interval, compact etcd at the revision seen at the
   * previous tick, agreeing with the other apiservers through the version of `compact_rev_key` so one interval's
   * history is always kept. Events this compaction removed leave the watch window too: a watch from before it
   * gets 410 Gone "too old resource version", as upstream's etcd watch does.
   */
  private startCompactor(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let compactTime = 0;
    let lastRev = 0;
    const tick = async (): Promise<void> => {
      try {
        ({ compactTime, lastRev } = await this.compactOnce(compactTime, lastRev));
      } catch (err) {
        this.log.warn({ err: describeEtcdError(err) }, 'etcd compaction failed');
      }
      if (!this.closed) this.compactor = setTimeout(() => void tick(), intervalMs);
    };
    this.compactor = setTimeout(() => void tick(), intervalMs);
  }

  private async compactOnce(
    compactTime: number,
    revToCompact: number,
  ): Promise<{ compactTime: number; lastRev: number }> {
    const res = await this.withTimeout(
      this.client
        .if(COMPACT_REV_KEY, 'Version', '==', compactTime)
        .then(this.client.put(COMPACT_REV_KEY).value(String(revToCompact)))
        .else(this.client.get(COMPACT_REV_KEY))
        .commit(),
    );
    const curRev = rev(res.header.revision);
    if (!res.succeeded) {
      // another apiserver compacted since: follow its count
      return { compactTime: rev(res.responses[0]?.response_range?.kvs?.[0]?.version), lastRev: curRev };
    }
    if (revToCompact > 0) await this.compact(revToCompact);
    return { compactTime: compactTime + 1, lastRev: curRev };
  }

  /** compact etcd's history before `r`, and the watch window with it */
  async compact(r: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision: String(r), physical: false });
    } catch (err) {
      if (!isCompacted(err)) throw err;
    }
    this.dropHistoryBefore(r);
  }

  private health: { result: Promise<void>; settledAt?: number } | undefined;

  /**
   * Upstream's etcd health check (storagebackend/factory newETCD3Check): a linearizable read of
   * `<prefix>/registry/health` with a 2 s deadline (--etcd-healthcheck-timeout). One runs at a time, and its
   * answer serves the checks of the next second: /readyz polled by a balancer every 500 ms costs etcd a read a second.
   */
  checkHealth(): Promise<void> {
    const last = this.health;
    if (last && (last.settledAt === undefined || Date.now() - last.settledAt < HEALTH_CHECK_REUSE_MS))
      return last.result;
    const entry: { result: Promise<void>; settledAt?: number } = {
      result: (async () => {
        if (this.closed) throw new Error('storage is closed');
        try {
          // the call itself ends at the deadline too: nothing is left waiting on a member that does not answer
          const deadline = Date.now() + HEALTH_CHECK_TIMEOUT_MS;
          await this.withTimeout(
            this.client.get(this.etcdKey('/registry/health')).options({ deadline }).exec(),
            HEALTH_CHECK_TIMEOUT_MS,
          );
        } catch (err) {
          throw new Error(`error getting data from etcd: ${describeEtcdError(err)}`, { cause: err });
        }
      })(),
    };
    entry.result.then(
      () => (entry.settledAt = Date.now()),
      () => (entry.settledAt = Date.now()),
    );
    this.health = entry;
    return entry.result;
  }

  /** the feed, the compactor and the client stopped; writes still waiting for the feed fail */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactor) clearTimeout(this.compactor);
    this.watchers.stopAll();
    for (const waiters of this.pending.values())
      for (const w of waiters) w.reject(new Error('storage is closed'));
    this.pending.clear();
    for (const w of this.freshWaiters.splice(0)) w.resolve(false);
    try {
      await Promise.all([this.feed, this.compactions].flatMap((w) => (w ? [this.cancelWatcher(w)] : [])));
    } catch {
      // the client closes below either way
    }
    this.client.close();
    this.log.info({ rv: this.appliedRV }, 'storage closed');
  }
}

/** etcd's range end for a prefix: the prefix with its last byte below 0xff incremented (every key: "\0") */
function prefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}
