// namespaces/finalize (upstream's FinalizeREST): writes spec.finalizers only; the namespace controller empties
// it once the namespace's content is gone, and a Terminating namespace with none left is deleted.
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';

export function finalize(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  return store.update(req, t, 'finalize');
}
