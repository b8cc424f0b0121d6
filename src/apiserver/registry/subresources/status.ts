// The status subresource (upstream's StatusREST): get the object, or write its status only (the store keeps
// everything else as stored).
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';

export function status(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  return req.verb === 'get' ? store.get(req, t) : store.update(req, t, 'status');
}
