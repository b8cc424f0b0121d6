// StorageObjectInUseProtection admission (plugin/pkg/admission/storage/storageobjectinuseprotection): every new
// PersistentVolumeClaim gets the `kubernetes.io/pvc-protection` finalizer and every new PersistentVolume
// `kubernetes.io/pv-protection`. The pvc-protection and pv-protection controllers remove them once no pod uses the
// claim and the volume is no longer Bound, so `kubectl delete pvc` of a claim in use leaves it Terminating.
import type { KubeObject } from '../../api/request.js';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from '../../api/storage/volume-helpers.js';
import { isCore, type AdmissionPlugin } from './interface.js';

function addFinalizer(obj: KubeObject, finalizer: string): void {
  const meta = (obj.metadata ??= {});
  if (meta.finalizers?.includes(finalizer)) return;
  meta.finalizers = [...(meta.finalizers ?? []), finalizer];
}

export const storageObjectInUseProtectionPlugin: AdmissionPlugin = {
  name: 'StorageObjectInUseProtection',
  admit(attrs) {
    if (attrs.operation !== 'CREATE' || !attrs.object) return;
    if (isCore(attrs, 'persistentvolumes')) addFinalizer(attrs.object, PV_PROTECTION_FINALIZER);
    else if (isCore(attrs, 'persistentvolumeclaims')) addFinalizer(attrs.object, PVC_PROTECTION_FINALIZER);
  },
};
