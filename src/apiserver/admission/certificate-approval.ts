// upstream's CertificateApproval admission plugin (plugin/pkg/admission/certificates/approval): an update of a
// CertificateSigningRequest's /approval needs `approve` on the signer it names (checked against the stored object, so
// a changed signerName cannot sneak past).
import type { Authorizer } from '../auth/authorizer.js';
import { admissionForbidden, type AdmissionPlugin } from './interface.js';
import { isAuthorizedForSignerName, isCsr, signerNameOf } from './signer-authorization.js';

export function certificateApprovalPlugin(authorizer: () => Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateApproval',
    validate(a) {
      if (a.operation !== 'UPDATE' || !isCsr(a, 'approval')) return;
      const signerName = signerNameOf(a.oldObject);
      if (!isAuthorizedForSignerName(authorizer(), a.user, 'approve', signerName))
        throw admissionForbidden(a, `user not permitted to approve requests with signerName "${signerName}"`);
    },
  };
}
