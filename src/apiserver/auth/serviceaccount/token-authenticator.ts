// Authenticates ServiceAccount tokens as upstream's JWTTokenAuthenticator with its two validators: bound tokens from
// TokenRequest (issuer, signature, expiry with a minute's leeway, audience, and that the ServiceAccount and the object
// the token is bound to still exist with the same uid) and legacy Secret tokens (the Secret still holds this very
// token, its ServiceAccount still exists). The objects come from a synchronous lookup (the apiserver's watch-fed
// mirror), so a request is authenticated without waiting on storage.
import type { KeyObject } from 'node:crypto';
import type { UserInfo } from '../../../api/request.js';
import {
  LEGACY_CLAIM,
  LEGACY_ISSUER,
  serviceAccountGroups,
  serviceAccountUsername,
  type KubernetesClaims,
} from '../../../api/serviceaccount-claims.js';
import { decodeJwt, verifyJwtSignature } from '../../../util/jwt.js';

/** what the validators need to know of an object: it exists, its uid, whether it is being deleted since when */
export interface LiveObject {
  uid: string;
  /** ms since the epoch */
  deletionTimestamp?: number;
}

export interface LiveSecret extends LiveObject {
  /** data.token of a kubernetes.io/service-account-token Secret, decoded */
  token?: string;
}

export interface ServiceAccountObjects {
  serviceAccount(namespace: string, name: string): LiveObject | undefined;
  pod(namespace: string, name: string): LiveObject | undefined;
  secret(namespace: string, name: string): LiveSecret | undefined;
  node(name: string): LiveObject | undefined;
}

export interface ServiceAccountTokenAuthenticatorOptions {
  /** accepted issuers of bound tokens (upstream's --service-account-issuer, repeatable); the first is the one used */
  issuers: readonly string[];
  /** the apiserver's audiences (upstream's --api-audiences; default: the issuers) */
  apiAudiences: readonly string[];
  /** public keys that may have signed a token (--service-account-key-file) */
  publicKeys: readonly KeyObject[];
  objects: ServiceAccountObjects;
  /** ms since the epoch */
  now?: () => number;
}

export type TokenResult =
  | { user: UserInfo; audiences: string[] }
  /** the token is a ServiceAccount token but not a valid one (upstream's error) */
  | { error: string }
  /** not a ServiceAccount token of ours: another authenticator may know it */
  | undefined;

/** upstream: go-jose's DefaultLeeway, for exp/nbf/iat, and how long after deletion a bound object still counts */
const LEEWAY_S = 60;
const INVALIDATED = 'service account token has been invalidated';

export class ServiceAccountTokenAuthenticator {
  private readonly now: () => number;

