// Bootstrap objects beyond the checked-in copy of upstream's policy (api/upstream/rbac-bootstrap/): the binding of
// system:service-account-issuer-discovery that upstream creates since 1.20 but the stored copy of its test data
// predates, and the one grant kubemu's kubelet needs beyond upstream's: reading EndpointSlices, because it waits for
// a terminating pod to leave them before stopping its containers (upstream's kubelet does not).
import type { BootstrapObject } from './bootstrap.js';

const DEFAULTS = {
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
};

export const KUBEMU_NODE_ROLE = 'kubemu:node-endpointslice-reader';

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
];
