// Compact JWS (RFC 7515) signing and verification for ServiceAccount tokens, as upstream's pkg/serviceaccount/jwt.go
// does with go-jose: RS256 for RSA keys, ES256/ES384/ES512 for ECDSA keys by curve, the key id `kid` being the
// base64url SHA-256 of the public key's PKIX DER (upstream's keyIDFromPublicKey).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'ES512';

const HASH: Record<JwtAlgorithm, string> = {
  RS256: 'sha256',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

const CURVE_ALGORITHM: Record<string, JwtAlgorithm> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/** The JWS algorithm for a key, as upstream picks it; an unsupported key is a TypeError saying which. */
export function algorithmFor(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const alg = CURVE_ALGORITHM[curve];
    if (alg) return alg;
    throw new TypeError(`unsupported ECDSA curve ${curve} for service account tokens (P-256, P-384, P-521)`);
  }
  throw new TypeError(
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'} for service account tokens (RSA or ECDSA)`,
  );
}

/** upstream's keyIDFromPublicKey: base64url(SHA-256(PKIX DER)) */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('base64url');
}

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export type JwtClaims = Record<string, unknown>;

/** Signs `claims` with the private key: `header.payload.signature`, header `{alg, kid}`. */
export function signJwt(claims: JwtClaims, privateKey: KeyObject): string {
  const alg = algorithmFor(privateKey);
  const signingInput = `${b64json({ alg, kid: keyId(privateKey) })}.${b64json(claims)}`;
  const signature = sign(HASH[alg], Buffer.from(signingInput), {
    key: privateKey,
    ...(alg === 'RS256' ? {} : { dsaEncoding: 'ieee-p1363' as const }),
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

export interface DecodedJwt {
  header: { alg?: string; kid?: string; typ?: string };
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Splits and decodes a compact JWS without checking it; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as DecodedJwt['header'];
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JwtClaims;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null)
      return undefined;
    return {
      header,
      claims,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether one of `publicKeys` signed the token, with the algorithm its header names matching the key (never `none`,
 * never an HMAC: a public key can't be used as a shared secret here).
 */
export function verifyJwtSignature(jwt: DecodedJwt, publicKeys: readonly KeyObject[]): boolean {
  for (const key of publicKeys) {
    let alg: JwtAlgorithm;
    try {
      alg = algorithmFor(key);
    } catch {
      continue;
    }
    if (jwt.header.alg !== alg) continue;
    const ok = verify(
      HASH[alg],
      Buffer.from(jwt.signingInput),
      { key, ...(alg === 'RS256' ? {} : { dsaEncoding: 'ieee-p1363' as const }) },
      jwt.signature,
    );
    if (ok) return true;
  }
  return false;
}

/** A public key as a JWK for /openid/v1/jwks (upstream: use "sig", alg, kid). */
export function publicJwk(key: KeyObject): Record<string, unknown> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' }) as Record<string, unknown>;
  return { use: 'sig', kty: jwk['kty'], kid: keyId(pub), alg: algorithmFor(pub), ...withoutKty(jwk) };
}

function withoutKty(jwk: Record<string, unknown>): Record<string, unknown> {
  const { kty: _kty, ...rest } = jwk;
  return rest;
}
