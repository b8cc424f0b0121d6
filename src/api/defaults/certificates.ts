// certificates.k8s.io/v1 defaults (upstream's pkg/apis/certificates/v1/defaults.go): a condition's status is True.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';

export function defaultCsr(csr: CertificateSigningRequest): void {
  for (const c of csr.status?.conditions ?? []) if (!c.status) c.status = 'True';
}
