// Per-kind rules the generic store applies (upstream's pkg/registry/<group>/<kind>/strategy.go): what a create
// resets, what an update may touch, whether generation is tracked, how a delete goes. Kinds with more than flags
// have their own file in ./strategies/.
import type { KubeObject, RequestOptions, UserInfo } from '../../api/request.js';
import { ApiError } from '../../api/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/validation/admission-kinds.js';
import type { Allocation, ServiceAllocator } from './allocators.js';
import type { ServiceReservations } from './service-reservations.js';
import { apiServiceStrategy } from './apiservices.js';
import { PLATFORM_STRATEGIES } from './strategies-platform.js';
import { WORKLOAD_AND_STORAGE_STRATEGIES } from './workload-strategies.js';
import { namespaceStrategy } from './strategies/namespace.js';
import { podStrategy } from './strategies/pod.js';
import { serviceStrategy } from './strategies/service.js';

export { podQosClass } from './strategies/pod.js';

/** which part of an object an update writes: the main resource or one of its subresources */
export type UpdatePart = 'main' | 'status' | 'finalize' | 'approval' | 'ephemeralcontainers';

/** what strategies that hold cluster-wide state (the Service allocators) get from the store */
export interface StrategyContext {
  allocator: ServiceAllocator;
  /** where the allocators' picks are held for all apiservers sharing storage */
  reservations?: ServiceReservations;
  /** the write is a dry run: allocators look, and take nothing for good */
  dryRun?: boolean;
}

/**
 * A kind's rules (upstream's RESTCreateStrategy, RESTUpdateStrategy, RESTDeleteStrategy, RESTGracefulDeleteStrategy
 * and the store's Begin/After hooks). The generic store (./store.ts) calls them in upstream's order:
 * create: admission admit → prepareForCreate → canonicalize → validation → admission validate → beginCreate →
 * write → commit (revert on failure or dry run);
 * update (every try of the guaranteed-update loop): status/metadata/generation carried over → prepareForUpdate → admission
 * admit → canonicalize → validation → admission validate → beginUpdate → write → commit/revert;
 * delete: gracePeriodSeconds and finalizers decide whether the object goes now or is marked (prepareForDelete);
 * afterDelete once it left storage.
 */
export interface Strategy {
  /** main-resource writes ignore status, status writes ignore everything but status (the status subresource) */
  statusSubresource: boolean;
  /** metadata.generation starts at 1 and is bumped on every spec change */
  tracksGeneration: boolean;
  /** an update without metadata.resourceVersion overwrites (upstream's AllowUnconditionalUpdate) */
  allowUnconditionalUpdate: boolean;
  /** PUT of a missing object creates it (upstream's AllowCreateOnUpdate) */
  allowCreateOnUpdate: boolean;
  /** reset fields on create, e.g. status (upstream's PrepareForCreate); `user` is who creates it (a CSR's requestor) */
  prepareForCreate?(obj: KubeObject, user?: UserInfo): void;
  /**
   * carry over what a write of `part` may not change (upstream's PrepareForUpdate of the main resource and of each
   * subresource's strategy), once the store merged the object: `next` is changed in place
   */
  prepareForUpdate?(next: KubeObject, old: KubeObject, part: UpdatePart): void;
  /** warnings for the response of a create that passed validation (upstream's WarningsOnCreate) */
  warningsOnCreate?(obj: KubeObject): string[];
  /** the same for an update of the main resource (upstream's WarningsOnUpdate) */
  warningsOnUpdate?(next: KubeObject, old: KubeObject): string[];
  /** normalize the object before validation and storage (upstream's Canonicalize) */
  canonicalize?(obj: KubeObject): void;
  /** take what the object needs from cluster-wide allocators (upstream's BeginCreate) */
  beginCreate?(obj: KubeObject, ctx: StrategyContext): Allocation | Promise<Allocation>;
  /** the same for an update of the main resource (upstream's BeginUpdate) */
  beginUpdate?(next: KubeObject, old: KubeObject, ctx: StrategyContext): Allocation | Promise<Allocation>;
  /** release what the object held once it left storage (upstream's AfterDelete) */
  afterDelete?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /**
   * whether an update moves metadata.generation (custom resources: any change but metadata and status); absent:
   * `tracksGeneration` compares spec
   */
  generationChanged?(next: KubeObject, old: KubeObject, part: UpdatePart): boolean;
  /**
   * upstream's DefaultGarbageCollectionPolicy when it is not DeleteDependents: `Orphan` — a delete that names no policy
   * orphans the dependents (ReplicationControllers in v1); `Unsupported` — no orphan/foreground finalizer is ever
   * added (Events)
   */
  defaultGarbageCollectionPolicy?: 'Orphan' | 'Unsupported';
  /** Warning headers of a delete or deletecollection (upstream's Job REST storage warns of its orphaning default) */
  warningsOnDelete?(opts: RequestOptions): string[];
  /** graceful deletion: the seconds a delete waits (upstream's CheckGracefulDelete); absent: deleted at once */
  gracePeriodSeconds?(old: KubeObject, opts: RequestOptions): number;
  /** refuse a delete by throwing (upstream REST storages that wrap Delete, e.g. PriorityClass's system classes) */
  validateDelete?(old: KubeObject): void;
  /** mark an object whose delete must wait (e.g. a namespace's phase Terminating) */
  prepareForDelete?(next: KubeObject): void;
  /** a delete waits for more than metadata.finalizers (a namespace's spec.finalizers) */
  pendingFinalization?(obj: KubeObject): boolean;
  /**
   * an object being deleted whose finalizers are all gone leaves storage (upstream's ShouldDeleteDuringUpdate);
   * absent: true
   */
  deleteWhenFinalized?(obj: KubeObject): boolean;
}

