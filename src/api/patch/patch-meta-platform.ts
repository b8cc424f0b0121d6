// Strategic-merge-patch and list-type metadata of the platform kinds' types (admissionregistration, rbac,
// apiextensions, flowcontrol, certificates, authorization, authentication), same shape as PATCH_META_TABLE.
// Extracted from upstream's 1.33 OpenAPI v3 documents (x-kubernetes-patch-strategy, -patch-merge-key, -list-type,
// -list-map-keys); the generated tables of #18 supersede this file once they cover these groups.
import type { FieldPatchInfo } from './patch-meta.js';

export const PLATFORM_PATCH_META: Readonly<Record<string, Readonly<Record<string, FieldPatchInfo>>>> = {
  AggregationRule: {
    clusterRoleSelectors: { listType: 'atomic' },
  },
  CertificateSigningRequestSpec: {
    groups: { listType: 'atomic' },
    request: { listType: 'atomic' },
    usages: { listType: 'atomic' },
  },
  CertificateSigningRequestStatus: {
    certificate: { listType: 'atomic' },
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  ClusterRole: {
    rules: { listType: 'atomic' },
  },
  ClusterRoleBinding: {
    subjects: { listType: 'atomic' },
  },
  CustomResourceDefinitionNames: {
    categories: { listType: 'atomic' },
    shortNames: { listType: 'atomic' },
  },
  CustomResourceDefinitionSpec: {
    versions: { listType: 'atomic' },
  },
  CustomResourceDefinitionStatus: {
    conditions: { listType: 'map', listMapKeys: ['type'] },
    storedVersions: { listType: 'atomic' },
  },
  CustomResourceDefinitionVersion: {
    additionalPrinterColumns: { listType: 'atomic' },
    selectableFields: { listType: 'atomic' },
  },
  FieldSelectorAttributes: {
    requirements: { listType: 'atomic' },
  },
  FlowSchemaSpec: {
    rules: { listType: 'atomic' },
  },
  FlowSchemaStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  JSONSchemaProps: {
    allOf: { listType: 'atomic' },
    anyOf: { listType: 'atomic' },
    enum: { listType: 'atomic' },
    oneOf: { listType: 'atomic' },
    required: { listType: 'atomic' },
    'x-kubernetes-list-map-keys': { listType: 'atomic' },
    'x-kubernetes-validations': {
      patchStrategy: 'merge',
      patchMergeKey: 'rule',
      listType: 'map',
      listMapKeys: ['rule'],
    },
  },
  LabelSelectorAttributes: {
    requirements: { listType: 'atomic' },
  },
  MatchResources: {
    excludeResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
  },
  MutatingWebhook: {
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    rules: { listType: 'atomic' },
  },
  MutatingWebhookConfiguration: {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  NamedRuleWithOperations: {
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    operations: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  NonResourcePolicyRule: {
    nonResourceURLs: { listType: 'set' },
    verbs: { listType: 'set' },
  },
  NonResourceRule: {
    nonResourceURLs: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  PolicyRule: {
    apiGroups: { listType: 'atomic' },
    nonResourceURLs: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  PolicyRulesWithSubjects: {
    nonResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
    subjects: { listType: 'atomic' },
  },
  PriorityLevelConfigurationStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  ResourcePolicyRule: {
    apiGroups: { listType: 'set' },
    namespaces: { listType: 'set' },
    resources: { listType: 'set' },
    verbs: { listType: 'set' },
  },
  ResourceRule: {
    apiGroups: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    verbs: { listType: 'atomic' },
  },
  Role: {
    rules: { listType: 'atomic' },
  },
  RoleBinding: {
    subjects: { listType: 'atomic' },
  },
  RuleWithOperations: {
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    operations: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  SubjectAccessReviewSpec: {
    groups: { listType: 'atomic' },
  },
  SubjectRulesReviewStatus: {
    nonResourceRules: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
  },
  TokenReviewSpec: {
    audiences: { listType: 'atomic' },
  },
  TokenReviewStatus: {
    audiences: { listType: 'atomic' },
  },
  TypeChecking: {
    expressionWarnings: { listType: 'atomic' },
  },
  UserInfo: {
    groups: { listType: 'atomic' },
  },
  ValidatingAdmissionPolicyBindingSpec: {
    validationActions: { listType: 'set' },
  },
  ValidatingAdmissionPolicySpec: {
    auditAnnotations: { listType: 'atomic' },
    matchConditions: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    validations: { listType: 'atomic' },
    variables: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  ValidatingAdmissionPolicyStatus: {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  ValidatingWebhook: {
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    rules: { listType: 'atomic' },
  },
  ValidatingWebhookConfiguration: {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  WebhookConversion: {
    conversionReviewVersions: { listType: 'atomic' },
  },
};
