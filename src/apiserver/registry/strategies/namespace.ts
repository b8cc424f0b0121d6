// Namespaces' rules in the generic store (upstream pkg/registry/core/namespace/storage and strategy.go): created
// Active with the `kubernetes` finalizer; spec.finalizers change only through /finalize; a delete marks the
// namespace Terminating and it leaves storage once the namespace controller has emptied spec.finalizers.
import type { KubeObject } from '../../../api/request.js';
import { deepCopy } from '../../../util/objects.js';
import type { Strategy } from '../strategies.js';

const specFinalizers = (obj: KubeObject): string[] =>
  (obj['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? [];

export const namespaceStrategy: Partial<Strategy> = {
  statusSubresource: true,
  prepareForCreate(obj) {
    obj['status'] = { phase: 'Active' };
    const spec = (obj['spec'] ??= {}) as { finalizers?: string[] };
    if (!spec.finalizers?.includes('kubernetes'))
      spec.finalizers = [...(spec.finalizers ?? []), 'kubernetes'];
  },
  prepareForUpdate(next, old, part) {
    // only the finalize subresource writes spec.finalizers
    if (part === 'main') next['spec'] = deepCopy(old['spec']);
  },
  prepareForDelete(next) {
    next['status'] = { ...(next['status'] as object), phase: 'Terminating' };
  },
  pendingFinalization(obj) {
    return specFinalizers(obj).length > 0;
  },
};
