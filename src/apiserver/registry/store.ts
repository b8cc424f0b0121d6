// The generic store (upstream's k8s.io/apiserver/pkg/registry/generic/registry/store.go): upstream's object
// semantics — uid, generation, resourceVersion, finalizers, graceful deletion, dry runs, field validation —
// for every kind in the resource table, with the kind's rules in its strategy (./strategies.ts) and admission
// (../admission) called at upstream's points. Every read-modify-write goes through guaranteedUpdate, the one
// retry loop. Subresources (./subresources) build on it; it is the only code that writes to storage.
import { randomUUID, randomInt } from 'node:crypto';
import { ApiError, errors, fe, type FieldError } from '../../api/errors.js';
import type { ApiRequest, ApiResult, KubeObject, RequestOptions } from '../../api/request.js';
import {
  findResource,
  groupVersion,
  storageKey,
  storagePrefix,
  type ResourceInfo,
} from '../../api/resources.js';
import { decodeObject } from '../../api/schema/index.js';
import { applyDefaults } from '../../api/defaults/index.js';
import { validateObject } from '../../api/validation/index.js';
import { convertObject, toInternalForm } from '../../api/conversion/index.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../api/patch/index.js';
import { defaultFieldManager } from '../../api/apply/index.js';
import { yieldEventLoop } from '../../util/event-loop.js';
import { hasMoreNodesThan, type Offload, OFFLOAD_NODES } from '../offload/offload.js';
import type { Clock } from '../../util/clock.js';
import { deepCopy, deepEqual, isObject, rfc3339 } from '../../util/objects.js';
import { StorageError, type Storage, type StoredObject, type WriteOptions } from '../storage/storage.js';
import type { AdmissionAttributes, AdmissionChain, AdmissionOperation } from '../admission/index.js';
import {
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { strategyFor, type Strategy, type StrategyContext, type UpdatePart } from './strategies.js';
import type { CustomResource } from '../customresources/definition.js';
import { servedCustomResources, type ServedCustomResources } from '../customresources/served.js';
import type { Allocation, ServiceAllocator } from './allocators.js';
import type { ServiceReservations } from './service-reservations.js';
import { convertObjects, type ServiceLookup } from '../customresources/conversion.js';
import { admissionStore } from './admission-store.js';

export interface StoreOptions {
  storage: Storage;
  clock: Clock;
  allocator: ServiceAllocator;
  /** where the allocator's picks are held for every apiserver sharing the storage (service-reservations.ts) */
  reservations?: ServiceReservations;
  admission: AdmissionChain;
  /** where the field manager's walks over large objects run */
  offload: Offload;
  /** the custom resources served (default: the process's) */
  custom?: ServedCustomResources;
  /** upstream's --event-ttl: Events are kept this long after their last write (default 1 h) */
  eventTtlSeconds?: number;
}

/** What a request resolved to. */
export interface Target {
  ri: ResourceInfo;
  /** where it is stored (events.k8s.io Events share core Events' storage) */
  storeRi: ResourceInfo;
  storeApiVersion: string;
  apiVersion: string;
  strategy: Strategy;
  /** a custom resource: its CRD's rules, and the version the request speaks */
  custom?: CustomResource;
  version?: string;
}

/** which part of an object a write changes: the main resource, the status subresource, a namespace's finalize */
export type Part = UpdatePart;

/** thrown inside guaranteedUpdate's step when the write lost a race: the loop re-reads and tries again */
export class RetryableConflict extends Error {
  constructor() {
    super('conflict: retry');
  }
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/**
 * Retries of a write that lost a race (no resourceVersion pinned). Upstream's GuaranteedUpdate retries without
 * bound: every round one of the racing writers wins, so N concurrent writers of one object need up to N rounds —
 * 8 was too few for 20 concurrent status patches. The cap only guards against a conflict that never clears.
 */
const MAX_RETRIES = 256;

/** upstream's --event-ttl default */
export const DEFAULT_EVENT_TTL_SECONDS = 3600;

/** The resourceVersion a patch document itself sets (merge, strategic, apply, or a JSON patch op), if any. */
export function patchPinnedResourceVersion(patch: unknown): string | undefined {
  if (Array.isArray(patch)) {
    const op = (patch as { op?: string; path?: string; value?: unknown }[]).find(
      (o) =>
        o?.path === '/metadata/resourceVersion' && (o.op === 'add' || o.op === 'replace' || o.op === 'test'),
    );
    return typeof op?.value === 'string' && op.value ? op.value : undefined;
  }
  const rv = (patch as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv ? rv : undefined;
}

export function meta(obj: KubeObject): NonNullable<KubeObject['metadata']> {
  return (obj.metadata ??= {});
}

export class GenericStore {
  readonly storage: Storage;
  readonly clock: Clock;
  private readonly admission: AdmissionChain;
  private readonly offload: Offload;
  private readonly ctx: StrategyContext;
  /** resolved targets by group/resource/version: the same for every request (the checks are not) */
  private readonly targets = new Map<string, Target>();
  private readonly custom: ServedCustomResources;
  /** where a conversion webhook's Service endpoints are read */
  private readonly lookup: ServiceLookup;
  private readonly eventTtlSeconds: number;

  constructor(opts: StoreOptions) {
    this.custom = opts.custom ?? servedCustomResources;
    this.storage = opts.storage;
    this.clock = opts.clock;
    this.admission = opts.admission;
    this.offload = opts.offload;
    this.ctx = {
      allocator: opts.allocator,
      ...(opts.reservations ? { reservations: opts.reservations } : {}),
    };
    this.lookup = admissionStore(this.storage, () => this);
    this.eventTtlSeconds = opts.eventTtlSeconds ?? DEFAULT_EVENT_TTL_SECONDS;
  }

  /** a write's TTL: Events get --event-ttl at every create and update (upstream's events strategy TTLFunc) */
  private writeOptions(t: Target): WriteOptions {
    return t.storeRi.group === '' && t.storeRi.resource === 'events' && !t.custom
      ? { ttlSeconds: this.eventTtlSeconds }
      : {};
  }

  resolve(req: ApiRequest): Target {
    const ri = findResource(req.group, req.resource);
    const notFound = (): ApiError =>
      new ApiError('NotFound', 'the server could not find the requested resource', {
        group: req.group,
        kind: req.resource,
        ...(req.name ? { name: req.name } : {}),
      });
    if (!ri || !ri.versions.includes(req.version)) throw notFound();
    if (!ri.namespaced && req.namespace) throw notFound();
    if (ri.namespaced && !req.namespace && req.verb !== 'list' && req.verb !== 'watch') {
      throw notFound();
    }
    const cr = this.custom.find(ri.group, ri.resource);
    if (cr?.ri === ri) return this.customTarget(cr, req.version);
    const key = `${ri.group}/${ri.resource}/${req.version}`;
    let t = this.targets.get(key);
    if (!t) {
      const storeRi = ri.group === 'events.k8s.io' ? (findResource('', 'events') as ResourceInfo) : ri;
      t = Object.freeze({
        ri,
        storeRi,
        storeApiVersion: groupVersion(storeRi.group, storeRi.versions[0]),
        apiVersion: groupVersion(ri.group, req.version),
        strategy: strategyFor(ri.group, ri.resource),
      });
      this.targets.set(key, t);
    }
    return t;
  }

  /** a custom resource's target: not cached, its CRD may change under it */
  private customTarget(cr: CustomResource, version: string): Target {
    return {
      ri: cr.ri,
      storeRi: cr.storeRi,
      storeApiVersion: groupVersion(cr.ri.group, cr.storageVersion),
      apiVersion: groupVersion(cr.ri.group, version),
      strategy: cr.strategy(version),
      custom: cr,
      version,
    };
  }

  ref(t: Target, name?: string): { group: string; resource: string; kind: string; name?: string } {
    return {
      group: t.ri.group,
      resource: t.ri.resource,
      kind: t.ri.kind,
      ...(name !== undefined ? { name } : {}),
    };
  }

  mapStorageError(e: unknown, t: Target, name?: string): unknown {
    if (!(e instanceof StorageError)) return e;
    const n = name ?? e.key.slice(e.key.lastIndexOf('/') + 1);
    switch (e.code) {
      case 'NotFound':
        return errors.notFound(this.ref(t, n));
      case 'AlreadyExists':
        return errors.alreadyExists(this.ref(t, n));
      case 'Conflict':
        return errors.staleResourceVersion(this.ref(t, n));
      case 'Gone':
        return errors.gone(e.message);
      case 'TooLarge':
      case 'Unavailable':
        // upstream passes etcd's error through: a 500 with etcd's words and no reason
        return new ApiError('Unknown', e.message);
      case 'Timeout':
        // upstream's finisher when the request's context expires: 504 "Timeout: request did not complete ..."
        return errors.timeout(`Timeout: ${e.message}`);
    }
  }

  key(t: Target, namespace: string | undefined, name: string): string {
    return storageKey(t.storeRi, namespace, name);
  }

  /** whether this target's objects go through a conversion webhook (reads and writes then wait for it) */
  convertsByWebhook(t: Target): boolean {
    return t.custom?.crd.spec.conversion?.strategy === 'Webhook';
  }

  /** the object as the client asked to see it, without a webhook (`convertsByWebhook(t)` is false) */
  outNow(t: Target, obj: KubeObject): KubeObject {
    if (t.custom) {
      const apiVersion = t.apiVersion;
      return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
    }
    if (t.apiVersion === t.storeApiVersion) return obj;
    return convertObject(obj, t.apiVersion);
  }

  /** the object as the client asked to see it */
  async out(t: Target, obj: KubeObject): Promise<KubeObject> {
    if (!this.convertsByWebhook(t)) return this.outNow(t, obj);
    return (await convertObjects(t.custom!, [obj], t.version!, this.lookup))[0];
  }

  /**
   * objects as the client asked to see them, in one conversion webhook call (`list`: they are a list's items, as
   * upstream's messages say; a watch's events are not)
   */
  async outMany(t: Target, objs: KubeObject[], list: boolean): Promise<KubeObject[]> {
    if (!this.convertsByWebhook(t)) return objs.map((o) => this.outNow(t, o));
    return convertObjects(t.custom!, objs, t.version!, this.lookup, list);
  }

  /** a custom object, validated in the request's version, in the storage version to be written */
  async toStorage(t: Target, obj: KubeObject): Promise<KubeObject> {
    const cr = t.custom;
    if (!cr) return obj;
    return (await convertObjects(cr, [obj], cr.storageVersion, this.lookup))[0];
  }

  // ---------------------------------------------------------------- read

  async get(req: ApiRequest, t: Target): Promise<ApiResult> {
    const name = req.name!;
    // resourceVersion "" is a consistent read (upstream reads etcd); "0" or a version may be served from the cache
    const found = await this.storage.get(this.key(t, req.namespace, name), {
      consistent: !req.options.resourceVersion,
    });
    if (!found) throw errors.notFound(this.ref(t, name));
    return { code: 200, body: await this.out(t, found.object) };
  }

  selectors(req: ApiRequest, t: Target): { labels: LabelSelector; fields: FieldSelector } {
    return {
      labels: parseLabelSelector(req.options.labelSelector),
      fields: parseFieldSelector(
        req.options.fieldSelector,
        t.storeRi.resource,
        t.custom?.fieldLabels(t.version!),
      ),
    };
  }

  async list(req: ApiRequest, t: Target): Promise<ApiResult> {
    const { labels, fields } = this.selectors(req, t);
    const prefix = storagePrefix(t.storeRi, t.ri.namespaced ? req.namespace : undefined);
    const limit = req.options.limit && req.options.limit > 0 ? req.options.limit : 0;
    if (req.options.continue && req.options.resourceVersion && req.options.resourceVersion !== '0')
      throw errors.badRequest('specifying resource version is not allowed when using continue');
    const continued = req.options.continue ? decodeContinue(req.options.continue, prefix) : undefined;
    let startAfter = continued?.startAfter;
    const items: KubeObject[] = [];
    let listRV = 0;
    let nextKey: string | undefined;
    let remaining: number | undefined;
    const filtered = labels.requirements.length > 0 || fields.requirements.length > 0;
    for (;;) {
      const page = await this.storage.list(prefix, {
        ...(limit ? { limit: filtered ? Math.max(limit, 500) : limit } : {}),
        ...(startAfter ? { startAfter } : {}),
        // a continued list reads the first page's snapshot where the store keeps history (etcd)
        ...(continued ? { atRV: continued.rv } : {}),
        // resourceVersion "" is a consistent read (upstream's ConsistentListFromCache), its first page only
        ...(!continued && !startAfter && !req.options.resourceVersion ? { consistent: true } : {}),
      });
      listRV ||= page.rv;
      let lastKey: string | undefined;
      for (const item of page.items) {
        lastKey = item.key;
        if (!this.matches(item.object, labels, fields)) continue;
        items.push(item.object);
        if (limit && items.length >= limit) break;
      }
      if (limit && items.length >= limit) {
        const stoppedEarly = lastKey !== page.items[page.items.length - 1]?.key;
        if (stoppedEarly || page.continueKey) {
          nextKey = lastKey;
          if (!filtered && page.remaining !== undefined) remaining = page.remaining + (stoppedEarly ? 1 : 0);
        }
        break;
      }
      if (!page.continueKey) break;
      startAfter = page.continueKey;
    }
    const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
      resourceVersion: String(listRV),
    };
    if (nextKey) {
      listMeta.continue = encodeContinue(nextKey, prefix, listRV);
      if (remaining !== undefined && remaining > 0) listMeta.remainingItemCount = remaining;
    }
    return {
      code: 200,
      warnings: t.strategy.warningsOnDelete?.(req.options) ?? [],
      body: {
        kind: `${t.ri.kind}List`,
        apiVersion: t.apiVersion,
        metadata: listMeta,
        items: await this.outMany(t, items, true),
      },
    };
  }

  matches(obj: KubeObject, labels: LabelSelector, fields: FieldSelector): boolean {
    return labels.matches(obj.metadata?.labels) && fields.matches(obj);
  }

  // ---------------------------------------------------------------- write helpers

  /** decode, default and convert an incoming body to the storage version */
  decodeBody(req: ApiRequest, t: Target, body: unknown): { obj: KubeObject; warnings: string[] } {
    // a custom object stays in the request's version until it is written (toStorage)
    if (!isObject(body)) {
      throw errors.badRequest(
        `the body of the request was not a JSON object: cannot be handled as a ${t.ri.kind}`,
      );
    }
    const kind = body['kind'];
    const apiVersion = body['apiVersion'];
    if (kind !== undefined && kind !== t.ri.kind) {
      throw errors.badRequest(
        `the object provided is unrecognized (must be of type ${t.ri.kind}): kind ${JSON.stringify(kind)} does not match the endpoint`,
      );
    }
    if (apiVersion !== undefined && apiVersion !== t.apiVersion) {
      const shown = typeof apiVersion === 'string' ? apiVersion : JSON.stringify(apiVersion);
      throw errors.badRequest(
        `the API version in the data (${shown}) does not match the expected API version (${t.apiVersion})`,
      );
    }
    if (t.custom) {
      const { metadata, ...rest } = body;
      // the body is the client's (or a patch's result sharing the stored object): decode a copy
      return t.custom.decode(
        {
          ...deepCopy(rest),
          apiVersion: t.apiVersion,
          kind: t.ri.kind,
          ...(metadata !== undefined ? { metadata: deepCopy(metadata) } : {}),
        },
        t.version!,
        req.options.fieldValidation ?? 'Warn',
      );
    }
    const gvk = { group: t.ri.group, version: req.version, kind: t.ri.kind };
    const { object, warnings } = decodeObject(
      gvk,
      { ...body, apiVersion: t.apiVersion, kind: t.ri.kind },
      req.options.fieldValidation ?? 'Warn',
    );
    applyDefaults(gvk, object);
    const obj = t.apiVersion === t.storeApiVersion ? object : convertObject(object, t.storeApiVersion);
    obj.apiVersion = t.storeApiVersion;
    obj.kind = t.storeRi.kind;
    toInternalForm({ group: t.storeRi.group, kind: t.storeRi.kind }, obj);
    return { obj, warnings };
  }

  validate(t: Target, obj: KubeObject, old?: KubeObject, subresource?: string): void {
    if (t.custom) {
      const errs = t.custom.validate(obj, old, t.version!, subresource);
      if (errs.length) this.invalid(t, obj.metadata?.name, errs);
      return;
    }
    const gvk = { group: t.storeRi.group, version: t.storeRi.versions[0], kind: t.storeRi.kind };
    const errs = validateObject(gvk, obj, {
      ...(old ? { old } : {}),
      ...(subresource ? { subresource } : {}),
      requestGroup: t.ri.group,
    });
    if (errs.length) this.invalid(t, obj.metadata?.name, errs);
  }

  invalid(t: Target, name: string | undefined, errs: FieldError[]): never {
    throw errors.invalid(
      {
        group: t.ri.group,
        resource: t.ri.resource,
        kind: t.ri.kind,
        kindName: t.ri.kind,
        ...(name !== undefined ? { name } : {}),
      },
      errs,
    );
  }

  /** upstream's admission.Attributes of a request on this target */
  attributes(
    operation: AdmissionOperation,
    req: ApiRequest,
    t: Target,
    objects: {
      object?: KubeObject;
      oldObject?: KubeObject;
      name?: string;
      subresource?: string;
      /** where plugins' warnings go: the response's Warning headers */
      warnings?: string[];
    } = {},
  ): AdmissionAttributes {
    return {
      operation,
      kind: { group: t.ri.group, version: req.version, kind: t.ri.kind },
      resource: { group: t.ri.group, version: req.version, resource: t.ri.resource },
      subresource: objects.subresource ?? req.subresource ?? '',
      namespace: t.ri.namespaced ? (req.namespace ?? '') : '',
      name: objects.name ?? req.name ?? '',
      ...(objects.object ? { object: objects.object } : {}),
      ...(objects.oldObject ? { oldObject: objects.oldObject } : {}),
      dryRun: req.options.dryRun === true,
      user: req.user,
      options: req.options,
      warnings: objects.warnings ?? [],
    };
  }

  /** run the validating admission plugins (e.g. for CONNECT requests served elsewhere) */
  validateAdmission(a: AdmissionAttributes): Promise<void> {
    return this.admission.validate(a);
  }

  private generateName(prefix: string): string {
    let s = prefix;
    for (let i = 0; i < 5; i++) s += GENERATE_CHARS[randomInt(GENERATE_CHARS.length)];
    return s;
  }

  // ---------------------------------------------------------------- guaranteed update

  /**
   * upstream's GuaranteedUpdate, the one retry loop of every read-modify-write (update, patch, status, finalize,
   * scale, binding, delete with finalizers or grace): read the object, let `step` compute and write the next
   * one with the read's resourceVersion; when the write lost a race (`step` threw RetryableConflict, see
   * `writeUpdate`), read again and recompute. Upstream retries without bound: every round one of the racing writers
   * wins, so N concurrent writers need up to N rounds; the cap only guards against a conflict that never clears.
   */
  async guaranteedUpdate<R>(
    t: Target,
    name: string,
    key: string,
    step: (current: StoredObject | undefined) => Promise<R>,
  ): Promise<R> {
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const current = await this.storage.get(key);
      try {
        return await step(current);
      } catch (e) {
        if (!(e instanceof RetryableConflict)) throw e;
      }
    }
    throw errors.staleResourceVersion(this.ref(t, name));
  }

  /** write `next` over `current`; a lost race retries (RetryableConflict) unless the client pinned the version */
  async writeUpdate(
    t: Target,
    key: string,
    next: KubeObject,
    current: StoredObject,
    pinned?: string,
  ): Promise<StoredObject> {
    try {
      return await this.storage.update(key, next, current.rv, this.writeOptions(t));
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Conflict') {
        if (pinned) throw errors.staleResourceVersion(this.ref(t, current.object.metadata?.name));
        throw new RetryableConflict();
      }
      throw e;
    }
  }

  /** delete `current` (a lost race retries) and release what it held */
  private async deleteNow(t: Target, key: string, current: StoredObject): Promise<StoredObject> {
    let deleted: StoredObject;
    try {
      deleted = await this.storage.delete(key, current.rv);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Conflict') throw new RetryableConflict();
      throw e;
    }
    await t.strategy.afterDelete?.(current.object, this.ctx);
    return deleted;
  }

  /** the strategies' context for one write: a dry run's allocators take nothing for good */
  private writeCtx(req: ApiRequest): StrategyContext {
    return req.options.dryRun ? { ...this.ctx, dryRun: true } : this.ctx;
  }

  /** take an allocation, or fail the request with its field errors */
  private begin(t: Target, name: string | undefined, a: Allocation | undefined): Allocation | undefined {
    if (a?.errors.length) this.invalid(t, name, a.errors);
    return a;
  }

  // ---------------------------------------------------------------- create

  async create(req: ApiRequest, t: Target): Promise<ApiResult> {
    if (t.custom?.terminating) {
      // upstream's crdHandler: no new objects while the CRD's objects are being deleted
      throw new ApiError(
        'MethodNotAllowed',
        'create not allowed while custom resource definition is terminating',
        { group: t.ri.group, kind: t.ri.resource },
      );
    }
    const decoded = this.decodeBody(req, t, req.body);
    const warnings = [...decoded.warnings];
    const large = hasMoreNodesThan(decoded.obj, OFFLOAD_NODES);
    if (large) await yieldEventLoop();
    // an apply that creates already carries its managedFields; any other create is tracked as an Update
    const obj =
      req.patchType === 'apply' ? decoded.obj : await this.track(req, t, 'main', undefined, decoded.obj);
    const m = meta(obj);
    if (m.resourceVersion)
      throw errors.badRequest('resourceVersion should not be set on objects to be created');
    if (t.ri.namespaced) {
      if (m.namespace && req.namespace && m.namespace !== req.namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      m.namespace = req.namespace ?? m.namespace;
    } else {
      delete m.namespace;
    }
    if (!m.name && m.generateName) m.name = this.generateName(m.generateName);
    const now = this.clock.now();
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(now);
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete (m as { selfLink?: string }).selfLink;
    if (t.strategy.tracksGeneration) m.generation = 1;
    else delete m.generation;
    if (m.finalizers?.length === 0) delete m.finalizers;
    const attrs = this.attributes('CREATE', req, t, {
      object: obj,
      name: m.name ?? '',
      subresource: '',
      warnings,
    });
    await this.admission.admit(attrs);
    t.strategy.prepareForCreate?.(obj, req.user);
    t.strategy.canonicalize?.(obj);
    if (large) await yieldEventLoop();
    this.validate(t, obj);
    warnings.push(...(t.strategy.warningsOnCreate?.(obj) ?? []));
    await this.admission.validate(attrs);
    const allocation = this.begin(t, m.name, await t.strategy.beginCreate?.(obj, this.writeCtx(req)));
    // a dry run allocates nothing: what it took goes back
    if (req.options.dryRun) {
      await allocation?.revert();
      return { code: 201, body: await this.out(t, obj), warnings };
    }
    try {
      if (large) await yieldEventLoop();
      const stored = await this.storage.create(
        this.key(t, m.namespace, m.name!),
        await this.toStorage(t, obj),
        this.writeOptions(t),
      );
      await allocation?.commit();
      return { code: 201, body: await this.out(t, stored.object), warnings };
    } catch (e) {
      await allocation?.revert();
      throw e;
    }
  }

  // ---------------------------------------------------------------- update / patch

  /**
   * PUT and PATCH of the main resource, the status subresource or a namespace's finalize: in guaranteedUpdate,
   * compute the new object from the stored one and write it (upstream's Store.Update). A client that pinned a
   * resourceVersion gets a 409 on a lost race instead of a retry.
   */
  update(req: ApiRequest, t: Target, part: Part): Promise<ApiResult> {
    const name = req.name!;
    return this.guaranteedUpdate(t, name, this.key(t, req.namespace, name), (current) =>
      this.tryUpdate(req, t, part, this.key(t, req.namespace, name), current),
    );
  }

  private async tryUpdate(
    req: ApiRequest,
    t: Target,
    part: Part,
    key: string,
    current: StoredObject | undefined,
  ): Promise<ApiResult> {
    const name = req.name!;
    let body: unknown;
    const applyCreates = req.verb === 'patch' && req.patchType === 'apply' && part === 'main';
    if (req.verb === 'patch' && !current && !applyCreates) throw errors.notFound(this.ref(t, name));
    // the stored object as the client sees it (one conversion webhook call, shared by the patch and the update)
    const shown = current ? await this.out(t, current.object) : undefined;
    if (req.verb === 'patch') {
      body = await this.applyPatch(req, t, shown);
    } else {
      body = req.body;
    }
    if (
      !current &&
      !applyCreates &&
      !(req.verb === 'update' && part === 'main' && t.strategy.allowCreateOnUpdate)
    ) {
      throw errors.notFound(this.ref(t, name));
    }
    const { obj: incoming, warnings: decodeWarnings } = this.decodeBody(req, t, body);
    const warnings = [...decodeWarnings];
    // a large object's steps each take tens of milliseconds: the event loop runs between them
    const large = hasMoreNodesThan(incoming, OFFLOAD_NODES);
    if (large) await yieldEventLoop();
    const m = meta(incoming);
    if (m.name && m.name !== name) {
      throw errors.badRequest(
        `the name of the object (${m.name}) does not match the name on the URL (${name})`,
      );
    }
    if (t.ri.namespaced && m.namespace && m.namespace !== req.namespace) {
      throw errors.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (!current) {
      return this.create({ ...req, verb: 'create', body }, t);
    }
    // a custom object is updated in the request's version (upstream's crdHandler: its codec converts at storage)
    const old = t.custom && shown ? shown : current.object;
    // A patch applied to the stored object carries its resourceVersion; only one the client wrote in the
    // patch pins it. Otherwise a conflict with a concurrent write is retried on the fresh object, as upstream's
    // GuaranteedUpdate re-applies the patch (a status patch racing a controller must not fail with 409).
    const pinned = req.verb === 'patch' ? patchPinnedResourceVersion(req.body) : m.resourceVersion;
    if (pinned) {
      if (Number(pinned) !== current.rv) throw errors.staleResourceVersion(this.ref(t, name));
    } else if (!t.strategy.allowUnconditionalUpdate && req.verb === 'update') {
      this.invalid(t, name, [fe.invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
    }
    if (m.uid && m.uid !== old.metadata?.uid) {
      throw errors.conflict(
        this.ref(t, name),
        `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${old.metadata?.uid ?? ''}`,
      );
    }
    const merged = this.merge(t, part, incoming, old);
    const next =
      req.verb === 'patch' && req.patchType === 'apply'
        ? merged
        : await this.track(req, t, part, old, merged);
    // admission mutates after the field manager has recorded the client's change, as upstream orders them
    const subresource = part === 'main' ? '' : part;
    const attrs = this.attributes('UPDATE', req, t, { object: next, oldObject: old, subresource, warnings });
    await this.admission.admit(attrs);
    t.strategy.canonicalize?.(next);
    const allocation =
      part === 'main'
        ? this.begin(t, name, await t.strategy.beginUpdate?.(next, old, this.writeCtx(req)))
        : undefined;
    try {
      if (large) await yieldEventLoop();
      this.validate(t, next, old, part === 'main' || part === 'finalize' ? undefined : part);
      if (part === 'main') warnings.push(...(t.strategy.warningsOnUpdate?.(next, old) ?? []));
      await this.admission.validate(attrs);
      if (large) await yieldEventLoop();
      // Nothing changed: answer with what is stored, write nothing (no new resourceVersion) — unless the stored value
      // is stale (encrypted with a key being rotated away from), which upstream's GuaranteedUpdate rewrites.
      if (deepEqual(withoutRV(next), withoutRV(old)) && !this.storage.isStale?.(key)) {
        await allocation?.revert();
        return { code: 200, body: await this.out(t, old), warnings };
      }
      if (req.options.dryRun) {
        await allocation?.revert();
        return { code: 200, body: await this.out(t, next), warnings };
      }
      // An object being deleted whose last finalizer just went is deleted now.
      if (this.readyToDelete(t, next)) {
        const body = await this.out(t, next);
        await this.deleteNow(t, key, current);
        await allocation?.revert();
        return { code: 200, body, warnings };
      }
      if (large) await yieldEventLoop();
      const stored = await this.writeUpdate(t, key, await this.toStorage(t, next), current, pinned);
      await allocation?.commit();
      return { code: 200, body: await this.out(t, stored.object), warnings };
    } catch (e) {
      await allocation?.revert();
      throw e;
    }
  }

  /** `current` is undefined only for an apply that creates */
  private async applyPatch(req: ApiRequest, t: Target, current: KubeObject | undefined): Promise<unknown> {
    const gvk = { group: t.ri.group, version: req.version, kind: t.ri.kind };
    if (req.patchType === 'apply') {
      if (!req.options.fieldManager) {
        throw errors.invalid(
          {
            group: 'meta.k8s.io',
            resource: 'patchoptions',
            kind: 'PatchOptions',
            kindName: 'PatchOptions',
            name: '',
          },
          [fe.required('fieldManager', 'is required for apply patch')],
        );
      }
      const config = req.body as KubeObject;
      // a 30,000-key ConfigMap takes the field manager about half a second: off the event loop
      const large = hasMoreNodesThan(config, OFFLOAD_NODES) || hasMoreNodesThan(current, OFFLOAD_NODES);
      return this.offload.run('serverSideApply', large, current, config, {
        manager: req.options.fieldManager,
        force: req.options.force ?? false,
        gvk,
        now: rfc3339(this.clock.now()),
        ...(t.custom ? { schema: t.custom.schema(req.version) } : {}),
      });
    }
    if (!current) throw errors.notFound(this.ref(t, req.name));
    switch (req.patchType) {
      case 'json':
        return applyJsonPatch(current, req.body);
      case 'merge':
        // the merge shares unpatched subtrees with its target, and decoding writes into the result
        return applyMergePatch(deepCopy(current), req.body);
      case 'strategic':
        return applyStrategicMergePatch(current, req.body, gvk);
      default:
        throw errors.unsupportedMediaType(String(req.patchType));
    }
  }

  /** managedFields bookkeeping of an ordinary write (upstream's fieldManager.UpdateNoErrors) */
  track(
    req: ApiRequest,
    t: Target,
    part: Part | 'scale',
    old: KubeObject | undefined,
    next: KubeObject,
  ): Promise<KubeObject> {
    const large = hasMoreNodesThan(next, OFFLOAD_NODES) || hasMoreNodesThan(old, OFFLOAD_NODES);
    return this.offload.run('trackUpdate', large, old, next, {
      manager: req.options.fieldManager ?? defaultFieldManager(req.user),
      gvk: { group: t.storeRi.group, version: t.storeRi.versions[0], kind: t.storeRi.kind },
      now: rfc3339(this.clock.now()),
      ...(part === 'main' ? {} : { subresource: part }),
      ...(t.custom ? { schema: t.custom.schema(t.custom.storageVersion) } : {}),
    });
  }

  /** the new stored object from what the client sent and what is stored */
  private merge(t: Target, part: Part, incoming: KubeObject, old: KubeObject): KubeObject {
    let next: KubeObject;
    if (part === 'status' || part === 'approval') {
      next = { ...deepCopy(old), status: incoming['status'] };
    } else if (part === 'ephemeralcontainers') {
      // upstream's dropNonEphemeralContainerUpdates: the pod as stored with the new ephemeral containers
      next = deepCopy(old);
      const spec = (next['spec'] ??= {}) as { ephemeralContainers?: unknown[] };
      const incomingList = (incoming['spec'] as { ephemeralContainers?: unknown[] } | undefined)
        ?.ephemeralContainers;
      if (incomingList && incomingList.length > 0) spec.ephemeralContainers = deepCopy(incomingList);
      else delete spec.ephemeralContainers;
    } else if (part === 'finalize') {
      // a namespace's finalize subresource writes spec.finalizers only
      next = deepCopy(old);
      const spec = (next['spec'] ??= {}) as { finalizers?: string[] };
      spec.finalizers = (
        (incoming['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? []
      ).slice();
    } else {
      next = incoming;
      if (t.strategy.statusSubresource) {
        if (old['status'] !== undefined) next['status'] = deepCopy(old['status']);
        else delete next['status'];
      }
    }
    const m = meta(next);
    const om = old.metadata ?? {};
    if (part !== 'main') {
      next.metadata = deepCopy(om);
    } else {
      m.uid = om.uid;
      m.name = om.name;
      if (om.namespace !== undefined) m.namespace = om.namespace;
      m.creationTimestamp = om.creationTimestamp;
      if (om.deletionTimestamp) {
        m.deletionTimestamp = om.deletionTimestamp;
        if (om.deletionGracePeriodSeconds !== undefined)
          m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      if (om.generateName !== undefined && m.generateName === undefined) m.generateName = om.generateName;
    }
    t.strategy.prepareForUpdate?.(next, old, part);
    if (part === 'main') {
      // after the strategy, as upstream's PrepareForUpdate: a spec the strategy reverted (a dropped field) is no change
      if (t.strategy.generationChanged) {
        m.generation = (om.generation ?? 1) + (t.strategy.generationChanged(next, old, part) ? 1 : 0);
      } else if (t.strategy.tracksGeneration) {
        const specChanged = !deepEqual(next['spec'], old['spec']);
        m.generation = (om.generation ?? 1) + (specChanged ? 1 : 0);
      } else if (om.generation !== undefined) {
        m.generation = om.generation;
      }
    }
    delete m.resourceVersion;
    if (m.finalizers?.length === 0) delete m.finalizers;
    next.apiVersion = old.apiVersion ?? t.storeApiVersion;
    next.kind = old.kind ?? t.storeRi.kind;
    return next;
  }

  private readyToDelete(t: Target, obj: KubeObject): boolean {
    const m = obj.metadata;
    if (!m?.deletionTimestamp || (m.finalizers?.length ?? 0) > 0) return false;
    if (t.strategy.pendingFinalization?.(obj)) return false;
    return t.strategy.deleteWhenFinalized?.(obj) ?? true;
  }

  // ---------------------------------------------------------------- delete

  /** upstream's Store.Delete: at once, or marked for graceful deletion / finalizers, in guaranteedUpdate */
  delete(req: ApiRequest, t: Target, inCollection = false): Promise<ApiResult> {
    const name = req.name!;
    const key = this.key(t, req.namespace, name);
    return this.guaranteedUpdate(t, name, key, (current) => {
      if (!current) throw errors.notFound(this.ref(t, name));
      // upstream's DeleteCollection calls the generic store's Delete, past any REST wrapper's refusal
      if (!inCollection) t.strategy.validateDelete?.(current.object);
      return this.tryDelete(req, t, key, current);
    });
  }

  private async tryDelete(
    req: ApiRequest,
    t: Target,
    key: string,
    current: StoredObject,
  ): Promise<ApiResult> {
    const opts = req.options;
    const name = req.name!;
    const old = current.object;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata?.uid) {
      throw errors.conflict(
        this.ref(t, name),
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata?.uid ?? ''}`,
      );
    }
    if (pre?.resourceVersion && Number(pre.resourceVersion) !== current.rv) {
      throw errors.conflict(
        this.ref(t, name),
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.rv}`,
      );
    }
    // upstream's deleter runs both phases (mutating admission sees no object on delete)
    const attrs = this.attributes('DELETE', req, t, { oldObject: old, subresource: '' });
    await this.admission.admit(attrs);
    await this.admission.validate(attrs);
    const next = deepCopy(old);
    const m = meta(next);
    const finalizers = new Set(m.finalizers ?? []);
    const policy = gcPolicy(t.strategy, opts, finalizers);
    const warnings = t.strategy.warningsOnDelete?.(opts) ?? [];
    if (policy === 'Unsupported') {
      // upstream's deletionFinalizersForGarbageCollection for a kind without garbage collection (Events): neither
      // finalizer is kept or added, whatever the request asks
      finalizers.delete('orphan');
      finalizers.delete('foregroundDeletion');
    }
    if (policy === 'Orphan') finalizers.add('orphan');
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    if (policy === 'Background' || policy === 'Foreground') finalizers.delete('orphan');
    if (policy === 'Background' || policy === 'Orphan') finalizers.delete('foregroundDeletion');
    const graceful = t.strategy.gracePeriodSeconds !== undefined;
    const grace = t.strategy.gracePeriodSeconds?.(old, opts) ?? 0;
    // Only a graceful period, finalizers or the strategy's own finalization keep an object after delete.
    if (grace === 0 && finalizers.size === 0 && !t.strategy.pendingFinalization?.(next)) {
      // converted before the delete: a webhook that fails refuses the delete rather than losing its answer
      const body = await this.out(t, old);
      if (opts.dryRun) return { code: 200, body, warnings };
      const deleted = await this.deleteNow(t, key, current);
      return {
        code: 200,
        body: deleted.object === old ? body : await this.out(t, { ...deleted.object }),
        warnings,
      };
    }
    if (!m.deletionTimestamp || (graceful && (m.deletionGracePeriodSeconds ?? Infinity) > grace)) {
      m.deletionTimestamp = rfc3339(this.clock.now() + grace * 1000);
      m.deletionGracePeriodSeconds = grace;
    }
    m.finalizers = [...finalizers];
    if (m.finalizers.length === 0) delete m.finalizers;
    t.strategy.prepareForDelete?.(next);
    delete m.resourceVersion;
    if (deepEqual(withoutRV(next), withoutRV(old)))
      return { code: 200, body: await this.out(t, old), warnings };
    if (opts.dryRun) return { code: 200, body: await this.out(t, next), warnings };
    const stored = await this.writeUpdate(t, key, next, current);
    const accepted = opts.orphanDependents === false || opts.propagationPolicy === 'Foreground';
    return { code: accepted ? 202 : 200, body: await this.out(t, stored.object), warnings };
  }

  async deleteCollection(req: ApiRequest, t: Target): Promise<ApiResult> {
    const listed = await this.list({ ...req, verb: 'list', options: { ...req.options, limit: 0 } }, t);
    const items = (listed.body as { items: KubeObject[] }).items;
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        const r = await this.delete(
          { ...req, verb: 'delete', name: item.metadata!.name!, namespace: item.metadata?.namespace },
          t,
          true,
        );
        deleted.push(r.body as KubeObject);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
      }
    }
    return {
      code: 200,
      warnings: t.strategy.warningsOnDelete?.(req.options) ?? [],
      body: {
        kind: `${t.ri.kind}List`,
        apiVersion: t.apiVersion,
        metadata: { resourceVersion: String(this.storage.currentRV()) },
        items: deleted,
      },
    };
  }
}

/**
 * upstream's crdHandler serves no strategic merge patch (custom resources have no patch strategies): a 415 that
 * lists what it takes, as negotiation.NewUnsupportedMediaTypeError words it
 */
export function unsupportedCustomPatch(): ApiError {
  return new ApiError(
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  );
}

/** the object without metadata.resourceVersion: to see whether a write changes anything */
export function withoutRV(obj: KubeObject): KubeObject {
  if (!obj.metadata?.resourceVersion) return obj;
  const { resourceVersion: _rv, ...rest } = obj.metadata;
  return { ...obj, metadata: rest };
}

function propagation(opts: RequestOptions): 'Orphan' | 'Background' | 'Foreground' | undefined {
  if (opts.propagationPolicy) return opts.propagationPolicy;
  if (opts.orphanDependents === true) return 'Orphan';
  if (opts.orphanDependents === false) return 'Background';
  return undefined;
}

/**
 * upstream's shouldOrphanDependents / shouldDeleteDependents: a kind without garbage collection ignores the request;
 * otherwise the request's policy, else the object's own finalizers, else the kind's default (Orphan for
 * ReplicationControllers in v1)
 */
function gcPolicy(
  strategy: Strategy,
  opts: RequestOptions,
  finalizers: ReadonlySet<string>,
): 'Orphan' | 'Background' | 'Foreground' | 'Unsupported' | undefined {
  if (strategy.defaultGarbageCollectionPolicy === 'Unsupported') return 'Unsupported';
  const requested = propagation(opts);
  if (requested) return requested;
  if (finalizers.has('orphan') || finalizers.has('foregroundDeletion')) return undefined;
  return strategy.defaultGarbageCollectionPolicy === 'Orphan' ? 'Orphan' : undefined;
}
