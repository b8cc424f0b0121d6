// The apiserver's ServiceAccount token issuer: its signing key (--service-account-signing-key-file), issuer
// (--service-account-issuer), API audiences (--api-audiences) and the public keys tokens are verified with
// (--service-account-key-file), as one object the TokenRequest subresource, the authenticator and the OIDC discovery
// documents share.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { boundClaims, DEFAULT_ISSUER, type BoundTokenSpec } from '../../../api/serviceaccount-claims.js';
import { signJwt } from '../../../util/jwt.js';

export interface TokenIssuerOptions {
  signingKeyPem: string;
  /** more public keys accepted besides the signing key's (PEM, each may hold a public or private key) */
  verificationKeyPems?: readonly string[];
  issuers?: readonly string[];
  apiAudiences?: readonly string[];
}

export class TokenIssuer {
  readonly signingKey: KeyObject;
  readonly publicKeys: KeyObject[];
  /** the first is the one written into new tokens */
  readonly issuers: readonly string[];
  readonly apiAudiences: readonly string[];

  constructor(opts: TokenIssuerOptions) {
    this.signingKey = createPrivateKey(opts.signingKeyPem);
    const own = createPublicKey(this.signingKey);
    const ownDer = own.export({ format: 'der', type: 'spki' });
    this.publicKeys = [own];
    for (const pem of opts.verificationKeyPems ?? []) {
      const key = createPublicKey(pem);
      if (!key.export({ format: 'der', type: 'spki' }).equals(ownDer)) this.publicKeys.push(key);
    }
    this.issuers = opts.issuers?.length ? [...opts.issuers] : [DEFAULT_ISSUER];
    this.apiAudiences = opts.apiAudiences?.length ? [...opts.apiAudiences] : [...this.issuers];
  }

  get issuer(): string {
    return this.issuers[0];
  }

  /** a signed bound token */
  issue(spec: Omit<BoundTokenSpec, 'issuer'>): { token: string; claims: ReturnType<typeof boundClaims> } {
    const claims = boundClaims({ ...spec, issuer: this.issuer });
    return { token: signJwt(claims as unknown as Record<string, unknown>, this.signingKey), claims };
  }
}
