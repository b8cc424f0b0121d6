// Delegated authentication and authorization for a component's own HTTP endpoints (upstream's
// k8s.io/apiserver/pkg/server/options DelegatingAuthenticationOptions/DelegatingAuthorizationOptions, which
// kube-controller-manager and kube-scheduler serve /metrics behind): a bearer token is checked with a TokenReview,
// the request with a SubjectAccessReview of its non-resource path, both created with the component's own credential.
// Answers are cached for 10 s, upstream's default TTLs for both.
import type { IncomingMessage } from 'node:http';
import type { KubeClient, ObjectWithMeta } from '../client/index.js';

export interface AccessResult {
  /** 200 allowed; 401 no or bad credential; 403 authenticated but not allowed; 500 the apiserver could not say */
  code: 200 | 401 | 403 | 500;
  /** the refusal's Status message, in upstream's words */
  message?: string;
}

const REASONS = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'InternalError' } as const;

/** the body upstream's generic server answers a refused request with: a v1 Status */
export function refusalStatus(result: AccessResult): string {
  const code = result.code === 200 ? 500 : result.code;
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: result.message ?? REASONS[code],
    reason: REASONS[code],
    details: {},
    code,
  });
}

/** decides whether a request to one of the component's paths may be answered */
export type RequestAuthorizer = (req: IncomingMessage, path: string) => Promise<AccessResult>;

interface ReviewUser {
  username: string;
  uid?: string;
  groups?: string[];
}

interface TokenReviewObject extends ObjectWithMeta {
  spec: { token: string };
  status?: { authenticated?: boolean; user?: ReviewUser; error?: string };
}

interface SubjectAccessReviewObject extends ObjectWithMeta {
  spec: {
    user: string;
    uid?: string;
    groups?: string[];
    nonResourceAttributes: { path: string; verb: string };
  };
  status?: { allowed?: boolean; reason?: string; evaluationError?: string };
}

const CACHE_TTL_MS = 10_000;
/** bounded, so a flood of made-up tokens cannot grow the process */
const CACHE_MAX = 1024;

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires > now) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, now: number): void {
    if (this.entries.size >= CACHE_MAX) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: now + CACHE_TTL_MS });
  }
}

/** the paths upstream's `--authorization-always-allow-paths` lets anyone read: health, nothing else */
export const ALWAYS_ALLOW_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/livez']);

/**
 * A RequestAuthorizer backed by the apiserver: `Authorization: Bearer <token>` is required (401 without it or when
 * the apiserver does not know the token), then the user must be allowed `<verb> <path>` (403 otherwise, in the
 * words of upstream's delegated authorizer).
 */
export function delegatedAuthorizer(client: KubeClient, now: () => number = Date.now): RequestAuthorizer {
  const tokenReviews = client.resource<TokenReviewObject>('authentication.k8s.io', 'v1', 'tokenreviews');
  const accessReviews = client.resource<SubjectAccessReviewObject>(
    'authorization.k8s.io',
    'v1',
    'subjectaccessreviews',
  );
  const users = new TtlCache<ReviewUser | null>();
  const decisions = new TtlCache<AccessResult>();

  async function authenticate(token: string): Promise<ReviewUser | null> {
    const cached = users.get(token, now());
    if (cached !== undefined) return cached;
    const review = await tokenReviews.create({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: {},
      spec: { token },
    });
    const user = review.status?.authenticated && review.status.user?.username ? review.status.user : null;
    users.set(token, user, now());
    return user;
  }

  async function authorize(user: ReviewUser, path: string, verb: string): Promise<AccessResult> {
    const key = JSON.stringify([user.username, user.uid ?? '', user.groups ?? [], path, verb]);
    const cached = decisions.get(key, now());
    if (cached) return cached;
    const review = await accessReviews.create({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups ? { groups: user.groups } : {}),
        nonResourceAttributes: { path, verb },
      },
    });
    const result: AccessResult = review.status?.allowed
      ? { code: 200 }
      : {
          code: 403,
          message: `forbidden: User ${JSON.stringify(user.username)} cannot ${verb} path ${JSON.stringify(path)}${review.status?.reason ? `: ${review.status.reason}` : ''}`,
        };
    decisions.set(key, result, now());
    return result;
  }

  return async (req, path) => {
    if (ALWAYS_ALLOW_PATHS.has(path)) return { code: 200 };
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { code: 401, message: 'Unauthorized' };
    const verb = req.method === 'HEAD' ? 'head' : (req.method ?? 'GET').toLowerCase();
    try {
      const user = await authenticate(match[1]);
      if (!user) return { code: 401, message: 'Unauthorized' };
      return await authorize(user, path, verb);
    } catch (err) {
      return {
        code: 500,
        message: `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  };
}
