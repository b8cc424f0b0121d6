// What discovery would list for a CustomResourceDefinition, for the controllers that act on every resource (garbage
// collector, namespace controller): its resource once the CRD is Established, in a served version (the storage one
// when it is served, so no conversion is needed), or nothing.
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { ResourceInfo } from '../../api/resources.js';

export function customResourceInfo(crd: CustomResourceDefinition): ResourceInfo | undefined {
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  const served = crd.spec.versions.filter((v) => v.served);
  const version = (served.find((v) => v.storage) ?? served[0])?.name;
  if (!established || !version) return undefined;
  const names = crd.spec.names;
  return {
    group: crd.spec.group,
    versions: [version],
    kind: names.kind,
    resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    namespaced: crd.spec.scope === 'Namespaced',
    categories: names.categories ?? [],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [],
  };
}
