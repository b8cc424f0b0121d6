// rbac.authorization.k8s.io/v1 defaults (upstream's pkg/apis/rbac/v1/defaults.go): the API group of a
// binding's roleRef and of User/Group subjects. A ServiceAccount subject's group is "", which upstream's JSON omits
// (`apiGroup,omitempty`): so it is left out here too, not stored and printed as `apiGroup: ""`.
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function defaultSubject(s: Subject): void {
  if (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  if (s.apiGroup === '') delete s.apiGroup;
}

export function defaultBinding(b: RoleBinding | ClusterRoleBinding): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) defaultSubject(s);
}
