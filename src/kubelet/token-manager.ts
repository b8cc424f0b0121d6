// The kubelet's ServiceAccount token manager (upstream pkg/kubelet/token/token_manager.go): tokens for pods' projected
// serviceAccountToken volumes come from TokenRequest, bound to the pod, and are kept until they need refreshing —
// when less than 20 % of the requested lifetime is left (with up to 10 s of jitter), or 24 h after issue.
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';

const MAX_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_JITTER_MS = 10_000;

export interface TokenRequestTarget {
  namespace: string;
  serviceAccountName: string;
  podName: string;
  podUid: string;
  /** '' or undefined: the apiserver's audiences */
  audience?: string;
  expirationSeconds: number;
}

export interface TokenManagerOptions {
  /** POST serviceaccounts/NAME/token */
  request(namespace: string, serviceAccountName: string, tr: TokenRequest): Promise<TokenRequest>;
  now?: () => number;
  /** 0..1 */
  random?: () => number;
}

interface Cached {
  tr: TokenRequest;
  podUid: string;
}

export class ServiceAccountTokenManager {
  private readonly cache = new Map<string, Cached>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: TokenManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** The pod's token: cached while fresh, else requested anew (an error then, with a cached token still valid, keeps it). */
  async token(t: TokenRequestTarget): Promise<string> {
    const key = [t.namespace, t.serviceAccountName, t.podUid, t.audience ?? '', t.expirationSeconds].join(
      '\0',
    );
    const cached = this.cache.get(key);
    if (cached && !this.requiresRefresh(cached.tr)) return cached.tr.status!.token;
    const tr: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: t.serviceAccountName, namespace: t.namespace },
      spec: {
        audiences: t.audience ? [t.audience] : [],
        expirationSeconds: t.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: t.podName, uid: t.podUid },
      },
    };
    try {
      const got = await this.opts.request(t.namespace, t.serviceAccountName, tr);
      if (!got.status?.token || !got.status.expirationTimestamp)
        throw new Error(
          `the apiserver answered the TokenRequest for ${t.namespace}/${t.serviceAccountName} without a token`,
        );
      // what was asked, with what came back: the refresh schedule reads the requested lifetime
      this.cache.set(key, { tr: { ...got, spec: { ...tr.spec, ...got.spec } }, podUid: t.podUid });
      return got.status.token;
    } catch (err) {
      if (cached && this.now() < Date.parse(cached.tr.status!.expirationTimestamp))
        return cached.tr.status!.token;
      throw err;
    }
  }

  /** upstream's requiresRefresh */
  requiresRefresh(tr: TokenRequest): boolean {
    const seconds = tr.spec.expirationSeconds;
    if (!seconds || !tr.status?.expirationTimestamp) return true;
    const now = this.now();
    const exp = Date.parse(tr.status.expirationTimestamp);
    const iat = exp - seconds * 1000;
    const jitter = Math.floor(this.random() * MAX_JITTER_MS);
    if (now > iat + MAX_TTL_MS - jitter) return true;
    return now > exp - (seconds * 1000 * 20) / 100 - jitter;
  }

  /** the pod is gone: its tokens go too (upstream's DeleteServiceAccountToken) */
  forgetPod(podUid: string): void {
    for (const [key, c] of this.cache) if (c.podUid === podUid) this.cache.delete(key);
  }
}
