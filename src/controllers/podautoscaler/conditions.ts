// HPA status conditions as upstream's setConditionInList: lastTransitionTime moves only when the status changes.
import type { HorizontalPodAutoscalerCondition } from 'kubernetes-types/autoscaling/v2.js';
import { rfc3339 } from '../../util/objects.js';

export type HpaConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';

export function setCondition(
  list: HorizontalPodAutoscalerCondition[],
  type: HpaConditionType,
  status: 'True' | 'False',
  reason: string,
  message: string,
  nowMs: number,
): HorizontalPodAutoscalerCondition[] {
  const out = list.map((c) => ({ ...c }));
  let existing = out.find((c) => c.type === type);
  if (!existing) {
    existing = { type, status: 'Unknown' };
    out.push(existing);
  }
  if (existing.status !== status) existing.lastTransitionTime = rfc3339(nowMs);
  existing.status = status;
  existing.reason = reason;
  existing.message = message;
  return out;
}
