// The create-only review resources, answered and never stored: TokenReview (authentication.k8s.io) from the
// apiserver's authenticator; SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview and
// SelfSubjectRulesReview (authorization.k8s.io) from its authorizer — what `kubectl auth can-i` asks.
import type { ServerResponse } from 'node:http';
import { errors, fe, type FieldError } from '../../api/errors.js';
import type { ApiHandler, KubeObject, UserInfo } from '../../api/request.js';
import { decodeObject, type FieldValidationMode } from '../../api/schema/index.js';
import { sendJson, type ExtraRoute } from '../rest/server.js';
import type { Authorizer, NonResourceAttributes, ResourceAttributes } from './authorizer.js';

export interface ReviewOptions {
  authorizer: Authorizer;
  /**
   * the user behind a bearer token, as the apiserver's authenticator sees it, for the audiences asked (default the
   * apiserver's); `audiences` in the answer are those the token is good for among them
   */
  authenticateToken(
    token: string,
    audiences?: readonly string[],
  ): { user: UserInfo; audiences?: string[] } | { error: string } | undefined;
}

const PATH =
  /^\/apis\/(authentication\.k8s\.io|authorization\.k8s\.io)\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)\/?$/;

const KINDS: Record<string, { group: string; kind: string; namespaced: boolean }> = {
  tokenreviews: { group: 'authentication.k8s.io', kind: 'TokenReview', namespaced: false },
  selfsubjectaccessreviews: {
    group: 'authorization.k8s.io',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
  },
  subjectaccessreviews: { group: 'authorization.k8s.io', kind: 'SubjectAccessReview', namespaced: false },
  localsubjectaccessreviews: {
    group: 'authorization.k8s.io',
    kind: 'LocalSubjectAccessReview',
    namespaced: true,
  },
  selfsubjectrulesreviews: {
    group: 'authorization.k8s.io',
    kind: 'SelfSubjectRulesReview',
    namespaced: false,
  },
};

interface AccessSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  namespace?: string;
  token?: string;
  audiences?: string[];
}

/** ValidateSubjectAccessReviewSpec / ValidateSelfSubjectAccessReviewSpec */
function validateAccessSpec(spec: AccessSpec, needsSubject: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes)
    errs.push(
      fe.invalid(
        'spec.nonResourceAttributes',
        spec.nonResourceAttributes,
        'cannot be specified in combination with resourceAttributes',
      ),
    );
  if (!spec.resourceAttributes && !spec.nonResourceAttributes)
    errs.push(
      fe.invalid(
        'spec.resourceAttributes',
        null,
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    );
  if (needsSubject && !spec.user && !spec.groups?.length)
    errs.push(fe.invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

/** upstream answers with an object whose metadata is empty (creationTimestamp null) */
function emptyMetadata(obj: KubeObject, namespace?: string): void {
  obj.metadata = { creationTimestamp: null as unknown as string, ...(namespace ? { namespace } : {}) };
}

function review(
  resource: string,
  namespace: string | undefined,
  obj: KubeObject,
  user: UserInfo,
  opts: ReviewOptions,
): FieldError[] {
  const spec = (obj['spec'] ?? {}) as AccessSpec;
  switch (resource) {
    case 'tokenreviews': {
      if (!spec.token) return [fe.required('spec.token')];
      const result = opts.authenticateToken(spec.token, spec.audiences?.length ? spec.audiences : undefined);
      if (result && 'user' in result) {
        const found = result.user;
        const audiences = result.audiences ?? spec.audiences;
        obj['status'] = {
          authenticated: true,
          user: {
            username: found.username,
            ...(found.uid ? { uid: found.uid } : {}),
            groups: [...found.groups],
            ...(found.extra ? { extra: found.extra } : {}),
          },
          ...(audiences?.length ? { audiences: [...audiences] } : {}),
        };
      } else
        obj['status'] = {
          user: {},
          error: result ? `[invalid bearer token, ${result.error}]` : 'invalid bearer token',
        };
      return [];
    }
    case 'selfsubjectaccessreviews':
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const errs = validateAccessSpec(spec, resource !== 'selfsubjectaccessreviews');
      if (resource === 'localsubjectaccessreviews' && spec.resourceAttributes) {
        if (spec.resourceAttributes.namespace !== namespace)
          throw errors.badRequest(
            `spec.resourceAttributes.namespace must match namespace: ${namespace ?? ''}`,
          );
      }
      if (errs.length) return errs;
      const subject: UserInfo =
        resource === 'selfsubjectaccessreviews'
          ? user
          : {
              username: spec.user ?? '',
              groups: [...(spec.groups ?? [])],
              ...(spec.uid ? { uid: spec.uid } : {}),
            };
      const decision = opts.authorizer.authorize(subject, {
        ...(spec.resourceAttributes ? { resource: spec.resourceAttributes } : {}),
        ...(spec.nonResourceAttributes ? { nonResource: spec.nonResourceAttributes } : {}),
      });
      obj['status'] = {
        allowed: decision.allowed,
        ...(decision.denied ? { denied: true } : {}),
        ...(decision.reason ? { reason: decision.reason } : {}),
      };
      return [];
    }
    case 'selfsubjectrulesreviews': {
      const rules = opts.authorizer.rulesFor(user, spec.namespace ?? '');
      obj['status'] = { ...rules };
      return [];
    }
    default:
      return [];
  }
}

export function reviewsRoute(opts: ReviewOptions): ExtraRoute {
  return async (req, res: ServerResponse, { url, user, body }) => {
    if (!user || req.method !== 'POST') return false;
    const m = PATH.exec(url.pathname);
    if (!m) return false;
    const [, group, namespace, resource] = m;
    const info = KINDS[resource];
    if (!info || info.group !== group || info.namespaced !== (namespace !== undefined)) return false;
    const mode = (url.searchParams.get('fieldValidation') ?? 'Warn') as FieldValidationMode;
    const gvk = { group, version: 'v1', kind: info.kind };
    const { object, warnings } = decodeObject(gvk, await body(), mode);
    object.apiVersion = `${group}/v1`;
    object.kind = info.kind;
    const errs = review(resource, namespace, object, user, opts);
    if (errs.length)
      throw errors.invalid({ group, resource, kind: info.kind, kindName: info.kind, name: '' }, errs);
    emptyMetadata(object, namespace);
    sendJson(res, 201, object, warnings);
    return true;
  };
}

/**
 * The same reviews for components on the WebSocket face (a controller's SubjectAccessReview, as client-go's
 * `SubjectAccessReviews().Create`): a create of a review resource is answered here, everything else goes to `inner`.
 */
export function withReviews(inner: ApiHandler, opts: ReviewOptions): ApiHandler {
  return {
    async handle(req) {
      const info = KINDS[req.resource];
      if (req.verb !== 'create' || !info || info.group !== req.group || !req.user) return inner.handle(req);
      if (info.namespaced !== (req.namespace !== undefined)) return inner.handle(req);
      const object = structuredClone((req.body ?? {}) as KubeObject);
      object.apiVersion = `${info.group}/v1`;
      object.kind = info.kind;
      const errs = review(req.resource, req.namespace, object, req.user, opts);
      if (errs.length)
        throw errors.invalid(
          { group: info.group, resource: req.resource, kind: info.kind, kindName: info.kind, name: '' },
          errs,
        );
      emptyMetadata(object, req.namespace);
      return { code: 201, body: object };
    },
    watch: (req, sink) => inner.watch(req, sink),
  };
}
