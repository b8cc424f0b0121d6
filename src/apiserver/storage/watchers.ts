// The watchers of one storage backend (SQLite or etcd): a watch replays the window's events after its
// resourceVersion, then gets each new event under its prefix, in order. Both backends publish every committed event
// here, after the watch cache has it.
import type { Logger } from '../../util/logger.js';
import type { StorageEvent, StorageWatcher } from './storage.js';
import { StorageError } from './storage.js';
import type { WatchCache } from './watch-cache.js';

interface Watcher {
  prefix: string;
  fromRV: number;
  onEvent: (ev: StorageEvent) => void;
  onEnd: (() => void) | undefined;
  /** events waiting behind the replay (delivered on a microtask, so the caller holds the handle first) */
  backlog: StorageEvent[] | undefined;
  stopped: boolean;
}

export class StorageWatchers {
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly cache: WatchCache,
    private readonly log: Logger,
  ) {}

  /** a watch of `prefix` from `fromRV`: 410 Gone ("too old resource version") once the window has moved past it */
  add(
    prefix: string,
    fromRV: number,
    onEvent: (ev: StorageEvent) => void,
    onEnd?: () => void,
  ): StorageWatcher {
    if (!Number.isSafeInteger(fromRV) || fromRV < 0)
      throw new RangeError(`invalid resourceVersion to watch from: ${fromRV}`);
    if (fromRV < this.cache.startRV) {
      throw new StorageError('Gone', prefix, `too old resource version: ${fromRV} (${this.cache.startRV})`);
    }
    const w: Watcher = {
      prefix,
      fromRV,
      onEvent,
      onEnd,
      backlog: this.cache.since(fromRV, prefix),
      stopped: false,
    };
    this.watchers.add(w);
    queueMicrotask(() => {
      const backlog = w.backlog ?? [];
      w.backlog = undefined;
      for (const ev of backlog) this.deliver(w, ev);
    });
    return {
      stop: () => {
        w.stopped = true;
        this.watchers.delete(w);
      },
    };
  }

  /** a committed event: into the window, then to every watcher of its prefix that has not seen it */
  publish(ev: StorageEvent): void {
    this.cache.push(ev);
    for (const w of this.watchers) if (ev.rv > w.fromRV && ev.key.startsWith(w.prefix)) this.deliver(w, ev);
  }

  /** every watch ended by the store (its cache was reinitialised): each is told, to resume or relist */
  endAll(): void {
    const ended = [...this.watchers];
    this.stopAll();
    for (const w of ended) {
      try {
        w.onEnd?.();
      } catch (err) {
        this.log.warn({ err, prefix: w.prefix }, 'watch end callback threw');
      }
    }
  }

  stopAll(): void {
    for (const w of this.watchers) w.stopped = true;
    this.watchers.clear();
  }

  private deliver(w: Watcher, ev: StorageEvent): void {
    if (w.stopped) return;
    if (w.backlog) {
      w.backlog.push(ev);
      return;
    }
    try {
      w.onEvent(ev);
    } catch (err) {
      // One broken watcher must not starve the others.
      this.log.warn({ err, prefix: w.prefix, rv: ev.rv }, 'watch callback threw');
    }
  }
}
