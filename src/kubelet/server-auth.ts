// Who may call the kubelet's HTTPS endpoint (logs, stats, exec, attach, port-forward), as upstream's kubelet
// decides in webhook mode (pkg/kubelet/server/auth.go, server.go's InstallAuthFilter):
// - authentication: an x509 client certificate that chains to the --client-ca-file (CN the user, O the groups),
//   else a bearer token checked with a TokenReview at the apiserver (cached for
//   --authentication-token-webhook-cache-ttl, 2m, answers and rejections alike); no credential is a 401;
// - authorization: a SubjectAccessReview of nodes/<stats|metrics|log|proxy> of this node, the verb from the HTTP
//   method (cached 5m when allowed, 30s when denied: --authorization-webhook-cache-(un)authorized-ttl);
//   a denial is upstream's 403 "Forbidden (user=…, verb=…, resource=…, subresource=…)", an error its 500.
// Without a reviewer (a kubelet server started alone, in tests) only certificates authenticate and only
// system:masters is allowed, the group upstream's authorizers always allow.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { UserInfo } from '../api/request.js';
import { realClock, type Clock } from '../util/clock.js';
import { peerIdentity } from '../util/peer-identity.js';
import type { AccessDecision, AuthReviewer, KubeletAccessAttributes } from './auth-webhook.js';

export type KubeletCaller = UserInfo;
export type KubeletRequestAttributes = KubeletAccessAttributes;

export { peerIdentity };

const MASTERS = 'system:masters';

/** upstream's defaults: KubeletConfiguration authentication.webhook.cacheTTL and authorization.webhook.cache*TTL */
export const DEFAULT_AUTH_CACHE = {
  tokenTtlMs: 2 * 60_000,
  authorizedTtlMs: 5 * 60_000,
  unauthorizedTtlMs: 30_000,
};

const VERBS: Record<string, string> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const isSubpath = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

/** upstream's GetRequestAttributes: verb from the method, nodes/<stats|metrics|log|proxy> from the path */
export function kubeletRequestAttributes(
  method: string,
  path: string,
  nodeName = '',
): KubeletRequestAttributes {
  const subresource = isSubpath(path, '/stats')
    ? 'stats'
    : isSubpath(path, '/metrics')
      ? 'metrics'
      : isSubpath(path, '/logs')
        ? 'log'
        : 'proxy';
  return { verb: VERBS[method] ?? '', resource: 'nodes', subresource, name: nodeName };
}

/** upstream's 403 text */
export const forbiddenMessage = (user: UserInfo, attrs: KubeletRequestAttributes): string =>
  `Forbidden (user=${user.username}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource})`;

/** A small expiring cache that also joins concurrent lookups of one key (as upstream's cached authenticator). */
class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(
    private readonly clock: Clock,
    private readonly max = 4096,
  ) {}

  async get(key: string, load: () => Promise<V>, ttl: (v: V) => number): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.clock.now()) return hit.value;
    if (hit) this.entries.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = load().then(
      (value) => {
        this.inflight.delete(key);
        // errors are not cached; the oldest entry goes when full
        if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
        this.entries.set(key, { value, expires: this.clock.now() + ttl(value) });
        return value;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, p);
    return p;
  }
}

export interface KubeletAuthOptions {
  nodeName: string;
  /** --client-ca-file: without it no certificate authenticates */
  clientCaPem?: string;
  /** the apiserver's TokenReview and SubjectAccessReview (webhook mode) */
  reviewer?: AuthReviewer;
  cache?: Partial<typeof DEFAULT_AUTH_CACHE>;
  clock?: Clock;
}

/** a refusal: the status and upstream's body text */
export interface AuthRefusal {
  status: 401 | 403 | 500;
  message: string;
}

export class KubeletAuth {
  private readonly tokens: ExpiringCache<UserInfo | null>;
  private readonly decisions: ExpiringCache<AccessDecision>;
  private readonly ttl: typeof DEFAULT_AUTH_CACHE;

  constructor(private readonly opts: KubeletAuthOptions) {
    const clock = opts.clock ?? realClock;
    this.ttl = { ...DEFAULT_AUTH_CACHE, ...opts.cache };
    this.tokens = new ExpiringCache(clock);
    this.decisions = new ExpiringCache(clock);
  }

  /** the caller, or undefined when it has no credential this kubelet accepts; throws when the apiserver fails */
  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    if (this.opts.clientCaPem) {
      const peer = peerIdentity(req.socket as TLSSocket);
      if (peer) return peer;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !this.opts.reviewer) return undefined;
    const reviewer = this.opts.reviewer;
    const token = m[1];
    const user = await this.tokens.get(
      token,
      async () => (await reviewer.reviewToken(token)) ?? null,
      () => this.ttl.tokenTtlMs,
    );
    return user ?? undefined;
  }

  async authorize(user: UserInfo, attrs: KubeletRequestAttributes): Promise<AccessDecision> {
    const reviewer = this.opts.reviewer;
    if (!reviewer) return { allowed: user.groups.includes(MASTERS) };
    const key = JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), attrs]);
    return this.decisions.get(
      key,
      () => reviewer.reviewAccess(user, attrs),
      (d) => (d.allowed ? this.ttl.authorizedTtlMs : this.ttl.unauthorizedTtlMs),
    );
  }

  /** upstream's auth filter: undefined to go on, else the refusal to send */
  async check(req: IncomingMessage, path: string): Promise<AuthRefusal | undefined> {
    let user: UserInfo | undefined;
    try {
      user = await this.authenticate(req);
    } catch {
      // upstream: "Unable to authenticate the request due to an error", answered 401
      return { status: 401, message: 'Unauthorized' };
    }
    if (!user) return { status: 401, message: 'Unauthorized' };
    const attrs = kubeletRequestAttributes(req.method ?? 'GET', path, this.opts.nodeName);
    try {
      const decision = await this.authorize(user, attrs);
      if (!decision.allowed) return { status: 403, message: forbiddenMessage(user, attrs) };
    } catch {
      return {
        status: 500,
        message: `Authorization error (user=${user.username}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource})`,
      };
    }
    return undefined;
  }
}
