// Helpers of upstream's pkg/controller/certificates and pkg/apis/certificates/helpers.go: a request's approval
// state, its parsed PKCS#10, and the kubelet signers' constraints on subject, SANs and usages.
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from 'kubernetes-types/certificates/v1.js';
import type { KubeClient, ResourceClient } from '../../client/index.js';
import { parseCsrPem, type CertificateRequest } from '../../util/certificate-request.js';
import type { SharedInformerFactory } from '../common/informers.js';
import type { Informer } from '../../client/index.js';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

export function csrClient(client: KubeClient): ResourceClient<CertificateSigningRequest> {
  return client.resource<CertificateSigningRequest>(
    'certificates.k8s.io',
    'v1',
    'certificatesigningrequests',
  );
}

export function csrInformer(informers: SharedInformerFactory): Informer<CertificateSigningRequest> {
  return informers.forResource('certificatesigningrequests.certificates.k8s.io', csrClient(informers.client));
}

const conditions = (csr: CertificateSigningRequest): CertificateSigningRequestCondition[] =>
  csr.status?.conditions ?? [];

/** GetCertApprovalCondition */
export function approvalState(csr: CertificateSigningRequest): { approved: boolean; denied: boolean } {
  let approved = false;
  let denied = false;
  for (const c of conditions(csr)) {
    if (c.type === 'Approved') approved = true;
    if (c.type === 'Denied') denied = true;
  }
  return { approved, denied };
}

/** IsCertificateRequestApproved: approved and not denied */
export function isApproved(csr: CertificateSigningRequest): boolean {
  const { approved, denied } = approvalState(csr);
  return approved && !denied;
}

/** HasTrueCondition */
export const hasTrueCondition = (csr: CertificateSigningRequest, type: string): boolean =>
  conditions(csr).some((c) => c.type === type && c.status === 'True');

/** ParseCSR of spec.request (base64 of the PEM on the wire) */
export const parseRequest = (csr: CertificateSigningRequest): CertificateRequest =>
  parseCsrPem(Buffer.from(csr.spec?.request ?? '', 'base64'));

const sameSet = (a: ReadonlySet<string>, b: readonly string[]): boolean =>
  a.size === b.length && b.every((x) => a.has(x));

const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];
const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];

const onlySystemNodes = (req: CertificateRequest): boolean =>
  req.subject.organization.length === 1 && req.subject.organization[0] === 'system:nodes';

/** ValidateKubeletServingCSR: undefined when the request fits the kubelet-serving signer, else why not */
export function kubeletServingError(
  req: CertificateRequest,
  usages: ReadonlySet<string>,
): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length === 0 && req.ipAddresses.length === 0)
    return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA))
    return `usages did not match [${KUBELET_SERVING_USAGES.join(' ')}]`;
  if (!req.subject.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  return undefined;
}

/** ValidateKubeletClientCSR */
export function kubeletClientError(req: CertificateRequest, usages: ReadonlySet<string>): string | undefined {
  if (!onlySystemNodes(req)) return 'subject organization is not system:nodes';
  if (req.dnsNames.length > 0) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length > 0) return 'IP subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!req.subject.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA))
    return `usages did not match [${KUBELET_CLIENT_USAGES.join(' ')}]`;
  return undefined;
}

/** validAPIServerClientUsages: client auth required; digital signature and key encipherment allowed */
export function apiServerClientUsagesError(usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') clientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment')
      return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

export const usageSet = (csr: CertificateSigningRequest): Set<string> => new Set(csr.spec?.usages ?? []);
