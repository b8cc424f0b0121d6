// Strategies of the platform kinds (rbac, admissionregistration, apiextensions, flowcontrol, certificates,
// networking policy/IP kinds), ported from upstream's pkg/registry/<group>/<kind>/strategy.go.
import type { KubeObject, UserInfo } from '../../api/request.js';
import { deepCopy, deepEqual } from '../../util/objects.js';
import type { StrategyTable, UpdatePart } from './strategies.js';
import { crdRuleWarnings } from '../customresources/cel-rules.js';

interface Condition {
  type?: string;
  status?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

const nowRfc3339 = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** upstream's populateConditionTimestamps: missing update times are now, transition times carry over */
function populateConditionTimestamps(
  conditions: Condition[] | undefined,
  old: Condition[] | undefined,
): void {
  const now = nowRfc3339();
  for (const c of conditions ?? []) {
    if (!c.lastUpdateTime) c.lastUpdateTime = now;
    if (!c.lastTransitionTime) {
      const prev = (old ?? []).find((o) => o.type === c.type && o.status === c.status);
      c.lastTransitionTime = prev?.lastTransitionTime ?? now;
    }
  }
}

const status = (o: KubeObject): Record<string, unknown> => (o['status'] ?? {}) as Record<string, unknown>;
const conditionsOf = (o: KubeObject): Condition[] | undefined =>
  status(o)['conditions'] as Condition[] | undefined;

/** the CSR records who asked for it; nobody creates an approved request (upstream's csrStrategy) */
function prepareCsrCreate(obj: KubeObject, user?: UserInfo): void {
  obj['status'] = {};
  const spec = (obj['spec'] ??= {}) as Record<string, unknown>;
  delete spec['username'];
  delete spec['uid'];
  delete spec['groups'];
  delete spec['extra'];
  if (!user) return;
  spec['username'] = user.username;
  if (user.uid) spec['uid'] = user.uid;
  if (user.groups.length) spec['groups'] = [...user.groups];
}

/** upstream's preserveConditionInstances: the stored instances of `type` kept when the count did not change */
function preserveConditionInstances(next: Condition[], old: Condition[], type: string): void {
  const oldOnes = old.filter((c) => c.type === type);
  const newIdx = next.flatMap((c, i) => (c.type === type ? [i] : []));
  if (oldOnes.length !== newIdx.length) return; // added or removed: validation refuses it
  newIdx.forEach((i, k) => (next[i] = deepCopy(oldOnes[k])));
}

/**
 * upstream's csrStrategy / csrStatusStrategy / csrApprovalStrategy PrepareForUpdate: the spec never changes; the main
 * resource keeps the stored status (the store does that); /status keeps the stored Approved and Denied conditions;
 * /approval changes only the conditions.
 */
function prepareCsrUpdate(next: KubeObject, old: KubeObject, part: UpdatePart): void {
  next['spec'] = deepCopy(old['spec']);
  if (part === 'approval') {
    next['status'] = { ...deepCopy(status(old)), conditions: conditionsOf(next) ?? [] };
    if (!conditionsOf(next)?.length) delete (next['status'] as Record<string, unknown>)['conditions'];
  } else if (part === 'status') {
    const written = conditionsOf(next);
    if (written) {
      // the client's objects may be shared: work on a copy
      const conditions = deepCopy(written);
      for (const t of ['Approved', 'Denied'])
        preserveConditionInstances(conditions, conditionsOf(old) ?? [], t);
      next['status'] = { ...status(next), conditions };
    }
  }
  populateConditionTimestamps(conditionsOf(next), conditionsOf(old));
}

interface CrdSpec {
  versions?: { name?: string; storage?: boolean }[];
  names?: Record<string, unknown>;
}

function storageVersion(obj: KubeObject): string | undefined {
  return ((obj['spec'] as CrdSpec | undefined)?.versions ?? []).find((v) => v.storage)?.name;
}

/**
 * A new CRD: status reset and the storage version recorded (upstream's strategy PrepareForCreate); the names and
 * Established conditions come from the CRD controller (src/apiserver/customresources/controller.ts) a moment later.
 */
function prepareCrdCreate(obj: KubeObject): void {
  const stored = storageVersion(obj);
  obj['status'] = { acceptedNames: { plural: '', kind: '' }, storedVersions: stored ? [stored] : [] };
}

/**
 * upstream's CRD REST Delete: the first delete marks the CRD, adds the `customresourcecleanup.apiextensions.k8s.io`
 * finalizer and the Terminating condition; the CRD controller deletes the objects, then the finalizer.
 */
const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
function crdPendingFinalization(obj: KubeObject): boolean {
  return !obj.metadata?.deletionTimestamp;
}
function prepareCrdDelete(next: KubeObject): void {
  const m = (next.metadata ??= {});
  if (!(m.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER))
    m.finalizers = [...(m.finalizers ?? []), CRD_CLEANUP_FINALIZER];
  const status = (next['status'] ??= {}) as { conditions?: Record<string, unknown>[] };
  const conditions = (status.conditions ?? []).filter((c) => c['type'] !== 'Terminating');
  conditions.push({
    type: 'Terminating',
    status: 'True',
    lastTransitionTime: nowRfc3339(),
    reason: 'InstanceDeletionPending',
    message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
  });
  status.conditions = conditions;
}

function prepareCrdUpdate(next: KubeObject, _old: KubeObject, part: UpdatePart): void {
  if (part !== 'main') return;
  const stored = storageVersion(next);
  const st = (next['status'] ??= {}) as { storedVersions?: string[] };
  if (stored && !(st.storedVersions ?? []).includes(stored))
    st.storedVersions = [...(st.storedVersions ?? []), stored];
}

/** webhook configurations keep their webhooks at the top level: generation follows them, not spec */
function bumpGenerationOnWebhooks(next: KubeObject, old: KubeObject, part: UpdatePart): void {
  if (part !== 'main' || !next.metadata) return;
  const changed = !deepEqual(next['webhooks'], old['webhooks']);
  next.metadata.generation = (old.metadata?.generation ?? 1) + (changed ? 1 : 0);
}

const emptyStatus = (obj: KubeObject): void => {
  obj['status'] = {};
};

export const PLATFORM_STRATEGIES: StrategyTable = {
  'rbac.authorization.k8s.io/roles': { allowCreateOnUpdate: true },
  'rbac.authorization.k8s.io/clusterroles': { allowCreateOnUpdate: true },
  'rbac.authorization.k8s.io/rolebindings': { allowCreateOnUpdate: true },
  'rbac.authorization.k8s.io/clusterrolebindings': { allowCreateOnUpdate: true },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': {
    tracksGeneration: true,
    prepareForUpdate: bumpGenerationOnWebhooks,
  },
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': {
    tracksGeneration: true,
    prepareForUpdate: bumpGenerationOnWebhooks,
  },
  'admissionregistration.k8s.io/validatingadmissionpolicies': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate: emptyStatus,
  },
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': { tracksGeneration: true },
  'apiextensions.k8s.io/customresourcedefinitions': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate: prepareCrdCreate,
    prepareForUpdate: prepareCrdUpdate,
    warningsOnCreate: crdRuleWarnings,
    warningsOnUpdate: crdRuleWarnings,
    pendingFinalization: crdPendingFinalization,
    prepareForDelete: prepareCrdDelete,
  },
  'flowcontrol.apiserver.k8s.io/flowschemas': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate: emptyStatus,
  },
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations': {
    statusSubresource: true,
    tracksGeneration: true,
    prepareForCreate: emptyStatus,
  },
  'certificates.k8s.io/certificatesigningrequests': {
    statusSubresource: true,
    allowUnconditionalUpdate: true,
    prepareForCreate: prepareCsrCreate,
    prepareForUpdate: prepareCsrUpdate,
  },
  'networking.k8s.io/networkpolicies': { tracksGeneration: true },
  'networking.k8s.io/ipaddresses': {},
  'networking.k8s.io/servicecidrs': { statusSubresource: true, prepareForCreate: emptyStatus },
};
