// upstream's CertificateSigning admission plugin (plugin/pkg/admission/certificates/signing): an update of a
// CertificateSigningRequest's /status that changes status.certificate or the conditions needs `sign` on its signer.
import { deepEqual } from '../../util/objects.js';
import type { Authorizer } from '../auth/authorizer.js';
import { admissionForbidden, type AdmissionPlugin } from './interface.js';
import { isAuthorizedForSignerName, isCsr, signerNameOf } from './signer-authorization.js';

const statusOf = (o: unknown): { certificate?: string; conditions?: unknown[] } =>
  (o as { status?: object } | undefined)?.status ?? {};

export function certificateSigningPlugin(authorizer: () => Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateSigning',
    validate(a) {
      if (a.operation !== 'UPDATE' || !isCsr(a, 'status')) return;
      const before = statusOf(a.oldObject);
      const after = statusOf(a.object);
      if (
        (before.certificate ?? '') === (after.certificate ?? '') &&
        deepEqual(before.conditions ?? [], after.conditions ?? [])
      )
        return;
      const signerName = signerNameOf(a.oldObject);
      if (!isAuthorizedForSignerName(authorizer(), a.user, 'sign', signerName))
        throw admissionForbidden(a, `user not permitted to sign requests with signerName "${signerName}"`);
    },
  };
}
