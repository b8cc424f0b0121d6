// The validation table's entries for the platform kinds (#18): rbac, admissionregistration, apiextensions,
// flowcontrol, certificates and the networking policy/IP kinds.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import {
  validateValidatingAdmissionPolicy,
  validateValidatingAdmissionPolicyBinding,
  validateValidatingAdmissionPolicyBindingUpdate,
  validateValidatingAdmissionPolicyStatusUpdate,
  validateValidatingAdmissionPolicyUpdate,
  validateWebhookConfiguration,
  validateWebhookConfigurationUpdate,
} from './admissionregistration.js';
import { validateCrd, validateCrdStatusUpdate, validateCrdUpdate } from './apiextensions.js';
import {
  validateAPIService,
  validateAPIServiceStatusUpdate,
  validateAPIServiceUpdate,
} from './apiregistration.js';
import {
  validateCsr,
  validateCsrApprovalUpdate,
  validateCsrStatusUpdate,
  validateCsrUpdate,
} from './certificates.js';
import {
  validateFlowSchema,
  validateFlowSchemaUpdate,
  validateFlowcontrolStatusUpdate,
  validatePriorityLevelConfiguration,
  validatePriorityLevelConfigurationUpdate,
} from './flowcontrol.js';
import { kind, type KindValidator } from './kind.js';
import {
  validateIPAddress,
  validateIPAddressUpdate,
  validateNetworkPolicy,
  validateNetworkPolicyUpdate,
  validateServiceCIDR,
  validateServiceCIDRStatusUpdate,
  validateServiceCIDRUpdate,
} from './networking-platform.js';
import {
  validateClusterRole,
  validateClusterRoleBinding,
  validateClusterRoleBindingUpdate,
  validateClusterRoleUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateRoleUpdate,
} from './rbac.js';

const csr: KindValidator = {
  ...kind(validateCsr, validateCsrUpdate, validateCsrStatusUpdate),
  approval: (o, old) =>
    validateCsrApprovalUpdate(
      o as unknown as CertificateSigningRequest,
      old as unknown as CertificateSigningRequest,
    ),
};

export const PLATFORM_VALIDATORS: [string, KindValidator][] = [
  ['rbac.authorization.k8s.io/v1/Role', kind(validateRole, validateRoleUpdate)],
  ['rbac.authorization.k8s.io/v1/ClusterRole', kind(validateClusterRole, validateClusterRoleUpdate)],
  ['rbac.authorization.k8s.io/v1/RoleBinding', kind(validateRoleBinding, validateRoleBindingUpdate)],
  [
    'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    kind(validateClusterRoleBinding, validateClusterRoleBindingUpdate),
  ],
  [
    'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
    kind(validateWebhookConfiguration, validateWebhookConfigurationUpdate),
  ],
  [
    'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration',
    kind(validateWebhookConfiguration, validateWebhookConfigurationUpdate),
  ],
  [
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
    kind(
      validateValidatingAdmissionPolicy,
      validateValidatingAdmissionPolicyUpdate,
      validateValidatingAdmissionPolicyStatusUpdate,
    ),
  ],
  [
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding',
    kind(validateValidatingAdmissionPolicyBinding, validateValidatingAdmissionPolicyBindingUpdate),
  ],
  [
    'apiextensions.k8s.io/v1/CustomResourceDefinition',
    kind(validateCrd, validateCrdUpdate, validateCrdStatusUpdate),
  ],
  [
    'apiregistration.k8s.io/v1/APIService',
    kind(validateAPIService, validateAPIServiceUpdate, validateAPIServiceStatusUpdate),
  ],
  [
    'flowcontrol.apiserver.k8s.io/v1/FlowSchema',
    kind(validateFlowSchema, validateFlowSchemaUpdate, validateFlowcontrolStatusUpdate),
  ],
  [
    'flowcontrol.apiserver.k8s.io/v1/PriorityLevelConfiguration',
    kind(
      validatePriorityLevelConfiguration,
      validatePriorityLevelConfigurationUpdate,
      validateFlowcontrolStatusUpdate,
    ),
  ],
  ['certificates.k8s.io/v1/CertificateSigningRequest', csr],
  ['networking.k8s.io/v1/NetworkPolicy', kind(validateNetworkPolicy, validateNetworkPolicyUpdate)],
  ['networking.k8s.io/v1/IPAddress', kind(validateIPAddress, validateIPAddressUpdate)],
  [
    'networking.k8s.io/v1/ServiceCIDR',
    kind(validateServiceCIDR, validateServiceCIDRUpdate, validateServiceCIDRStatusUpdate),
  ],
];
