// The resource table: the one place that says which kinds kubemu serves and how.
// Routing, discovery, OpenAPI, storage keys and the typed client are all driven by it.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export interface Subresource {
  /** e.g. `status`, `scale`, `log`, `binding`, `eviction` */
  name: string;
  /** the kind a client sends/receives on it, e.g. Scale in autoscaling/v1 */
  kind: string;
  group?: string;
  version?: string;
  verbs: Verb[];
}

export interface ResourceInfo {
  /** '' for the core group */
  group: string;
  /** served versions, preferred first; the first is also the storage version */
  versions: string[];
  kind: string;
  /** plural lower-case name, used in URLs: `pods` */
  resource: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  categories: string[];
  verbs: Verb[];
  subresources: Subresource[];
}

/** pods/proxy, services/proxy: HTTP relayed by the apiserver (src/apiserver/streaming/proxy.ts), any method */
const PROXY_VERBS: Verb[] = ['create', 'delete', 'get', 'patch', 'update'];

const status = (): Subresource => ({ name: 'status', kind: '', verbs: ['get', 'patch', 'update'] });
const scale = (): Subresource => ({
  name: 'scale',
  kind: 'Scale',
  group: 'autoscaling',
  version: 'v1',
  verbs: ['get', 'patch', 'update'],
});

