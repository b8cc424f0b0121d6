// The cluster's PKI: a CA made once per cluster, the apiserver's serving and kubelet-client certificates, the
// kubelets' serving certificates, and leaf certificates on demand.
import type * as x509 from '@peculiar/x509';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  webcrypto,
  X509Certificate as NodeX509Certificate,
} from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { ipFamily } from './ip-family.js';

const subtle = webcrypto.subtle;

type X509 = typeof x509;
let x509Loaded: Promise<X509> | undefined;
/**
 * @peculiar/x509 (and its ASN.1 schema packages) cost ~100 ms of CPU to load: only a process that makes a certificate
 * loads it, on its first (one bundled chunk: x509-lib.ts). Checking stored certificates needs only node:crypto, so the
 * components never load it.
 */
function loadX509(): Promise<X509> {
  return (x509Loaded ??= (async () => {
    const { x509: lib } = await import('./x509-lib.js');
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    return lib;
  })());
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** certificates start a little in the past, so a clock a few minutes behind still accepts them */
const BACKDATE_MS = 5 * 60 * 1000;
/** a serving certificate closer than this to its end is replaced on the next start */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/** Names every apiserver serving certificate carries, as upstream's kube-apiserver does (plus loopback). */
export const DEFAULT_SERVING_HOSTS: readonly string[] = [
  '127.0.0.1',
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  // the first ClusterIP: the `kubernetes` Service in `default`
  '127.96.0.1',
];

/** Files of the cluster PKI inside the state dir (upstream's kubeadm names). */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'apiserver.crt',
  servingKey: 'apiserver.key',
  /** the apiserver's client certificate for kubelets (kube-apiserver --kubelet-client-certificate) */
  kubeletClientCert: 'apiserver-kubelet-client.crt',
  kubeletClientKey: 'apiserver-kubelet-client.key',
  /** the ServiceAccount token signing key pair (kubeadm's sa.key / sa.pub: RSA 2048) */
  serviceAccountKey: 'sa.key',
  serviceAccountPublicKey: 'sa.pub',
} as const;

/** kubeadm's identity of the apiserver towards kubelets: CN kube-apiserver-kubelet-client, O system:masters */
export const KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';
export const KUBELET_CLIENT_ORGANIZATION = 'system:masters';

/** A kubelet's serving certificate in its --cert-dir, as upstream's kubelet names it. */
export const KUBELET_PKI_FILES = { cert: 'kubelet.crt', key: 'kubelet.key' } as const;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface CertificateAndKey {
  certPem: string;
  /** PKCS#8 PEM */
  keyPem: string;
}

export type CertificateUsage = 'server' | 'client';

export interface IssueOptions {
  commonName: string;
  /** subject O= entries (for client certificates upstream reads them as groups) */
  organization?: string[];
  /** IP addresses and DNS names for the subjectAltName extension */
  hosts?: string[];
  /** extended key usages; default server */
  usages?: CertificateUsage[];
  validityDays?: number;
}

export interface ClusterPki {
  caCertPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** the apiserver's client certificate and key for calling kubelets */
  kubeletClientCertPem: string;
  kubeletClientKeyPem: string;
  /** the CA itself, for issuing further certificates (ingress defaults, client certs) */
  ca: CertificateAuthority;
  /** the ServiceAccount token signing key (PKCS#8 PEM) and its public key (SPKI PEM), and their files */
  serviceAccountKeyPem: string;
  serviceAccountPublicKeyPem: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
}

/**
 * The ServiceAccount signing key pair in `dir` (sa.key, sa.pub), made once as kubeadm does (RSA 2048) and kept: every
 * token issued stays verifiable across restarts. A key file that is not a private key is replaced, never guessed at.
 */
