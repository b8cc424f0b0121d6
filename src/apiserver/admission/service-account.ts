// ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount), the part kubemu has: a pod created
// without a service account runs as the namespace's `default` one. Mutates on create only, as upstream: an update
// that empties serviceAccountName is refused by validation (the field is immutable).
import { isCoreResource, type AdmissionAttributes, type AdmissionPlugin } from './interface.js';

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  admit(a: AdmissionAttributes): void {
    if (a.operation !== 'CREATE' || a.subresource || !isCoreResource(a, 'pods') || !a.object) return;
    // serviceAccount/serviceAccountName are already aliases of each other here (toInternalForm)
    const spec = (a.object['spec'] ??= {}) as { serviceAccountName?: string; serviceAccount?: string };
    if (!spec.serviceAccountName) {
      spec.serviceAccountName = 'default';
      spec.serviceAccount = 'default';
    }
  }
}
