// The garbage collector: follows ownerReferences (by uid) to cascade deletes in background, foreground and orphan mode.
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../api/errors.js';
import type { PropagationPolicy } from '../../api/request.js';
import { RESOURCES, findByKind, parseApiVersion, type ResourceInfo } from '../../api/resources.js';
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import {
  Informer,
  WorkQueue,
  keyOf,
  type KubeClient,
  type ObjectWithMeta,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { customResourceInfo } from '../common/custom-resources.js';
import { SharedInformerFactory } from '../common/informers.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

export interface GarbageCollectorOptions {
  client: KubeClient;
  /** the controller-manager's shared informers; default: a factory of its own */
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --concurrent-gc-syncs (20); default 5 */
  workers?: number;
  /**
   * resources to watch; default every served resource except events (which nothing owns), and every custom resource
   * while its CustomResourceDefinition is there (upstream's GC follows discovery)
   */
  resources?: readonly ResourceInfo[];
}

interface Monitor {
  ri: ResourceInfo;
  /** `group/resource`, the prefix of this monitor's node ids */
  gr: string;
  client: ResourceClient<ObjectWithMeta>;
  informer: Informer<ObjectWithMeta>;
  /** a custom resource's monitor: its own informer, stopped when its CRD goes */
  custom?: boolean;
}

type OwnerState = 'solid' | 'dangling' | 'waiting';

const hasFinalizer = (obj: ObjectWithMeta, f: string): boolean =>
  obj.metadata?.finalizers?.includes(f) ?? false;

const ownersOf = (obj: ObjectWithMeta): OwnerReference[] => obj.metadata?.ownerReferences ?? [];

function defaultResources(): ResourceInfo[] {
  // events.k8s.io and core events are one table; neither is ever an owner or owned by kubemu's components
  return RESOURCES.filter((ri) => ri.resource !== 'events' && ri.verbs.includes('watch'));
}

/**
 * One informer per resource builds the ownership graph (owner uid → dependents). Items (`group/resource|key`)
 * go through a work queue; a worker decides, as upstream's attemptToDeleteItem / orphanDependents /
 * processDeletingDependentsItem do, whether to delete the item, strip ownerReferences, or drop a finalizer.
 */
export class GarbageCollector {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly workers: number;
  private readonly monitors = new Map<string, Monitor>();
  /** `group/Kind` → monitor, to resolve an ownerReference (built-in and custom kinds) */
  private readonly byKind = new Map<string, Monitor>();
  private running = false;
  readonly queue: WorkQueue<string>;
  /** uid → node id of every cached object */
  private readonly byUid = new Map<string, string>();
  /** owner uid → node ids of the objects naming it in ownerReferences */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private workersDone: Promise<void> | undefined;

  constructor(opts: GarbageCollectorOptions) {
    if (!opts.client) throw new TypeError('GarbageCollector needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'garbagecollector' });
    this.clock = opts.clock ?? realClock;
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({
      name: 'garbage_collector_attempt_to_delete',
      clock: this.clock,
      logger: this.log,
    });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    for (const ri of opts.resources ?? defaultResources()) {
      const client = this.client.resource<ObjectWithMeta>(ri.group, ri.versions[0], ri.resource);
      const informer = this.informers.forResource(
        ri.group ? `${ri.resource}.${ri.group}` : ri.resource,
        client,
      );
      this.addMonitor({ ri, gr: `${ri.group}/${ri.resource}`, client, informer });
    }
    if (!opts.resources) {
      const crds = this.informers.forResource<CustomResourceDefinition>(
        'customresourcedefinitions.apiextensions.k8s.io',
        this.client.resource<CustomResourceDefinition>(
          'apiextensions.k8s.io',
          'v1',
          'customresourcedefinitions',
        ),
      );
      crds.addEventHandler({
        onAdd: (crd) => this.onCrd(crd),
        onUpdate: (_old, crd) => this.onCrd(crd),
        onDelete: (crd) => this.dropCustom(`${crd.spec.group}/${crd.spec.names.plural}`),
      });
    }
  }

  private addMonitor(monitor: Monitor): void {
    const { ri } = monitor;
    this.monitors.set(monitor.gr, monitor);
    this.byKind.set(`${ri.group}/${ri.kind}`, monitor);
    monitor.informer.addEventHandler({
      onAdd: (obj) => this.onAdd(monitor, obj),
      onUpdate: (oldObj, newObj) => this.onUpdate(monitor, oldObj, newObj),
      onDelete: (obj) => this.onDelete(monitor, obj),
    });
  }

  /** a CRD established (or changed): watch its objects, in a served version, as owners and as dependents */
  private onCrd(crd: CustomResourceDefinition): void {
    const gr = `${crd.spec.group}/${crd.spec.names.plural}`;
    const current = this.monitors.get(gr);
    // (a CRD being deleted keeps its monitor: the deletes of its objects are what the dependents wait for)
    if (crd.metadata?.deletionTimestamp) return;
    const ri = customResourceInfo(crd);
    if (!ri) {
      if (current?.custom) this.dropCustom(gr);
      return;
    }
    const version = ri.versions[0];
    if (current && (!current.custom || current.ri.versions[0] === version)) return;
    if (current) this.dropCustom(gr);
    const client = this.client.resource<ObjectWithMeta>(ri.group, version, ri.resource);
    const informer = new Informer<ObjectWithMeta>({
      source: client,
      name: `${ri.resource}.${ri.group}`,
      clock: this.clock,
      logger: this.log,
    });
    this.addMonitor({ ri, gr, client, informer, custom: true });
    this.log.info({ resource: gr, version }, 'watching a custom resource');
    if (this.running) informer.start();
  }

  /** a CRD gone: its objects went with it (the apiserver deletes them first); forget them and stop watching */
  private dropCustom(gr: string): void {
    const m = this.monitors.get(gr);
    if (!m?.custom) return;
    m.informer.stop();
    for (const obj of m.informer.store.list()) {
      this.unindex(this.idOf(m, obj), obj);
      // its watch may end before it tells of every delete: the dependents look their owner up live (a 404 now)
      for (const dep of this.dependents.get(obj.metadata?.uid ?? '') ?? []) this.queue.add(dep);
    }
    this.monitors.delete(gr);
    // (its byKind entry stays: a dependent still naming such an owner is resolved by a live GET, a 404 by now)
  }

  /** start informers, wait for every cache, start the workers; resolves once collecting has begun */
  async run(): Promise<void> {
    this.running = true;
    this.informers.start();
    for (const m of this.monitors.values()) if (m.custom) m.informer.start();
    await Promise.all([...this.monitors.values()].map((m) => m.informer.waitForSync()));
    if (this.queue.shuttingDown()) return;
    this.log.info({ resources: this.monitors.size }, 'garbage collector synced; starting workers');
    this.workersDone = this.queue.runWorkers(this.workers, (id) => this.sync(id));
  }

  stop(): void {
    this.queue.shutDown();
    for (const m of this.monitors.values()) if (m.custom) m.informer.stop();
    if (this.ownsInformers) this.informers.stop();
  }

  /** resolves when the workers have finished after stop() */
  async stopped(): Promise<void> {
    await this.workersDone;
  }

  // ---------------------------------------------------------------- graph

  private idOf(m: Monitor, obj: ObjectWithMeta): string {
    return `${m.gr}|${keyOf(obj)}`;
  }

  private index(id: string, obj: ObjectWithMeta): void {
    const uid = obj.metadata?.uid;
    if (uid) this.byUid.set(uid, id);
    for (const ref of ownersOf(obj)) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(id);
    }
  }

  private unindex(id: string, obj: ObjectWithMeta): void {
    const uid = obj.metadata?.uid;
    if (uid && this.byUid.get(uid) === id) this.byUid.delete(uid);
    for (const ref of ownersOf(obj)) {
      const set = this.dependents.get(ref.uid);
      set?.delete(id);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
  }

  private needsAttention(obj: ObjectWithMeta): boolean {
    if (obj.metadata?.deletionTimestamp)
      return hasFinalizer(obj, FINALIZER_ORPHAN) || hasFinalizer(obj, FINALIZER_FOREGROUND);
    return ownersOf(obj).length > 0;
  }

  private onAdd(m: Monitor, obj: ObjectWithMeta): void {
    const id = this.idOf(m, obj);
    this.index(id, obj);
    if (this.needsAttention(obj)) this.queue.add(id);
    // A dependent may have been seen before this owner (or this owner was recreated): let them re-check.
    for (const dep of this.dependents.get(obj.metadata?.uid ?? '') ?? []) this.queue.add(dep);
  }

  private onUpdate(m: Monitor, oldObj: ObjectWithMeta, newObj: ObjectWithMeta): void {
    if (oldObj.metadata?.uid !== newObj.metadata?.uid) {
      this.onDelete(m, oldObj);
      this.onAdd(m, newObj);
      return;
    }
    const id = this.idOf(m, newObj);
    this.unindex(id, oldObj);
    this.index(id, newObj);
    const om = oldObj.metadata ?? {};
    const nm = newObj.metadata ?? {};
    const refsChanged = JSON.stringify(om.ownerReferences ?? []) !== JSON.stringify(nm.ownerReferences ?? []);
    const deletionChanged =
      om.deletionTimestamp !== nm.deletionTimestamp ||
      JSON.stringify(om.finalizers ?? []) !== JSON.stringify(nm.finalizers ?? []);
    if ((refsChanged || deletionChanged) && this.needsAttention(newObj)) this.queue.add(id);
    if (oldObj === newObj && this.needsAttention(newObj)) this.queue.add(id); // periodic resync
    if (refsChanged) {
      // owners this object stopped naming may be waiting for it (foreground) — let them re-check
      const kept = new Set(ownersOf(newObj).map((r) => r.uid));
      for (const ref of ownersOf(oldObj)) if (!kept.has(ref.uid)) this.enqueueUid(ref.uid);
    }
    if (deletionChanged) {
      // an owner entering foreground deletion: its dependents must be deleted
      for (const dep of this.dependents.get(nm.uid ?? '') ?? []) this.queue.add(dep);
    }
  }

  private onDelete(m: Monitor, obj: ObjectWithMeta): void {
    const id = this.idOf(m, obj);
    this.unindex(id, obj);
    // dependents of a vanished owner may now be garbage; owners waiting on this dependent may finish
    for (const dep of this.dependents.get(obj.metadata?.uid ?? '') ?? []) this.queue.add(dep);
    for (const ref of ownersOf(obj)) this.enqueueUid(ref.uid);
  }

  private enqueueUid(uid: string): void {
    const id = this.byUid.get(uid);
    if (id) this.queue.add(id);
  }

  private lookup(id: string): { m: Monitor; obj: ObjectWithMeta } | undefined {
    const bar = id.indexOf('|');
    const m = this.monitors.get(id.slice(0, bar));
    const obj = m?.informer.store.get(id.slice(bar + 1));
    return m && obj ? { m, obj } : undefined;
  }

  private dependentsOf(uid: string): { id: string; m: Monitor; obj: ObjectWithMeta }[] {
    const out: { id: string; m: Monitor; obj: ObjectWithMeta }[] = [];
    for (const id of this.dependents.get(uid) ?? []) {
      const found = this.lookup(id);
      if (found && ownersOf(found.obj).some((r) => r.uid === uid)) out.push({ id, ...found });
    }
    return out;
  }

  // ---------------------------------------------------------------- workers

  /** one item: exported for tests through the queue */
  async sync(id: string): Promise<void> {
    const found = this.lookup(id);
    if (!found) return;
    const { m, obj } = found;
    if (obj.metadata?.deletionTimestamp) {
      if (hasFinalizer(obj, FINALIZER_ORPHAN)) await this.orphanDependents(m, obj);
      else if (hasFinalizer(obj, FINALIZER_FOREGROUND)) await this.processDeletingDependents(m, obj);
      // otherwise it is already on its way out
      return;
    }
    await this.attemptToDelete(m, obj);
  }

  /** upstream attemptToDeleteItem: delete an object none of whose owners is still there */
  private async attemptToDelete(m: Monitor, obj: ObjectWithMeta): Promise<void> {
    const refs = ownersOf(obj);
    if (refs.length === 0) return;
    const states = await Promise.all(refs.map((ref) => this.ownerState(ref, obj.metadata?.namespace)));
    const solid = refs.filter((_, i) => states[i] === 'solid');
    const gone = refs.filter((_, i) => states[i] !== 'solid');
    const waiting = refs.filter((_, i) => states[i] === 'waiting');
    const log = this.log.child({ object: `${m.gr}|${keyOf(obj)}` });
    if (solid.length > 0) {
      if (gone.length === 0) return;
      // Keep the object for its live owners; drop references to owners that are gone or going.
      log.info({ removed: gone.map((r) => r.uid) }, 'removing dangling ownerReferences');
      await this.removeOwnerRefs(m, obj, new Set(gone.map((r) => r.uid)));
      return;
    }
    const uid = obj.metadata?.uid ?? '';
    let policy: PropagationPolicy;
    if (waiting.length > 0 && this.dependentsOf(uid).length > 0) {
      // An owner waits for its dependents and this one has its own: the foreground cascade goes on down.
      policy = 'Foreground';
    } else if (hasFinalizer(obj, FINALIZER_ORPHAN)) policy = 'Orphan';
    else if (hasFinalizer(obj, FINALIZER_FOREGROUND)) policy = 'Foreground';
    else policy = 'Background';
    log.info(
      { policy, owners: refs.map((r) => `${r.kind}/${r.name}`) },
      'deleting object whose owners are gone',
    );
    await this.deleteObject(m, obj, policy);
  }

  /** is the owner `ref` points at there (solid), gone (dangling), or being deleted in foreground (waiting)? */
  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    const cachedId = this.byUid.get(ref.uid);
    const cached = cachedId ? this.lookup(cachedId)?.obj : undefined;
    if (cached) return this.stateOf(cached);
    const { group } = parseApiVersion(ref.apiVersion);
    const builtIn = findByKind(group, ref.kind);
    const monitor = builtIn
      ? this.monitors.get(`${builtIn.group}/${builtIn.resource}`)
      : this.byKind.get(`${group}/${ref.kind}`);
    // A kind we do not serve or watch: we cannot tell, so never collect on its account (upstream: unresolvable).
    if (!monitor) return 'solid';
    const ri = monitor.ri;
    // Not in our cache: ask the apiserver, comparing uids so a same-name successor does not count.
    try {
      const live = await monitor.client.get(ref.name, ri.namespaced ? namespace : undefined);
      if (live.metadata?.uid !== ref.uid) return 'dangling';
      return this.stateOf(live);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return 'dangling';
      throw err;
    }
  }

  private stateOf(owner: ObjectWithMeta): OwnerState {
    if (owner.metadata?.deletionTimestamp && hasFinalizer(owner, FINALIZER_FOREGROUND)) return 'waiting';
    return 'solid';
  }

  /** upstream orphanDependents + removeFinalizer(orphan) */
  private async orphanDependents(m: Monitor, owner: ObjectWithMeta): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    for (const dep of this.dependentsOf(uid)) {
      await this.removeOwnerRefs(dep.m, dep.obj, new Set([uid]));
    }
    this.log.info({ object: `${m.gr}|${keyOf(owner)}` }, 'dependents orphaned; removing orphan finalizer');
    await this.removeFinalizer(m, owner, FINALIZER_ORPHAN);
  }

  /** upstream processDeletingDependentsItem: delete dependents; drop the finalizer once none blocks */
  private async processDeletingDependents(m: Monitor, owner: ObjectWithMeta): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    const deps = this.dependentsOf(uid);
    for (const dep of deps) if (!dep.obj.metadata?.deletionTimestamp) this.queue.add(dep.id);
    const blocking = deps.filter((d) =>
      ownersOf(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
    );
    if (blocking.length > 0) {
      this.log.debug(
        { object: `${m.gr}|${keyOf(owner)}`, blocking: blocking.length },
        'waiting for blocking dependents',
      );
      return;
    }
    this.log.info(
      { object: `${m.gr}|${keyOf(owner)}` },
      'no blocking dependents left; removing foregroundDeletion finalizer',
    );
    await this.removeFinalizer(m, owner, FINALIZER_FOREGROUND);
  }

  // ---------------------------------------------------------------- writes

  private async deleteObject(m: Monitor, obj: ObjectWithMeta, policy: PropagationPolicy): Promise<void> {
    try {
      await m.client.delete(obj.metadata?.name ?? '', {
        ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
        propagationPolicy: policy,
        preconditions: { uid: obj.metadata?.uid ?? '' },
      });
    } catch (err) {
      // already gone, or a different object by now: nothing to collect
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }

  private async removeOwnerRefs(m: Monitor, obj: ObjectWithMeta, uids: Set<string>): Promise<void> {
    const next = structuredClone(obj);
    const meta = next.metadata!;
    meta.ownerReferences = ownersOf(obj).filter((r) => !uids.has(r.uid));
    if (meta.ownerReferences.length === 0) delete meta.ownerReferences;
    await this.write(m, next);
  }

  private async removeFinalizer(m: Monitor, obj: ObjectWithMeta, finalizer: string): Promise<void> {
    const next = structuredClone(obj);
    const meta = next.metadata!;
    meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== finalizer);
    if (meta.finalizers.length === 0) delete meta.finalizers;
    await this.write(m, next);
  }

  /** PUT with the cached resourceVersion: a conflict throws and the item is retried against a fresher cache */
  private async write(m: Monitor, obj: ObjectWithMeta): Promise<void> {
    try {
      await m.client.update(obj);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }
}
