// The registry: the API handler both faces (REST and WebSocket) call. It resolves a request to its resource,
// sends subresources to their handlers (./subresources), everything else to the generic store (./store.ts), and
// serves watches; it also creates what every cluster has (namespaces, the `kubernetes` Service).
import { ApiError, errors } from '../../api/errors.js';
import type {
  ApiHandler,
  ApiRequest,
  ApiResult,
  KubeObject,
  WatchEvent,
  WatchHandle,
  WatchSink,
} from '../../api/request.js';
import { storagePrefix } from '../../api/resources.js';
import { Offload } from '../offload/offload.js';
import { realClock, type Clock } from '../../util/clock.js';
import { StorageError, type Storage, type StorageEvent } from '../storage/storage.js';
import type { Authorizer } from '../auth/authorizer.js';
import {
  AdmissionChain,
  defaultAdmissionPlugins,
  type AdmissionConfig,
  type AdmissionDeps,
  type AdmissionPlugin,
} from '../admission/index.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/validation/admission-kinds.js';
import { admissionStore } from './admission-store.js';
import { ensureLocalAPIServices } from './apiservices.js';
import { ensureFlowcontrolBootstrap } from './bootstrap-flowcontrol.js';
import { rfc3339 } from '../../util/objects.js';
import { markService, ServiceAllocator } from './allocators.js';
import { StorageServiceReservations } from './service-reservations.js';
import { GenericStore, unsupportedCustomPatch, type Target } from './store.js';
import { SUBRESOURCES, type SubresourceHandler } from './subresources/index.js';
import { tokenRequest } from './subresources/token.js';
import type { TokenIssuer } from '../auth/serviceaccount/issuer.js';
import { COMPONENT_STATUS_WARNING, componentStatuses, WatcherCensus } from './component-statuses.js';
import { CrdController } from '../customresources/controller.js';
import { servedCustomResources } from '../customresources/served.js';
import { installOpenApi } from '../customresources/openapi.js';
import type { Logger } from '../../util/logger.js';

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
  /** which admission plugins run (upstream's --enable/--disable-admission-plugins; default: all kubemu has) */
  admission?: AdmissionConfig;
  /** the admission plugins themselves, for tests (default: defaultAdmissionPlugins(deps, admission)) */
  admissionPlugins?: (deps: AdmissionDeps) => AdmissionPlugin[];
  /** checks that always run after the admission plugins and cannot be disabled (RBAC's escalation check) */
  policyChecks?: readonly AdmissionPlugin[];
  /** the apiserver's authorizer, for admission plugins that ask it (CertificateApproval, CertificateSigning) */
  authorizer?: () => Authorizer;
  /** the ServiceAccount token issuer behind serviceaccounts/token (absent: that subresource is refused) */
  tokenIssuer?: () => TokenIssuer | undefined;
  /** where the CRD controller logs */
  log?: Logger;
  /** upstream's --event-ttl in seconds (default 1 h) */
  eventTtlSeconds?: number;
}

export class Registry implements ApiHandler {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly alloc: ServiceAllocator;
  private readonly reservations: StorageServiceReservations;
  private readonly log: Logger | undefined;
  private readonly bookmarkIntervalMs: number;
  private readonly store: GenericStore;
  /** who holds watches open: what ComponentStatus reports the scheduler's and controller-manager's health by */
  private readonly census = new WatcherCensus();
  private readonly subresources: Readonly<Record<string, SubresourceHandler>>;
  /** serves the established CustomResourceDefinitions' resources (../customresources) */
  private readonly crds: CrdController;

