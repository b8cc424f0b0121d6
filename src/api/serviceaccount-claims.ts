// ServiceAccount token claims, as upstream's pkg/serviceaccount/claims.go and legacy.go write them: bound tokens
// (TokenRequest) carry the standard claims plus `kubernetes.io` private claims naming the namespace, the
// ServiceAccount and the object the token is bound to; legacy tokens (Secret-based) carry the flat
// `kubernetes.io/serviceaccount/*` claims and never expire.
import { randomUUID } from 'node:crypto';

/** upstream's default --service-account-issuer as kubeadm and most clusters set it */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** the issuer of Secret-based tokens (upstream's LegacyIssuer) */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** a kubelet asks for this many seconds; the apiserver then issues a token valid a year that warns after 3607 s */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7;
/** upstream's ExpirationExtensionSeconds: how long such an extended token really lives */
export const EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60;
/** TokenRequest's defaults and bounds (pkg/apis/authentication validation and defaults) */
export const DEFAULT_EXPIRATION_SECONDS = 60 * 60;
export const MIN_EXPIRATION_SECONDS = 10 * 60;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

/** upstream's MakeUsername */
export const serviceAccountUsername = (namespace: string, name: string): string =>
  `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;

/** upstream's MakeGroupNames (system:authenticated is added by the authenticator chain) */
export const serviceAccountGroups = (namespace: string): string[] => [
  SERVICE_ACCOUNTS_GROUP,
  `${SERVICE_ACCOUNTS_GROUP}:${namespace}`,
];

/** upstream's SplitUsername: namespace and name of a ServiceAccount user, or undefined */
export function splitServiceAccountUsername(
  username: string,
): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

export interface ObjectRef {
  name: string;
  uid: string;
}

export interface KubernetesClaims {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  warnafter?: number;
}

export interface BoundClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': KubernetesClaims;
}

export interface BoundTokenSpec {
  issuer: string;
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: string[];
  /** seconds the token is valid */
  expirationSeconds: number;
  /** seconds after which its use is reported (extended kubelet tokens) */
  warnAfterSeconds?: number;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  /** ms since the epoch */
  now: number;
  jti?: string;
}

/** upstream's Claims(): the claims of a bound token */
export function boundClaims(spec: BoundTokenSpec): BoundClaims {
  const now = Math.floor(spec.now / 1000);
  const k8s: KubernetesClaims = {
    namespace: spec.namespace,
    serviceaccount: { ...spec.serviceAccount },
  };
  if (spec.secret) k8s.secret = { ...spec.secret };
  if (spec.pod) k8s.pod = { ...spec.pod };
  if (spec.node) k8s.node = { ...spec.node };
  if (spec.warnAfterSeconds) k8s.warnafter = now + spec.warnAfterSeconds;
  return {
    aud: [...spec.audiences],
    exp: now + spec.expirationSeconds,
    iat: now,
    iss: spec.issuer,
    jti: spec.jti ?? randomUUID(),
    'kubernetes.io': k8s,
    nbf: now,
    sub: serviceAccountUsername(spec.namespace, spec.serviceAccount.name),
  };
}

export const LEGACY_CLAIM = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUid: 'kubernetes.io/serviceaccount/service-account.uid',
} as const;

/** upstream's LegacyClaims(): the claims of a token the token controller puts in a Secret */
export function legacyClaims(
  namespace: string,
  serviceAccount: ObjectRef,
  secretName: string,
): Record<string, string> {
  return {
    iss: LEGACY_ISSUER,
    [LEGACY_CLAIM.namespace]: namespace,
    [LEGACY_CLAIM.secretName]: secretName,
    [LEGACY_CLAIM.serviceAccountName]: serviceAccount.name,
    [LEGACY_CLAIM.serviceAccountUid]: serviceAccount.uid,
    sub: serviceAccountUsername(namespace, serviceAccount.name),
  };
}
