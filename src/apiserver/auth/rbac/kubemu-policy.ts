// Bootstrap objects beyond the checked-in copy of upstream's policy (api/upstream/rbac-bootstrap/): the binding of
// system:service-account-issuer-discovery that upstream creates since 1.20 but the stored copy of its test data
// predates, and the one grant kubemu's kubelet needs beyond upstream's: reading EndpointSlices, because it waits for
// a terminating pod to leave them before stopping its containers (upstream's kubelet does not). And the roles of the
// three components upstream leaves to add-ons, each with what its upstream counterpart's manifest grants, narrowed to
// what kubemu's does: cluster DNS as kubeadm's CoreDNS (`system:coredns`, bound to kube-system/coredns), the ingress
// gateway as ingress-nginx's ClusterRole (plus creating its IngressClass), the LoadBalancer provider as the
// cloud-controller-manager's service controller (`system:cloud-controller-manager`).
import type { BootstrapObject } from './bootstrap.js';

const DEFAULTS = {
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
};

export const KUBEMU_NODE_ROLE = 'kubemu:node-endpointslice-reader';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Grantee = { kind: 'User' | 'ServiceAccount'; name: string; namespace?: string };

/** a ClusterRole and the ClusterRoleBinding of the same name giving it to `subject` */
function addonRole(
  name: string,
  subject: Grantee,
  rules: Rule[],
): { resource: string; object: BootstrapObject }[] {
  return [
    {
      resource: 'clusterroles',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name, ...DEFAULTS },
        rules,
      },
    },
    {
      resource: 'clusterrolebindings',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name, ...DEFAULTS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [
          subject.kind === 'User'
            ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: subject.name }
            : { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace ?? 'kube-system' },
        ],
      },
    },
  ];
}

/** what a component needs to write Events (kubemu's recorder creates and patches core/v1 Events) */
const EVENTS: Rule = {
  apiGroups: ['', 'events.k8s.io'],
  resources: ['events'],
  verbs: ['create', 'patch', 'update'],
};
/** a component's /metrics behind delegated authentication and authorization (upstream's system:auth-delegator) */
const DELEGATION: Rule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

export const DNS_ROLE = 'system:coredns';
export const INGRESS_ROLE = 'kubemu:ingress';
export const CLOUD_LB_ROLE = 'system:cloud-controller-manager';

export const KUBEMU_POLICY: readonly { resource: string; object: BootstrapObject }[] = [
  {
    resource: 'clusterrolebindings',
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:service-account-issuer-discovery', ...DEFAULTS },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'system:service-account-issuer-discovery',
      },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts' }],
    },
  },
  {
    resource: 'clusterroles',
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: KUBEMU_NODE_ROLE, ...DEFAULTS },
      rules: [
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ],
    },
  },
  {
    resource: 'clusterrolebindings',
    object: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: KUBEMU_NODE_ROLE, ...DEFAULTS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBEMU_NODE_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
    },
  },
  // kubeadm's CoreDNS add-on
  ...addonRole(DNS_ROLE, { kind: 'ServiceAccount', name: 'coredns' }, [
    { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ]),
  // ingress-nginx's ClusterRole (deploy/static/provider/cloud/deploy.yaml), less its leader-election Lease (the gateway
  // elects none), plus creating its IngressClass (the gateway registers `kubemu` at start)
  ...addonRole(INGRESS_ROLE, { kind: 'User', name: 'system:kube-ingress' }, [
    {
      apiGroups: [''],
      resources: ['configmaps', 'endpoints', 'nodes', 'pods', 'secrets', 'namespaces'],
      verbs: ['list', 'watch'],
    },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
    {
      apiGroups: ['networking.k8s.io'],
      resources: ['ingressclasses'],
      verbs: ['get', 'list', 'watch', 'create'],
    },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch', 'get'] },
    EVENTS,
    ...DELEGATION,
  ]),
  // the cloud-controller-manager's service controller (k8s.io/cloud-provider's role, narrowed to it)
  ...addonRole(CLOUD_LB_ROLE, { kind: 'User', name: 'system:cloud-controller-manager' }, [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
    { apiGroups: [''], resources: ['services/status'], verbs: ['patch', 'update'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    EVENTS,
  ]),
];
