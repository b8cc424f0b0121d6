// PKCS#10 certificate requests (RFC 2986) as Go's x509.ParseCertificateRequest reads them: the subject's common
// name and organizations, the subjectAltNames of the extensionRequest attribute, the public key, and
// CheckSignature. The DER is decoded by @peculiar/asn1-csr (synchronous, so the apiserver's validation and
// admission can parse a CertificateSigningRequest's spec.request on the request path); only Go's messages and the
// choice of what to read are ours.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type { CertificationRequest } from '@peculiar/asn1-csr';
import type { Extensions, SubjectAlternativeName } from '@peculiar/asn1-x509';

interface Asn1 {
  csr: typeof import('@peculiar/asn1-csr');
  schema: typeof import('@peculiar/asn1-schema');
  x509: typeof import('@peculiar/asn1-x509');
}
let asn1Loaded: Asn1 | undefined;

/**
 * The ASN.1 libraries (~20 ms of CPU to load) are required at the first request parsed, as prom-client is in
 * metrics.ts, so an apiserver that never sees a CSR never pays for them at start (they stay out of the bundle).
 */
function asn1(): Asn1 {
  if (!asn1Loaded) {
    const req = createRequire(import.meta.url);
    asn1Loaded = {
      csr: req('@peculiar/asn1-csr') as Asn1['csr'],
      schema: req('@peculiar/asn1-schema') as Asn1['schema'],
      x509: req('@peculiar/asn1-x509') as Asn1['x509'],
    };
  }
  return asn1Loaded;
}

const MALFORMED = 'x509: malformed certificate request';

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** the signature algorithms Go verifies, as node:crypto names their digests (null: the key's own) */
const SIGNATURE_ALGORITHMS: Record<string, { name: string; digest: string | null; key: string }> = {
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', digest: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', digest: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', digest: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', digest: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', digest: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', digest: 'sha512', key: 'ec' },
  '1.3.101.112': { name: 'Ed25519', digest: null, key: 'ed25519' },
};
const INSECURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'MD5-RSA',
  '1.2.840.113549.1.1.5': 'SHA1-RSA',
  '1.2.840.10045.4.1': 'ECDSA-SHA1',
};
const KEY_ALGORITHMS: Record<string, CertificateRequest['publicKeyAlgorithm']> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.10045.2.1': 'ECDSA',
  '1.3.101.112': 'Ed25519',
};

export interface CertificateRequest {
  subject: { commonName: string; organization: string[] };
  /** the DER of the subject Name, as the request encodes it */
  subjectDer: Buffer;
  dnsNames: string[];
  emailAddresses: string[];
  ipAddresses: string[];
  uris: string[];
  publicKeyAlgorithm: 'RSA' | 'ECDSA' | 'Ed25519' | 'unknown';
  /** the DER of the SubjectPublicKeyInfo */
  publicKeyDer: Buffer;
  /** the whole request, DER */
  raw: Buffer;
  /** Go's CheckSignature: throws with Go's message when the request's own signature does not verify */
  checkSignature(): void;
}

/** an IP address as Go's net.IP.String writes it: IPv6 in its shortest form, as the WHATWG URL parser also does */
function goIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** the value of a Name's attribute, whichever string type encodes it */
function attributeText(value: { toString(): string }): string {
  return value.toString();
}

function decode(der: Buffer): CertificationRequest {
  const { csr, schema } = asn1();
  try {
    return schema.AsnConvert.parse(der, csr.CertificationRequest);
  } catch {
    throw new Error(MALFORMED);
  }
}

/** a DER element's header at `at`: its length and the header's own size (tag and length bytes) */
function header(der: Buffer, at: number): { len: number; head: number } {
  if (at + 2 > der.length) throw new Error(MALFORMED);
  const first = der[at + 1];
  if (!(first & 0x80)) return { len: first, head: 2 };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || at + 2 + n > der.length) throw new Error(MALFORMED);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
  return { len, head: 2 + n };
}

/** the DER of the i-th element of a SEQUENCE's content, as the request encodes it (the library re-encodes) */
function sequenceElement(sequence: Buffer, index: number): Buffer {
  let at = header(sequence, 0).head;
  for (let i = 0; ; i++) {
    const { len, head } = header(sequence, at);
    if (at + head + len > sequence.length) throw new Error(MALFORMED);
    if (i === index) return sequence.subarray(at, at + head + len);
    at += head + len;
  }
}

