// Per-resource rules the generic registry applies: what a create resets, what an update may touch,
// whether generation is tracked (upstream's rest.RESTCreateStrategy / RESTUpdateStrategy, in data form).
import type { KubeObject } from '../../api/request.js';
import { WORKLOAD_AND_STORAGE_STRATEGIES } from './workload-strategies.js';

export interface Strategy {
  /** main-resource writes ignore status, status writes ignore everything but status (the status subresource) */
  statusSubresource: boolean;
  /** metadata.generation starts at 1 and is bumped on every spec change */
  tracksGeneration: boolean;
  /** an update without metadata.resourceVersion overwrites (upstream's AllowUnconditionalUpdate) */
  allowUnconditionalUpdate: boolean;
  /** PUT of a missing object creates it (upstream's AllowCreateOnUpdate) */
  allowCreateOnUpdate: boolean;
  /** reset fields on create, e.g. status */
  prepareForCreate?(obj: KubeObject): void;
  /** adjust an update of the main resource from the stored object (after status and metadata are carried over) */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
}

const base: Strategy = {
  statusSubresource: false,
  tracksGeneration: false,
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

type Resources = Record<string, number | string | undefined>;

/** upstream's qos.GetPodQOS */
export function podQosClass(pod: KubeObject): string {
  const spec = pod['spec'] as
    | {
        containers?: { resources?: { requests?: Resources; limits?: Resources } }[];
        initContainers?: { resources?: { requests?: Resources; limits?: Resources } }[];
      }
    | undefined;
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let anyRequestOrLimit = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const rq = req[r];
      const lm = lim[r];
      if (rq !== undefined || lm !== undefined) anyRequestOrLimit = true;
      if (lm === undefined || (rq !== undefined && String(rq) !== String(lm))) guaranteed = false;
    }
  }
  if (!anyRequestOrLimit) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const STRATEGIES: Record<string, Partial<Strategy>> = {
  '/namespaces': {
    statusSubresource: true,
    prepareForCreate(obj) {
      obj['status'] = { phase: 'Active' };
      const spec = (obj['spec'] ??= {}) as { finalizers?: string[] };
      if (!spec.finalizers?.includes('kubernetes'))
        spec.finalizers = [...(spec.finalizers ?? []), 'kubernetes'];
    },
  },
  // The kubelet registers its Node with status: nodes keep status on create.
  '/nodes': { statusSubresource: true },
  '/pods': {
    statusSubresource: true,
    prepareForCreate(obj) {
      obj['status'] = { phase: 'Pending', qosClass: podQosClass(obj) };
    },
  },
  '/services': {
    statusSubresource: true,
    prepareForCreate(obj) {
      obj['status'] = { loadBalancer: {} };
    },
  },
  '/endpoints': { allowCreateOnUpdate: true },
  '/events': { allowCreateOnUpdate: true },
  'events.k8s.io/events': { allowCreateOnUpdate: true },
  'coordination.k8s.io/leases': {},
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
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
};

export function strategyFor(group: string, resource: string): Strategy {
  return { ...base, ...(STRATEGIES[`${group}/${resource}`] ?? {}) };
}
