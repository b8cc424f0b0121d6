// core/v1 defaulting of ReplicationControllers, PodTemplates, PersistentVolumes and PersistentVolumeClaims
// (upstream pkg/apis/core/v1/defaults.go, 1.33).
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PodTemplate,
  ReplicationController,
} from 'kubernetes-types/core/v1.js';
import { defaultPodTemplate } from './core.js';

export function defaultReplicationController(rc: ReplicationController): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (Object.keys(spec.selector ?? {}).length === 0) spec.selector = { ...labels };
    if (Object.keys(rc.metadata?.labels ?? {}).length === 0) (rc.metadata ??= {}).labels = { ...labels };
  }
  if (spec.replicas === undefined) spec.replicas = 1;
  defaultPodTemplate(spec.template);
  // ReplicationControllerStatus.replicas is not omitempty
  const status = ((rc as { status?: { replicas?: number } }).status ??= { replicas: 0 });
  status.replicas ??= 0;
}

export function defaultPodTemplateKind(pt: PodTemplate): void {
  pt.template ??= {};
  defaultPodTemplate(pt.template);
}

export function defaultPersistentVolume(pv: PersistentVolume): void {
  const spec = (pv.spec ??= {});
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
  if (spec.volumeMode === undefined) spec.volumeMode = 'Filesystem';
  if (spec.hostPath && spec.hostPath.type === undefined) spec.hostPath.type = '';
  const status = ((pv as { status?: { phase?: string } }).status ??= {});
  if (!status.phase) status.phase = 'Pending';
}

export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  if (spec.volumeMode === undefined) spec.volumeMode = 'Filesystem';
}

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  defaultPersistentVolumeClaimSpec((pvc.spec ??= {}));
  const status = ((pvc as { status?: { phase?: string } }).status ??= {});
  if (!status.phase) status.phase = 'Pending';
}