export async function ensureServiceAccountKey(
  dir: string,
): Promise<{ keyPem: string; publicKeyPem: string; keyFile: string; publicKeyFile: string }> {
  const keyFile = join(dir, PKI_FILES.serviceAccountKey);
  const publicKeyFile = join(dir, PKI_FILES.serviceAccountPublicKey);
  let keyPem: string | undefined;
  try {
    keyPem = readFileSync(keyFile, 'utf8');
    createPrivateKey(keyPem);
  } catch {
    keyPem = undefined;
  }
  if (!keyPem) {
    // generated off the event loop (RSA key generation takes tens of ms)
    keyPem = await new Promise<string>((resolve, reject) =>
      generateKeyPair(
        'rsa',
        {
          modulusLength: 2048,
          publicKeyEncoding: { format: 'pem', type: 'spki' },
          privateKeyEncoding: { format: 'pem', type: 'pkcs8' },
        },
        (err: Error | null, _pub: string, priv: string) => (err ? reject(err) : resolve(priv)),
      ),
    );
    writeFileAtomic(keyFile, keyPem, 0o600);
  }
  const publicKeyPem = createPublicKey(keyPem).export({ format: 'pem', type: 'spki' }).toString();
  let stored: string | undefined;
  try {
    stored = readFileSync(publicKeyFile, 'utf8');
  } catch {
    stored = undefined;
  }
  if (stored !== publicKeyPem) writeFileAtomic(publicKeyFile, publicKeyPem, 0o600);
  return { keyPem, publicKeyPem, keyFile, publicKeyFile };
}

function subjectName(commonName: string, organization: string[] = []): x509.JsonName {
  const name: x509.JsonName = [];
  for (const o of organization) name.push({ O: [o] });
  name.push({ CN: [commonName] });
  return name;
}

function sanNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  const unique = [...new Set(hosts.map((h) => h.trim()).filter((h) => h !== ''))].sort();
  return unique.map((value) => ({ type: ipFamily(value) ? 'ip' : 'dns', value }));
}

/** `[2001:db8::1]` for any spelling of an IPv6 address (WHATWG URL serialisation); other names as they are */
const canonicalIp = (ip: string): string => (ipFamily(ip) === 6 ? new URL(`http://[${ip}]`).hostname : ip);

/**
 * A canonical text of a certificate's SAN names, from node:crypto's `subjectAltName` (`DNS:a, IP Address:1.2.3.4`),
 * so SAN lists compare regardless of order or IP spelling. undefined for a name node:crypto quotes or a kind we never
 * issue (URI, email): such a certificate is not one of ours as wanted.
 */
function sanKey(subjectAltName: string | undefined): string | undefined {
  if (!subjectAltName) return '';
  const names: string[] = [];
  for (const entry of subjectAltName.split(', ')) {
    if (entry.startsWith('DNS:') && !entry.includes('"')) names.push(`dns:${entry.slice(4)}`);
    else if (entry.startsWith('IP Address:')) names.push(`ip:${canonicalIp(entry.slice(11))}`);
    else return undefined;
  }
  return names.sort().join(',');
}

/** The same text for the names we would issue. */
const wantedSanKey = (hosts: readonly string[]): string =>
  sanNames(hosts)
    .map((n) => `${n.type}:${n.type === 'ip' ? canonicalIp(n.value) : n.value}`)
    .sort()
    .join(',');

async function exportKeyPem(lib: X509, key: webcrypto.CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return lib.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  // node:crypto reads any PEM flavour (SEC1 or PKCS#8); WebCrypto wants PKCS#8 DER
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** Makes a new self-signed CA (ECDSA P-256), valid 10 years by default. */
export async function createCertificateAuthority(
  commonName = 'kubemu-ca',
  validityDays = 3650,
): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keys = await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(commonName),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    ...validity(validityDays),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(x509, keys.privateKey) };
}

/** Issues a leaf certificate (new ECDSA P-256 key) signed by `ca`; valid 1 year by default. */
export async function issueCertificate(
  ca: CertificateAuthority,
  opts: IssueOptions,
): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const keys = await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const usages = opts.usages ?? ['server'];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(
      usages.map((u) =>
        u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ),
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  const names = sanNames(opts.hosts ?? []);
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectName(opts.commonName, opts.organization),
    issuer: caCert.subjectName,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    ...validity(opts.validityDays ?? 365),
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(x509, keys.privateKey) };
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CA in `dir`, if one is there and usable (parses, key matches, not expired). */
export function readCertificateAuthority(dir: string): CertificateAuthority | undefined {
  const certPem = readIfPresent(join(dir, PKI_FILES.caCert));
  const keyPem = readIfPresent(join(dir, PKI_FILES.caKey));
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new NodeX509Certificate(certPem);
    if (!cert.ca || !cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (Date.parse(cert.validTo) <= Date.now()) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined;
  }
}

