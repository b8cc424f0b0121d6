// A CertificateSigningRequest's approval subresource (upstream's ApprovalREST): get the object, or write the
// Approved/Denied conditions (the strategy keeps everything else as stored).
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';

export function approval(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  return req.verb === 'get' ? store.get(req, t) : store.update(req, t, 'approval');
}
