// upstream's pkg/controller/certificates/authority: the CA a signer signs with (its files re-read when they change,
// as upstream's dynamic CA loader) and the PermissiveSigningPolicy — the requested usages as key usage bits and
// extended key usages, NotBefore backdated 5 minutes unless the certificate is shorter than 8 hours, NotAfter
// NotBefore + TTL capped at the CA's own NotAfter, never a CA.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { CertificateRequest } from '../../util/certificate-request.js';
import { signCertificateRequest, type CertificateAuthority } from '../../util/pki.js';

const KEY_USAGE_BITS: Record<string, number> = {
  signing: 1,
  'digital signature': 1,
  'content commitment': 2,
  'key encipherment': 4,
  'data encipherment': 8,
  'key agreement': 16,
  'cert sign': 32,
  'crl sign': 64,
  'encipher only': 128,
  'decipher only': 256,
};

/** extended key usages in Go's x509.ExtKeyUsage order (the order upstream sorts them in) */
const EXT_KEY_USAGES: [string, number, string][] = [
  ['any', 0, '2.5.29.37.0'],
  ['server auth', 1, '1.3.6.1.5.5.7.3.1'],
  ['client auth', 2, '1.3.6.1.5.5.7.3.2'],
  ['code signing', 3, '1.3.6.1.5.5.7.3.3'],
  ['email protection', 4, '1.3.6.1.5.5.7.3.4'],
  ['s/mime', 4, '1.3.6.1.5.5.7.3.4'],
  ['ipsec end system', 5, '1.3.6.1.5.5.7.3.5'],
  ['ipsec tunnel', 6, '1.3.6.1.5.5.7.3.6'],
  ['ipsec user', 7, '1.3.6.1.5.5.7.3.7'],
  ['timestamping', 8, '1.3.6.1.5.5.7.3.8'],
  ['ocsp signing', 9, '1.3.6.1.5.5.7.3.9'],
  ['microsoft sgc', 10, '1.3.6.1.4.1.311.10.3.3'],
  ['netscape sgc', 11, '2.16.840.1.113730.4.1'],
];

/** keyUsagesFromStrings: key usage bits and sorted, de-duplicated extended key usage OIDs */
export function keyUsagesFromStrings(usages: readonly string[]): {
  keyUsage: number;
  extKeyUsages: string[];
} {
  let keyUsage = 0;
  const ext = new Map<number, string>();
  const unrecognized: string[] = [];
  for (const u of usages) {
    const bit = KEY_USAGE_BITS[u];
    const e = EXT_KEY_USAGES.find(([name]) => name === u);
    if (bit !== undefined) keyUsage |= bit;
    else if (e) ext.set(e[1], e[2]);
    else unrecognized.push(u);
  }
  if (unrecognized.length)
    throw new Error(`unrecognized usage values: [${unrecognized.map((u) => JSON.stringify(u)).join(' ')}]`);
  return { keyUsage, extKeyUsages: [...ext.entries()].sort((a, b) => a[0] - b[0]).map(([, oid]) => oid) };
}

export interface SigningPolicy {
  ttlMs: number;
  usages: readonly string[];
  /** 5 minutes upstream */
  backdateMs: number;
  /** certificates shorter than this (8 hours upstream) are not backdated */
  shortMs: number;
  now: number;
}

/** upstream's boundaries(): NotBefore/NotAfter of a certificate, or why the signer cannot issue one */
export function boundaries(p: SigningPolicy, caNotAfter: number): { notBefore: Date; notAfter: Date } {
  if (p.ttlMs <= p.backdateMs)
    throw new Error(
      `the signer has a backdate of ${p.backdateMs / 1000}s that is greater than or equal to the ttl of ${p.ttlMs / 1000}s`,
    );
  const backdate = p.ttlMs < p.shortMs ? 0 : p.backdateMs;
  const start = p.now - backdate;
  const notBefore = Math.floor(start / 1000) * 1000;
  let notAfter = Math.floor((start + p.ttlMs) / 1000) * 1000;
  if (notAfter > caNotAfter) notAfter = caNotAfter;
  if (!(notBefore < caNotAfter))
    throw new Error(`the signer has expired: NotAfter=${new Date(caNotAfter).toISOString()}`);
  if (!(p.now < caNotAfter))
    throw new Error(
      `refusing to sign a certificate that expired in the past: NotAfter=${new Date(caNotAfter).toISOString()}`,
    );
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

/** The CA in a certificate and a key file (upstream's --cluster-signing-cert-file / -key-file). */
export class CaProvider {
  private stamp = '';
  private ca: (CertificateAuthority & { notAfter: number }) | undefined;

  constructor(
    readonly certFile: string,
    readonly keyFile: string,
  ) {
    this.current(); // a missing or broken file is an error at start, as upstream's newCAProvider
  }

  /** the CA, re-read when either file changed */
  current(): CertificateAuthority & { notAfter: number } {
    const s = [this.certFile, this.keyFile].map((f) => {
      const st = statSync(f);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    });
    const stamp = s.join('|');
    if (!this.ca || stamp !== this.stamp) {
      const certPem = readFileSync(this.certFile, 'utf8');
      const keyPem = readFileSync(this.keyFile, 'utf8');
      const cert = new X509Certificate(certPem);
      this.ca = { certPem, keyPem, notAfter: Date.parse(cert.validTo) };
      this.stamp = stamp;
    }
    return this.ca;
  }
}

/** CertificateAuthority.Sign with PermissiveSigningPolicy: the PEM certificate for `req` */
export async function signRequest(
  ca: CaProvider,
  req: CertificateRequest,
  policy: SigningPolicy,
): Promise<string> {
  req.checkSignature();
  const authority = ca.current();
  const { keyUsage, extKeyUsages } = keyUsagesFromStrings(policy.usages);
  const { notBefore, notAfter } = boundaries(policy, authority.notAfter);
  return signCertificateRequest(authority, {
    subjectDer: req.subjectDer,
    publicKeyDer: req.publicKeyDer,
    dnsNames: req.dnsNames,
    ipAddresses: req.ipAddresses,
    emailAddresses: req.emailAddresses,
    uris: req.uris,
    notBefore,
    notAfter,
    keyUsage,
    extKeyUsages,
  });
}
