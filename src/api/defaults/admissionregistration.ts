// admissionregistration.k8s.io/v1 defaults (upstream's pkg/apis/admissionregistration/v1/defaults.go).
import type {
  MatchResources,
  MutatingWebhookConfiguration,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
} from 'kubernetes-types/admissionregistration/v1.js';

function defaultRules(rules: object[] | undefined): void {
  for (const r of (rules ?? []) as { scope?: string }[]) r.scope ??= '*';
}

function defaultWebhook(h: ValidatingWebhook): void {
  h.failurePolicy ??= 'Fail';
  h.matchPolicy ??= 'Equivalent';
  h.namespaceSelector ??= {};
  h.objectSelector ??= {};
  h.timeoutSeconds ??= 10;
  defaultRules(h.rules);
  const svc = h.clientConfig?.service;
  if (svc) svc.port ??= 443;
}

export function defaultValidatingWebhookConfiguration(c: ValidatingWebhookConfiguration): void {
  for (const h of c.webhooks ?? []) defaultWebhook(h);
}

export function defaultMutatingWebhookConfiguration(c: MutatingWebhookConfiguration): void {
  for (const h of c.webhooks ?? []) {
    defaultWebhook(h);
    h.reinvocationPolicy ??= 'Never';
  }
}

function defaultMatchResources(m: MatchResources | undefined): void {
  if (!m) return;
  m.matchPolicy ??= 'Equivalent';
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  defaultRules(m.resourceRules);
  defaultRules(m.excludeResourceRules);
}

export function defaultValidatingAdmissionPolicy(p: ValidatingAdmissionPolicy): void {
  const spec = (p.spec ??= {});
  spec.failurePolicy ??= 'Fail';
  defaultMatchResources(spec.matchConstraints);
}

export function defaultValidatingAdmissionPolicyBinding(b: ValidatingAdmissionPolicyBinding): void {
  const spec = (b.spec ??= {});
  defaultMatchResources(spec.matchResources);
  if (spec.paramRef) spec.paramRef.parameterNotFoundAction ??= 'Deny';
}
