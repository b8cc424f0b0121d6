// NamespaceLifecycle admission (upstream plugin/pkg/admission/namespace/lifecycle): nothing is created in a
// namespace that does not exist or is being terminated, and the namespaces every cluster has are not deleted.
// Validating here (upstream's runs in the mutating phase), so an invalid object in a missing namespace is
// answered 422 before 404, as kubemu always answered.
import { errors } from '../../api/errors.js';
import { storageKey } from '../../api/resources.js';
import type { Storage } from '../storage/storage.js';
import {
  admissionForbidden,
  isCoreResource,
  type AdmissionAttributes,
  type AdmissionPlugin,
} from './interface.js';

/** upstream's immortalNamespaces */
export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

const NAMESPACES = { group: '', resource: 'namespaces', namespaced: false };

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  /** reads namespaces straight from storage: a lookup per create must not go through the whole API path */
  constructor(private readonly storage: Pick<Storage, 'get'>) {}

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.operation === 'DELETE' && isCoreResource(a, 'namespaces') && !a.subresource) {
      if (IMMORTAL_NAMESPACES.has(a.name)) throw admissionForbidden(a, 'this namespace may not be deleted');
      return;
    }
    // Subresource creates (pods/binding, pods/eviction) are let through as before this plugin existed; upstream
    // refuses a binding in a terminating namespace too.
    if (a.operation !== 'CREATE' || !a.namespace || a.subresource) return;
    const ns = await this.storage.get(storageKey(NAMESPACES, undefined, a.namespace));
    if (!ns)
      throw errors.notFound({ group: '', resource: 'namespaces', kind: 'Namespace', name: a.namespace });
    if (ns.object.metadata?.deletionTimestamp) {
      throw admissionForbidden(
        a,
        `unable to create new content in namespace ${a.namespace} because it is being terminated`,
        [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${a.namespace} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      );
    }
  }
}
