// Test support for transport tests (the client's connections and informers, the WebSocket face, the dashboard's
// streams): a map-backed ApiHandler whose watch history a test controls — compact() it for 410s, end every watch,
// count the watchers. It has none of the API's rules (no validation, defaulting, uids, generateName, updates or
// patches): code that depends on those is tested against the real registry, ./fake-cluster.ts.
import { errors } from '../api/errors.js';
import type {
  ApiHandler,
  ApiRequest,
  ApiResult,
  KubeObject,
  WatchEvent,
  WatchEventType,
  WatchHandle,
  WatchSink,
} from '../api/request.js';
import { findResource, groupVersion } from '../api/resources.js';
import { parseLabelSelector, type LabelSelector } from '../apiserver/registry/selectors.js';

interface HistoryEntry {
  rv: number;
  type: WatchEventType;
  resourceKey: string;
  namespace: string | undefined;
  object: KubeObject;
}

interface Watcher {
  resourceKey: string;
  namespace: string | undefined;
  labels: LabelSelector;
  sink: WatchSink;
}

/** the namespace, and the label selector as the apiserver parses it (a 400 for a bad one) */
function matches(obj: KubeObject, namespace: string | undefined, labels: LabelSelector): boolean {
  if (namespace && obj.metadata?.namespace !== namespace) return false;
  return labels.matches(obj.metadata?.labels);
}

/**
 * Stores objects in a Map under one cluster-wide resourceVersion; serves get/list/create/delete and watch with a
 * replayable history; put() writes as another client would. `compact()` forgets history so resuming watches get
 * 410 Expired, as after the apiserver's watch cache moved on. Stored objects are frozen.
 */
export class FakeApiHandler implements ApiHandler {
  rv = 0;
  readonly objects = new Map<string, KubeObject>();
  readonly requests: ApiRequest[] = [];
  private history: HistoryEntry[] = [];
  private oldestRV = 0;
  private readonly watchers = new Set<Watcher>();
  /** if set, handle() calls this first (throw to inject failures, or delay) */
  hook?: (req: ApiRequest) => Promise<void> | void;

  private resourceKey(req: Pick<ApiRequest, 'group' | 'resource'>): string {
    return `${req.group}/${req.resource}`;
  }

  private keyOf(req: ApiRequest, name: string): string {
    return `${this.resourceKey(req)}/${req.namespace ?? ''}/${name}`;
  }

  private ref(
    req: ApiRequest,
    name?: string,
  ): { group: string; kind: string; resource: string; name?: string } {
    return { group: req.group, kind: req.resource, resource: req.resource, ...(name ? { name } : {}) };
  }

  /** drop the watch history: watches resuming from before now get 410 */
  compact(): void {
    this.history = [];
    this.oldestRV = this.rv;
  }

  /** end every open watch (err: as the server would send it) */
  endWatches(err?: unknown): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.sink.end(err);
    }
  }

  watcherCount(): number {
    return this.watchers.size;
  }

  /** write directly, as another client would */
  put(
    req: Pick<ApiRequest, 'group' | 'version' | 'resource'> & { namespace?: string },
    object: KubeObject,
  ): KubeObject {
    const name = object.metadata?.name ?? '';
    const full: ApiRequest = { verb: 'update', ...req, options: {}, user: { username: 'test', groups: [] } };
    const key = this.keyOf(full, name);
    const exists = this.objects.has(key);
    return this.write(full, key, object, exists ? 'MODIFIED' : 'ADDED');
  }

  private write(req: ApiRequest, key: string, object: KubeObject, type: WatchEventType): KubeObject {
    const rv = ++this.rv;
    const ri = findResource(req.group, req.resource);
    const stored: KubeObject = Object.freeze({
      apiVersion: groupVersion(req.group, req.version),
      ...(ri ? { kind: ri.kind } : {}),
      ...object,
      metadata: {
        ...object.metadata,
        ...(req.namespace ? { namespace: req.namespace } : {}),
        resourceVersion: String(rv),
      },
    });
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, stored);
    const entry: HistoryEntry = {
      rv,
      type,
      resourceKey: this.resourceKey(req),
      namespace: req.namespace,
      object: stored,
    };
    this.history.push(entry);
    for (const w of [...this.watchers]) this.deliver(w, entry);
    return stored;
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    if (w.resourceKey !== e.resourceKey || !matches(e.object, w.namespace, w.labels)) return;
    if (!w.sink.event({ type: e.type, object: e.object })) this.watchers.delete(w);
  }

  async handle(req: ApiRequest): Promise<ApiResult> {
    this.requests.push(req);
    await this.hook?.(req);
    const name = req.name ?? '';
    switch (req.verb) {
      case 'get': {
        const obj = this.objects.get(this.keyOf(req, name));
        if (!obj) throw errors.notFound(this.ref(req, name));
        return { code: 200, body: obj };
      }
      case 'list': {
        const prefix = `${this.resourceKey(req)}/`;
        const labels = parseLabelSelector(req.options.labelSelector);
        const all = [...this.objects.entries()]
          .filter(([k, o]) => k.startsWith(prefix) && matches(o, req.namespace, labels))
          .sort(([a], [b]) => (a < b ? -1 : 1));
        // continue is the last key served, so writes between pages cannot shift the next page
        const after = req.options.continue;
        const rest = after ? all.filter(([k]) => k > after) : all;
        const limit = req.options.limit || rest.length;
        const items = rest.slice(0, limit).map(([, o]) => o);
        const more = limit < rest.length;
        const next = more ? rest[limit - 1][0] : undefined;
        const ri = findResource(req.group, req.resource);
        return {
          code: 200,
          body: {
            apiVersion: groupVersion(req.group, req.version),
            kind: `${ri?.kind ?? 'Object'}List`,
            metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
            items,
          },
        };
      }
      case 'create': {
        const body = req.body as KubeObject;
        const objName = body.metadata?.name ?? '';
        const key = this.keyOf(req, objName);
        if (this.objects.has(key)) throw errors.alreadyExists(this.ref(req, objName));
        return { code: 201, body: this.write(req, key, body, 'ADDED') };
      }
      case 'delete': {
        const key = this.keyOf(req, name);
        const old = this.objects.get(key);
        if (!old) throw errors.notFound(this.ref(req, name));
        return { code: 200, body: this.write(req, key, old, 'DELETED') };
      }
      default:
        throw errors.methodNotAllowed(`${req.verb} is not supported by the fake`);
    }
  }

  async watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle> {
    await Promise.resolve();
    const w: Watcher = {
      resourceKey: this.resourceKey(req),
      namespace: req.namespace,
      labels: parseLabelSelector(req.options.labelSelector),
      sink,
    };
    const from = req.options.resourceVersion;
    if (from && from !== '0') {
      const rv = Number(from);
      if (rv < this.oldestRV) throw errors.gone(`too old resource version: ${rv} (${this.oldestRV})`);
      for (const e of this.history) if (e.rv > rv) this.deliver(w, e);
    } else {
      const prefix = `${w.resourceKey}/`;
      for (const [k, object] of this.objects) {
        if (k.startsWith(prefix) && matches(object, w.namespace, w.labels)) {
          sink.event({ type: 'ADDED', object } satisfies WatchEvent);
        }
      }
    }
    this.watchers.add(w);
    return { stop: () => void this.watchers.delete(w) };
  }
}
