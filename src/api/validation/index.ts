// validateObject: upstream's ValidateXxx / ValidateXxxUpdate / ValidateXxxStatusUpdate for every served kind.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2 } from 'kubernetes-types/autoscaling/v2.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../request.js';
import { findByKind } from '../resources.js';
import { hpaV1ToV2 } from '../conversion/autoscaling.js';
import type { Gvk } from '../schema/index.js';
import {
  validateAppsStatusUpdate,
  validateDeployment,
  validateDeploymentUpdate,
  validateReplicaSet,
  validateReplicaSetUpdate,
} from './apps.js';
import { validateHpa, validateHpaStatusUpdate } from './autoscaling.js';
import { validateEventCreate, validateEventUpdate } from './events.js';
import {
  validateConfigMap,
  validateLease,
  validateNamespace,
  validateNode,
  validateSecret,
  validateServiceAccount,
} from './core-other.js';
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  validateLimitRange,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateResourceQuota,
  validateResourceQuotaStatusUpdate,
  validateResourceQuotaUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from './admission-kinds.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import {
  validateEndpointSlice,
  validateIngress,
  validateIngressClass,
  validateIngressStatusUpdate,
} from './networking.js';
import { validatePodCreate, validatePodEphemeralContainersUpdate } from './ephemeral-containers.js';
import { validatePodStatusUpdate, validatePodUpdate } from './pod.js';
import { PLATFORM_VALIDATORS } from './platform.js';
import { WORKLOAD_AND_STORAGE_VALIDATORS } from './workloads-and-storage.js';
import {
  validateEndpoints,
  validateService,
  validateServiceStatusUpdate,
  validateServiceUpdate,
} from './service.js';

export interface ValidateOptions {
  /** the stored object: update rules apply (immutable fields) */
  old?: KubeObject;
  /** `status` → status update rules */
  subresource?: string;
  /** the API group the request came through (a kind served by two groups: Events) */
  requestGroup?: string;
}

import { kind, type KindValidator } from './kind.js';

/** the v1 HPA is validated in its v2 form, as upstream validates the internal version (paths are v2's) */
const asV2 = (fn: (o: HpaV2, old?: HpaV2) => FieldError[]) => (o: HpaV1, old?: HpaV1) =>
  fn(hpaV1ToV2(o), old && hpaV1ToV2(old));

