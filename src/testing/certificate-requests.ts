// Test support: PKCS#10 requests as a client makes them (a fresh key, a subject, SANs), built with @peculiar/x509
// the way `openssl req` would, for the certificate unit tests.
import type * as X509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

async function lib(): Promise<typeof X509> {
  await import('../util/reflect-metadata-shim.js'); // before @peculiar/x509 loads
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

export interface RequestSpec {
  cn: string;
  o?: string[];
  dns?: string[];
  ip?: string[];
  email?: string[];
  uri?: string[];
  key?: 'rsa' | 'ec';
}

/** the request's PEM */
export async function makeRequestPem(spec: RequestSpec): Promise<string> {
  const x509 = await lib();
  const alg =
    spec.key === 'rsa'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          hash: 'SHA-256',
          publicExponent: new Uint8Array([1, 0, 1]),
          modulusLength: 2048,
        }
      : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const names: X509.JsonGeneralName[] = [
    ...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(spec.email ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(spec.uri ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const name: X509.JsonName = [{ CN: [spec.cn] }, ...(spec.o ?? []).map((o) => ({ O: [o] }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys,
    signingAlgorithm: alg,
    ...(names.length ? { extensions: [new x509.SubjectAlternativeNameExtension(names)] } : {}),
  });
  return csr.toString('pem');
}

/** spec.request as the wire carries it */
export const requestField = async (spec: RequestSpec): Promise<string> =>
  Buffer.from(await makeRequestPem(spec)).toString('base64');

/** a real request (an openssl-made P-256 key, `-subj "/CN=jane/O=developers"`), for tests that need one at hand */
export const JANE_CSR_PEM = `-----BEGIN CERTIFICATE REQUEST-----
MIHeMIGGAgEAMCQxDTALBgNVBAMMBGphbmUxEzARBgNVBAoMCmRldmVsb3BlcnMw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASaxD9tlHdmHq7q8uZu7a6ljJCHNxMh
Ah4ORIRZUKSP6MgWVtWcML8ZlQFTXTYcgGYiPN0BVeReiGXBAlF7+iQMoAAwCgYI
KoZIzj0EAwIDRwAwRAIgQDE+A3YQgZsmHwisOdeIZ8BQOFp9m0SNhphsN+eS8R4C
IFR85BpmPnjn8qWdJZKhDfpOTopjm58gJrwK38AwQvZA
-----END CERTIFICATE REQUEST-----
`;
