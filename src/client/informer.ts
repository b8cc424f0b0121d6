// The client-go informer loop: list, watch from the list's resourceVersion, keep a local indexed cache.
import type { ApiError } from '../api/errors.js';
import type { WatchEvent } from '../api/request.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { apiErrorFromStatus, type WatchEndHandler, type WatchSubscription } from './connection.js';
import type { ListOptions, ObjectList, ObjectWithMeta, WatchOptions } from './typed-client.js';

/** What an informer needs: a ResourceClient fits. */
export interface ListerWatcher<T> {
  list(opts: ListOptions): Promise<ObjectList<T>>;
  watch(
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onEnd: WatchEndHandler,
  ): WatchSubscription;
}

export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  /** also called with old === new on a periodic resync */
  onUpdate?(oldObj: T, newObj: T): void;
  /** after a relist, the last state the cache saw of an object that vanished meanwhile */
  onDelete?(obj: T): void;
}

/** index name → function giving an object's index values, e.g. `{ byNode: (p) => [p.spec?.nodeName ?? ''] }` */
export type Indexers<T> = Record<string, (obj: T) => string[]>;

export interface InformerOptions<T> {
  source: ListerWatcher<T>;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** call onUpdate(obj, obj) for every cached object this often (0/undefined: never) */
  resyncPeriodMs?: number;
  indexers?: Indexers<T>;
  /** page size for the initial list; default 500 */
  pageSize?: number;
  /** watch/list retry backoff, 1 s → 30 s by default */
  backoff?: { initialMs?: number; maxMs?: number };
  /** deep-freeze cached objects so an accidental mutation throws; default true */
  freeze?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** for logs */
  name?: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key handlers enqueue. */
export function keyOf(obj: ObjectWithMeta): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** split a key back into namespace and name */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

const rvOf = (obj: ObjectWithMeta): string | undefined => obj.metadata?.resourceVersion;

const DECIMAL = /^\d+$/;
/** kubemu's resourceVersions are one cluster-wide counter, so a replayed older event can be recognised */
function isNewer(rv: string | undefined, than: string | undefined): boolean {
  if (rv === undefined || than === undefined) return true;
  if (DECIMAL.test(rv) && DECIMAL.test(than)) return BigInt(rv) > BigInt(than);
  return rv !== than;
}

/**
 * The informer's local cache. Objects in it are shared and must never be mutated (they are deep-frozen
 * unless the informer was built with `freeze: false`): copy with structuredClone before changing one.
 */
export class Store<T extends ObjectWithMeta> {
  private readonly items = new Map<string, T>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly indexers: Indexers<T> = {}) {
    for (const name of Object.keys(indexers)) this.indices.set(name, new Map());
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  /** the objects of one namespace */
  listNamespace(namespace: string): T[] {
    return this.list().filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  size(): number {
    return this.items.size;
  }

  /** objects whose `indexName` function returned `value` */
  byIndex(indexName: string, value: string): T[] {
    const index = this.indices.get(indexName);
    if (!index) throw new TypeError(`no index named ${indexName}`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** @internal — only the informer writes */
  set(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
    return old;
  }

  /** @internal */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

function isGone(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 410;
}

/**
 * List, then watch from the list's resourceVersion; on 410 relist (emitting deletes for objects that
 * vanished and updates for those that changed); on other errors re-watch with backoff.
 */
export class Informer<T extends ObjectWithMeta> {
  readonly store: Store<T>;
  private readonly opts: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly handlers: EventHandlers<T>[] = [];
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private backoff: number;
  private rv: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running = false;
  private stopped = false;
  private watchSub: WatchSubscription | undefined;
  private timer: { cancel(): void } | undefined;
  private resyncTimer: { cancel(): void } | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ informer: opts.name ?? 'informer' });
    this.store = new Store<T>(opts.indexers);
    this.initialBackoff = opts.backoff?.initialMs ?? 1_000;
    this.maxBackoff = opts.backoff?.maxMs ?? 30_000;
    this.backoff = this.initialBackoff;
  }

  addEventHandler(handlers: EventHandlers<T>): void {
    this.handlers.push(handlers);
    // A handler added late still hears about everything already cached, as in client-go.
    if (this.synced && handlers.onAdd) for (const obj of this.store.list()) handlers.onAdd(obj);
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.relist();
    this.scheduleResync();
  }

  stop(): void {
    this.stopped = true;
    this.watchSub?.stop();
    this.timer?.cancel();
    this.resyncTimer?.cancel();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** the resourceVersion the cache is at ('' before the first list) */
  lastSyncResourceVersion(): string {
    return this.rv ?? '';
  }

  private emit(fn: (h: EventHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        this.log.error({ err }, 'event handler threw');
      }
    }
  }

  private retryLater(what: () => void): void {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.timer = this.clock.setTimeout(() => {
      if (!this.stopped) what();
    }, delay);
  }

  /**
   * List in pages of `pageSize` with limit/continue, as client-go's reflector does through its pager. A continue
   * token the server no longer honours (410 Expired) restarts the list from the beginning once, as the reflector
   * relists when its paginated list expires; a second 410 fails the list (and the relist backs off).
   */
  private async listAll(): Promise<{ items: T[]; rv: string }> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const base: ListOptions = { limit: this.opts.pageSize ?? 500 };
    if (namespace) base.namespace = namespace;
    if (labelSelector) base.labelSelector = labelSelector;
    if (fieldSelector) base.fieldSelector = fieldSelector;
    let items: T[] = [];
    let cont: string | undefined;
    let restarted = false;
    // Watch from the FIRST page's resourceVersion: if later pages are not served from the same snapshot,
    // replaying from there re-delivers what they raced with instead of losing it (stale replays are skipped).
    let firstRV: string | undefined;
    for (;;) {
      let page: ObjectList<T>;
      try {
        page = await this.opts.source.list(cont ? { ...base, continue: cont } : base);
      } catch (err) {
        if (!cont || restarted || !isGone(err)) throw err;
        this.log.info({ err }, 'continue token expired (410) while listing; listing again from the start');
        restarted = true;
        items = [];
        cont = undefined;
        firstRV = undefined;
        continue;
      }
      for (const item of page.items) items.push(item);
      firstRV ??= page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue;
      if (!cont) return { items, rv: firstRV };
    }
  }

  private async relist(): Promise<void> {
    let listed: { items: T[]; rv: string };
    try {
      listed = await this.listAll();
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ err }, 'list failed; retrying with backoff');
      this.retryLater(() => void this.relist());
      return;
    }
    if (this.stopped) return;
    this.replace(listed.items);
    this.rv = listed.rv;
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.startWatch();
  }

  /** make the store equal to a fresh list, telling handlers what changed */
  private replace(items: T[]): void {
    const freeze = this.opts.freeze ?? true;
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = freeze ? deepFreeze(raw) : raw;
      const key = keyOf(obj);
      seen.add(key);
      const old = this.store.set(key, obj);
      if (!old) this.emit((h) => h.onAdd?.(obj));
      else if (rvOf(old) !== rvOf(obj)) this.emit((h) => h.onUpdate?.(old, obj));
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.delete(key)!;
      this.emit((h) => h.onDelete?.(old));
    }
  }

  private startWatch(): void {
    if (this.stopped) return;
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const opts: WatchOptions = { allowWatchBookmarks: true };
    if (this.rv) opts.resourceVersion = this.rv;
    if (namespace) opts.namespace = namespace;
    if (labelSelector) opts.labelSelector = labelSelector;
    if (fieldSelector) opts.fieldSelector = fieldSelector;
    let ended = false;
    let sawEvents = false;
    const sub = this.opts.source.watch(
      opts,
      (ev) => {
        if (ended || this.stopped) return;
        if (ev.type === 'ERROR') {
          // An in-band error (REST-style watches send 410 this way): end this watch as the face would.
          ended = true;
          sub.stop();
          this.onWatchEnd(apiErrorFromStatus(ev.object), sawEvents);
          return;
        }
        sawEvents = true;
        this.backoff = this.initialBackoff;
        this.onEvent(ev);
      },
      (err) => {
        if (ended) return;
        ended = true;
        this.onWatchEnd(err, sawEvents);
      },
    );
    this.watchSub = sub;
  }

  private onEvent(ev: WatchEvent<T>): void {
    const rv = rvOf(ev.object);
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    const key = keyOf(ev.object);
    const cached = this.store.get(key);
    if (cached && !isNewer(rv, rvOf(cached))) return;
    const obj = (this.opts.freeze ?? true) ? deepFreeze(ev.object) : ev.object;
    if (ev.type === 'DELETED') {
      const old = this.store.delete(key);
      if (old) this.emit((h) => h.onDelete?.(obj));
      return;
    }
    const old = this.store.set(key, obj);
    if (old) this.emit((h) => h.onUpdate?.(old, obj));
    else this.emit((h) => h.onAdd?.(obj));
  }

  private onWatchEnd(err: ApiError | undefined, sawEvents: boolean): void {
    if (this.stopped) return;
    if (isGone(err)) {
      // Too old to resume: forget the resourceVersion and relist, as client-go does.
      this.log.info({ rv: this.rv }, 'watch expired (410); relisting');
      this.rv = undefined;
      void this.relist();
    } else if (err) {
      this.log.warn({ err }, 'watch failed; re-watching with backoff');
      this.retryLater(() => this.startWatch());
    } else if (sawEvents) {
      // A clean end (server timeout, shutdown): resume from where we are.
      this.startWatch();
    } else {
      // ended at once without a word: don't spin
      this.retryLater(() => this.startWatch());
    }
  }

  private scheduleResync(): void {
    const period = this.opts.resyncPeriodMs;
    if (!period || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      for (const obj of this.store.list()) this.emit((h) => h.onUpdate?.(obj, obj));
      this.scheduleResync();
    }, period);
  }
}
