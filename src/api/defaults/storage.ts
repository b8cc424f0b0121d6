// storage.k8s.io/v1 defaulting of CSIDrivers (upstream pkg/apis/storage/v1/defaults.go, 1.33).
import type { CSIDriver } from 'kubernetes-types/storage/v1.js';

export function defaultCSIDriver(d: CSIDriver): void {
  const spec = (d.spec ??= {});
  if (spec.attachRequired === undefined) spec.attachRequired = true;
  if (spec.podInfoOnMount === undefined) spec.podInfoOnMount = false;
  if (spec.storageCapacity === undefined) spec.storageCapacity = false;
  if (spec.fsGroupPolicy === undefined) spec.fsGroupPolicy = 'ReadWriteOnceWithFSType';
  if (!spec.volumeLifecycleModes || spec.volumeLifecycleModes.length === 0)
    spec.volumeLifecycleModes = ['Persistent'];
  if (spec.requiresRepublish === undefined) spec.requiresRepublish = false;
  // SELinuxMountReadWriteOncePod is on by default (beta) in 1.33
  const withSELinux = spec as { seLinuxMount?: boolean };
  if (withSELinux.seLinuxMount === undefined) withSELinux.seLinuxMount = false;
}