function r(
  group: string,
  versions: string[],
  kind: string,
  resource: string,
  opts: Partial<Pick<ResourceInfo, 'shortNames' | 'categories' | 'verbs' | 'subresources'>> & {
    namespaced?: boolean;
  } = {},
): ResourceInfo {
  return {
    group,
    versions,
    kind,
    resource,
    singular: kind.toLowerCase(),
    shortNames: opts.shortNames ?? [],
    namespaced: opts.namespaced ?? true,
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? [...ALL_VERBS],
    subresources: opts.subresources ?? [],
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r('', ['v1'], 'Namespace', 'namespaces', {
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [status(), { name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  }),
  r('', ['v1'], 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: [status()] }),
  r('', ['v1'], 'Pod', 'pods', {
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      status(),
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      // streams the apiserver relays to the kubelet (src/apiserver/streaming)
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: PROXY_VERBS },
      // kubectl debug: only spec.ephemeralContainers may change (./registry/subresources/ephemeral-containers.ts)
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  }),
  r('', ['v1'], 'Service', 'services', {
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [status(), { name: 'proxy', kind: 'ServiceProxyOptions', verbs: PROXY_VERBS }],
  }),
  r('', ['v1'], 'Endpoints', 'endpoints', { shortNames: ['ep'] }),
  r('', ['v1'], 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  r('', ['v1'], 'Secret', 'secrets'),
  r('', ['v1'], 'Event', 'events', { shortNames: ['ev'] }),
  r('', ['v1'], 'ServiceAccount', 'serviceaccounts', {
    shortNames: ['sa'],
    // TokenRequest (./registry/subresources/token.ts): `kubectl create token`, the kubelet's projected tokens
    subresources: [
      {
        name: 'token',
        kind: 'TokenRequest',
        group: 'authentication.k8s.io',
        version: 'v1',
        verbs: ['create'],
      },
    ],
  }),
  r('coordination.k8s.io', ['v1'], 'Lease', 'leases'),
  r('apps', ['v1'], 'Deployment', 'deployments', {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [status(), scale()],
  }),
  r('apps', ['v1'], 'ReplicaSet', 'replicasets', {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: [status(), scale()],
  }),
  r('discovery.k8s.io', ['v1'], 'EndpointSlice', 'endpointslices'),
  r('networking.k8s.io', ['v1'], 'Ingress', 'ingresses', { shortNames: ['ing'], subresources: [status()] }),
  r('networking.k8s.io', ['v1'], 'IngressClass', 'ingressclasses', { namespaced: false }),
  r('autoscaling', ['v2', 'v1'], 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: [status()],
  }),
  r('events.k8s.io', ['v1'], 'Event', 'events', { shortNames: ['ev'] }),
  // --- workload and storage kinds (#18) ---
  r('batch', ['v1'], 'Job', 'jobs', { categories: ['all'], subresources: [status()] }),
  r('batch', ['v1'], 'CronJob', 'cronjobs', {
    shortNames: ['cj'],
    categories: ['all'],
    subresources: [status()],
  }),
  r('apps', ['v1'], 'StatefulSet', 'statefulsets', {
    shortNames: ['sts'],
    categories: ['all'],
    subresources: [status(), scale()],
  }),
  r('apps', ['v1'], 'DaemonSet', 'daemonsets', {
    shortNames: ['ds'],
    categories: ['all'],
    subresources: [status()],
  }),
  r('apps', ['v1'], 'ControllerRevision', 'controllerrevisions'),
  r('', ['v1'], 'ReplicationController', 'replicationcontrollers', {
    shortNames: ['rc'],
    categories: ['all'],
    subresources: [status(), scale()],
  }),
  r('', ['v1'], 'PodTemplate', 'podtemplates'),
  r('', ['v1'], 'PersistentVolume', 'persistentvolumes', {
    namespaced: false,
    shortNames: ['pv'],
    subresources: [status()],
  }),
  r('', ['v1'], 'PersistentVolumeClaim', 'persistentvolumeclaims', {
    shortNames: ['pvc'],
    subresources: [status()],
  }),
  // computed on every read from the health of the components (upstream: read-only, get and list)
  r('', ['v1'], 'ComponentStatus', 'componentstatuses', {
    namespaced: false,
    shortNames: ['cs'],
    verbs: ['get', 'list'],
  }),
  r('policy', ['v1'], 'PodDisruptionBudget', 'poddisruptionbudgets', {
    shortNames: ['pdb'],
    subresources: [status()],
  }),
  r('node.k8s.io', ['v1'], 'RuntimeClass', 'runtimeclasses', { namespaced: false }),
  r('storage.k8s.io', ['v1'], 'CSIDriver', 'csidrivers', { namespaced: false }),
  r('storage.k8s.io', ['v1'], 'CSINode', 'csinodes', { namespaced: false }),
  r('storage.k8s.io', ['v1'], 'CSIStorageCapacity', 'csistoragecapacities'),
  r('storage.k8s.io', ['v1'], 'VolumeAttachment', 'volumeattachments', {
    namespaced: false,
    subresources: [status()],
  }),
  // --- platform kinds: rbac, admissionregistration, apiextensions, flowcontrol, certificates, … (#18) ---
  r('rbac.authorization.k8s.io', ['v1'], 'Role', 'roles'),
  r('rbac.authorization.k8s.io', ['v1'], 'ClusterRole', 'clusterroles', { namespaced: false }),
  r('rbac.authorization.k8s.io', ['v1'], 'RoleBinding', 'rolebindings'),
  r('rbac.authorization.k8s.io', ['v1'], 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  r(
    'admissionregistration.k8s.io',
    ['v1'],
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    {
      namespaced: false,
      categories: ['api-extensions'],
    },
  ),
  r('admissionregistration.k8s.io', ['v1'], 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', {
    namespaced: false,
    categories: ['api-extensions'],
  }),
  r('admissionregistration.k8s.io', ['v1'], 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', {
    namespaced: false,
    categories: ['api-extensions'],
    subresources: [status()],
  }),
  r(
    'admissionregistration.k8s.io',
    ['v1'],
    'ValidatingAdmissionPolicyBinding',
    'validatingadmissionpolicybindings',
    { namespaced: false, categories: ['api-extensions'] },
  ),
  r('apiextensions.k8s.io', ['v1'], 'CustomResourceDefinition', 'customresourcedefinitions', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: [status()],
  }),
  r('apiregistration.k8s.io', ['v1'], 'APIService', 'apiservices', {
    namespaced: false,
    categories: ['api-extensions'],
    subresources: [status()],
  }),
  r('flowcontrol.apiserver.k8s.io', ['v1'], 'FlowSchema', 'flowschemas', {
    namespaced: false,
    subresources: [status()],
  }),
  r('flowcontrol.apiserver.k8s.io', ['v1'], 'PriorityLevelConfiguration', 'prioritylevelconfigurations', {
    namespaced: false,
    subresources: [status()],
  }),
  r('certificates.k8s.io', ['v1'], 'CertificateSigningRequest', 'certificatesigningrequests', {
    namespaced: false,
    shortNames: ['csr'],
    subresources: [
      { name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] },
      status(),
    ],
  }),
  r('networking.k8s.io', ['v1'], 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),
  r('networking.k8s.io', ['v1'], 'IPAddress', 'ipaddresses', { namespaced: false, shortNames: ['ip'] }),
  r('networking.k8s.io', ['v1'], 'ServiceCIDR', 'servicecidrs', {
    namespaced: false,
    subresources: [status()],
  }),
  // create-only reviews, answered by the authenticator and authorizer, never stored (auth/reviews.ts)
  r('authentication.k8s.io', ['v1'], 'TokenReview', 'tokenreviews', { namespaced: false, verbs: ['create'] }),
  r('authentication.k8s.io', ['v1'], 'SelfSubjectReview', 'selfsubjectreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
  r('authorization.k8s.io', ['v1'], 'LocalSubjectAccessReview', 'localsubjectaccessreviews', {
    verbs: ['create'],
  }),
  r('authorization.k8s.io', ['v1'], 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
  r('authorization.k8s.io', ['v1'], 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
  r('authorization.k8s.io', ['v1'], 'SubjectAccessReview', 'subjectaccessreviews', {
    namespaced: false,
    verbs: ['create'],
  }),
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
  r('', ['v1'], 'ResourceQuota', 'resourcequotas', { shortNames: ['quota'], subresources: [status()] }),
  r('', ['v1'], 'LimitRange', 'limitranges', { shortNames: ['limits'] }),
  r('scheduling.k8s.io', ['v1'], 'PriorityClass', 'priorityclasses', {
    namespaced: false,
    shortNames: ['pc'],
  }),
  r('storage.k8s.io', ['v1'], 'StorageClass', 'storageclasses', { namespaced: false, shortNames: ['sc'] }),
];

/** `apps/v1` or `v1` */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const byGroupResource = new Map<string, ResourceInfo>(
  RESOURCES.map((ri) => [`${ri.group}/${ri.resource}`, ri]),
);

/**
 * Resources served beside the table: the apiserver's established CustomResourceDefinitions
 * (src/apiserver/customresources/served.ts installs this in the apiserver process; elsewhere there are none).
 */
export interface CustomResourceSource {
  find(group: string, resource: string): ResourceInfo | undefined;
  all(): readonly ResourceInfo[];
}
let customSource: CustomResourceSource | undefined;

export function setCustomResourceSource(source: CustomResourceSource | undefined): void {
  customSource = source;
}

export function findResource(group: string, resource: string): ResourceInfo | undefined {
  return byGroupResource.get(`${group}/${resource}`) ?? customSource?.find(group, resource);
}

export function findByKind(group: string, kind: string): ResourceInfo | undefined {
  return servedResources().find((ri) => ri.group === group && ri.kind === kind);
}

/** the table and the custom resources served now */
export function servedResources(): readonly ResourceInfo[] {
  const custom = customSource?.all() ?? [];
  return custom.length ? [...RESOURCES, ...custom] : RESOURCES;
}

/** the storage key prefix for a resource: `/registry/apps/deployments/` (core: `/registry/pods/`) */
export function storagePrefix(ri: Pick<ResourceInfo, 'group' | 'resource'>, namespace?: string): string {
  const base = ri.group ? `/registry/${ri.group}/${ri.resource}/` : `/registry/${ri.resource}/`;
  return namespace ? `${base}${namespace}/` : base;
}

export function storageKey(
  ri: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'>,
  namespace: string | undefined,
  name: string,
): string {
  return ri.namespaced ? `${storagePrefix(ri, namespace)}${name}` : `${storagePrefix(ri)}${name}`;
}
