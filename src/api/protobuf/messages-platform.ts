// Protobuf field tables (same shape as messages.ts) of the platform kinds kubectl sends as protobuf:
// `kubectl create role/clusterrole/rolebinding/clusterrolebinding`, the access reviews of `kubectl auth can-i` and
// the CertificateSigningRequest of `kubectl certificate approve/deny`.
// Transcribed from k8s.io/api v0.33 rbac/v1, authorization/v1 and certificates/v1 generated.proto (field numbers) and types.go
// (json names, omitempty). The generated tables of #18 supersede this file once they cover these kinds.
import { K, M, R, type MessageSpec } from './messages.js';

export const PLATFORM_MESSAGES: Readonly<Record<string, MessageSpec>> = {
  'rbac.v1.AggregationRule': { 1: ['clusterRoleSelectors', 'meta.v1.LabelSelector', R] },
  'rbac.v1.ClusterRole': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['rules', 'rbac.v1.PolicyRule', R],
    3: ['aggregationRule', 'rbac.v1.AggregationRule'],
  },
  'rbac.v1.ClusterRoleBinding': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['subjects', 'rbac.v1.Subject', R],
    3: ['roleRef', 'rbac.v1.RoleRef'],
  },
  'rbac.v1.PolicyRule': {
    1: ['verbs', 'string', R],
    2: ['apiGroups', 'string', R],
    3: ['resources', 'string', R],
    4: ['resourceNames', 'string', R],
    5: ['nonResourceURLs', 'string', R],
  },
  'rbac.v1.Role': { 1: ['metadata', 'meta.v1.ObjectMeta'], 2: ['rules', 'rbac.v1.PolicyRule', R] },
  'rbac.v1.RoleBinding': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['subjects', 'rbac.v1.Subject', R],
    3: ['roleRef', 'rbac.v1.RoleRef'],
  },
  'rbac.v1.RoleRef': { 1: ['apiGroup', 'string', K], 2: ['kind', 'string', K], 3: ['name', 'string', K] },
  'rbac.v1.Subject': {
    1: ['kind', 'string', K],
    2: ['apiGroup', 'string'],
    3: ['name', 'string', K],
    4: ['namespace', 'string'],
  },
  'authorization.v1.ExtraValue': { 1: ['items', 'string', R] },
  'certificates.v1.CertificateSigningRequest': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['spec', 'certificates.v1.CertificateSigningRequestSpec'],
    3: ['status', 'certificates.v1.CertificateSigningRequestStatus'],
  },
  'certificates.v1.CertificateSigningRequestCondition': {
    1: ['type', 'string', K],
    6: ['status', 'string', K],
    2: ['reason', 'string'],
    3: ['message', 'string'],
    4: ['lastUpdateTime', 'meta.v1.Time'],
    5: ['lastTransitionTime', 'meta.v1.Time'],
  },
  'certificates.v1.CertificateSigningRequestSpec': {
    1: ['request', 'bytes', K],
    7: ['signerName', 'string', K],
    8: ['expirationSeconds', 'int32', K],
    5: ['usages', 'string', R],
    2: ['username', 'string'],
    3: ['uid', 'string'],
    4: ['groups', 'string', R],
    6: ['extra', 'authorization.v1.ExtraValue', M],
  },
  'certificates.v1.CertificateSigningRequestStatus': {
    1: ['conditions', 'certificates.v1.CertificateSigningRequestCondition', R],
    2: ['certificate', 'bytes'],
  },
  'authorization.v1.FieldSelectorAttributes': {
    1: ['rawSelector', 'string'],
    2: ['requirements', 'authorization.v1.FieldSelectorRequirement', R],
  },
  // meta.v1.FieldSelectorRequirement, kept here under this file's own name
  'authorization.v1.FieldSelectorRequirement': {
    1: ['key', 'string', K],
    2: ['operator', 'string', K],
    3: ['values', 'string', R],
  },
  'authorization.v1.LabelSelectorAttributes': {
    1: ['rawSelector', 'string'],
    2: ['requirements', 'meta.v1.LabelSelectorRequirement', R],
  },
  'authorization.v1.LocalSubjectAccessReview': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['spec', 'authorization.v1.SubjectAccessReviewSpec'],
    3: ['status', 'authorization.v1.SubjectAccessReviewStatus'],
  },
  'authorization.v1.NonResourceAttributes': { 1: ['path', 'string'], 2: ['verb', 'string'] },
  'authorization.v1.ResourceAttributes': {
    1: ['namespace', 'string'],
    2: ['verb', 'string'],
    3: ['group', 'string'],
    4: ['version', 'string'],
    5: ['resource', 'string'],
    6: ['subresource', 'string'],
    7: ['name', 'string'],
    8: ['fieldSelector', 'authorization.v1.FieldSelectorAttributes'],
    9: ['labelSelector', 'authorization.v1.LabelSelectorAttributes'],
  },
  'authorization.v1.SelfSubjectAccessReview': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['spec', 'authorization.v1.SelfSubjectAccessReviewSpec'],
    3: ['status', 'authorization.v1.SubjectAccessReviewStatus'],
  },
  'authorization.v1.SelfSubjectAccessReviewSpec': {
    1: ['resourceAttributes', 'authorization.v1.ResourceAttributes'],
    2: ['nonResourceAttributes', 'authorization.v1.NonResourceAttributes'],
  },
  'authorization.v1.SelfSubjectRulesReview': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['spec', 'authorization.v1.SelfSubjectRulesReviewSpec'],
    3: ['status', 'authorization.v1.SubjectRulesReviewStatus'],
  },
  'authorization.v1.SelfSubjectRulesReviewSpec': { 1: ['namespace', 'string'] },
  'authorization.v1.SubjectAccessReview': {
    1: ['metadata', 'meta.v1.ObjectMeta'],
    2: ['spec', 'authorization.v1.SubjectAccessReviewSpec'],
    3: ['status', 'authorization.v1.SubjectAccessReviewStatus'],
  },
  'authorization.v1.SubjectAccessReviewSpec': {
    1: ['resourceAttributes', 'authorization.v1.ResourceAttributes'],
    2: ['nonResourceAttributes', 'authorization.v1.NonResourceAttributes'],
    3: ['user', 'string'],
    4: ['groups', 'string', R],
    5: ['extra', 'authorization.v1.ExtraValue', M],
    6: ['uid', 'string'],
  },
  'authorization.v1.SubjectAccessReviewStatus': {
    1: ['allowed', 'bool', K],
    4: ['denied', 'bool'],
    2: ['reason', 'string'],
    3: ['evaluationError', 'string'],
  },
  'authorization.v1.SubjectRulesReviewStatus': {
    1: ['resourceRules', 'authorization.v1.ResourceRule', R],
    2: ['nonResourceRules', 'authorization.v1.NonResourceRule', R],
    3: ['incomplete', 'bool', K],
    4: ['evaluationError', 'string'],
  },
  'authorization.v1.ResourceRule': {
    1: ['verbs', 'string', R],
    2: ['apiGroups', 'string', R],
    3: ['resources', 'string', R],
    4: ['resourceNames', 'string', R],
  },
  'authorization.v1.NonResourceRule': { 1: ['verbs', 'string', R], 2: ['nonResourceURLs', 'string', R] },
};

export const PLATFORM_KIND_MESSAGES: Readonly<Record<string, string>> = {
  'rbac.authorization.k8s.io/v1/Role': 'rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.v1.ClusterRoleBinding',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'certificates.v1.CertificateSigningRequest',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'authorization.v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'authorization.v1.LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization.v1.SelfSubjectRulesReview',
};
