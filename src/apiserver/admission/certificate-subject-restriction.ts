// upstream's CertificateSubjectRestriction admission plugin (plugin/pkg/admission/certificates/subjectrestriction):
// nobody may ask the kube-apiserver-client signer for a certificate in the system:masters group.
import { parseCsrPem } from '../../util/certificate-request.js';
import { admissionForbidden, type AdmissionPlugin } from './interface.js';
import { isCsr, signerNameOf } from './signer-authorization.js';

const KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';

export const certificateSubjectRestrictionPlugin: AdmissionPlugin = {
  name: 'CertificateSubjectRestriction',
  validate(a) {
    if (a.operation !== 'CREATE' || !isCsr(a, '')) return;
    if (signerNameOf(a.object) !== KUBE_APISERVER_CLIENT) return;
    const request = (a.object?.['spec'] as { request?: string } | undefined)?.request ?? '';
    let organization: string[];
    try {
      organization = parseCsrPem(Buffer.from(request, 'base64')).subject.organization;
    } catch (err) {
      throw admissionForbidden(a, `failed to parse CSR: ${(err as Error).message}`);
    }
    if (organization.includes('system:masters'))
      throw admissionForbidden(
        a,
        `use of ${KUBE_APISERVER_CLIENT} signer with system:masters group is not allowed`,
      );
  },
};
