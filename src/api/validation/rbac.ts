// rbac.authorization.k8s.io/v1 validation: Role, ClusterRole, RoleBinding, ClusterRoleBinding
// (upstream's pkg/apis/rbac/validation/validation.go).
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  Subject,
} from 'kubernetes-types/rbac/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  deepEqual,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta.js';
import { isDNS1123Subdomain, isValidPathSegmentName } from './names.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** upstream's minimalNameRequirements: a valid path segment */
const rbacName: NameValidator = (name) => isValidPathSegmentName(name);

function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs?.length) errs.push(fe.required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (rule.nonResourceURLs?.length) {
    if (namespaced)
      errs.push(
        fe.invalid(
          `${path}.nonResourceURLs`,
          rule.nonResourceURLs,
          'namespaced rules cannot apply to non-resource URLs',
        ),
      );
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length)
      errs.push(
        fe.invalid(
          `${path}.nonResourceURLs`,
          rule.nonResourceURLs,
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    return errs;
  }
  if (!rule.apiGroups?.length)
    errs.push(fe.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!rule.resources?.length)
    errs.push(fe.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

const rules = (list: PolicyRule[] | undefined, namespaced: boolean): FieldError[] =>
  (list ?? []).flatMap((rule, i) => validatePolicyRule(rule, namespaced, `rules[${i}]`));

export function validateRole(role: Role): FieldError[] {
  return [...validateObjectMeta(role.metadata, true, rbacName), ...rules(role.rules, true)];
}

export function validateRoleUpdate(role: Role, old: Role): FieldError[] {
  return [...validateRole(role), ...validateObjectMetaUpdate(role.metadata, old.metadata, true, rbacName)];
}

export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = [...validateObjectMeta(role.metadata, false, rbacName), ...rules(role.rules, false)];
  if (role.aggregationRule) {
    const selectors = role.aggregationRule.clusterRoleSelectors ?? [];
    if (selectors.length === 0)
      errs.push(
        fe.required(
          'aggregationRule.clusterRoleSelectors',
          'at least one clusterRoleSelector required if aggregationRule is non-nil',
        ),
      );
    selectors.forEach((sel, i) =>
      errs.push(...validateLabelSelector(sel, `aggregationRule.clusterRoleSelectors[${i}]`)),
    );
  }
  return errs;
}

export function validateClusterRoleUpdate(role: ClusterRole, old: ClusterRole): FieldError[] {
  return [
    ...validateClusterRole(role),
    ...validateObjectMetaUpdate(role.metadata, old.metadata, false, rbacName),
  ];
}

function validateSubject(subject: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!subject.name) errs.push(fe.required(`${path}.name`));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (subject.name)
        for (const msg of isDNS1123Subdomain(subject.name))
          errs.push(fe.invalid(`${path}.name`, subject.name, msg));
      if (subject.apiGroup) errs.push(fe.notSupported(`${path}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(fe.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP)
        errs.push(fe.notSupported(`${path}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(fe.notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(
  b: RoleBinding | ClusterRoleBinding,
  namespaced: boolean,
  kinds: string[],
): FieldError[] {
  const errs = validateObjectMeta(b.metadata, namespaced, rbacName);
  const ref = b.roleRef ?? ({} as RoleBinding['roleRef']);
  if (ref.apiGroup !== RBAC_GROUP)
    errs.push(fe.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  if (!kinds.includes(ref.kind ?? '')) errs.push(fe.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fe.required('roleRef.name'));
  else for (const msg of rbacName(ref.name, false)) errs.push(fe.invalid('roleRef.name', ref.name, msg));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

function roleRefUnchanged(
  b: RoleBinding | ClusterRoleBinding,
  old: RoleBinding | ClusterRoleBinding,
): FieldError[] {
  return deepEqual(b.roleRef, old.roleRef) ? [] : [fe.invalid('roleRef', b.roleRef, 'cannot change roleRef')];
}

export const validateRoleBinding = (b: RoleBinding): FieldError[] =>
  validateBinding(b, true, ['Role', 'ClusterRole']);

export function validateRoleBindingUpdate(b: RoleBinding, old: RoleBinding): FieldError[] {
  return [
    ...validateRoleBinding(b),
    ...validateObjectMetaUpdate(b.metadata, old.metadata, true, rbacName),
    ...roleRefUnchanged(b, old),
  ];
}

export const validateClusterRoleBinding = (b: ClusterRoleBinding): FieldError[] =>
  validateBinding(b, false, ['ClusterRole']);

export function validateClusterRoleBindingUpdate(
  b: ClusterRoleBinding,
  old: ClusterRoleBinding,
): FieldError[] {
  return [
    ...validateClusterRoleBinding(b),
    ...validateObjectMetaUpdate(b.metadata, old.metadata, false, rbacName),
    ...roleRefUnchanged(b, old),
  ];
}