/** The subject as node:crypto prints it (`O=...\nCN=...`), for comparing a stored certificate with what is wanted. */
function subjectText(commonName: string, organization: string[] = []): string {
  return [...organization.map((o) => `O=${o}`), `CN=${commonName}`].join('\n');
}

/** Whether a stored leaf can be kept: signed by this CA, its key, subject and SANs as wanted, not near its end. */
function leafUsable(ca: CertificateAuthority, certPem: string, keyPem: string, want: IssueOptions): boolean {
  try {
    const cert = new NodeX509Certificate(certPem);
    const caCert = new NodeX509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (cert.subject !== subjectText(want.commonName, want.organization)) return false;
    return sanKey(cert.subjectAltName) === wantedSanKey(want.hosts ?? []);
  } catch {
    return false;
  }
}

/**
 * The leaf certificate in certFile/keyFile, kept when usable, else issued anew by `ca` and written (0600: certificates too, they live in the
 * state dir, which is the user's alone).
 * Directories are made 0700.
 */
export async function ensureLeafCertificate(
  ca: CertificateAuthority,
  files: { certFile: string; keyFile: string },
  want: IssueOptions,
): Promise<CertificateAndKey> {
  const certPem = readIfPresent(files.certFile);
  const keyPem = readIfPresent(files.keyFile);
  if (certPem && keyPem && leafUsable(ca, certPem, keyPem, want)) return { certPem, keyPem };
  const issued = await issueCertificate(ca, want);
  mkdirSync(dirname(files.keyFile), { recursive: true, mode: 0o700 });
  mkdirSync(dirname(files.certFile), { recursive: true, mode: 0o700 });
  writeFileAtomic(files.keyFile, issued.keyPem, 0o600);
  writeFileAtomic(files.certFile, issued.certPem, 0o600);
  return issued;
}

/**
 * The cluster CA, the apiserver's serving certificate and its kubelet client certificate in `dir`: made on first
 * start, reused later. A leaf is re-issued when its names change, the CA changed, or it nears expiry.
 * Everything is written 0600, the directory 0700. `withCa` (more certificates of the same CA, e.g. the kubelets')
 * runs beside the leaves; it settles before this does.
 */
