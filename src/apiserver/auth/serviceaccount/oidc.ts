// ServiceAccount issuer discovery (upstream pkg/serviceaccount/openidmetadata.go): /.well-known/openid-configuration
// and /openid/v1/jwks, so a relying party can verify the cluster's tokens. RBAC decides who reads them (bootstrap:
// system:service-account-issuer-discovery, bound to system:serviceaccounts).
import type { ExtraRoute } from '../../rest/server.js';
import type { TokenIssuer } from './issuer.js';
import { algorithmFor, publicJwk } from '../../../util/jwt.js';

export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';

/** `externalAddress`: host:port clients reach this apiserver at (upstream's default for --service-account-jwks-uri) */
export function oidcRoutes(issuer: () => TokenIssuer | undefined, externalAddress: () => string): ExtraRoute {
  return (req, res, { url, user }) => {
    if (!user || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const path = url.pathname;
    if (path !== OPENID_CONFIGURATION_PATH && path !== JWKS_PATH) return false;
    const tokens = issuer();
    if (!tokens) return false;
    const body =
      path === JWKS_PATH
        ? { keys: tokens.publicKeys.map(publicJwk) }
        : {
            issuer: tokens.issuer,
            jwks_uri: `https://${externalAddress()}${JWKS_PATH}`,
            response_types_supported: ['id_token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: [...new Set(tokens.publicKeys.map(algorithmFor))],
          };
    const text = JSON.stringify(body);
    res.writeHead(200, {
      'Content-Type': path === JWKS_PATH ? 'application/jwk-set+json' : 'application/json',
      'Cache-Control': 'public, max-age=3600',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };
}