const base: Strategy = {
  statusSubresource: false,
  tracksGeneration: false,
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

export type StrategyTable = Record<string, Partial<Strategy>>;

const STRATEGIES: StrategyTable = {
  '/namespaces': namespaceStrategy,
  // The kubelet registers its Node with status: nodes keep status on create.
  '/nodes': { statusSubresource: true },
  '/pods': podStrategy,
  '/services': serviceStrategy,
  '/endpoints': { allowCreateOnUpdate: true },
  // pkg/registry/core/event/strategy.go (events.k8s.io/v1 is served from the same storage and strategy)
  '/events': { allowCreateOnUpdate: true, defaultGarbageCollectionPolicy: 'Unsupported' },
  'events.k8s.io/events': { allowCreateOnUpdate: true, defaultGarbageCollectionPolicy: 'Unsupported' },
  // pkg/registry/coordination/lease/strategy.go: PUT creates, an update names its resourceVersion, and
  // spec.strategy/preferredHolder are dropped while CoordinatedLeaderElection is off (beta, off by default in 1.33)
  // unless the stored Lease has them
  'coordination.k8s.io/leases': {
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: false,
    prepareForCreate(obj) {
      const spec = obj['spec'] as Record<string, unknown> | undefined;
      if (spec) for (const f of ['strategy', 'preferredHolder']) delete spec[f];
    },
    prepareForUpdate(next, old, part) {
      if (part !== 'main') return;
      const spec = next['spec'] as Record<string, unknown> | undefined;
      const oldSpec = (old['spec'] ?? {}) as Record<string, unknown>;
      if (spec) for (const f of ['strategy', 'preferredHolder']) if (oldSpec[f] === undefined) delete spec[f];
    },
  },
  'apps/deployments': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj['status'] = {};
    },
  },
  'apps/replicasets': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj['status'] = { replicas: 0 };
    },
  },
  'networking.k8s.io/ingresses': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj['status'] = { loadBalancer: {} };
    },
  },
  'networking.k8s.io/ingressclasses': { tracksGeneration: true },
  'autoscaling/horizontalpodautoscalers': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj['status'] = { currentReplicas: 0, desiredReplicas: 0 };
    },
  },
  // --- workload and storage kinds (#18) ---
  ...WORKLOAD_AND_STORAGE_STRATEGIES,
  // --- platform kinds: rbac, admissionregistration, apiextensions, flowcontrol, certificates, … (#18) ---
  ...PLATFORM_STRATEGIES,
  'apiregistration.k8s.io/apiservices': apiServiceStrategy,
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
  // upstream's resourcequota strategy: status is reset on create, spec and status written separately
  '/resourcequotas': {
    statusSubresource: true,
    prepareForCreate(obj) {
      obj['status'] = {};
    },
  },
  '/limitranges': {},
  // pkg/registry/scheduling/priorityclass/storage: the system classes cannot be deleted
  'scheduling.k8s.io/priorityclasses': {
    validateDelete(old) {
      const name = old.metadata?.name ?? '';
      if (SYSTEM_PRIORITY_CLASSES.some((c) => c.name === name))
        throw new ApiError(
          'Forbidden',
          `priorityclasses.scheduling.k8s.io "${name}" is forbidden: this is a system priority class and cannot be deleted`,
          { name, group: 'scheduling.k8s.io', kind: 'priorityclasses' },
        );
    },
  },
  'storage.k8s.io/storageclasses': {},
};

const merged = new Map<string, Strategy>();

/** a resource's strategy (the table is fixed, so each is merged once: every request resolves one) */
export function strategyFor(group: string, resource: string): Strategy {
  const key = `${group}/${resource}`;
  let s = merged.get(key);
  if (!s) {
    s = Object.freeze({ ...base, ...(STRATEGIES[key] ?? {}) });
    merged.set(key, s);
  }
  return s;
}