  constructor(opts: RegistryOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock ?? realClock;
    this.alloc = new ServiceAllocator({
      serviceCidr: opts.serviceCidr ?? '127.96.0.0/16',
      nodePortRange: opts.nodePortRange ?? [30000, 32767],
    });
    this.reservations = new StorageServiceReservations(this.storage, this.clock);
    this.log = opts.log;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 5_000;
    const issuer = opts.tokenIssuer ?? (() => undefined);
    this.subresources = { ...SUBRESOURCES, token: tokenRequest(issuer) };
    const deps: AdmissionDeps = {
      api: this,
      clock: this.clock,
      notReadyTolerationSeconds: opts.notReadyTolerationSeconds ?? 2,
      ...(opts.authorizer ? { authorizer: opts.authorizer } : {}),
    };
    const plugins = [
      ...(opts.admissionPlugins?.(deps) ?? defaultAdmissionPlugins(deps, opts.admission)),
      ...(opts.policyChecks ?? []),
    ];
    this.store = new GenericStore({
      storage: this.storage,
      clock: this.clock,
      allocator: this.alloc,
      reservations: this.reservations,
      admission: new AdmissionChain(
        plugins,
        admissionStore(this.storage, () => this.store),
      ),
      offload: opts.offload ?? new Offload({ workerUrl: null }),
      ...(opts.eventTtlSeconds !== undefined ? { eventTtlSeconds: opts.eventTtlSeconds } : {}),
    });
    servedCustomResources.install();
    installOpenApi(servedCustomResources);
    this.crds = new CrdController({
      storage: this.storage,
      api: this,
      served: servedCustomResources,
      clock: this.clock,
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /** stop the CRD controller (the apiserver's close) */
  stop(): void {
    this.crds.stop();
  }

  /** Rebuild allocations from stored Services and create what every cluster has. */
  async init(): Promise<void> {
    const services = await this.storage.list(storagePrefix({ group: '', resource: 'services' }));
    for (const s of services.items)
      markService(this.alloc, s.object['spec'] as Parameters<typeof markService>[1]);
    // Services stored before their picks were held in storage get them; picks no Service holds go
    const repaired = await this.reservations.repair(services.items.map((s) => s.object));
    if (repaired.created || repaired.removed)
      this.log?.info(repaired, 'service ClusterIP and NodePort reservations repaired');
    await this.bootstrap();
    await this.crds.start();
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
    // upstream's scheduling/bootstrap-system-priority-classes post-start hook
    for (const pc of SYSTEM_PRIORITY_CLASSES) {
      await this.ensure({
        verb: 'create',
        group: 'scheduling.k8s.io',
        version: 'v1',
        resource: 'priorityclasses',
        body: { metadata: { name: pc.name }, value: pc.value, description: pc.description },
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
    // kube-aggregator's autoregister: an APIService for every group-version served here
    await ensureLocalAPIServices((req) => this.ensure(req), system);
    await ensureFlowcontrolBootstrap(
      (req) => this.handle(req),
      (req) => this.ensure(req),
      system,
      rfc3339(this.clock.now()),
    );
  }

  private async ensure(req: ApiRequest): Promise<void> {
    const name = (req.body as { metadata: { name: string } }).metadata.name;
    const t = this.store.resolve(req);
    if (await this.storage.get(this.store.key(t, req.namespace, name))) return;
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
      attempt = 1,
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
        // several apiservers on one etcd (an HA control plane) write these at once: the loser reads and tries again
        if (e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'AlreadyExists') && attempt < 5)
          return upsert(group, version, resource, body, attempt + 1);
        if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        await this.handle({ ...base, verb: 'create', body }).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.reason === 'AlreadyExists') || attempt >= 5) throw err;
          return upsert(group, version, resource, body, attempt + 1);
        });
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
    const t = this.store.resolve(req);
    try {
      return await this.dispatch(req, t);
    } catch (e) {
      throw this.store.mapStorageError(e, t, req.name);
    }
  }

  private dispatch(req: ApiRequest, t: Target): Promise<ApiResult> {
    if (t.custom && req.verb === 'patch' && req.patchType === 'strategic') throw unsupportedCustomPatch();
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
      const handler = this.subresources[sub];
      if (!handler) throw errors.methodNotAllowed(`subresource ${sub} is served by the kubelet`);
      return handler(this.store, req, t);
    }
    if (!t.ri.verbs.includes(req.verb))
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    if (!t.ri.group && t.ri.resource === 'componentstatuses') return this.componentStatuses(req, t);
    switch (req.verb) {
      case 'get':
        return this.store.get(req, t);
      case 'list':
        return this.store.list(req, t);
      case 'create':
        return this.store.create(req, t);
      case 'update':
      case 'patch':
        return this.store.update(req, t, 'main');
      case 'delete':
        return this.store.delete(req, t);
      case 'deletecollection':
        return this.store.deleteCollection(req, t);
      case 'watch':
        throw errors.badRequest('watch goes through watch()');
    }
  }

