// apps/v1 defaulting of StatefulSets and DaemonSets (upstream pkg/apis/apps/v1/defaults.go, 1.33).
import type { DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { defaultPodTemplate } from './core.js';
import { defaultPersistentVolumeClaim } from './core-workloads.js';

export function defaultStatefulSet(sts: StatefulSet): void {
  const spec = (sts.spec ??= { selector: {}, template: {}, serviceName: '' });
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  // maxUnavailable is defaulted only with the alpha MaxUnavailableStatefulSet gate (off in 1.33)
  if (
    strategy.type === 'RollingUpdate' &&
    strategy.rollingUpdate &&
    strategy.rollingUpdate.partition === undefined
  )
    strategy.rollingUpdate.partition = 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
  if (!retention.whenScaled) retention.whenScaled = 'Retain';
  if (spec.replicas === undefined) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(spec.template);
  // volumeClaimTemplates are PersistentVolumeClaims: upstream defaults (and prints) them as such
  for (const pvc of spec.volumeClaimTemplates ?? []) {
    pvc.apiVersion ??= 'v1';
    pvc.kind ??= 'PersistentVolumeClaim';
    pvc.metadata ??= {};
    if (!('creationTimestamp' in pvc.metadata))
      (pvc.metadata as Record<string, unknown>).creationTimestamp = null;
    defaultPersistentVolumeClaim(pvc);
  }
}

export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = (ds.spec ??= { selector: {}, template: {} });
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    if (ru.maxUnavailable === undefined) ru.maxUnavailable = 1;
    if (ru.maxSurge === undefined) ru.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(spec.template);
}
