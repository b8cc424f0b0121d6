// applyDefaults: upstream's SetDefaults_* for each served kind, applied in place after decoding.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2 } from 'kubernetes-types/autoscaling/v2.js';
import type { Endpoints, Namespace, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { KubeObject } from '../request.js';
import type { Gvk } from '../schema/index.js';
import { defaultDeployment, defaultReplicaSet } from './apps.js';
import { defaultHpaV1, defaultHpaV2 } from './autoscaling.js';
import {
  defaultEndpoints,
  defaultNamespace,
  defaultNode,
  defaultPod,
  defaultSecret,
  defaultService,
} from './core.js';
import type { LimitRange } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { defaultLimitRange, defaultPriorityClass, defaultStorageClass } from './admission-kinds.js';
import { defaultEndpointSlice, defaultIngress, defaultIngressClass } from './networking.js';
import type { DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PodTemplate,
  ReplicationController,
} from 'kubernetes-types/core/v1.js';
import type { CSIDriver } from 'kubernetes-types/storage/v1.js';
import { defaultDaemonSet, defaultStatefulSet } from './apps-workloads.js';
import { defaultCronJob, defaultJob } from './batch.js';
import {
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPodTemplateKind,
  defaultReplicationController,
} from './core-workloads.js';
import { defaultCSIDriver } from './storage.js';
import {
  defaultMutatingWebhookConfiguration,
  defaultValidatingAdmissionPolicy,
  defaultValidatingAdmissionPolicyBinding,
  defaultValidatingWebhookConfiguration,
} from './admissionregistration.js';
import { defaultCrd } from './apiextensions.js';
import { defaultAPIService } from './apiregistration.js';
import { defaultCsr } from './certificates.js';
import { defaultFlowSchema, defaultPriorityLevelConfiguration } from './flowcontrol.js';
import { defaultNetworkPolicy } from './networking-platform.js';
import { defaultBinding } from './rbac.js';

type Defaulter = (obj: KubeObject) => void;

// KubeObject is the untyped view; each defaulter works on the kubernetes-types view of the same object
const as =
  <T>(fn: (o: T) => void): Defaulter =>
  (o) =>
    fn(o as unknown as T);

const DEFAULTERS: ReadonlyMap<string, Defaulter> = new Map<string, Defaulter>([
  ['/v1/Pod', as<Pod>(defaultPod)],
  ['/v1/Service', as<Service>(defaultService)],
  ['/v1/Endpoints', as<Endpoints>(defaultEndpoints)],
  ['/v1/Namespace', as<Namespace>(defaultNamespace)],
  ['/v1/Node', as<Node>(defaultNode)],
  ['/v1/Secret', as<Secret>(defaultSecret)],
  ['apps/v1/Deployment', as<Deployment>(defaultDeployment)],
  ['apps/v1/ReplicaSet', as<ReplicaSet>(defaultReplicaSet)],
  ['autoscaling/v2/HorizontalPodAutoscaler', as<HpaV2>(defaultHpaV2)],
  ['autoscaling/v1/HorizontalPodAutoscaler', as<HpaV1>(defaultHpaV1)],
  ['discovery.k8s.io/v1/EndpointSlice', as<EndpointSlice>(defaultEndpointSlice)],
  ['networking.k8s.io/v1/Ingress', as<Ingress>(defaultIngress)],
  ['networking.k8s.io/v1/IngressClass', as<IngressClass>(defaultIngressClass)],
  // --- workload and storage kinds (#18) ---
  ['batch/v1/Job', as<Job>(defaultJob)],
  ['batch/v1/CronJob', as<CronJob>(defaultCronJob)],
  ['apps/v1/StatefulSet', as<StatefulSet>(defaultStatefulSet)],
  ['apps/v1/DaemonSet', as<DaemonSet>(defaultDaemonSet)],
  ['/v1/ReplicationController', as<ReplicationController>(defaultReplicationController)],
  ['/v1/PodTemplate', as<PodTemplate>(defaultPodTemplateKind)],
  ['/v1/PersistentVolume', as<PersistentVolume>(defaultPersistentVolume)],
  ['/v1/PersistentVolumeClaim', as<PersistentVolumeClaim>(defaultPersistentVolumeClaim)],
  ['storage.k8s.io/v1/CSIDriver', as<CSIDriver>(defaultCSIDriver)],
  // --- platform kinds: rbac, admissionregistration, apiextensions, flowcontrol, certificates, … (#18) ---
  ['rbac.authorization.k8s.io/v1/RoleBinding', as(defaultBinding)],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', as(defaultBinding)],
  [
    'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
    as(defaultValidatingWebhookConfiguration),
  ],
  ['admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', as(defaultMutatingWebhookConfiguration)],
  ['admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy', as(defaultValidatingAdmissionPolicy)],
  [
    'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding',
    as(defaultValidatingAdmissionPolicyBinding),
  ],
  ['apiextensions.k8s.io/v1/CustomResourceDefinition', as(defaultCrd)],
  ['apiregistration.k8s.io/v1/APIService', as(defaultAPIService)],
  ['flowcontrol.apiserver.k8s.io/v1/FlowSchema', as(defaultFlowSchema)],
  ['flowcontrol.apiserver.k8s.io/v1/PriorityLevelConfiguration', as(defaultPriorityLevelConfiguration)],
  ['certificates.k8s.io/v1/CertificateSigningRequest', as(defaultCsr)],
  ['networking.k8s.io/v1/NetworkPolicy', as(defaultNetworkPolicy)],
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
  ['/v1/LimitRange', as<LimitRange>(defaultLimitRange)],
  ['scheduling.k8s.io/v1/PriorityClass', as<PriorityClass>(defaultPriorityClass)],
  ['storage.k8s.io/v1/StorageClass', as<StorageClass>(defaultStorageClass)],
]);

/** upstream's SetDefaults_* for the kind, in place (obj is a fresh copy the caller owns). Kinds without
 *  upstream defaults (ConfigMap, Event, Lease, ServiceAccount, …) are left as they are. */
export function applyDefaults(gvk: Gvk, obj: KubeObject): void {
  DEFAULTERS.get(`${gvk.group}/${gvk.version}/${gvk.kind}`)?.(obj);
}

export { imageTag } from './core.js';
