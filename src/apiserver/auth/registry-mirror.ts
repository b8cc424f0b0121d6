// One resource of the apiserver's own registry kept in memory from a watch (list with initial events, then live
// events; relisted when the watch ends), as upstream's in-process informers feed its authorizers and token
// validators. What is kept of each object is the caller's choice (`slim`), so a mirror of pods holds only what the
// authorizer reads.
import type { ApiHandler, KubeObject, WatchEvent, WatchHandle } from '../../api/request.js';
import type { Logger } from '../../util/logger.js';

/** the apiserver's own identity towards its registry */
const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };

export const objectKey = (o: KubeObject): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export interface MirrorOptions<T> {
  api: ApiHandler;
  group: string;
  version: string;
  resource: string;
  log: Logger;
  /** what to keep of an object */
  slim(o: KubeObject): T;
  /** called after each change to the live map: the key, what it held before and holds now (undefined: absent) */
  onChange?(key: string, before: T | undefined, after: T | undefined): void;
  /** called when a relist replaced the whole map */
  onReset?(): void;
}

/** A read-only map of one resource, keyed `namespace/name` (`/name` for cluster-scoped ones). */
export class RegistryMirror<T> {
  private live = new Map<string, T>();
  private handle: WatchHandle | undefined;
  private stopped = false;

  constructor(private readonly opts: MirrorOptions<T>) {}

  get(namespace: string, name: string): T | undefined {
    return this.live.get(`${namespace}/${name}`);
  }

  values(): IterableIterator<T> {
    return this.live.values();
  }

  entries(): IterableIterator<[string, T]> {
    return this.live.entries();
  }

  /** Starts the watch; resolves once the initial list is in. */
  start(): Promise<void> {
    return this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
  }

  private apply(map: Map<string, T>, ev: WatchEvent, notify: boolean): void {
    const key = objectKey(ev.object);
    const before = map.get(key);
    const after = ev.type === 'DELETED' ? undefined : this.opts.slim(ev.object);
    if (after === undefined) map.delete(key);
    else map.set(key, after);
    if (notify) this.opts.onChange?.(key, before, after);
  }

  /** list+watch with initial events; the new map replaces the live one only once its list is complete */
  private watch(): Promise<void> {
    const { api, group, version, resource, log } = this.opts;
    return new Promise<void>((resolve, reject) => {
      let pending: Map<string, T> | undefined = new Map();
      let synced = false;
      const restart = (err?: unknown): void => {
        if (this.stopped) return;
        log.warn({ resource, err: (err as Error | undefined)?.message }, 'watch ended; relisting');
        setTimeout(() => void this.watch().catch(() => undefined), 100).unref();
      };
      api
        .watch(
          {
            verb: 'watch',
            group,
            version,
            resource,
            options: {
              sendInitialEvents: true,
              allowWatchBookmarks: true,
              resourceVersionMatch: 'NotOlderThan',
            },
            user: SYSTEM,
          },
          {
            event: (ev) => {
              if (ev.type === 'BOOKMARK') {
                const end = ev.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true';
                if (end && pending) {
                  this.live = pending;
                  pending = undefined;
                  this.opts.onReset?.();
                  synced = true;
                  resolve();
                }
                return true;
              }
              if (ev.type === 'ERROR') return true;
              if (pending) this.apply(pending, ev, false);
              else this.apply(this.live, ev, true);
              return true;
            },
            end: (err) => {
              if (!synced) reject(err instanceof Error ? err : new Error(`${resource} watch ended`));
              else restart(err);
            },
          },
        )
        .then((h) => {
          this.handle = h;
          if (this.stopped) h.stop();
        }, reject);
    });
  }
}
