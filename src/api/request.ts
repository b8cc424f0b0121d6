// One API request, whichever face it came in on (REST/JSON or the internal WebSocket).
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Verb } from './resources.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface RequestOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  force?: boolean;
  propagationPolicy?: PropagationPolicy;
  /** `orphanDependents` (deprecated upstream, still sent by old clients) */
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  /** pod log options */
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  /** e.g. a ServiceAccount token's authentication.kubernetes.io/pod-name */
  extra?: Record<string, string[]>;
}

export interface ApiRequest {
  verb: Verb;
  group: string;
  version: string;
  /** plural, e.g. `pods` */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** the object for create/update, the patch document for patch (already parsed) */
  body?: unknown;
  patchType?: PatchType;
  options: RequestOptions;
  user: UserInfo;
}

/** ObjectMeta as the server writes it (kubernetes-types marks server-set fields readonly). */
export type Meta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** A stored Kubernetes object: anything with apiVersion, kind and metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** What the API handler returns: the object (or list, or Status) plus any warnings for `Warning:` headers. */
export interface ApiResult {
  /** HTTP code: 200, or 201 for a create, 202 for an accepted delete */
  code: number;
  body: unknown;
  warnings?: string[];
}

/** A live watch. `stop()` is idempotent; `done` settles when the watch ends for any reason. */
export interface WatchHandle {
  stop(): void;
}

export interface WatchSink {
  /** returns false when the consumer is over its buffer limit (the server then cuts the watch off) */
  event(ev: WatchEvent): boolean;
  /** the watch ended: by stop(), by a 410, or by the server */
  end(err?: unknown): void;
}

/**
 * The API as both faces see it. The REST face parses HTTP into ApiRequests; the WebSocket face
 * decodes msgpack frames into ApiRequests. Same storage, same validation, same admission.
 */
export interface ApiHandler {
  handle(req: ApiRequest): Promise<ApiResult>;
  watch(req: ApiRequest, sink: WatchSink): Promise<WatchHandle>;
}
