// The typed client: one ResourceClient per resource of the resource table, over any ApiTransport.
import type {
  Binding,
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Scale } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { ObjectMeta, Status } from 'kubernetes-types/meta/v1.js';
import type {
  ApiResult,
  FieldValidation,
  PatchType,
  PropagationPolicy,
  RequestOptions,
  WatchEvent,
} from '../api/request.js';
import { findResource, groupVersion } from '../api/resources.js';
import type { WireRequest } from '../api/wire.js';
import { WS_PATH } from '../api/wire.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { readKubeconfig, type KubeconfigCredentials } from '../util/kubeconfig.js';
import {
  ApiConnection,
  type ApiTransport,
  type WatchEndHandler,
  type WatchSubscription,
} from './connection.js';

/** Anything stored: kubernetes-types kinds all fit. */
export interface ObjectWithMeta {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list response: like KubeList, for any typed kind. */
export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface ResourceDescriptor {
  group: string;
  version: string;
  /** plural: `pods` */
  resource: string;
  namespaced: boolean;
  /** fills `kind` on create/update when the object lacks it */
  kind?: string;
}

export interface ListOptions {
  /** omitted: all namespaces */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface WriteOptions {
  /** for create when the object has no metadata.namespace; default 'default' */
  namespace?: string;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
}

export interface PatchOptions extends WriteOptions {
  /** for server-side apply */
  force?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type { PatchType };

function pick<K extends keyof RequestOptions>(
  o: Partial<Record<K, unknown>> | undefined,
  keys: readonly K[],
): RequestOptions {
  const out: RequestOptions = {};
  if (!o) return out;
  for (const k of keys) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  return out;
}

const LIST_KEYS = [
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
] as const;
const WATCH_KEYS = [
  'labelSelector',
  'fieldSelector',
  'resourceVersion',
  'allowWatchBookmarks',
  'sendInitialEvents',
  'timeoutSeconds',
] as const;
const WRITE_KEYS = ['dryRun', 'fieldManager', 'fieldValidation'] as const;
const PATCH_KEYS = [...WRITE_KEYS, 'force'] as const;
const DELETE_KEYS = ['propagationPolicy', 'gracePeriodSeconds', 'preconditions', 'dryRun'] as const;

/** get/list/create/update/patch/delete/watch of one resource. Objects returned are the caller's to keep. */
export class ResourceClient<T extends ObjectWithMeta> {
  readonly descriptor: ResourceDescriptor;

  constructor(
    private readonly transport: ApiTransport,
    descriptor: ResourceDescriptor,
  ) {
    this.descriptor = descriptor;
  }

  private base(
    verb: WireRequest['verb'],
    namespace: string | undefined,
    name?: string,
    subresource?: string,
  ): WireRequest {
    const d = this.descriptor;
    const req: WireRequest = { verb, group: d.group, version: d.version, resource: d.resource, options: {} };
    if (d.namespaced && namespace) req.namespace = namespace;
    if (name !== undefined) req.name = name;
    if (subresource) req.subresource = subresource;
    return req;
  }

  private async call<R>(req: WireRequest): Promise<R> {
    const result: ApiResult = await this.transport.request(req);
    return result.body as R;
  }

  private withTypeMeta(obj: T): T {
    const d = this.descriptor;
    if (obj.apiVersion && (obj.kind || !d.kind)) return obj;
    return {
      ...obj,
      apiVersion: obj.apiVersion ?? groupVersion(d.group, d.version),
      ...(d.kind && !obj.kind ? { kind: d.kind } : {}),
    };
  }

  private namespaceOf(obj: ObjectWithMeta, opts?: { namespace?: string }): string | undefined {
    if (!this.descriptor.namespaced) return undefined;
    return obj.metadata?.namespace ?? opts?.namespace ?? 'default';
  }

  private nameOf(obj: ObjectWithMeta): string {
    const name = obj.metadata?.name;
    if (!name) throw new TypeError(`${this.descriptor.resource}: object has no metadata.name`);
    return name;
  }

  get(name: string, namespace?: string): Promise<T> {
    return this.call(this.base('get', namespace, name));
  }