/** x509.ParseCertificateRequest of DER bytes */
export function parseCertificateRequest(der: Buffer): CertificateRequest {
  // the library decodes a prefix: trailing bytes are malformed to Go
  const outer = header(der, 0);
  if (outer.head + outer.len !== der.length) throw new Error(MALFORMED);
  const csr = decode(der);
  const info = csr.certificationRequestInfo;
  const infoRaw = Buffer.from(csr.certificationRequestInfoRaw ?? new ArrayBuffer(0));
  const algorithm = csr.signatureAlgorithm.algorithm;
  const signature = Buffer.from(csr.signature);
  const spkiDer = Buffer.from(sequenceElement(infoRaw, 2));
  const subject = { commonName: '', organization: [] as string[] };
  for (const rdn of info.subject) {
    for (const atv of rdn) {
      if (atv.type === OID_CN) subject.commonName = attributeText(atv.value);
      else if (atv.type === OID_O) subject.organization.push(attributeText(atv.value));
    }
  }
  const req: CertificateRequest = {
    subject,
    subjectDer: Buffer.from(sequenceElement(infoRaw, 1)),
    dnsNames: [],
    emailAddresses: [],
    ipAddresses: [],
    uris: [],
    publicKeyAlgorithm: KEY_ALGORITHMS[info.subjectPKInfo.algorithm.algorithm] ?? 'unknown',
    publicKeyDer: spkiDer,
    raw: Buffer.from(der),
    checkSignature() {
      const insecure = INSECURE_ALGORITHMS[algorithm];
      if (insecure) throw new Error(`x509: cannot verify signature: insecure algorithm ${insecure}`);
      const alg = SIGNATURE_ALGORITHMS[algorithm];
      if (!alg) throw new Error('x509: cannot verify signature: algorithm unimplemented');
      let key: KeyObject;
      try {
        key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
      } catch {
        throw new Error('x509: unsupported public key type');
      }
      if (key.asymmetricKeyType !== alg.key)
        throw new Error(
          'x509: signature algorithm specifies an ' +
            alg.name +
            ' public key, but have public key of type ' +
            String(key.asymmetricKeyType),
        );
      const ok = verify(alg.digest, infoRaw, key, signature);
      if (!ok)
        throw new Error(
          alg.key === 'rsa'
            ? 'crypto/rsa: verification error'
            : alg.key === 'ec'
              ? 'x509: ECDSA verification failure'
              : 'x509: Ed25519 verification failure',
        );
    },
  };
  for (const attr of info.attributes) {
    if (attr.type !== OID_EXTENSION_REQUEST) continue;
    for (const value of attr.values) {
      let extensions: Extensions;
      try {
        extensions = asn1().schema.AsnConvert.parse(value, asn1().x509.Extensions);
      } catch {
        throw new Error(MALFORMED);
      }
      for (const ext of extensions) {
        if (ext.extnID !== asn1().x509.id_ce_subjectAltName) continue;
        let names: SubjectAlternativeName;
        try {
          names = asn1().schema.AsnConvert.parse(ext.extnValue, asn1().x509.SubjectAlternativeName);
        } catch {
          throw new Error(MALFORMED);
        }
        for (const gn of names) {
          if (gn.rfc822Name !== undefined) req.emailAddresses.push(gn.rfc822Name);
          else if (gn.dNSName !== undefined) req.dnsNames.push(gn.dNSName);
          else if (gn.uniformResourceIdentifier !== undefined) req.uris.push(gn.uniformResourceIdentifier);
          else if (gn.iPAddress !== undefined) req.ipAddresses.push(goIp(gn.iPAddress));
        }
      }
    }
  }
  return req;
}

/**
 * upstream's certificates.ParseCSR: the first PEM block must be a CERTIFICATE REQUEST; throws with upstream's
 * message otherwise.
 */
export function parseCsrPem(pem: Buffer | string): CertificateRequest {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m || m[1] !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  // a PEM block with headers (Key: value lines) keeps them before a blank line
  const body = m[2].includes(':') ? m[2].slice(m[2].search(/\r?\n\r?\n/) + 1) : m[2];
  return parseCertificateRequest(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}
