// certificates.k8s.io/v1 CertificateSigningRequest validation (upstream's pkg/apis/certificates/validation):
// the request must be a PEM CERTIFICATE REQUEST, usages and signerName are required, conditions follow the rules
// of the approval and status subresources.
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from 'kubernetes-types/certificates/v1.js';
import { fe, type FieldError } from '../errors.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Subdomain } from './names.js';

const KEY_USAGES = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];
const TRUE_ONLY = new Set(['Approved', 'Denied', 'Failed']);

/** the PEM block of spec.request (base64 of the PEM text on the wire) */
function requestError(request: string | undefined): string | undefined {
  const pem = Buffer.from(request ?? '', 'base64').toString('latin1');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m || m[1] !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  // a DER SEQUENCE that spans the block: the shape of a PKCS#10 request
  if (der.length < 2 || der[0] !== 0x30) return 'x509: malformed certificate request';
  return undefined;
}

function validateSignerName(name: string, path: string): FieldError[] {
  const why = "must be a fully qualified domain and path of the form 'example.com/signer-name'";
  const parts = name.split('/');
  if (parts.length < 2 || !parts[0] || !parts.slice(1).join('/')) return [fe.invalid(path, name, why)];
  const domainErrs = isDNS1123Subdomain(parts[0]);
  if (domainErrs.length) return [fe.invalid(path, name, why)];
  return [];
}

function validateConditions(conditions: CertificateSigningRequestCondition[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  (conditions ?? []).forEach((c, i) => {
    const p = `status.conditions[${i}]`;
    if (!c.type) errs.push(fe.required(`${p}.type`));
    const allowed = TRUE_ONLY.has(c.type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errs.push(fe.required(`${p}.status`));
    else if (!allowed.includes(c.status)) errs.push(fe.notSupported(`${p}.status`, c.status, allowed));
    if (c.type === 'Approved') {
      approved = true;
      if (denied)
        errs.push(fe.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
    } else if (c.type === 'Denied') {
      denied = true;
      if (approved)
        errs.push(fe.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
    }
    if (seen.has(c.type)) errs.push(fe.duplicate(`${p}.type`, c.type));
    seen.add(c.type);
  });
  return errs;
}

export function validateCsr(csr: CertificateSigningRequest): FieldError[] {
  const errs = validateObjectMeta(csr.metadata, false, nameIsDNSSubdomain);
  const spec = csr.spec ?? ({} as CertificateSigningRequest['spec']);
  const reqErr = requestError(spec.request);
  if (reqErr) errs.push(fe.invalid('spec.request', spec.request ?? '', reqErr));
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(fe.required('spec.usages'));
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u)) errs.push(fe.notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    if (seen.has(u)) errs.push(fe.duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  if (!spec.signerName) errs.push(fe.required('spec.signerName'));
  else errs.push(...validateSignerName(spec.signerName, 'spec.signerName'));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600)
    errs.push(
      fe.invalid(
        'spec.expirationSeconds',
        spec.expirationSeconds,
        'may not specify a duration less than 600 seconds (10 minutes)',
      ),
    );
  errs.push(...validateConditions(csr.status?.conditions));
  return errs;
}

/** Approved, Denied and Failed conditions stay once added */
function keptConditions(csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  const now = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  return (old.status?.conditions ?? [])
    .filter((c) => TRUE_ONLY.has(c.type) && !now.has(c.type))
    .map((c) => fe.forbidden('status.conditions', `updates may not remove a condition of type "${c.type}"`));
}

export function validateCsrUpdate(
  csr: CertificateSigningRequest,
  old: CertificateSigningRequest,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(csr.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validateConditions(csr.status?.conditions),
    ...keptConditions(csr, old),
  ];
}

export function validateCsrStatusUpdate(
  csr: CertificateSigningRequest,
  old: CertificateSigningRequest,
): FieldError[] {
  const errs = validateCsrUpdate(csr, old);
  const cert = csr.status?.certificate;
  const oldCert = old.status?.certificate;
  if (oldCert && cert !== oldCert)
    errs.push(fe.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  return errs;
}