  list(opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.call({ ...this.base('list', opts.namespace), options: pick(opts, LIST_KEYS) });
  }

  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const req = this.base('create', this.namespaceOf(obj, opts));
    return this.call({ ...req, body: this.withTypeMeta(obj), options: pick(opts, WRITE_KEYS) });
  }

  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    const req = this.base('update', this.namespaceOf(obj, opts), this.nameOf(obj));
    return this.call({ ...req, body: this.withTypeMeta(obj), options: pick(opts, WRITE_KEYS) });
  }

  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    const req = this.base('update', this.namespaceOf(obj, opts), this.nameOf(obj), 'status');
    return this.call({ ...req, body: this.withTypeMeta(obj), options: pick(opts, WRITE_KEYS) });
  }

  /** `patch` is the parsed document: an object for merge/strategic, an array of operations for json */
  patch(
    name: string,
    patch: unknown,
    patchType: PatchType = 'merge',
    opts: PatchOptions & { subresource?: string } = {},
  ): Promise<T> {
    const req = this.base('patch', opts.namespace, name, opts.subresource);
    return this.call({ ...req, body: patch, patchType, options: pick(opts, PATCH_KEYS) });
  }

  /** the deleted object (graceful or finalized deletes return it) or a Success Status */
  delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return this.call({ ...this.base('delete', opts.namespace, name), options: pick(opts, DELETE_KEYS) });
  }

  deleteCollection(opts: ListOptions & DeleteOptions = {}): Promise<ObjectList<T> | Status> {
    return this.call({
      ...this.base('deletecollection', opts.namespace),
      options: { ...pick(opts, LIST_KEYS), ...pick(opts, DELETE_KEYS) },
    });
  }

  watch(
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onEnd: WatchEndHandler,
  ): WatchSubscription {
    const req: WireRequest = { ...this.base('watch', opts.namespace), options: pick(opts, WATCH_KEYS) };
    return this.transport.watch(req, onEvent as unknown as (event: WatchEvent) => void, onEnd);
  }

  getScale(name: string, namespace?: string): Promise<Scale> {
    return this.call(this.base('get', namespace, name, 'scale'));
  }

  updateScale(name: string, scale: Scale, opts: WriteOptions = {}): Promise<Scale> {
    const req = this.base('update', scale.metadata?.namespace ?? opts.namespace, name, 'scale');
    const body: Scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', ...scale };
    return this.call({ ...req, body, options: pick(opts, WRITE_KEYS) });
  }

  /** POST to a subresource such as pods/binding or pods/eviction */
  createSubresource<B extends ObjectWithMeta, R = unknown>(
    name: string,
    subresource: string,
    body: B,
    opts: WriteOptions = {},
  ): Promise<R> {
    const req = this.base('create', opts.namespace ?? body.metadata?.namespace, name, subresource);
    return this.call({ ...req, body, options: pick(opts, WRITE_KEYS) });
  }
}

/** Pods add binding and eviction to the common verbs. */
export class PodClient extends ResourceClient<Pod> {
  bind(binding: Binding, opts: WriteOptions = {}): Promise<Status> {
    const name = binding.metadata?.name;
    if (!name) throw new TypeError('binding has no metadata.name');
    return this.createSubresource(name, 'binding', { apiVersion: 'v1', kind: 'Binding', ...binding }, opts);
  }
}

function descriptorFor(group: string, resource: string, version?: string): ResourceDescriptor {
  const ri = findResource(group, resource);
  if (!ri) throw new TypeError(`unknown resource ${resource}${group ? `.${group}` : ''}`);
  return { group, version: version ?? ri.versions[0], resource, namespaced: ri.namespaced, kind: ri.kind };
}