  // ---------------------------------------------------------------- watch

  /** ComponentStatuses are computed, never stored: get and list only */
  private async componentStatuses(req: ApiRequest, t: Target): Promise<ApiResult> {
    const warnings = [COMPONENT_STATUS_WARNING];
    const all = await componentStatuses(this.storage, this.census);
    if (req.verb === 'get') {
      const found = all.find((cs) => cs.metadata?.name === req.name);
      if (!found)
        throw errors.notFound({
          group: '',
          resource: 'componentstatuses',
          kind: t.ri.kind,
          name: req.name ?? '',
        });
      return { code: 200, body: found, warnings };
    }
    const { labels, fields } = this.store.selectors(req, t);
    const items = all.filter((cs) => this.store.matches(cs, labels, fields));
    return {
      code: 200,
      body: { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items },
      warnings,
    };
  }

  async watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle> {
    const t = this.store.resolve({ ...req, verb: 'watch' });
    if (!t.ri.verbs.includes('watch'))
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const { labels, fields } = this.store.selectors(req, t);
    const byName = req.name;
    const prefix = storagePrefix(t.storeRi, t.ri.namespaced ? req.namespace : undefined);
    const accept = (obj: KubeObject | undefined): boolean =>
      !!obj && (!byName || obj.metadata?.name === byName) && this.store.matches(obj, labels, fields);
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
    // With a conversion webhook each event waits for its conversion: one chain keeps events and bookmarks in order,
    // and a failed conversion ends the watch with its error (upstream's watch decoding error).
    const webhook = this.store.convertsByWebhook(t);
    let queue: Promise<void> = Promise.resolve();
    const later = (step: () => void | Promise<void>): void => {
      queue = queue.then(() => (stopped ? undefined : step())).catch((e: unknown) => stop(e));
    };
    const sendOrdered = (ev: WatchEvent): void => (webhook ? later(() => send(ev)) : send(ev));
    const sendObjects = (type: WatchEvent['type'], objs: KubeObject[]): void => {
      if (objs.length === 0) return;
      if (!webhook) for (const o of objs) send({ type, object: this.store.outNow(t, o) });
      else
        later(async () => {
          for (const object of await this.store.outMany(t, objs, false)) send({ type, object });
        });
    };
    if (initial) {
      let startAfter: string | undefined;
      let listRV = 0;
      for (;;) {
        const page = await this.storage.list(prefix, {
          limit: 1000,
          ...(startAfter ? { startAfter } : { consistent: !rvOpt }),
        });
        listRV ||= page.rv;
        sendObjects(
          'ADDED',
          page.items.filter((item) => accept(item.object)).map((item) => item.object),
        );
        if (!page.continueKey) break;
        startAfter = page.continueKey;
      }
      lastRV = rvOpt && rvOpt !== '0' ? Number(rvOpt) : listRV;
      if (req.options.sendInitialEvents) {
        sendOrdered({ type: 'BOOKMARK', object: this.bookmark(t, lastRV, true) });
      }
    } else {
      lastRV = Number(rvOpt);
      if (!Number.isInteger(lastRV) || lastRV < 0) {
        throw errors.badRequest(`invalid resource version: ${rvOpt}`);
      }
    }
    try {
      watcher = this.storage.watch(
        prefix,
        lastRV,
        (ev: StorageEvent) => {
          lastRV = ev.rv;
          const now = accept(ev.object);
          const before = accept(ev.prevObject);
          let type: WatchEvent['type'] | undefined;
          if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
          else if (ev.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
          else if (now && before) type = 'MODIFIED';
          else if (now) type = 'ADDED';
          else if (before) type = 'DELETED';
          if (type) sendObjects(type, [ev.object]);
        },
        // the store reinitialised its cache (a relist after etcd compacted past its feed): the watch ends, and
        // the client resumes from its last resourceVersion or, 410 Gone, relists — as upstream's cacher does
        () => stop(),
      );
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
        sendOrdered({
          type: 'BOOKMARK',
          object: this.bookmark(t, Math.max(lastRV, this.storage.currentRV())),
        });
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
