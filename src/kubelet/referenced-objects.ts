// The ConfigMaps or Secrets the kubelet's pods mount, each watched on its own (upstream's watch-based configmap and
// secret managers): the Node authorizer lets a kubelet read only the objects its pods reference, by name, so it
// cannot watch them all. An object is watched while some pod on the node holds it.
import type { ObjectWithMeta } from '../client/index.js';
import { Informer, type ListerWatcher } from '../client/informer.js';
import type { Logger } from '../util/logger.js';

export interface ReferencedObjectsOptions<T> {
  source: ListerWatcher<T>;
  /** for logs: configmaps / secrets */
  name: string;
  logger: Logger;
  /** the object was added, changed or deleted */
  onChange(namespace: string, name: string): void;
}

interface Held<T extends ObjectWithMeta> {
  informer: Informer<T>;
  holders: number;
}

export class ReferencedObjects<T extends ObjectWithMeta> {
  private readonly held = new Map<string, Held<T>>();
  private stopped = false;

  constructor(private readonly opts: ReferencedObjectsOptions<T>) {}

  /** `namespace/name` keys (see referenceKeys) a pod needs: watched from now until released as often */
  hold(keys: Iterable<string>): void {
    for (const key of keys) {
      const current = this.held.get(key);
      if (current) {
        current.holders++;
        continue;
      }
      if (this.stopped) continue;
      const slash = key.indexOf('/');
      const namespace = key.slice(0, slash);
      const name = key.slice(slash + 1);
      const informer = new Informer<T>({
        source: this.opts.source,
        namespace,
        fieldSelector: `metadata.name=${name}`,
        name: `${this.opts.name}/${key}`,
        logger: this.opts.logger,
      });
      const changed = (): void => this.opts.onChange(namespace, name);
      informer.addEventHandler({
        onAdd: changed,
        onUpdate: (o, n) => {
          if (o !== n) changed();
        },
        onDelete: changed,
      });
      informer.start();
      this.held.set(key, { informer, holders: 1 });
    }
  }

  release(keys: Iterable<string>): void {
    for (const key of keys) {
      const current = this.held.get(key);
      if (!current) continue;
      if (--current.holders > 0) continue;
      current.informer.stop();
      this.held.delete(key);
    }
  }

  /** the cached object, or undefined (not held, not synced yet, or absent) */
  getByName(namespace: string, name: string): T | undefined {
    return this.held.get(`${namespace}/${name}`)?.informer.store.getByName(namespace, name);
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.held.values()) h.informer.stop();
    this.held.clear();
  }
}
