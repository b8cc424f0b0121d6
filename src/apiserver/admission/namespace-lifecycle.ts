// NamespaceLifecycle admission (k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle): nothing is created in
// a namespace that does not exist or is being terminated, and the system namespaces may not be deleted.
import { ApiError, errors } from '../../api/errors.js';
import { admissionForbidden, qualifiedResource, type AdmissionPlugin } from './interface.js';

/** namespaces that always exist (upstream's immortalNamespaces) */
export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

export const namespaceLifecyclePlugin: AdmissionPlugin = {
  name: 'NamespaceLifecycle',
  async admit(attrs, store) {
    if (
      attrs.operation === 'DELETE' &&
      attrs.resource.group === '' &&
      attrs.resource.resource === 'namespaces'
    ) {
      if (IMMORTAL_NAMESPACES.has(attrs.name))
        throw admissionForbidden(attrs, 'this namespace may not be deleted');
      return;
    }
    if (attrs.operation !== 'CREATE' || !attrs.namespace) return;
    const ns = await store.get('', 'namespaces', '', attrs.namespace);
    if (!ns)
      throw errors.notFound({ group: '', resource: 'namespaces', kind: 'Namespace', name: attrs.namespace });
    if (!ns.metadata?.deletionTimestamp) return;
    const name = attrs.name || (attrs.object?.metadata?.name ?? '');
    throw new ApiError(
      'Forbidden',
      `${qualifiedResource(attrs)} "${name}" is forbidden: unable to create new content in namespace ${attrs.namespace} because it is being terminated`,
      {
        name,
        kind: attrs.resource.resource,
        ...(attrs.resource.group ? { group: attrs.resource.group } : {}),
        causes: [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${attrs.namespace} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      },
    );
  },
};
