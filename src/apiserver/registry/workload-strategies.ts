// Strategies of the workload and storage kinds (upstream pkg/registry/{batch,apps,core,policy,node,storage}/<kind>/
// strategy.go): which have a status subresource, which track generation, and what a create resets.
import type { KubeObject } from '../../api/request.js';
import { deepEqual } from '../../util/objects.js';
import type { Strategy } from './strategies.js';

/** upstream's job-name / controller-uid labels (k8s.io/api/batch/v1 types.go) */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';

interface JobShape {
  spec?: {
    manualSelector?: boolean;
    selector?: { matchLabels?: Record<string, string> };
    template?: { metadata?: { labels?: Record<string, string> } };
  };
}

/**
 * generateSelectorIfNeeded (pkg/registry/batch/job/strategy.go): unless spec.manualSelector is true, the pod
 * template gets job-name and controller-uid labels (never overwriting the user's; a conflict is rejected by
 * validation) and the selector matches the controller-uid. Needs metadata.uid, so it runs after it is set.
 */
export function generateJobSelector(obj: KubeObject): void {
  const job = obj as unknown as JobShape;
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return;
  const name = obj.metadata?.name ?? '';
  const uid = obj.metadata?.uid ?? '';
  const template = (spec.template ??= {});
  const labels = ((template.metadata ??= {}).labels ??= {});
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[key] ??= name;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[key] ??= uid;
  const selector = (spec.selector ??= {});
  const matchLabels = (selector.matchLabels ??= {});
  matchLabels[CONTROLLER_UID_LABEL] ??= uid;
  // SetDefaults_Job copies the template's labels to a Job without labels; upstream defaults again on every read
  // from etcd, after the selector was generated, so a stored Job shows the generated labels too
  const metadata = (obj.metadata ??= {});
  if (Object.keys(metadata.labels ?? {}).length === 0) metadata.labels = { ...labels };
}

/** apps/v1 carries the internal DaemonSetSpec.templateGeneration in this annotation; only the server sets it */
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

function setTemplateGeneration(obj: KubeObject, generation: number): void {
  const metadata = (obj.metadata ??= {});
  metadata.annotations = {
    ...(metadata.annotations ?? {}),
    [TEMPLATE_GENERATION_ANNOTATION]: String(generation),
  };
}

type RollingUpdateShape = { spec?: { updateStrategy?: { rollingUpdate?: { maxUnavailable?: unknown } } } };

/**
 * dropStatefulSetDisabledFields: MaxUnavailableStatefulSet is alpha (off) in 1.33, so a new
 * updateStrategy.rollingUpdate.maxUnavailable is dropped unless the stored object already had one
 */
function dropStatefulSetMaxUnavailable(obj: KubeObject, old: KubeObject | undefined): void {
  const inUse = (o: KubeObject | undefined): boolean =>
    (o as RollingUpdateShape | undefined)?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable !== undefined;
  if (inUse(old)) return;
  const rollingUpdate = (obj as RollingUpdateShape).spec?.updateStrategy?.rollingUpdate;
  if (rollingUpdate) delete rollingUpdate.maxUnavailable;
}

const withStatus = (status: () => Record<string, unknown>): Partial<Strategy> => ({
  statusSubresource: true,
  tracksGeneration: true,
  prepareForCreate(obj) {
    obj['status'] = status();
  },
});

interface ClaimSpecShape {
  dataSource?: { apiGroup?: string; kind?: string; name?: string };
  dataSourceRef?: { apiGroup?: string; kind?: string; name?: string; namespace?: string };
  volumeAttributesClassName?: string;
}

/**
 * pvcutil.DropDisabledFields + NormalizeDataSources (pkg/api/persistentvolumeclaim/util.go): VolumeAttributesClass is
 * beta and off in 1.33, so a new volumeAttributesClassName is dropped unless the stored claim had one; dataSource and
 * dataSourceRef mirror each other when only one is given (a namespaced dataSourceRef has no dataSource form)
 */
export function prepareClaimSpec(obj: KubeObject, old: KubeObject | undefined): void {
  const spec = obj['spec'] as ClaimSpecShape | undefined;
  if (!spec) return;
  const oldSpec = old?.['spec'] as ClaimSpecShape | undefined;
  if (oldSpec?.volumeAttributesClassName === undefined) delete spec.volumeAttributesClassName;
  const copy = (r: { apiGroup?: string; kind?: string; name?: string }) => ({
    ...(r.apiGroup !== undefined ? { apiGroup: r.apiGroup } : {}),
    kind: r.kind ?? '',
    name: r.name ?? '',
  });
  if (spec.dataSource && !spec.dataSourceRef) spec.dataSourceRef = copy(spec.dataSource);
  else if (spec.dataSourceRef && !spec.dataSource && !spec.dataSourceRef.namespace) {
    spec.dataSource = copy(spec.dataSourceRef);
  }
}

/** PersistentVolume(Claim)s start Pending (the defaulted phase upstream reads back after its status reset) */
const pendingVolume = (withTransitionTime: boolean): Partial<Strategy> => ({
  statusSubresource: true,
  prepareForCreate(obj) {
    const status: Record<string, unknown> = { phase: 'Pending' };
    // PersistentVolumeLastPhaseTransitionTime (GA in 1.31): the create is the first transition
    if (withTransitionTime && obj.metadata?.creationTimestamp)
      status['lastPhaseTransitionTime'] = obj.metadata.creationTimestamp;
    obj['status'] = status;
  },
});

const PENDING_CLAIM = pendingVolume(false);

