// kubemu's storage add-on, the objects of rancher's local-path-provisioner manifest (deploy/local-path-storage.yaml,
// as k3s ships it in kube-system) with kind's default class: the ServiceAccount the provisioner runs as, its
// ClusterRole and binding, and the default StorageClass `standard` (kind's name and settings). The provisioner itself
// runs inside every kubelet (src/kubelet/local-path/provisioner.ts); the apiserver creates these at its start
// (src/apiserver/addons/local-path-storage.ts) and `kubemu up` gives the kubelets this ServiceAccount's credential.
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';

export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const DEFAULT_STORAGE_CLASS_NAME = 'standard';
export const LOCAL_PATH_NAMESPACE = 'kube-system';
export const LOCAL_PATH_SERVICE_ACCOUNT = 'local-path-provisioner-service-account';
const ROLE = 'local-path-provisioner-role';
const BINDING = 'local-path-provisioner-bind';
/** the ServiceAccount's user name and groups, as the apiserver authenticates a token of it */
export const LOCAL_PATH_USER = `system:serviceaccount:${LOCAL_PATH_NAMESPACE}:${LOCAL_PATH_SERVICE_ACCOUNT}`;
export const LOCAL_PATH_GROUPS: readonly string[] = [
  'system:serviceaccounts',
  `system:serviceaccounts:${LOCAL_PATH_NAMESPACE}`,
];

/** upstream's add-on manager label: created when missing, never reconciled (the user's edits stay) */
const ADDON_LABELS = { 'addonmanager.kubernetes.io/mode': 'EnsureExists' };

export function localPathServiceAccount(): ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: LOCAL_PATH_SERVICE_ACCOUNT, namespace: LOCAL_PATH_NAMESPACE, labels: ADDON_LABELS },
  };
}

/** upstream's local-path-provisioner-role (the pods rules are for its helper pods, which kubemu's does not run) */
export function localPathClusterRole(): ClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: ROLE, labels: ADDON_LABELS },
    rules: [
      {
        apiGroups: [''],
        resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: [''],
        resources: ['persistentvolumes'],
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
      },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
    ],
  };
}

export function localPathClusterRoleBinding(): ClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: BINDING, labels: ADDON_LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLE },
    subjects: [{ kind: 'ServiceAccount', name: LOCAL_PATH_SERVICE_ACCOUNT, namespace: LOCAL_PATH_NAMESPACE }],
  };
}

/** kind's default class: WaitForFirstConsumer, Delete, `storageclass.kubernetes.io/is-default-class: "true"` */
export function defaultStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: DEFAULT_STORAGE_CLASS_NAME,
      labels: ADDON_LABELS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** the add-on's objects in creation order, each with its API group, version and resource */
export function localPathAddonObjects(): {
  group: string;
  version: string;
  resource: string;
  object: ServiceAccount | ClusterRole | ClusterRoleBinding | StorageClass;
}[] {
  return [
    { group: '', version: 'v1', resource: 'serviceaccounts', object: localPathServiceAccount() },
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterroles',
      object: localPathClusterRole(),
    },
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterrolebindings',
      object: localPathClusterRoleBinding(),
    },
    { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', object: defaultStorageClass() },
  ];
}