  constructor(private readonly opts: ServiceAccountTokenAuthenticatorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * The ServiceAccount a token names. `audiences`: those the caller accepts (a TokenReview's spec.audiences; default
   * the apiserver's); the result carries the ones the token and the caller share.
   */
  authenticate(token: string, audiences: readonly string[] = this.opts.apiAudiences): TokenResult {
    const jwt = decodeJwt(token);
    if (!jwt) return undefined;
    const iss = jwt.claims['iss'];
    const legacy = iss === LEGACY_ISSUER;
    if (!legacy && !(typeof iss === 'string' && this.opts.issuers.includes(iss))) return undefined;
    if (!verifyJwtSignature(jwt, this.opts.publicKeys)) return { error: 'invalid signature' };
    return legacy ? this.validateLegacy(token, jwt.claims) : this.validateBound(jwt.claims, audiences);
  }

  private validateBound(claims: Record<string, unknown>, wanted: readonly string[]): TokenResult {
    const nowS = this.now() / 1000;
    const exp = claims['exp'];
    const nbf = claims['nbf'];
    if (typeof exp !== 'number') return { error: 'service account token has no expiry' };
    if (nowS > exp + LEEWAY_S) return { error: 'service account token has expired' };
    if (typeof nbf === 'number' && nowS < nbf - LEEWAY_S)
      return { error: 'service account token is not valid yet' };
    const aud = claims['aud'];
    const tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : [];
    const shared = wanted.filter((a) => tokenAudiences.includes(a));
    if (shared.length === 0)
      return {
        error:
          'token audiences ' +
          JSON.stringify(tokenAudiences) +
          ' is invalid for the target audiences ' +
          JSON.stringify(wanted),
      };
    const k8s = claims['kubernetes.io'] as KubernetesClaims | undefined;
    if (!k8s?.namespace || !k8s.serviceaccount?.name)
      return { error: 'service account token claims are incomplete' };
    const { namespace } = k8s;
    const objects = this.opts.objects;
    const deletedLongAgo = (o: LiveObject): boolean =>
      o.deletionTimestamp !== undefined && o.deletionTimestamp / 1000 < nowS - LEEWAY_S;
    const alive = (o: LiveObject | undefined, uid: string): boolean =>
      !!o && o.uid === uid && !deletedLongAgo(o);
    if (k8s.secret && !alive(objects.secret(namespace, k8s.secret.name), k8s.secret.uid))
      return { error: INVALIDATED };
    if (k8s.pod && !alive(objects.pod(namespace, k8s.pod.name), k8s.pod.uid)) return { error: INVALIDATED };
    // a pod-bound token names the pod's node too; only a token bound to the node itself depends on it
    if (k8s.node && !k8s.pod && !alive(objects.node(k8s.node.name), k8s.node.uid))
      return { error: INVALIDATED };
    const sa = objects.serviceAccount(namespace, k8s.serviceaccount.name);
    if (!sa || sa.uid !== k8s.serviceaccount.uid || sa.deletionTimestamp !== undefined)
      return { error: INVALIDATED };
    const extra: Record<string, string[]> = {};
    if (k8s.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
    }
    if (k8s.node) {
      extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid];
    }
    if (typeof claims['jti'] === 'string')
      extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims['jti']}`];
    return { user: this.user(namespace, k8s.serviceaccount.name, sa.uid, extra), audiences: shared };
  }

  private validateLegacy(token: string, claims: Record<string, unknown>): TokenResult {
    const namespace = claims[LEGACY_CLAIM.namespace];
    const secretName = claims[LEGACY_CLAIM.secretName];
    const saName = claims[LEGACY_CLAIM.serviceAccountName];
    const saUid = claims[LEGACY_CLAIM.serviceAccountUid];
    if (typeof namespace !== 'string' || typeof secretName !== 'string' || typeof saName !== 'string')
      return { error: 'service account token claims are incomplete' };
    const secret = this.opts.objects.secret(namespace, secretName);
    if (!secret || secret.deletionTimestamp !== undefined || secret.token !== token)
      return { error: `secret ${namespace}/${secretName} (holding the token) is gone or no longer holds it` };
    const sa = this.opts.objects.serviceAccount(namespace, saName);
    if (!sa || sa.deletionTimestamp !== undefined)
      return { error: `ServiceAccount ${namespace}/${saName} has been deleted` };
    if (typeof saUid === 'string' && sa.uid !== saUid)
      return { error: `ServiceAccount UID (${sa.uid}) does not match claim (${saUid})` };
    return {
      user: this.user(namespace, saName, sa.uid, {
        'authentication.kubernetes.io/credential-id': [`secret-uid=${secret.uid}`],
      }),
      audiences: [...this.opts.apiAudiences],
    };
  }

  private user(namespace: string, name: string, uid: string, extra: Record<string, string[]>): UserInfo {
    const user: UserInfo & { extra?: Record<string, string[]> } = {
      username: serviceAccountUsername(namespace, name),
      uid,
      groups: serviceAccountGroups(namespace),
    };
    if (Object.keys(extra).length) user.extra = extra;
    return user;
  }
}