const VALIDATORS: ReadonlyMap<string, KindValidator> = new Map<string, KindValidator>([
  [
    '/v1/Pod',
    {
      ...kind<Pod>(validatePodCreate, validatePodUpdate, validatePodStatusUpdate),
      ephemeralContainers: (o, old) => validatePodEphemeralContainersUpdate(o as Pod, old as Pod),
    },
  ],
  ['/v1/Service', kind<Service>(validateService, validateServiceUpdate, validateServiceStatusUpdate)],
  ['/v1/Endpoints', kind<Endpoints>((o) => validateEndpoints(o), validateEndpoints)],
  ['/v1/ConfigMap', kind<ConfigMap>((o) => validateConfigMap(o), validateConfigMap)],
  ['/v1/Secret', kind<Secret>((o) => validateSecret(o), validateSecret)],
  ['/v1/Namespace', kind<Namespace>((o) => validateNamespace(o), validateNamespace)],
  ['/v1/Node', kind<Node>((o) => validateNode(o), validateNode)],
  [
    '/v1/Event',
    {
      create: (o, ctx) => validateEventCreate(o as unknown as Event, ctx?.requestGroup ?? ''),
      update: (o, old, ctx) =>
        validateEventUpdate(o as unknown as Event, old as unknown as Event, ctx?.requestGroup ?? ''),
    },
  ],
  ['/v1/ServiceAccount', kind<ServiceAccount>((o) => validateServiceAccount(o), validateServiceAccount)],
  ['coordination.k8s.io/v1/Lease', kind<Lease>((o) => validateLease(o), validateLease)],
  [
    'apps/v1/Deployment',
    kind<Deployment>(validateDeployment, validateDeploymentUpdate, validateAppsStatusUpdate),
  ],
  [
    'apps/v1/ReplicaSet',
    kind<ReplicaSet>(validateReplicaSet, validateReplicaSetUpdate, validateAppsStatusUpdate),
  ],
  [
    'discovery.k8s.io/v1/EndpointSlice',
    kind<EndpointSlice>((o) => validateEndpointSlice(o), validateEndpointSlice),
  ],
  [
    'networking.k8s.io/v1/Ingress',
    kind<Ingress>((o) => validateIngress(o), validateIngress, validateIngressStatusUpdate),
  ],
  [
    'networking.k8s.io/v1/IngressClass',
    kind<IngressClass>((o) => validateIngressClass(o), validateIngressClass),
  ],
  [
    'autoscaling/v2/HorizontalPodAutoscaler',
    kind<HpaV2>((o) => validateHpa(o), validateHpa, validateHpaStatusUpdate),
  ],
  [
    'autoscaling/v1/HorizontalPodAutoscaler',
    kind<HpaV1>(
      asV2((o) => validateHpa(o)),
      asV2((o, old) => validateHpa(o, old)),
      asV2((o, old) => validateHpaStatusUpdate(o, old!)),
    ),
  ],
  // --- workload and storage kinds (#18) ---
  ...WORKLOAD_AND_STORAGE_VALIDATORS,
  // --- platform kinds: rbac, admissionregistration, apiextensions, flowcontrol, certificates, … (#18) ---
  ...PLATFORM_VALIDATORS,
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
  [
    '/v1/ResourceQuota',
    kind<ResourceQuota>(
      validateResourceQuota,
      validateResourceQuotaUpdate,
      validateResourceQuotaStatusUpdate,
    ),
  ],
  ['/v1/LimitRange', kind<LimitRange>((o) => validateLimitRange(o), validateLimitRange)],
  [
    'scheduling.k8s.io/v1/PriorityClass',
    kind<PriorityClass>(validatePriorityClass, validatePriorityClassUpdate),
  ],
  ['storage.k8s.io/v1/StorageClass', kind<StorageClass>(validateStorageClass, validateStorageClassUpdate)],
]);

/** metadata-only rules for kinds without their own validator */
function genericValidator(gvk: Gvk): KindValidator {
  const namespaced = findByKind(gvk.group, gvk.kind)?.namespaced ?? true;
  return {
    create: (o) => validateObjectMeta(o.metadata, namespaced, nameIsDNSSubdomain),
    update: (o, old) => validateObjectMetaUpdate(o.metadata, old.metadata, namespaced, nameIsDNSSubdomain),
  };
}

/**
 * upstream's ValidateXxx / ValidateXxxUpdate: metadata (name rules per kind, generateName, labels/annotations,
 * namespace presence) and the kind's spec. `old` given → update rules (immutable fields);
 * `subresource === 'status'` → status update rules. Returns [] when valid.
 */
export function validateObject(gvk: Gvk, obj: KubeObject, opts: ValidateOptions = {}): FieldError[] {
  const v = VALIDATORS.get(`${gvk.group}/${gvk.version}/${gvk.kind}`) ?? genericValidator(gvk);
  const old = opts.old;
  const ctx = opts.requestGroup !== undefined ? { requestGroup: opts.requestGroup } : {};
  if (!old) return v.create(obj, ctx);
  if (opts.subresource === 'status') {
    return v.status ? v.status(obj, old) : genericValidator(gvk).update(obj, old);
  }
  if (opts.subresource === 'approval' && v.approval) return v.approval(obj, old);
  if (opts.subresource === 'ephemeralcontainers' && v.ephemeralContainers)
    return v.ephemeralContainers(obj, old);
  return v.update(obj, old, ctx);
}

export { selectorMatches } from './meta.js';
