// apiregistration.k8s.io/v1 APIService defaults (kube-aggregator's apiregistration/v1 defaults.go): a service
// reference's port is 443.
import type { APIService } from '../validation/apiregistration.js';

export function defaultAPIService(svc: APIService): void {
  const ref = svc.spec?.service;
  if (ref) ref.port ??= 443;
}
