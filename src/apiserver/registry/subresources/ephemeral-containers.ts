// A pod's ephemeralcontainers subresource (upstream's EphemeralContainersREST, what `kubectl debug` patches): get
// the pod, or write its spec.ephemeralContainers only — the store keeps everything else as stored, and validation
// (ValidatePodEphemeralContainersUpdate) lets containers be added, never changed or removed.
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';

export function ephemeralContainers(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  return req.verb === 'get' ? store.get(req, t) : store.update(req, t, 'ephemeralcontainers');
}
