// pods/eviction (upstream's EvictionREST, without PodDisruptionBudgets yet): a delete of the pod with the
// Eviction's delete options, answered with 201 Success.
import type { ApiRequest, ApiResult, RequestOptions } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';
import { CREATED } from './binding.js';

export async function eviction(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  const body = req.body as
    | { deleteOptions?: { gracePeriodSeconds?: number; preconditions?: RequestOptions['preconditions'] } }
    | undefined;
  const opts: RequestOptions = { ...req.options };
  if (body?.deleteOptions?.gracePeriodSeconds !== undefined)
    opts.gracePeriodSeconds = body.deleteOptions.gracePeriodSeconds;
  if (body?.deleteOptions?.preconditions) opts.preconditions = body.deleteOptions.preconditions;
  await store.validateAdmission({
    ...store.attributes('CREATE', req, t, { ...(body ? { object: body } : {}) }),
    kind: { group: 'policy', version: 'v1', kind: 'Eviction' },
  });
  await store.delete({ ...req, verb: 'delete', subresource: undefined, options: opts }, t);
  return CREATED;
}
