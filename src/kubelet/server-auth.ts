// Who may call the kubelet's HTTPS endpoint: x509 authentication of the caller (its certificate chains to the
// --client-ca-file; CN is the user, O the groups, as upstream's x509 authenticator reads them) and authorization.
// Upstream's kubelet asks the apiserver (SubjectAccessReview on nodes/<subresource>); kubemu has no RBAC yet, so
// the kubelet allows exactly what the apiserver's kubelet client certificate is: kube-apiserver-kubelet-client in
// system:masters (the group upstream's authorizer always allows).
import { peerIdentity, type PeerIdentity } from '../util/peer-identity.js';
import { KUBELET_CLIENT_CN, KUBELET_CLIENT_ORGANIZATION } from '../util/pki.js';

export type KubeletCaller = PeerIdentity;

export interface KubeletRequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
}

/** The caller of a TLS connection whose client certificate verified against the client CA, else undefined. */
export { peerIdentity };

const VERBS: Record<string, string> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const isSubpath = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

/** upstream's kubelet GetRequestAttributes: verb from the method, nodes/<stats|metrics|log|proxy> from the path */
export function kubeletRequestAttributes(method: string, path: string): KubeletRequestAttributes {
  const subresource = isSubpath(path, '/stats')
    ? 'stats'
    : isSubpath(path, '/metrics')
      ? 'metrics'
      : isSubpath(path, '/logs')
        ? 'log'
        : 'proxy';
  return { verb: VERBS[method] ?? method.toLowerCase(), resource: 'nodes', subresource };
}

/** undefined when allowed; else the kubelet's 403 text, worded as upstream's auth filter. */
export function authorizeKubeletRequest(
  user: KubeletCaller,
  attrs: KubeletRequestAttributes,
): string | undefined {
  if (user.username === KUBELET_CLIENT_CN || user.groups.includes(KUBELET_CLIENT_ORGANIZATION))
    return undefined;
  return `Forbidden (user=${user.username}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource})`;
}
