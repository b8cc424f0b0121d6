// DefaultStorageClass admission (plugin/pkg/admission/storage/storageclass/setdefault): a PersistentVolumeClaim
// created without a class gets the cluster's default StorageClass (the newest, when several claim to be).
import type { KubeObject } from '../../api/request.js';
import { isCore, type AdmissionPlugin, type AdmissionStore } from './interface.js';

export const IS_DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
const BETA_IS_DEFAULT_STORAGE_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** the newest object carrying `annotation: "true"` (ties: the name first in order), as upstream picks defaults */
export function newestDefault(
  objects: readonly KubeObject[],
  annotations: readonly string[],
): KubeObject | undefined {
  const defaults = objects.filter((o) => annotations.some((a) => o.metadata?.annotations?.[a] === 'true'));
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

export async function defaultStorageClass(store: AdmissionStore): Promise<KubeObject | undefined> {
  const classes = await store.list('storage.k8s.io', 'storageclasses', '');
  return newestDefault(classes, [IS_DEFAULT_STORAGE_CLASS, BETA_IS_DEFAULT_STORAGE_CLASS]);
}

export const defaultStorageClassPlugin: AdmissionPlugin = {
  name: 'DefaultStorageClass',
  async admit(attrs, store) {
    if (attrs.operation !== 'CREATE' || !isCore(attrs, 'persistentvolumeclaims') || !attrs.object) return;
    const pvc = attrs.object;
    const spec = (pvc['spec'] ??= {}) as { storageClassName?: string | null };
    // an explicit class, even "" (no class), or the beta annotation, is left alone
    if (spec.storageClassName != null) return;
    if (pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return;
    const def = await defaultStorageClass(store);
    if (def?.metadata?.name) spec.storageClassName = def.metadata.name;
  },
};
