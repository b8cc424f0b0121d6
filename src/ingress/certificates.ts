// TLS certificates for the gateway: SecureContexts from kubernetes.io/tls Secrets, and ingress-nginx's fake default.
import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../util/pki.js';

/** ingress-nginx's self-signed default certificate carries this CN */
export const FAKE_CERT_CN = 'Kubernetes Ingress Controller Fake Certificate';
export const ALPN = ['h2', 'http/1.1'];

/** A self-signed-looking default certificate, made fresh at start (never written anywhere). */
export async function generateDefaultCertificate(): Promise<CertificateAndKey> {
  const ca = await createCertificateAuthority(FAKE_CERT_CN, 365);
  return issueCertificate(ca, { commonName: FAKE_CERT_CN, hosts: ['ingress.local'], usages: ['server'] });
}

export function secureContextOf(pair: { certPem: string; keyPem: string }): SecureContext {
  return createSecureContext({ cert: pair.certPem, key: pair.keyPem });
}

function decode(data: string | undefined): string | undefined {
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

/** A Secret's certificate as a SecureContext, or why it cannot be used. */
export function contextFromSecret(secret: Secret): { context: SecureContext } | { error: string } {
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls' && secret.type !== 'Opaque')
    return { error: `secret type is ${secret.type}, want kubernetes.io/tls` };
  const certPem = decode(secret.data?.['tls.crt']) ?? secret.stringData?.['tls.crt'];
  const keyPem = decode(secret.data?.['tls.key']) ?? secret.stringData?.['tls.key'];
  if (!certPem || !keyPem) return { error: 'secret has no tls.crt or tls.key' };
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { error: 'tls.key does not match tls.crt' };
    return { context: secureContextOf({ certPem, keyPem }) };
  } catch (err) {
    return { error: `cannot parse certificate: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Caches a SecureContext per Secret resourceVersion so rebuilding the table doesn't re-parse keys. */
export class CertificateCache {
  private readonly cache = new Map<string, { rv: string; result: ReturnType<typeof contextFromSecret> }>();

  get(key: string, secret: Secret): ReturnType<typeof contextFromSecret> {
    const rv = secret.metadata?.resourceVersion ?? '';
    const hit = this.cache.get(key);
    if (hit && hit.rv === rv) return hit.result;
    const result = contextFromSecret(secret);
    this.cache.set(key, { rv, result });
    return result;
  }

  /** drop entries for Secrets that are gone */
  retain(keys: Set<string>): void {
    for (const k of this.cache.keys()) if (!keys.has(k)) this.cache.delete(k);
  }
}
