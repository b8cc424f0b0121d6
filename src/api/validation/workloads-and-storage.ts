// The validators of the workload and storage kinds (#18), keyed `group/version/Kind` like VALIDATORS.
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PodTemplate,
  ReplicationController,
} from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  VolumeAttachment,
} from 'kubernetes-types/storage/v1.js';
import { kind, type KindValidator } from './kind.js';
import {
  validateControllerRevision,
  validateControllerRevisionUpdate,
  validateDaemonSet,
  validateDaemonSetStatusUpdate,
  validateDaemonSetUpdate,
  validateStatefulSet,
  validateStatefulSetStatusUpdate,
  validateStatefulSetUpdate,
} from './apps-workloads.js';
import {
  validateCronJob,
  validateCronJobStatusUpdate,
  validateCronJobUpdate,
  validateJob,
  validateJobStatusUpdate,
  validateJobUpdate,
} from './batch.js';
import {
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimStatusUpdate,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeStatusUpdate,
  validatePersistentVolumeUpdate,
} from './core-storage.js';
import {
  validatePodTemplate,
  validatePodTemplateUpdate,
  validateReplicationController,
  validateReplicationControllerStatusUpdate,
  validateReplicationControllerUpdate,
} from './core-workloads.js';
import { validateRuntimeClass, validateRuntimeClassUpdate } from './node.js';
import {
  validatePodDisruptionBudget,
  validatePodDisruptionBudgetStatusUpdate,
  validatePodDisruptionBudgetUpdate,
} from './policy.js';
import {
  validateCSIDriver,
  validateCSIDriverUpdate,
  validateCSIStorageCapacity,
  validateCSIStorageCapacityUpdate,
  validateCSINode,
  validateCSINodeUpdate,
  validateVolumeAttachment,
  validateVolumeAttachmentUpdate,
} from './storage.js';

export const WORKLOAD_AND_STORAGE_VALIDATORS: [string, KindValidator][] = [
  ['batch/v1/Job', kind<Job>(validateJob, validateJobUpdate, validateJobStatusUpdate)],
  ['batch/v1/CronJob', kind<CronJob>(validateCronJob, validateCronJobUpdate, validateCronJobStatusUpdate)],
  [
    'apps/v1/StatefulSet',
    kind<StatefulSet>(validateStatefulSet, validateStatefulSetUpdate, validateStatefulSetStatusUpdate),
  ],
  [
    'apps/v1/DaemonSet',
    kind<DaemonSet>(validateDaemonSet, validateDaemonSetUpdate, validateDaemonSetStatusUpdate),
  ],
  [
    'apps/v1/ControllerRevision',
    kind<ControllerRevision>(validateControllerRevision, validateControllerRevisionUpdate),
  ],
  [
    '/v1/ReplicationController',
    kind<ReplicationController>(
      validateReplicationController,
      validateReplicationControllerUpdate,
      validateReplicationControllerStatusUpdate,
    ),
  ],
  ['/v1/PodTemplate', kind<PodTemplate>(validatePodTemplate, validatePodTemplateUpdate)],
  [
    '/v1/PersistentVolume',
    kind<PersistentVolume>(
      validatePersistentVolume,
      validatePersistentVolumeUpdate,
      validatePersistentVolumeStatusUpdate,
    ),
  ],
  [
    '/v1/PersistentVolumeClaim',
    kind<PersistentVolumeClaim>(
      validatePersistentVolumeClaim,
      validatePersistentVolumeClaimUpdate,
      validatePersistentVolumeClaimStatusUpdate,
    ),
  ],
  [
    'policy/v1/PodDisruptionBudget',
    kind<PodDisruptionBudget>(
      validatePodDisruptionBudget,
      validatePodDisruptionBudgetUpdate,
      validatePodDisruptionBudgetStatusUpdate,
    ),
  ],
  ['node.k8s.io/v1/RuntimeClass', kind<RuntimeClass>(validateRuntimeClass, validateRuntimeClassUpdate)],
  ['storage.k8s.io/v1/CSIDriver', kind<CSIDriver>(validateCSIDriver, validateCSIDriverUpdate)],
  ['storage.k8s.io/v1/CSINode', kind<CSINode>(validateCSINode, validateCSINodeUpdate)],
  [
    'storage.k8s.io/v1/CSIStorageCapacity',
    kind<CSIStorageCapacity>(validateCSIStorageCapacity, validateCSIStorageCapacityUpdate),
  ],
  [
    'storage.k8s.io/v1/VolumeAttachment',
    // the status strategy validates as the main one does (ValidateVolumeAttachmentUpdate)
    kind<VolumeAttachment>(
      validateVolumeAttachment,
      validateVolumeAttachmentUpdate,
      validateVolumeAttachmentUpdate,
    ),
  ],
];
