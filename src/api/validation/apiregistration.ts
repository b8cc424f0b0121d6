// apiregistration.k8s.io/v1 APIService validation, as upstream's kube-aggregator
// pkg/apis/apiregistration/validation/validation.go: the name is `spec.version + "." + spec.group`, priorities in
// range, and a local APIService (no spec.service) carries no TLS settings.
import { fe, type FieldError } from '../errors.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from './meta.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPathSegmentName } from './names.js';

/** the parts of apiregistration.k8s.io/v1 APIService kubemu reads (kubernetes-types has no apiregistration) */
export interface APIService {
  metadata?: ObjectMeta;
  spec?: {
    service?: { namespace?: string; name?: string; port?: number } | null;
    group?: string;
    version?: string;
    insecureSkipTLSVerify?: boolean;
    caBundle?: string;
    groupPriorityMinimum?: number;
    versionPriority?: number;
  };
  status?: {
    conditions?: {
      type?: string;
      status?: string;
      lastTransitionTime?: string;
      reason?: string;
      message?: string;
    }[];
  };
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'];

function apiServiceName(svc: APIService): NameValidator {
  const required = `${svc.spec?.version ?? ''}.${svc.spec?.group ?? ''}`;
  return (name) => {
    const minimal = isValidPathSegmentName(name);
    if (minimal.length) return minimal;
    return name === required ? [] : [`must be \`spec.version+"."+spec.group\`: "${required}"`];
  };
}

/** bytes of a base64 []byte field */
const byteLength = (b64: string): number => Buffer.from(b64, 'base64').length;

function validateSpec(svc: APIService): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const group = spec.group ?? '';
  const version = spec.version ?? '';
  if (!group && version !== 'v1')
    errs.push(fe.required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(fe.invalid('spec.group', group, m));
  for (const m of isDNS1035Label(version)) errs.push(fe.invalid('spec.version', version, m));
  const gpm = spec.groupPriorityMinimum ?? 0;
  if (gpm <= 0 || gpm > 20000)
    errs.push(fe.invalid('spec.groupPriorityMinimum', gpm, 'must be positive and less than 20000'));
  const vp = spec.versionPriority ?? 0;
  if (vp <= 0 || vp > 1000)
    errs.push(fe.invalid('spec.versionPriority', vp, 'must be positive and less than 1000'));
  const caBytes = spec.caBundle ? byteLength(spec.caBundle) : 0;
  if (!spec.service) {
    if (caBytes)
      errs.push(fe.invalid('spec.caBundle', `${caBytes} bytes`, 'local APIServices may not have a caBundle'));
    if (spec.insecureSkipTLSVerify)
      errs.push(
        fe.invalid(
          'spec.insecureSkipTLSVerify',
          true,
          'local APIServices may not have insecureSkipTLSVerify',
        ),
      );
    return errs;
  }
  if (!spec.service.namespace) errs.push(fe.required('spec.service.namespace'));
  if (!spec.service.name) errs.push(fe.required('spec.service.name'));
  if (spec.insecureSkipTLSVerify && caBytes)
    errs.push(fe.invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return errs;
}

export function validateAPIService(svc: APIService): FieldError[] {
  return [...validateObjectMeta(svc.metadata, false, apiServiceName(svc)), ...validateSpec(svc)];
}

export function validateAPIServiceUpdate(svc: APIService, old: APIService): FieldError[] {
  return [
    ...validateObjectMetaUpdate(svc.metadata, old.metadata, false, apiServiceName(svc)),
    ...validateSpec(svc),
  ];
}

export function validateAPIServiceStatusUpdate(svc: APIService, old: APIService): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata, false, apiServiceName(svc));
  (svc.status?.conditions ?? []).forEach((c, i) => {
    if (!CONDITION_STATUSES.includes(c.status ?? ''))
      errs.push(fe.notSupported(`status.conditions[${i}].status`, c.status ?? '', CONDITION_STATUSES));
  });
  return errs;
}
