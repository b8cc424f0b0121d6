// The generic registry: upstream's object semantics (uid, generation, resourceVersion, finalizers,
// graceful deletion, subresources, watch with selectors) for every resource in the resource table.
// Both faces (REST and WebSocket) call it; it is the only code that writes to storage.
import { randomUUID, randomInt } from 'node:crypto';
import { ApiError, errors, fe, type FieldError } from '../../api/errors.js';
import type {
  ApiHandler,
  ApiRequest,
  ApiResult,
  KubeObject,
  RequestOptions,
  WatchEvent,
  WatchHandle,
  WatchSink,
} from '../../api/request.js';
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
import { hasMoreNodesThan, Offload, OFFLOAD_NODES } from '../offload/offload.js';
import { realClock, type Clock } from '../../util/clock.js';
import { deepCopy, deepEqual, isObject, rfc3339 } from '../../util/objects.js';
import { StorageError, type Storage, type StorageEvent, type StoredObject } from '../storage/storage.js';
import {
  fromLabelSelector,
  selectorString,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { strategyFor, type Strategy } from './strategies.js';
import { COMPONENT_STATUS_WARNING, componentStatuses, WatcherCensus } from './component-statuses.js';
import {
  allocateForCreate,
  allocateForUpdate,
  markService,
  releaseService,
  ServiceAllocator,
} from './allocators.js';

export interface RegistryOptions {
  storage: Storage;
  clock?: Clock;
  serviceCidr?: string;
  nodePortRange?: [number, number];
  /** DefaultTolerationSeconds admission: seconds a pod tolerates a not-ready/unreachable node (upstream 300) */
  notReadyTolerationSeconds?: number;
  /** how often watches with allowWatchBookmarks get a BOOKMARK (upstream: about a minute) */
  bookmarkIntervalMs?: number;
  /** where the field manager's walks over large objects run (default: inline, on the event loop) */
  offload?: Offload;
}

/** What a request resolved to. */
interface Target {
  ri: ResourceInfo;
  /** where it is stored (events.k8s.io Events share core Events' storage) */
  storeRi: ResourceInfo;
  storeApiVersion: string;
  apiVersion: string;
  strategy: Strategy;
}

const isComponentStatuses = (t: Target): boolean => !t.ri.group && t.ri.resource === 'componentstatuses';

const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/**
 * Retries of a write that lost a race (no resourceVersion pinned). Upstream's GuaranteedUpdate retries without
 * bound: every round one of the racing writers wins, so N concurrent writers of one object need up to N rounds —
 * 8 was too few for 20 concurrent status patches. The cap only guards against a conflict that never clears.
 */
const MAX_RETRIES = 256;

/** The resourceVersion a patch document itself sets (merge, strategic, apply, or a JSON patch op), if any. */
function patchPinnedResourceVersion(patch: unknown): string | undefined {
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

function meta(obj: KubeObject): NonNullable<KubeObject['metadata']> {
  return (obj.metadata ??= {});
}

export class Registry implements ApiHandler {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly alloc: ServiceAllocator;
  private readonly tolerationSeconds: number;
  private readonly bookmarkIntervalMs: number;
  private readonly offload: Offload;

  constructor(opts: RegistryOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock ?? realClock;
    this.alloc = new ServiceAllocator({
      serviceCidr: opts.serviceCidr ?? '127.96.0.0/16',
      nodePortRange: opts.nodePortRange ?? [30000, 32767],
    });
    this.tolerationSeconds = opts.notReadyTolerationSeconds ?? 2;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 5_000;
    this.offload = opts.offload ?? new Offload({ workerUrl: null });
  }

  /** who holds watches open: what ComponentStatus reports the scheduler's and controller-manager's health by */
  private readonly census = new WatcherCensus();

  /** Rebuild allocations from stored Services and create what every cluster has. */
  async init(): Promise<void> {
    const services = await this.storage.list(storagePrefix({ group: '', resource: 'services' }));
    for (const s of services.items)
      markService(this.alloc, s.object['spec'] as Parameters<typeof markService>[1]);
    await this.bootstrap();
  }

  private async bootstrap(): Promise<void> {
    const system = { username: 'system:apiserver', groups: ['system:masters'] };
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await this.ensure({
        verb: 'create',
        group: '',
        version: 'v1',
        resource: 'namespaces',
        body: { metadata: { name: ns } },
        options: {},
        user: system,
      });
    }
    const ip = this.alloc.firstIp();
    await this.ensure({
      verb: 'create',
      group: '',
      version: 'v1',
      resource: 'services',
      namespace: 'default',
      body: {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: ip,
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
        },
      },
      options: {},
      user: system,
    });
  }

  private async ensure(req: ApiRequest): Promise<void> {
    const name = (req.body as { metadata: { name: string } }).metadata.name;
    const t = this.resolve(req);
    if (await this.storage.get(this.key(t, req.namespace, name))) return;
    try {
      await this.handle(req);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
    }
  }

  /**
   * The `kubernetes` Service's endpoints: this apiserver's address (upstream's endpoint reconciler), so
   * kube-proxy can serve 127.96.0.1:443. Called once the server listens and knows its port.
   */
  async reconcileKubernetesEndpoints(ip: string, port: number): Promise<void> {
    const system = { username: 'system:apiserver', groups: ['system:masters'] };
    const upsert = async (
      group: string,
      version: string,
      resource: string,
      body: KubeObject,
    ): Promise<void> => {
      const base = { group, version, resource, namespace: 'default', user: system, options: {} };
      const name = body.metadata!.name!;
      try {
        const current = (await this.handle({ ...base, verb: 'get', name })).body as KubeObject;
        await this.handle({
          ...base,
          verb: 'update',
          name,
          body: {
            ...body,
            metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion },
          },
        });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        await this.handle({ ...base, verb: 'create', body });
      }
    };
    await upsert('', 'v1', 'endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    });
    await upsert('discovery.k8s.io', 'v1', 'endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    });
  }

  /** The address of the `kubernetes` Service: the first of the service range. */
  kubernetesServiceIP(): string {
    return this.alloc.firstIp();
  }

  // ---------------------------------------------------------------- dispatch

  async handle(req: ApiRequest): Promise<ApiResult> {
    const t = this.resolve(req);
    try {
      return await this.dispatch(req, t);
    } catch (e) {
      throw this.mapStorageError(e, t, req.name);
    }
  }

  private dispatch(req: ApiRequest, t: Target): Promise<ApiResult> {
    const sub = req.subresource;
    if (sub) {
      const allowed = t.ri.subresources.find((s) => s.name === sub);
      if (!allowed)
        throw errors.notFound({
          group: t.ri.group,
          resource: `${t.ri.resource}/${sub}`,
          kind: t.ri.kind,
          name: req.name ?? '',
        });
      if (!allowed.verbs.includes(req.verb))
        throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
      if (!req.name) throw errors.badRequest('a subresource needs a name');
      switch (sub) {
        case 'status':
          if (req.verb === 'get') return this.get(req, t);
          return this.update(req, t, 'status');
        case 'scale':
          return this.scale(req, t);
        case 'binding':
          return this.bind(req, t);
        case 'eviction':
          return this.evict(req, t);
        case 'finalize':
          return this.update(req, t, 'finalize');
        default:
          throw errors.methodNotAllowed(`subresource ${sub} is served by the kubelet`);
      }
    }
    if (!t.ri.verbs.includes(req.verb))
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    if (isComponentStatuses(t)) return this.componentStatuses(req, t);
    switch (req.verb) {
      case 'get':
        return this.get(req, t);
      case 'list':
        return this.list(req, t);
      case 'create':
        return this.create(req, t);
      case 'update':
      case 'patch':
        return this.update(req, t, 'main');
      case 'delete':
        return this.delete(req, t);
      case 'deletecollection':
        return this.deleteCollection(req, t);
      case 'watch':
        throw errors.badRequest('watch goes through watch()');
    }
  }

  private resolve(req: ApiRequest): Target {
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
    const storeRi = ri.group === 'events.k8s.io' ? (findResource('', 'events') as ResourceInfo) : ri;
    return {
      ri,
      storeRi,
      storeApiVersion: groupVersion(storeRi.group, storeRi.versions[0]),
      apiVersion: groupVersion(ri.group, req.version),
      strategy: strategyFor(ri.group, ri.resource),
    };
  }

  private ref(t: Target, name?: string): { group: string; resource: string; kind: string; name?: string } {
    return {
      group: t.ri.group,
      resource: t.ri.resource,
      kind: t.ri.kind,
      ...(name !== undefined ? { name } : {}),
    };
  }

  private mapStorageError(e: unknown, t: Target, name?: string): unknown {
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
        // upstream passes etcd's error through: a 500 with etcd's words and no reason
        return new ApiError('Unknown', e.message);
    }
  }

  private key(t: Target, namespace: string | undefined, name: string): string {
    return storageKey(t.storeRi, namespace, name);
  }

  /** the object as the client asked to see it */
  private out(t: Target, obj: KubeObject): KubeObject {
    if (t.apiVersion === t.storeApiVersion) return obj;
    return convertObject(obj, t.apiVersion);
  }

  // ---------------------------------------------------------------- read

  private async get(req: ApiRequest, t: Target): Promise<ApiResult> {
    const name = req.name!;
    const found = await this.storage.get(this.key(t, req.namespace, name));
    if (!found) throw errors.notFound(this.ref(t, name));
    return { code: 200, body: this.out(t, found.object) };
  }

  private selectors(req: ApiRequest, t: Target): { labels: LabelSelector; fields: FieldSelector } {
    return {
      labels: parseLabelSelector(req.options.labelSelector),
      fields: parseFieldSelector(req.options.fieldSelector, t.storeRi.resource),
    };
  }

  private async list(req: ApiRequest, t: Target): Promise<ApiResult> {
    const { labels, fields } = this.selectors(req, t);
    const prefix = storagePrefix(t.storeRi, t.ri.namespaced ? req.namespace : undefined);
    const limit = req.options.limit && req.options.limit > 0 ? req.options.limit : 0;
    if (req.options.continue && req.options.resourceVersion && req.options.resourceVersion !== '0')
      throw errors.badRequest('specifying resource version is not allowed when using continue');
    let startAfter = req.options.continue
      ? decodeContinue(req.options.continue, prefix).startAfter
      : undefined;
    const items: KubeObject[] = [];
    let listRV = 0;
    let nextKey: string | undefined;
    let remaining: number | undefined;
    const filtered = labels.requirements.length > 0 || fields.requirements.length > 0;
    for (;;) {
      const page = await this.storage.list(prefix, {
        ...(limit ? { limit: filtered ? Math.max(limit, 500) : limit } : {}),
        ...(startAfter ? { startAfter } : {}),
      });
      listRV ||= page.rv;
      let lastKey: string | undefined;
      for (const item of page.items) {
        lastKey = item.key;
        if (!this.matches(item.object, labels, fields)) continue;
        items.push(this.out(t, item.object));
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
      body: { kind: `${t.ri.kind}List`, apiVersion: t.apiVersion, metadata: listMeta, items },
    };
  }

  /** ComponentStatuses are computed, never stored: get and list only */
  private async componentStatuses(req: ApiRequest, t: Target): Promise<ApiResult> {
    const warnings = [COMPONENT_STATUS_WARNING];
    const all = await componentStatuses(this.storage, this.census);
    if (req.verb === 'get') {
      const found = all.find((cs) => cs.metadata?.name === req.name);
      if (!found) throw errors.notFound(this.ref(t, req.name ?? ''));
      return { code: 200, body: found, warnings };
    }
    const { labels, fields } = this.selectors(req, t);
    const items = all.filter((cs) => this.matches(cs, labels, fields));
    return {
      code: 200,
      body: { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items },
      warnings,
    };
  }

  private matches(obj: KubeObject, labels: LabelSelector, fields: FieldSelector): boolean {
    return labels.matches(obj.metadata?.labels) && fields.matches(obj);
  }

  // ---------------------------------------------------------------- write helpers

  /** decode, default and convert an incoming body to the storage version */
  private decodeBody(req: ApiRequest, t: Target, body: unknown): { obj: KubeObject; warnings: string[] } {
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

  private validate(t: Target, obj: KubeObject, old?: KubeObject, subresource?: string): void {
    const gvk = { group: t.storeRi.group, version: t.storeRi.versions[0], kind: t.storeRi.kind };
    const errs = validateObject(gvk, obj, {
      ...(old ? { old } : {}),
      ...(subresource ? { subresource } : {}),
    });
    if (errs.length) this.invalid(t, obj.metadata?.name, errs);
  }

  private invalid(t: Target, name: string | undefined, errs: FieldError[]): never {
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

  private async admitNamespace(t: Target, namespace: string | undefined, name: string): Promise<void> {
    if (!t.ri.namespaced || !namespace) return;
    const ns = await this.storage.get(
      storageKey({ group: '', resource: 'namespaces', namespaced: false }, undefined, namespace),
    );
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces', kind: 'Namespace', name: namespace });
    if (ns.object.metadata?.deletionTimestamp) {
      throw new ApiError(
        'Forbidden',
        `${t.ri.group ? `${t.ri.resource}.${t.ri.group}` : t.ri.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name,
          kind: t.ri.resource,
          ...(t.ri.group ? { group: t.ri.group } : {}),
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
  }

  /**
   * Mutating admission of a pod create (upstream: ServiceAccount, DefaultTolerationSeconds). The spec's
   * serviceAccount/serviceAccountName are already aliases of each other (toInternalForm).
   */
  private admitPodCreate(pod: KubeObject): void {
    const spec = (pod['spec'] ??= {}) as { serviceAccountName?: string; serviceAccount?: string };
    if (!spec.serviceAccountName) {
      spec.serviceAccountName = 'default';
      spec.serviceAccount = 'default';
    }
    this.addDefaultTolerations(pod);
  }

  /**
   * Mutating admission of a pod update. DefaultTolerationSeconds runs on update as on create (upstream's
   * plugin handles both), so a PUT of the manifest the pod was created from keeps the tolerations it got.
   * Unlike upstream, what the apiserver itself filled in at create — the default service account, and the
   * node the scheduler bound the pod to — is kept when the update leaves it empty, instead of refusing the
   * update as a spec change: `kubectl replace -f` of the very manifest a pod was created from succeeds.
   */
  /**
   * Admission on a pod update, as upstream's: DefaultTolerationSeconds runs on update too, so a manifest without
   * the default tolerations does not read as removing them. ServiceAccount admission mutates on create only, so an
   * update that leaves `serviceAccountName` or `nodeName` empty is refused by validation, as upstream refuses it.
   */
  private admitPodUpdate(pod: KubeObject): void {
    this.addDefaultTolerations(pod);
  }

  /** upstream's DefaultTolerationSeconds admission: tolerate not-ready/unreachable nodes for a while */
  private addDefaultTolerations(pod: KubeObject): void {
    const spec = (pod['spec'] ??= {}) as {
      tolerations?: { key?: string; operator?: string; effect?: string; tolerationSeconds?: number }[];
    };
    const tolerations = (spec.tolerations ??= []);
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      const tolerated = tolerations.some(
        (tol) => (tol.key === key || !tol.key) && (!tol.effect || tol.effect === 'NoExecute'),
      );
      if (!tolerated)
        tolerations.push({
          key,
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: this.tolerationSeconds,
        });
    }
  }

  private generateName(prefix: string): string {
    let s = prefix;
    for (let i = 0; i < 5; i++) s += GENERATE_CHARS[randomInt(GENERATE_CHARS.length)];
    return s;
  }

  // ---------------------------------------------------------------- create

  private async create(req: ApiRequest, t: Target): Promise<ApiResult> {
    const decoded = this.decodeBody(req, t, req.body);
    const { warnings } = decoded;
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
    t.strategy.prepareForCreate?.(obj);
    if (isPods(t)) this.admitPodCreate(obj);
    if (large) await yieldEventLoop();
    this.validate(t, obj);
    await this.admitNamespace(t, m.namespace, m.name ?? '');
    const isService = t.storeRi.resource === 'services' && !t.storeRi.group;
    if (isService) {
      const errs = allocateForCreate(
        this.alloc,
        (obj['spec'] ??= {}) as Parameters<typeof allocateForCreate>[1],
      );
      if (errs.length) this.invalid(t, m.name, errs);
    }
    if (req.options.dryRun) {
      if (isService) releaseService(this.alloc, obj['spec'] as Parameters<typeof releaseService>[1]);
      return { code: 201, body: this.out(t, obj), warnings };
    }
    try {
      if (large) await yieldEventLoop();
      const stored = await this.storage.create(this.key(t, m.namespace, m.name!), obj);
      return { code: 201, body: this.out(t, stored.object), warnings };
    } catch (e) {
      if (isService) releaseService(this.alloc, obj['spec'] as Parameters<typeof releaseService>[1]);
      throw e;
    }
  }

  // ---------------------------------------------------------------- update / patch

  /**
   * PUT and PATCH of the main resource, the status subresource or a namespace's finalize:
   * read, compute the new object, write with the read's resourceVersion, retry on a lost race
   * (upstream's GuaranteedUpdate) unless the client pinned a resourceVersion.
   */
  private async update(req: ApiRequest, t: Target, part: 'main' | 'status' | 'finalize'): Promise<ApiResult> {
    const name = req.name!;
    const key = this.key(t, req.namespace, name);
    for (let attempt = 0; ; attempt++) {
      const current = await this.storage.get(key);
      try {
        return await this.tryUpdate(req, t, part, key, current);
      } catch (e) {
        const retriable = e instanceof RetryableConflict && attempt < MAX_RETRIES;
        if (retriable) continue;
        if (e instanceof RetryableConflict) throw errors.staleResourceVersion(this.ref(t, name));
        throw e;
      }
    }
  }

  private async tryUpdate(
    req: ApiRequest,
    t: Target,
    part: 'main' | 'status' | 'finalize',
    key: string,
    current: StoredObject | undefined,
  ): Promise<ApiResult> {
    const name = req.name!;
    let body: unknown;
    const applyCreates = req.verb === 'patch' && req.patchType === 'apply' && part === 'main';
    if (req.verb === 'patch') {
      if (!current && !applyCreates) throw errors.notFound(this.ref(t, name));
      body = await this.applyPatch(req, t, current ? this.out(t, current.object) : undefined);
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
    const { obj: incoming, warnings } = this.decodeBody(req, t, body);
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
    const old = current.object;
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
    if (part === 'main' && isPods(t)) this.admitPodUpdate(next);
    if (part === 'main' && t.storeRi.resource === 'services' && !t.storeRi.group) {
      const errs = allocateForUpdate(
        this.alloc,
        (next['spec'] ??= {}) as Parameters<typeof allocateForUpdate>[1],
        (old['spec'] ?? {}) as Parameters<typeof allocateForUpdate>[2],
      );
      if (errs.length) this.invalid(t, name, errs);
    }
    if (large) await yieldEventLoop();
    this.validate(t, next, old, part === 'status' ? 'status' : undefined);
    if (large) await yieldEventLoop();
    // Nothing changed: answer with what is stored, write nothing (no new resourceVersion).
    if (deepEqual(withoutRV(next), withoutRV(old))) return { code: 200, body: this.out(t, old), warnings };
    if (req.options.dryRun) return { code: 200, body: this.out(t, next), warnings };
    // An object being deleted whose last finalizer just went is deleted now.
    if (this.readyToDelete(t, next)) {
      await this.storage.delete(key, current.rv).catch((e: unknown) => {
        throw e instanceof StorageError && e.code === 'Conflict' ? new RetryableConflict() : e;
      });
      return { code: 200, body: this.out(t, next), warnings };
    }
    try {
      if (large) await yieldEventLoop();
      const stored = await this.storage.update(key, next, current.rv);
      return { code: 200, body: this.out(t, stored.object), warnings };
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Conflict') {
        if (pinned) throw errors.staleResourceVersion(this.ref(t, name));
        throw new RetryableConflict();
      }
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
  private track(
    req: ApiRequest,
    t: Target,
    part: 'main' | 'status' | 'finalize' | 'scale',
    old: KubeObject | undefined,
    next: KubeObject,
  ): Promise<KubeObject> {
    const large = hasMoreNodesThan(next, OFFLOAD_NODES) || hasMoreNodesThan(old, OFFLOAD_NODES);
    return this.offload.run('trackUpdate', large, old, next, {
      manager: req.options.fieldManager ?? defaultFieldManager(req.user),
      gvk: { group: t.storeRi.group, version: t.storeRi.versions[0], kind: t.storeRi.kind },
      now: rfc3339(this.clock.now()),
      ...(part === 'main' ? {} : { subresource: part }),
    });
  }

  /** the new stored object from what the client sent and what is stored */
  private merge(
    t: Target,
    part: 'main' | 'status' | 'finalize',
    incoming: KubeObject,
    old: KubeObject,
  ): KubeObject {
    let next: KubeObject;
    if (part === 'status') {
      next = { ...deepCopy(old), status: incoming['status'] };
      // status writers may not touch metadata other than labels/annotations? upstream: metadata is reset too
    } else if (part === 'finalize') {
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
      // Namespaces: spec.finalizers change only through /finalize.
      if (t.storeRi.resource === 'namespaces' && !t.storeRi.group) {
        next['spec'] = deepCopy(old['spec']);
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
      t.strategy.prepareForUpdate?.(next, old);
      if (t.strategy.tracksGeneration) {
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
    if (t.storeRi.resource === 'namespaces' && !t.storeRi.group) {
      return ((obj['spec'] as { finalizers?: string[] } | undefined)?.finalizers?.length ?? 0) === 0;
    }
    // A pod being gracefully deleted stays until its kubelet has stopped it and deleted it with grace 0; once its
    // grace period is 0, the last finalizer going deletes it (upstream's ShouldDeleteDuringUpdate), or a pod deleted
    // with --cascade=orphan/foreground whose kubelet finished first would stay Terminating for good.
    if (t.storeRi.resource === 'pods' && !t.storeRi.group) return m.deletionGracePeriodSeconds === 0;
    return true;
  }

  // ---------------------------------------------------------------- delete

  private async delete(req: ApiRequest, t: Target): Promise<ApiResult> {
    const name = req.name!;
    const key = this.key(t, req.namespace, name);
    if (t.storeRi.resource === 'namespaces' && !t.storeRi.group && IMMORTAL_NAMESPACES.has(name)) {
      throw new ApiError(
        'Forbidden',
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        { name, kind: 'namespaces' },
      );
    }
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const current = await this.storage.get(key);
      if (!current) throw errors.notFound(this.ref(t, name));
      try {
        return await this.tryDelete(req, t, key, current);
      } catch (e) {
        if (!(e instanceof RetryableConflict)) throw e;
      }
    }
    throw errors.staleResourceVersion(this.ref(t, name));
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
    const next = deepCopy(old);
    const m = meta(next);
    const finalizers = new Set(m.finalizers ?? []);
    const policy = propagation(opts);
    if (policy === 'Orphan') finalizers.add('orphan');
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    if (policy === 'Background' || policy === 'Foreground') finalizers.delete('orphan');
    if (policy === 'Background' || policy === 'Orphan') finalizers.delete('foregroundDeletion');
    const now = this.clock.now();
    const isPod = t.storeRi.resource === 'pods' && !t.storeRi.group;
    const isNamespace = t.storeRi.resource === 'namespaces' && !t.storeRi.group;
    let grace = 0;
    if (isPod) {
      const spec = old['spec'] as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
      const phase = (old['status'] as { phase?: string } | undefined)?.phase;
      grace = opts.gracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
      if (!spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
      if (m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds < grace)
        grace = m.deletionGracePeriodSeconds;
    }
    const pendingNamespaceFinalizers =
      isNamespace && ((next['spec'] as { finalizers?: string[] } | undefined)?.finalizers?.length ?? 0) > 0;
    // Only a pod's graceful period, finalizers or a namespace's cleanup keep an object after delete.
    if (grace === 0 && finalizers.size === 0 && !pendingNamespaceFinalizers) {
      if (opts.dryRun) return { code: 200, body: this.out(t, old) };
      try {
        const deleted = await this.storage.delete(key, current.rv);
        if (t.storeRi.resource === 'services' && !t.storeRi.group)
          releaseService(this.alloc, old['spec'] as Parameters<typeof releaseService>[1]);
        return { code: 200, body: this.out(t, { ...deleted.object }) };
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict') throw new RetryableConflict();
        throw e;
      }
    }
    if (!m.deletionTimestamp || (isPod && (m.deletionGracePeriodSeconds ?? Infinity) > grace)) {
      m.deletionTimestamp = rfc3339(now + grace * 1000);
      m.deletionGracePeriodSeconds = grace;
    }
    m.finalizers = [...finalizers];
    if (m.finalizers.length === 0) delete m.finalizers;
    if (isNamespace) next['status'] = { ...(next['status'] as object), phase: 'Terminating' };
    delete m.resourceVersion;
    if (deepEqual(withoutRV(next), withoutRV(old))) return { code: 200, body: this.out(t, old) };
    if (opts.dryRun) return { code: 200, body: this.out(t, next) };
    try {
      const stored = await this.storage.update(key, next, current.rv);
      const accepted = opts.orphanDependents === false || opts.propagationPolicy === 'Foreground';
      return { code: accepted ? 202 : 200, body: this.out(t, stored.object) };
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Conflict') throw new RetryableConflict();
      throw e;
    }
  }

  private async deleteCollection(req: ApiRequest, t: Target): Promise<ApiResult> {
    const listed = await this.list({ ...req, verb: 'list', options: { ...req.options, limit: 0 } }, t);
    const items = (listed.body as { items: KubeObject[] }).items;
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        const r = await this.delete(
          { ...req, verb: 'delete', name: item.metadata!.name!, namespace: item.metadata?.namespace },
          t,
        );
        deleted.push(r.body as KubeObject);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
      }
    }
    return {
      code: 200,
      body: {
        kind: `${t.ri.kind}List`,
        apiVersion: t.apiVersion,
        metadata: { resourceVersion: String(this.storage.currentRV()) },
        items: deleted,
      },
    };
  }

  // ---------------------------------------------------------------- subresources

  private scaleOf(obj: KubeObject): KubeObject {
    const spec = obj['spec'] as
      { replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0] } | undefined;
    const status = obj['status'] as { replicas?: number } | undefined;
    // a ReplicationController's selector is a plain label map, the apps kinds' a LabelSelector
    const selector = selectorString(
      fromLabelSelector(
        obj.kind === 'ReplicationController'
          ? { matchLabels: spec?.selector as Record<string, string> | undefined }
          : spec?.selector,
      ),
    );
    const m = obj.metadata ?? {};
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        creationTimestamp: m.creationTimestamp,
      },
      spec: { replicas: spec?.replicas ?? 0 },
      status: { replicas: status?.replicas ?? 0, selector },
    };
  }

  private async scale(req: ApiRequest, t: Target): Promise<ApiResult> {
    const name = req.name!;
    const key = this.key(t, req.namespace, name);
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const current = await this.storage.get(key);
      if (!current) throw errors.notFound(this.ref(t, name));
      const scale = this.scaleOf(current.object);
      if (req.verb === 'get') return { code: 200, body: scale };
      let body: unknown = req.body;
      if (req.verb === 'patch') {
        body =
          req.patchType === 'json'
            ? applyJsonPatch(scale, req.body)
            : req.patchType === 'strategic' || req.patchType === 'merge' || req.patchType === 'apply'
              ? applyMergePatch(scale, req.body)
              : (() => {
                  throw errors.unsupportedMediaType(String(req.patchType));
                })();
      }
      if (!isObject(body)) throw errors.badRequest('the body of the request was not a Scale object');
      const b = body as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
      const replicas = b.spec?.replicas;
      if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
        throw errors.badRequest(
          `Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`,
        );
      }
      if (typeof replicas === 'number' && replicas < 0) {
        throw errors.invalid(
          { group: 'autoscaling', resource: 'scale', kind: 'Scale', kindName: 'Scale', name },
          [fe.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')],
        );
      }
      const pinned = b.metadata?.resourceVersion;
      if (pinned && Number(pinned) !== current.rv) throw errors.staleResourceVersion(this.ref(t, name));
      const scaled = deepCopy(current.object);
      (scaled['spec'] as { replicas?: number }).replicas = replicas ?? 0;
      // the scale subresource records its writer as upstream does (subresource: scale, f:spec.f:replicas)
      const next = await this.track(req, t, 'scale', current.object, scaled);
      const m = meta(next);
      if (
        t.strategy.tracksGeneration &&
        replicas !== (current.object['spec'] as { replicas?: number }).replicas
      ) {
        m.generation = (m.generation ?? 1) + 1;
      }
      delete m.resourceVersion;
      if (deepEqual(withoutRV(next), withoutRV(current.object))) return { code: 200, body: scale };
      if (req.options.dryRun) return { code: 200, body: this.scaleOf(next) };
      try {
        const stored = await this.storage.update(key, next, current.rv);
        return { code: 200, body: this.scaleOf(stored.object) };
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict' && !pinned) continue;
        throw e;
      }
    }
    throw errors.staleResourceVersion(this.ref(t, name));
  }

  private async bind(req: ApiRequest, t: Target): Promise<ApiResult> {
    const name = req.name!;
    const body = req.body as
      { target?: { kind?: string; name?: string }; metadata?: { name?: string } } | undefined;
    const node = body?.target?.name;
    if (!node) {
      throw errors.invalid({ group: '', resource: 'bindings', kind: 'Binding', kindName: 'Binding', name }, [
        fe.required('target.name'),
      ]);
    }
    const key = this.key(t, req.namespace, name);
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const current = await this.storage.get(key);
      if (!current) throw errors.notFound(this.ref(t, name));
      const pod = current.object;
      if (pod.metadata?.deletionTimestamp) {
        throw errors.conflict(
          this.ref(t, name),
          `pod ${name} is being deleted, cannot be assigned to a host`,
        );
      }
      const spec = pod['spec'] as { nodeName?: string };
      if (spec.nodeName)
        throw errors.conflict(
          this.ref(t, name),
          `pod ${name} is already assigned to node "${spec.nodeName}"`,
        );
      const next = deepCopy(pod);
      (next['spec'] as { nodeName?: string }).nodeName = node;
      const status = (next['status'] ??= {}) as {
        conditions?: { type: string; status: string; lastProbeTime?: null; lastTransitionTime?: string }[];
      };
      status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      status.conditions.push({
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: rfc3339(this.clock.now()),
      });
      delete meta(next).resourceVersion;
      try {
        await this.storage.update(key, next, current.rv);
        return {
          code: 201,
          body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
        };
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict') continue;
        throw e;
      }
    }
    throw errors.staleResourceVersion(this.ref(t, name));
  }

  private async evict(req: ApiRequest, t: Target): Promise<ApiResult> {
    const body = req.body as
      | { deleteOptions?: { gracePeriodSeconds?: number; preconditions?: RequestOptions['preconditions'] } }
      | undefined;
    const opts: RequestOptions = { ...req.options };
    if (body?.deleteOptions?.gracePeriodSeconds !== undefined)
      opts.gracePeriodSeconds = body.deleteOptions.gracePeriodSeconds;
    if (body?.deleteOptions?.preconditions) opts.preconditions = body.deleteOptions.preconditions;
    await this.delete({ ...req, verb: 'delete', subresource: undefined, options: opts }, t);
    return {
      code: 201,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
    };
  }

  // ---------------------------------------------------------------- watch

  async watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle> {
    const t = this.resolve({ ...req, verb: 'watch' });
    if (!t.ri.verbs.includes('watch'))
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const { labels, fields } = this.selectors(req, t);
    const byName = req.name;
    const prefix = storagePrefix(t.storeRi, t.ri.namespaced ? req.namespace : undefined);
    const accept = (obj: KubeObject | undefined): boolean =>
      !!obj && (!byName || obj.metadata?.name === byName) && this.matches(obj, labels, fields);
    const rvOpt = req.options.resourceVersion;
    const initial = !rvOpt || rvOpt === '0' || req.options.sendInitialEvents === true;
    let stopped = false;
    let lastRV = 0;
    const timers: { cancel(): void }[] = [];
    let watcher: { stop(): void } | undefined;
    let leaveCensus: (() => void) | undefined;
    const stop = (err?: unknown): void => {
      if (stopped) return;
      stopped = true;
      watcher?.stop();
      leaveCensus?.();
      timers.forEach((x) => x.cancel());
      sink.end(err);
    };
    const send = (ev: WatchEvent): void => {
      if (stopped) return;
      if (!sink.event(ev)) stop(errors.gone('watch closed: the client is too slow to keep up, relist'));
    };
    if (initial) {
      let startAfter: string | undefined;
      let listRV = 0;
      for (;;) {
        const page = await this.storage.list(prefix, { limit: 1000, ...(startAfter ? { startAfter } : {}) });
        listRV ||= page.rv;
        for (const item of page.items)
          if (accept(item.object)) send({ type: 'ADDED', object: this.out(t, item.object) });
        if (!page.continueKey) break;
        startAfter = page.continueKey;
      }
      lastRV = rvOpt && rvOpt !== '0' ? Number(rvOpt) : listRV;
      if (req.options.sendInitialEvents) {
        send({ type: 'BOOKMARK', object: this.bookmark(t, lastRV, true) });
      }
    } else {
      lastRV = Number(rvOpt);
      if (!Number.isInteger(lastRV) || lastRV < 0) {
        throw errors.badRequest(`invalid resource version: ${rvOpt}`);
      }
    }
    try {
      watcher = this.storage.watch(prefix, lastRV, (ev: StorageEvent) => {
        lastRV = ev.rv;
        const now = accept(ev.object);
        const before = accept(ev.prevObject);
        let type: WatchEvent['type'] | undefined;
        if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
        else if (ev.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
        else if (now && before) type = 'MODIFIED';
        else if (now) type = 'ADDED';
        else if (before) type = 'DELETED';
        if (type) send({ type, object: this.out(t, ev.object) });
      });
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Gone') {
        throw errors.gone(
          `too old resource version: ${lastRV} (${e.message.match(/\d+/g)?.pop() ?? this.storage.currentRV()})`,
        );
      }
      throw e;
    }
    if (stopped) watcher.stop();
    else leaveCensus = this.census.enter(req.user.username);
    if (req.options.allowWatchBookmarks) {
      const tick = (): void => {
        if (stopped) return;
        send({ type: 'BOOKMARK', object: this.bookmark(t, Math.max(lastRV, this.storage.currentRV())) });
        timers.push(this.clock.setTimeout(tick, this.bookmarkIntervalMs));
      };
      timers.push(this.clock.setTimeout(tick, this.bookmarkIntervalMs));
    }
    // upstream's watch deadline: a negative timeoutSeconds is one already passed, so the watch ends at once
    const timeoutSeconds = req.options.timeoutSeconds;
    if (timeoutSeconds) timers.push(this.clock.setTimeout(() => stop(), Math.max(0, timeoutSeconds) * 1000));
    return { stop: () => stop() };
  }

  private bookmark(t: Target, rv: number, initialEventsEnd = false): KubeObject {
    return {
      kind: t.ri.kind,
      apiVersion: t.apiVersion,
      metadata: {
        resourceVersion: String(rv),
        ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    };
  }
}

class RetryableConflict extends Error {
  constructor() {
    super('conflict: retry');
  }
}

function isPods(t: Target): boolean {
  return t.storeRi.resource === 'pods' && !t.storeRi.group;
}

function withoutRV(obj: KubeObject): KubeObject {
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