/** One client for the whole API, e.g. `client.pods.list({ namespace: 'default' })`. */
export class KubeClient {
  readonly namespaces: ResourceClient<Namespace>;
  readonly nodes: ResourceClient<Node>;
  readonly pods: PodClient;
  readonly services: ResourceClient<Service>;
  readonly endpoints: ResourceClient<Endpoints>;
  readonly configMaps: ResourceClient<ConfigMap>;
  readonly secrets: ResourceClient<Secret>;
  readonly events: ResourceClient<Event>;
  readonly serviceAccounts: ResourceClient<ServiceAccount>;
  readonly leases: ResourceClient<Lease>;
  readonly deployments: ResourceClient<Deployment>;
  readonly replicaSets: ResourceClient<ReplicaSet>;
  readonly endpointSlices: ResourceClient<EndpointSlice>;
  readonly ingresses: ResourceClient<Ingress>;
  readonly ingressClasses: ResourceClient<IngressClass>;
  readonly horizontalPodAutoscalers: ResourceClient<HorizontalPodAutoscaler>;
  readonly eventsV1: ResourceClient<EventsV1Event>;

  constructor(readonly transport: ApiTransport) {
    const rc = <T extends ObjectWithMeta>(
      group: string,
      resource: string,
      version?: string,
    ): ResourceClient<T> => new ResourceClient<T>(transport, descriptorFor(group, resource, version));
    this.namespaces = rc('', 'namespaces');
    this.nodes = rc('', 'nodes');
    this.pods = new PodClient(transport, descriptorFor('', 'pods'));
    this.services = rc('', 'services');
    this.endpoints = rc('', 'endpoints');
    this.configMaps = rc('', 'configmaps');
    this.secrets = rc('', 'secrets');
    this.events = rc('', 'events');
    this.serviceAccounts = rc('', 'serviceaccounts');
    this.leases = rc('coordination.k8s.io', 'leases');
    this.deployments = rc('apps', 'deployments');
    this.replicaSets = rc('apps', 'replicasets');
    this.endpointSlices = rc('discovery.k8s.io', 'endpointslices');
    this.ingresses = rc('networking.k8s.io', 'ingresses');
    this.ingressClasses = rc('networking.k8s.io', 'ingressclasses');
    this.horizontalPodAutoscalers = rc('autoscaling', 'horizontalpodautoscalers', 'v2');
    this.eventsV1 = rc('events.k8s.io', 'events');
  }

  /** any resource by group/version/plural; unknown resources (e.g. CRDs) need `namespaced` */
  resource<T extends ObjectWithMeta = ObjectWithMeta>(
    group: string,
    version: string,
    resource: string,
    namespaced?: boolean,
  ): ResourceClient<T> {
    const ri = findResource(group, resource);
    const d: ResourceDescriptor = ri
      ? { group, version, resource, namespaced: ri.namespaced, kind: ri.kind }
      : { group, version, resource, namespaced: namespaced ?? true };
    return new ResourceClient<T>(this.transport, d);
  }
}

export interface ConnectOptions {
  /** the apiserver as a kubeconfig has it: `https://127.0.0.1:6443` */
  server: string;
  token?: string;
  /** PEM of the cluster CA */
  ca?: string;
  logger?: Logger;
  clock?: Clock;
}

/** `https://host:port` → `wss://host:port/kubemu/v1/ws` */
export function internalFaceUrl(server: string): string {
  const u = new URL(server);
  u.protocol = u.protocol === 'http:' || u.protocol === 'ws:' ? 'ws:' : 'wss:';
  u.pathname = WS_PATH;
  return u.toString();
}

/** A KubeClient over a fresh ApiConnection, from what a kubeconfig holds. Close it with `connection.close()`. */
export function connectKubeClient(opts: ConnectOptions): { client: KubeClient; connection: ApiConnection } {
  const connection = new ApiConnection({
    url: internalFaceUrl(opts.server),
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { client: new KubeClient(connection), connection };
}

/**
 * A KubeClient for a kubeconfig file's current context (or `context`), as client-go's BuildConfigFromFlags, with
 * the credentials it found there.
 */
export function fromKubeconfig(
  file: string,
  opts: { context?: string; logger?: Logger } = {},
): { client: KubeClient; connection: ApiConnection; credentials: KubeconfigCredentials } {
  const credentials = readKubeconfig(file, opts.context);
  const connected = connectKubeClient({
    server: credentials.server,
    ...(credentials.token ? { token: credentials.token } : {}),
    ...(credentials.caPem ? { ca: credentials.caPem } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return { ...connected, credentials };
}
