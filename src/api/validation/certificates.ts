// certificates.k8s.io/v1 CertificateSigningRequest validation, a port of upstream's
// pkg/apis/certificates/validation: the request must be a PEM CERTIFICATE REQUEST whose own signature verifies,
// usages are required and known, the signerName is `domain/path`, expirationSeconds ≥ 600, Approved/Denied/Failed
// are True only, Approved and Denied exclude each other; on update those conditions are never removed, Approved and
// Denied change only through /approval and status.certificate only through /status, once.
import { X509Certificate } from 'node:crypto';
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from 'kubernetes-types/certificates/v1.js';
import { parseCsrPem } from '../../util/certificate-request.js';
import { deepEqual } from '../../util/objects.js';
import { fe, type FieldError } from '../errors.js';
import { nameIsPathSegment, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain } from './names.js';

/** upstream's allValidUsages, sorted as sets.String.List() */
export const KEY_USAGES: readonly string[] = [
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
const TRUE_CONDITION_TYPES = new Set(['Approved', 'Denied', 'Failed']);
const TRUE_ONLY = ['True'];
const ALL_STATUS_VALUES = ['False', 'True', 'Unknown'];
export const LEGACY_UNKNOWN_SIGNER_NAME = 'kubernetes.io/legacy-unknown';
const DNS1123_SUBDOMAIN_MAX = 253;
const DNS1123_LABEL_MAX = 63;

type Csr = CertificateSigningRequest;

/** upstream's certificateValidationOptions: what an update path may do, and old data tolerated */
interface Options {
  allowSettingApprovalConditions?: boolean;
  allowSettingCertificate?: boolean;
  allowBothApprovedAndDenied?: boolean;
  allowLegacySignerName?: boolean;
  allowDuplicateConditionTypes?: boolean;
  allowEmptyConditionType?: boolean;
  allowArbitraryCertificate?: boolean;
  allowUnknownUsages?: boolean;
  allowDuplicateUsages?: boolean;
}

/** the PEM text of spec.request (base64 on the wire) */
const requestPem = (csr: Csr): Buffer => Buffer.from(csr.spec?.request ?? '', 'base64');
const certificatePem = (csr: Csr | undefined): string =>
  Buffer.from(csr?.status?.certificate ?? '', 'base64').toString('latin1');

/** validateCSR: the request parses and its signature verifies */
function requestError(csr: Csr): string | undefined {
  try {
    parseCsrPem(requestPem(csr)).checkSignature();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** validateCertificate: empty, or only CERTIFICATE PEM blocks without headers, each a certificate */
function certificateError(pem: string): string | undefined {
  if (pem.length === 0) return undefined;
  let blocks = 0;
  for (const m of pem.matchAll(/-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/g)) {
    if (m[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${m[1]}"`;
    if (m[2].includes(':')) return 'no PEM block headers are permitted';
    blocks++;
    try {
      new X509Certificate(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
    } catch {
      return 'x509: malformed certificate';
    }
  }
  if (blocks === 0) return 'must contain at least one CERTIFICATE PEM block';
  return undefined;
}

/** ValidateCertificateSigningRequestSignerName */
export function validateSignerName(path: string, signerName: string | undefined): FieldError[] {
  if (!signerName) return [fe.required(path, 'signerName must be provided')];
  const segments = signerName.split('/');
  if (segments.length !== 2)
    return [
      fe.invalid(
        path,
        signerName,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    ];
  const errs: FieldError[] = [];
  const [domain, rest] = segments;
  if (domain.length > DNS1123_SUBDOMAIN_MAX) errs.push(fe.tooLong(path, domain, DNS1123_SUBDOMAIN_MAX));
  const domainLabels = domain.split('.');
  for (const lbl of domainLabels) {
    const e = isDNS1123Label(lbl);
    if (e.length) {
      for (const m of e) errs.push(fe.invalid(path, domain, `validating label "${lbl}": ${m}`));
      break;
    }
  }
  if (domainLabels.length < 2)
    errs.push(fe.invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const lbl of rest.split('.')) {
    const e = isDNS1123Subdomain(lbl);
    if (e.length) {
      for (const m of e) errs.push(fe.invalid(path, rest, `validating label "${lbl}": ${m}`));
      break;
    }
  }
  const maxLength = DNS1123_SUBDOMAIN_MAX + (DNS1123_SUBDOMAIN_MAX + DNS1123_LABEL_MAX + 1) + 1;
  if (signerName.length > maxLength) errs.push(fe.tooLong(path, signerName, maxLength));
  return errs;
}

function validateConditions(csr: Csr, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  (csr.status?.conditions ?? []).forEach((c, i) => {
    const p = `status.conditions[${i}]`;
    if (!opts.allowEmptyConditionType && !c.type) errs.push(fe.required(`${p}.type`));
    const allowed = TRUE_CONDITION_TYPES.has(c.type) ? TRUE_ONLY : ALL_STATUS_VALUES;
    if (!c.status) errs.push(fe.required(`${p}.status`));
    else if (!allowed.includes(c.status)) errs.push(fe.notSupported(`${p}.status`, c.status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (c.type === 'Approved') {
        approved = true;
        if (denied)
          errs.push(fe.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === 'Denied') {
        denied = true;
        if (approved)
          errs.push(fe.invalid(`${p}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(fe.duplicate(`${p}.type`, c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

function validate(csr: Csr, opts: Options): FieldError[] {
  const errs = validateObjectMeta(csr.metadata, false, nameIsPathSegment);
  const spec = csr.spec ?? ({} as Csr['spec']);
  const reqErr = requestError(csr);
  if (reqErr) errs.push(fe.invalid('spec.request', spec.request ?? '', reqErr));
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(fe.required('spec.usages'));
  if (!opts.allowUnknownUsages)
    usages.forEach((u, i) => {
      if (!KEY_USAGES.includes(u)) errs.push(fe.notSupported(`spec.usages[${i}]`, u, [...KEY_USAGES]));
    });
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(fe.duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  if (!opts.allowLegacySignerName && spec.signerName === LEGACY_UNKNOWN_SIGNER_NAME)
    errs.push(
      fe.invalid(
        'spec.signerName',
        spec.signerName,
        'the legacy signerName is not allowed via this API version',
      ),
    );
  else errs.push(...validateSignerName('spec.signerName', spec.signerName));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && spec.expirationSeconds < 600)
    errs.push(
      fe.invalid(
        'spec.expirationSeconds',
        spec.expirationSeconds,
        'may not specify a duration less than 600 seconds (10 minutes)',
      ),
    );
  errs.push(...validateConditions(csr, opts));
  if (!opts.allowArbitraryCertificate) {
    const certErr = certificateError(certificatePem(csr));
    if (certErr) errs.push(fe.invalid('status.certificate', '<certificate data>', certErr));
  }
  return errs;
}

const conditionsOfType = (csr: Csr, type: string): CertificateSigningRequestCondition[] =>
  (csr.status?.conditions ?? []).filter((c) => c.type === type);

/** getValidationOptions: what the stored object already has wrong is tolerated */
function options(csr: Csr, old: Csr | undefined): Options {
  if (!old) return {};
  const types = (old.status?.conditions ?? []).map((c) => c.type);
  const usages = old.spec?.usages ?? [];
  return {
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowLegacySignerName: old.spec?.signerName === LEGACY_UNKNOWN_SIGNER_NAME,
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowEmptyConditionType: types.some((t) => !t),
    allowArbitraryCertificate:
      (csr.status?.certificate ?? '') === (old.status?.certificate ?? '') ||
      certificateError(certificatePem(old)) !== undefined,
    allowUnknownUsages: usages.some((u) => !KEY_USAGES.includes(u)),
    allowDuplicateUsages: new Set(usages).size !== usages.length,
  };
}

function validateUpdate(csr: Csr, old: Csr, opts: Options): FieldError[] {
  const errs = validate(csr, opts);
  for (const t of ['Approved', 'Denied', 'Failed'])
    if (conditionsOfType(csr, t).length < conditionsOfType(old, t).length)
      errs.push(fe.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
  if (!opts.allowSettingApprovalConditions) {
    for (const t of ['Approved', 'Denied']) {
      const before = conditionsOfType(old, t);
      const after = conditionsOfType(csr, t);
      if (after.length > before.length)
        errs.push(fe.forbidden('status.conditions', `updates may not add a condition of type "${t}"`));
      else if (after.length === before.length && !deepEqual(before, after))
        errs.push(fe.forbidden('status.conditions', `updates may not modify a condition of type "${t}"`));
    }
  }
  if ((csr.status?.certificate ?? '') !== (old.status?.certificate ?? '')) {
    if (!opts.allowSettingCertificate)
      errs.push(fe.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (old.status?.certificate)
      errs.push(fe.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  errs.push(...validateObjectMetaUpdate(csr.metadata, old.metadata, false, nameIsPathSegment));
  return errs;
}

export function validateCsr(csr: Csr): FieldError[] {
  return validate(csr, options(csr, undefined));
}

export function validateCsrUpdate(csr: Csr, old: Csr): FieldError[] {
  return validateUpdate(csr, old, options(csr, old));
}

export function validateCsrStatusUpdate(csr: Csr, old: Csr): FieldError[] {
  return validateUpdate(csr, old, { ...options(csr, old), allowSettingCertificate: true });
}

export function validateCsrApprovalUpdate(csr: Csr, old: Csr): FieldError[] {
  return validateUpdate(csr, old, { ...options(csr, old), allowSettingApprovalConditions: true });
}