export async function ensureClusterPki(
  dir: string,
  opts: { hosts: string[]; withCa?: (ca: CertificateAuthority) => Promise<unknown> },
): Promise<ClusterPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, PKI_FILES.caCert);
  const caKeyFile = join(dir, PKI_FILES.caKey);
  const certFile = join(dir, PKI_FILES.servingCert);
  const keyFile = join(dir, PKI_FILES.servingKey);

  // the ServiceAccount key (RSA 2048, the slowest to make: 0.1–0.5 s of CPU) is generated on libuv's thread pool
  // while this thread makes the CA and the leaves (ECDSA) and loads the library that writes them
  const saMade = ensureServiceAccountKey(dir);
  const certificates = (async () => {
    let ca = readCertificateAuthority(dir);
    if (!ca) {
      ca = await createCertificateAuthority();
      writeFileAtomic(caKeyFile, ca.keyPem, 0o600);
      writeFileAtomic(caFile, ca.certPem, 0o600);
    }
    const caMade = ca;
    const [serving, kubeletClient] = await Promise.all([
      ensureLeafCertificate(
        caMade,
        { certFile, keyFile },
        {
          commonName: 'kube-apiserver',
          hosts: [...DEFAULT_SERVING_HOSTS, ...opts.hosts],
          usages: ['server'],
        },
      ),
      ensureLeafCertificate(
        caMade,
        { certFile: join(dir, PKI_FILES.kubeletClientCert), keyFile: join(dir, PKI_FILES.kubeletClientKey) },
        { commonName: KUBELET_CLIENT_CN, organization: [KUBELET_CLIENT_ORGANIZATION], usages: ['client'] },
      ),
      opts.withCa?.(caMade),
    ]);
    return { ca: caMade, serving, kubeletClient };
  })();
  // both settle before either's failure is thrown: nothing is left running (or unhandled) behind a failed start
  const [saResult, certsResult] = await Promise.allSettled([saMade, certificates]);
  if (certsResult.status === 'rejected') throw certsResult.reason;
  if (saResult.status === 'rejected') throw saResult.reason;
  const { ca, serving, kubeletClient } = certsResult.value;
  const sa = saResult.value;

  return {
    caCertPem: ca.certPem,
    servingCertPem: serving.certPem,
    servingKeyPem: serving.keyPem,
    caFile,
    certFile,
    keyFile,
    kubeletClientCertPem: kubeletClient.certPem,
    kubeletClientKeyPem: kubeletClient.keyPem,
    ca,
    serviceAccountKeyPem: sa.keyPem,
    serviceAccountPublicKeyPem: sa.publicKeyPem,
    serviceAccountKeyFile: sa.keyFile,
    serviceAccountPublicKeyFile: sa.publicKeyFile,
  };
}

/**
 * A kubelet's serving certificate in `certDir` (kubelet.crt/kubelet.key), signed by the cluster CA for the node's
 * addresses — what upstream's kubelet gets from a `kubernetes.io/kubelet-serving` CSR: CN system:node:<name>,
 * O system:nodes, the node's IP and name as SANs — so the apiserver can verify it (--kubelet-certificate-authority).
 */
export function ensureKubeletServingCertificate(
  ca: CertificateAuthority,
  certDir: string,
  node: { name: string; ip: string },
): Promise<CertificateAndKey> {
  return ensureLeafCertificate(
    ca,
    { certFile: join(certDir, KUBELET_PKI_FILES.cert), keyFile: join(certDir, KUBELET_PKI_FILES.key) },
    {
      commonName: `system:node:${node.name}`,
      organization: ['system:nodes'],
      hosts: [node.ip, node.name],
      usages: ['server'],
    },
  );
}

/** What a signer puts in a certificate it issues for a certificate request (upstream's x509 template). */
export interface RequestSigning {
  /** the request's subject Name, DER, copied as it is */
  subjectDer: Buffer;
  /** the request's SubjectPublicKeyInfo, DER */
  publicKeyDer: Buffer;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  emailAddresses: readonly string[];
  uris: readonly string[];
  notBefore: Date;
  notAfter: Date;
  /** x509 KeyUsage bits (digitalSignature = 1, ... decipherOnly = 256), as Go's x509.KeyUsage */
  keyUsage: number;
  /** extended key usage OIDs */
  extKeyUsages: readonly string[];
}

/**
 * A certificate for a certificate request, signed by `ca` (upstream's CertificateAuthority.Sign with its
 * PermissiveSigningPolicy): the request's subject, key and SANs, the given usages, not a CA. PEM.
 */
export async function signCertificateRequest(ca: CertificateAuthority, req: RequestSigning): Promise<string> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const extensions: x509.Extension[] = [];
  if (req.keyUsage) extensions.push(new x509.KeyUsagesExtension(req.keyUsage, true));
  if (req.extKeyUsages.length) extensions.push(new x509.ExtendedKeyUsageExtension([...req.extKeyUsages]));
  extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (caSki) extensions.push(new x509.AuthorityKeyIdentifierExtension(caSki.keyId));
  const names: x509.JsonGeneralName[] = [
    ...req.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...req.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...req.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...req.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  // a random positive 128-bit serial, as upstream's
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] &= 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: new x509.Name(req.subjectDer),
    issuer: caCert.subjectName,
    publicKey: req.publicKeyDer,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    extensions,
  });
  return cert.toString('pem');
}
