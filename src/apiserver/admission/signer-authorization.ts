// upstream's certauthorization.IsAuthorizedForSignerName (plugin/pkg/admission/certificates): may `user` `verb`
// (approve, sign) the synthetic `signers` resource of certificates.k8s.io named `signerName`, or `<domain>/*`?
import type { UserInfo } from '../../api/request.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { AdmissionAttributes } from './interface.js';

export const CSR_GROUP = 'certificates.k8s.io';

function allowed(authz: Authorizer, user: UserInfo, verb: string, name: string): boolean {
  return authz.authorize(user, {
    resource: { verb, name, group: CSR_GROUP, version: '*', resource: 'signers' },
  }).allowed;
}

export function isAuthorizedForSignerName(
  authz: Authorizer,
  user: UserInfo,
  verb: string,
  signerName: string,
): boolean {
  return (
    allowed(authz, user, verb, signerName) || allowed(authz, user, verb, `${signerName.split('/')[0]}/*`)
  );
}

/** the attributes name certificatesigningrequests (any version) with this subresource */
export const isCsr = (a: AdmissionAttributes, subresource: string): boolean =>
  a.resource.group === CSR_GROUP &&
  a.resource.resource === 'certificatesigningrequests' &&
  a.subresource === subresource;

export const signerNameOf = (obj: AdmissionAttributes['object']): string =>
  (obj?.['spec'] as { signerName?: string } | undefined)?.signerName ?? '';