/** a CSIDriver's nodeAllocatableUpdatePeriodSeconds, kept only where the stored driver has it */
function dropAllocatablePeriod(obj: KubeObject, old: KubeObject | undefined): void {
  const spec = obj['spec'] as Record<string, unknown> | undefined;
  const oldSpec = (old?.['spec'] ?? {}) as Record<string, unknown>;
  if (spec && oldSpec['nodeAllocatableUpdatePeriodSeconds'] === undefined)
    delete spec['nodeAllocatableUpdatePeriodSeconds'];
}

/** a VolumeAttachment status write: errorCode kept only where the stored error has one */
function dropNewErrorCodes(next: KubeObject, old: KubeObject): void {
  const status = next['status'] as Record<string, Record<string, unknown> | undefined> | undefined;
  const oldStatus = (old['status'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const which of ['attachError', 'detachError']) {
    const e = status?.[which];
    if (e && oldStatus[which]?.['errorCode'] === undefined) delete e['errorCode'];
  }
}

export const WORKLOAD_AND_STORAGE_STRATEGIES: Record<string, Partial<Strategy>> = {
  // pkg/registry/batch/job/strategy.go: a batch/v1 delete that names no policy orphans the pods ("for back
  // compatibility"), and its REST storage warns about it (storage.go's deleteOptionWarnings)
  'batch/jobs': {
    defaultGarbageCollectionPolicy: 'Orphan',
    warningsOnDelete: (opts) =>
      opts.propagationPolicy === undefined && opts.orphanDependents === undefined
        ? [
            'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning',
          ]
        : [],
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate(obj) {
      obj['status'] = {};
      generateJobSelector(obj);
    },
  },
  'batch/cronjobs': withStatus(() => ({})),
  // StatefulSetStatus.replicas and availableReplicas, and DaemonSetStatus's four counts, are not omitempty
  'apps/statefulsets': {
    ...withStatus(() => ({ replicas: 0, availableReplicas: 0 })),
    prepareForCreate(obj) {
      obj['status'] = { replicas: 0, availableReplicas: 0 };
      dropStatefulSetMaxUnavailable(obj, undefined);
    },
    prepareForUpdate(obj, old, part) {
      if (part === 'main') dropStatefulSetMaxUnavailable(obj, old);
    },
  },
  'apps/daemonsets': {
    ...withStatus(() => ({
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
    })),
    prepareForCreate(obj) {
      obj['status'] = {
        currentNumberScheduled: 0,
        numberMisscheduled: 0,
        desiredNumberScheduled: 0,
        numberReady: 0,
      };
      setTemplateGeneration(obj, 1);
    },
    prepareForUpdate(obj, old, part) {
      if (part !== 'main') return;
      const before = Number(old.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '1') || 1;
      const templateChanged = !deepEqual(
        (obj['spec'] as { template?: unknown } | undefined)?.template,
        (old['spec'] as { template?: unknown } | undefined)?.template,
      );
      setTemplateGeneration(obj, templateChanged ? before + 1 : before);
    },
  },
  'apps/controllerrevisions': {},
  // pkg/registry/core/replicationcontroller/strategy.go: status reset, generation; a v1 delete that names no
  // propagation policy orphans the pods (DefaultGarbageCollectionPolicy, "for back compatibility")
  '/replicationcontrollers': {
    ...withStatus(() => ({ replicas: 0 })),
    defaultGarbageCollectionPolicy: 'Orphan',
  },
  // pkg/registry/core/podtemplate/strategy.go: generation 1 on create, bumped when the template changes
  '/podtemplates': {
    tracksGeneration: true,
    generationChanged: (next, old) => !deepEqual(next['template'], old['template']),
  },
  '/persistentvolumes': pendingVolume(true),
  '/persistentvolumeclaims': {
    ...PENDING_CLAIM,
    prepareForCreate(obj) {
      PENDING_CLAIM.prepareForCreate!(obj);
      prepareClaimSpec(obj, undefined);
    },
    prepareForUpdate(obj, old, part) {
      if (part === 'main') prepareClaimSpec(obj, old);
    },
  },
  'policy/poddisruptionbudgets': withStatus(() => ({
    disruptionsAllowed: 0,
    currentHealthy: 0,
    desiredHealthy: 0,
    expectedPods: 0,
  })),
  'node.k8s.io/runtimeclasses': {},
  // pkg/registry/storage/csidriver/strategy.go: generation tracked, no unconditional update;
  // nodeAllocatableUpdatePeriodSeconds dropped while MutableCSINodeAllocatableCount is off (alpha in 1.33) unless
  // the stored driver has it
  'storage.k8s.io/csidrivers': {
    tracksGeneration: true,
    allowUnconditionalUpdate: false,
    prepareForCreate(obj) {
      dropAllocatablePeriod(obj, undefined);
    },
    prepareForUpdate(next, old, part) {
      if (part === 'main') dropAllocatablePeriod(next, old);
    },
  },
  // pkg/registry/storage/csinode/strategy.go: nothing prepared, no unconditional update
  'storage.k8s.io/csinodes': { allowUnconditionalUpdate: false },
  // upstream's csiStorageCapacityStrategy: namespaced, no status, nothing prepared
  'storage.k8s.io/csistoragecapacities': {},
  // pkg/registry/storage/volumeattachment/strategy.go: status reset on create and kept on update; the /status
  // strategy drops an attach/detach error's errorCode the stored object does not have (MutableCSINodeAllocatableCount
  // off); no unconditional update
  'storage.k8s.io/volumeattachments': {
    statusSubresource: true,
    allowUnconditionalUpdate: false,
    prepareForCreate(obj) {
      obj['status'] = { attached: false };
    },
    prepareForUpdate(next, old, part) {
      if (part === 'status') dropNewErrorCodes(next, old);
    },
  },
};
