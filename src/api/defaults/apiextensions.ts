// apiextensions.k8s.io/v1 CustomResourceDefinition defaults (upstream's apiextensions v1 defaults.go).
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';

export function defaultCrd(crd: CustomResourceDefinition): void {
  const spec = crd.spec;
  if (!spec) return;
  const names = spec.names;
  if (names) {
    if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
    if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
  const svc = spec.conversion.webhook?.clientConfig?.service;
  if (svc) svc.port ??= 443;
}
