// Test support: the apiserver's real registry (generic store, strategies, subresources, admission) on SQLite in
// memory, served as an ApiHandler, so components are tested against the API's own rules rather than a copy of
// them. Only tests and test helpers may import src/testing/ (see eslint.config.js).
import type {
  ApiHandler,
  ApiRequest,
  ApiResult,
  KubeObject,
  WatchHandle,
  WatchSink,
} from '../api/request.js';
import { RESOURCES, storagePrefix } from '../api/resources.js';
import type { AdmissionConfig } from '../apiserver/admission/index.js';
import { Registry } from '../apiserver/registry/registry.js';
import { SqliteStorage } from '../apiserver/storage/sqlite-storage.js';
import type { StorageWatcher } from '../apiserver/storage/storage.js';
import type { Clock } from '../util/clock.js';

export interface InMemoryApiOptions {
  /** the registry's clock: creationTimestamp, deletionTimestamp, watch timeouts and bookmarks */
  clock: Clock;
  /** admission plugins to enable/disable, as the apiserver's --enable/--disable-admission-plugins */
  admission?: AdmissionConfig;
  /** DefaultTolerationSeconds admission's not-ready/unreachable toleration (the apiserver's default if unset) */
  notReadyTolerationSeconds?: number;
  /** the apiserver's --service-cluster-ip-range (default 127.96.0.0/16) */
  serviceCidr?: string;
}

/** One write as storage committed it, in resourceVersion order. */
export interface Change {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** `pods`, `replicasets`, ... */
  resource: string;
  namespace?: string;
  name: string;
  object: KubeObject;
}

/**
 * The registry on in-memory SQLite, plus what tests need around it: every handled request in a log and through
 * a hook first (throw from it to inject a failure), and a synchronous view of what is stored.
 */
export class InMemoryApi implements ApiHandler {
  /** every request handle() received, in order (watches are not logged) */
  readonly requests: ApiRequest[] = [];
  /** every committed write since start, in order */
  readonly changes: Change[] = [];
  /** called with every request before the registry serves it: throw (or reject) to fail the request, or delay it */
  hook: ((req: ApiRequest) => void | Promise<void>) | undefined;
  private readonly stored = new Map<string, KubeObject>();
  private mirror: StorageWatcher | undefined;

  private constructor(
    readonly registry: Registry,
    private readonly storage: SqliteStorage,
  ) {}

  static async start(opts: InMemoryApiOptions): Promise<InMemoryApi> {
    const storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true, clock: opts.clock });
    const registry = new Registry({
      storage,
      clock: opts.clock,
      ...(opts.admission ? { admission: opts.admission } : {}),
      ...(opts.notReadyTolerationSeconds !== undefined
        ? { notReadyTolerationSeconds: opts.notReadyTolerationSeconds }
        : {}),
      ...(opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {}),
    });
    const api = new InMemoryApi(registry, storage);
    // watch everything from the start: storage delivers a commit's events before it settles the writes, so the
    // mirror is current whenever a request's promise resolves
    api.mirror = storage.watch('/registry/', storage.currentRV(), (ev) => {
      if (ev.type === 'DELETED') api.stored.delete(ev.key);
      else api.stored.set(ev.key, ev.object);
      api.changes.push({ type: ev.type, ...parseKey(ev.key), object: ev.object });
    });
    await registry.init();
    return api;
  }

  async handle(req: ApiRequest): Promise<ApiResult> {
    this.requests.push(req);
    await this.hook?.(req);
    return this.registry.handle(req);
  }

  watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle> {
    return this.registry.watch(req, sink);
  }

  /** the stored objects of one resource (of every group that has it), optionally of one namespace; oldest first */
  objects<T = KubeObject>(resource: string, namespace?: string): T[] {
    const prefixes = RESOURCES.filter((ri) => ri.resource === resource).map((ri) =>
      storagePrefix(ri, ri.namespaced ? namespace : undefined),
    );
    const out: T[] = [];
    for (const [key, obj] of this.stored) if (prefixes.some((p) => key.startsWith(p))) out.push(obj as T);
    return out;
  }

  async close(): Promise<void> {
    this.mirror?.stop();
    await this.storage.close();
  }
}

/** `/registry/[group/]resource/[namespace/]name` */
function parseKey(key: string): Omit<Change, 'type' | 'object'> {
  const ri = RESOURCES.find((r) => key.startsWith(storagePrefix(r)));
  const rest = ri ? key.slice(storagePrefix(ri).length).split('/') : [key];
  const name = rest.pop()!;
  return { resource: ri?.resource ?? '', ...(rest.length ? { namespace: rest[0] } : {}), name };
}
