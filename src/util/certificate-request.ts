// PKCS#10 certificate requests (RFC 2986) as Go's x509.ParseCertificateRequest reads them: the subject's common
// name and organizations, the subjectAltNames of the extensionRequest attribute, the public key, and
// CheckSignature. A small DER reader, synchronous and without a library, so the apiserver's validation and admission
// can parse a CertificateSigningRequest's spec.request on the request path.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** One DER element: its tag, its content and its whole encoding. */
interface Der {
  tag: number;
  content: Buffer;
  raw: Buffer;
}

const MALFORMED = 'x509: malformed certificate request';

function readDer(buf: Buffer, offset: number): { el: Der; next: number } {
  if (offset + 2 > buf.length) throw new Error(MALFORMED);
  const tag = buf[offset];
  let len = buf[offset + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new Error(MALFORMED);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i];
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new Error(MALFORMED);
  return {
    el: { tag, content: buf.subarray(offset + head, end), raw: buf.subarray(offset, end) },
    next: end,
  };
}

/** the elements inside a constructed element */
function children(el: Der): Der[] {
  const out: Der[] = [];
  for (let off = 0; off < el.content.length;) {
    const { el: child, next } = readDer(el.content, off);
    out.push(child);
    off = next;
  }
  return out;
}

function expect(el: Der | undefined, tag: number): Der {
  if (!el || el.tag !== tag) throw new Error(MALFORMED);
  return el;
}

function oid(el: Der): string {
  const b = expect(el, 0x06).content;
  if (b.length === 0) throw new Error(MALFORMED);
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1a, 0x1e]);

function stringValue(el: Der): string {
  if (!STRING_TAGS.has(el.tag)) throw new Error(MALFORMED);
  // BMPString is UTF-16BE
  if (el.tag === 0x1e) return Buffer.from(el.content).swap16().toString('utf16le');
  return el.content.toString(el.tag === 0x0c ? 'utf8' : 'latin1');
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';

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

function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new Error(MALFORMED);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // the WHATWG URL parser writes IPv6 in its shortest form, as Go's net.IP.String
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function readSubject(name: Der): CertificateRequest['subject'] {
  const subject = { commonName: '', organization: [] as string[] };
  for (const rdn of children(expect(name, 0x30))) {
    for (const atv of children(expect(rdn, 0x31))) {
      const [type, value] = children(expect(atv, 0x30));
      const id = oid(type);
      if (id === OID_CN) subject.commonName = stringValue(value);
      else if (id === OID_O) subject.organization.push(stringValue(value));
    }
  }
  return subject;
}

function readSans(req: CertificateRequest, attributes: Der | undefined): void {
  if (!attributes) return;
  for (const attr of children(attributes)) {
    const [type, values] = children(expect(attr, 0x30));
    if (oid(type) !== OID_EXTENSION_REQUEST) continue;
    for (const exts of children(expect(values, 0x31))) {
      for (const ext of children(expect(exts, 0x30))) {
        const parts = children(expect(ext, 0x30));
        if (oid(parts[0]) !== OID_SAN) continue;
        const value = expect(parts[parts.length - 1], 0x04);
        const { el: names } = readDer(value.content, 0);
        for (const gn of children(expect(names, 0x30))) {
          const text = (): string => gn.content.toString('latin1');
          if (gn.tag === 0x81) req.emailAddresses.push(text());
          else if (gn.tag === 0x82) req.dnsNames.push(text());
          else if (gn.tag === 0x86) req.uris.push(text());
          else if (gn.tag === 0x87) req.ipAddresses.push(ipString(gn.content));
        }
      }
    }
  }
}

/** x509.ParseCertificateRequest of DER bytes */
export function parseCertificateRequest(der: Buffer): CertificateRequest {
  const { el: top, next } = readDer(der, 0);
  if (top.tag !== 0x30 || next !== der.length) throw new Error(MALFORMED);
  const [info, sigAlg, sig] = children(top);
  expect(info, 0x30);
  const [algOid] = children(expect(sigAlg, 0x30));
  const algorithm = oid(algOid);
  const signature = expect(sig, 0x03).content;
  const fields = children(info);
  expect(fields[0], 0x02);
  const spki = expect(fields[2], 0x30);
  const [keyAlg] = children(spki);
  const keyOid = oid(children(expect(keyAlg, 0x30))[0]);
  const req: CertificateRequest = {
    subject: readSubject(fields[1]),
    subjectDer: Buffer.from(fields[1].raw),
    dnsNames: [],
    emailAddresses: [],
    ipAddresses: [],
    uris: [],
    publicKeyAlgorithm: KEY_ALGORITHMS[keyOid] ?? 'unknown',
    publicKeyDer: Buffer.from(spki.raw),
    raw: Buffer.from(der),
    checkSignature() {
      const insecure = INSECURE_ALGORITHMS[algorithm];
      if (insecure) throw new Error(`x509: cannot verify signature: insecure algorithm ${insecure}`);
      const alg = SIGNATURE_ALGORITHMS[algorithm];
      if (!alg) throw new Error('x509: cannot verify signature: algorithm unimplemented');
      let key: KeyObject;
      try {
        key = createPublicKey({ key: Buffer.from(spki.raw), format: 'der', type: 'spki' });
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
      // a BIT STRING's first byte counts the unused bits
      const ok = verify(alg.digest, info.raw, key, signature.subarray(1));
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
  const attributes = fields.slice(3).find((f) => f.tag === 0xa0);
  readSans(req, attributes);
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
