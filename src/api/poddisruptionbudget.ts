// The DisruptionAllowed condition of a PodDisruptionBudget (upstream k8s.io/component-helpers/apps/poddisruptionbudget),
// shared by the eviction subresource and the disruption controller.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { rfc3339 } from '../util/objects.js';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SYNC_FAILED_REASON = 'SyncFailed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';

/** apimeta.SetStatusCondition: replace the condition of that type; lastTransitionTime moves only when status does */
export function setStatusCondition(
  conditions: Condition[],
  cond: Omit<Condition, 'lastTransitionTime'>,
  nowMs: number,
): void {
  const i = conditions.findIndex((c) => c.type === cond.type);
  if (i < 0) {
    conditions.push({ ...cond, lastTransitionTime: rfc3339(nowMs) });
    return;
  }
  const old = conditions[i];
  conditions[i] = {
    ...cond,
    lastTransitionTime: old.status === cond.status ? old.lastTransitionTime : rfc3339(nowMs),
  };
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while a disruption is allowed, else False/InsufficientPods */
export function updateDisruptionAllowedCondition(pdb: PodDisruptionBudget, nowMs: number): void {
  const status = pdb.status!;
  const conditions = ((status as { conditions?: Condition[] }).conditions ??= []);
  const allowed = status.disruptionsAllowed > 0;
  setStatusCondition(
    conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    nowMs,
  );
}

/** ConditionsAreUpToDate: the condition agrees with disruptionsAllowed for the current generation */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const status = pdb.status;
  const cond = status?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  if (!status || !cond) return false;
  if ((status.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if ((cond.observedGeneration ?? 0) !== (status.observedGeneration ?? 0)) return false;
  if (status.disruptionsAllowed > 0) return cond.status === 'True' && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === 'False' && cond.reason === INSUFFICIENT_PODS_REASON;
}
