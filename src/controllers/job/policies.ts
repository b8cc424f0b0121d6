// podFailurePolicy and successPolicy matching (upstream pod_failure_policy.go, success_policy.go).
import type {
  Job,
  PodFailurePolicy,
  PodFailurePolicyOnExitCodesRequirement,
  SuccessPolicy,
} from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { OrderedIntervals } from './indexes.js';

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

export interface PodFailurePolicyMatch {
  /** set when a FailJob rule matched: the Job's failure message */
  failJobMessage?: string;
  /** false when an Ignore rule matched: the failure does not count towards backoffLimit */
  countFailed: boolean;
  action?: PodFailurePolicyAction;
}

/** matchPodFailurePolicy: the first rule that matches the failed pod decides */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PodFailurePolicyMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  for (const [index, rule] of policy.rules.entries()) {
    const action = rule.action as PodFailurePolicyAction;
    let failJobMessage: string | undefined;
    if (rule.onExitCodes) {
      const cs = matchOnExitCodes(pod, rule.onExitCodes);
      if (!cs) continue;
      failJobMessage = `Container ${cs.name} for pod ${ns}/${name} failed with exit code ${cs.state?.terminated?.exitCode} matching ${action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((c) =>
        rule.onPodConditions!.some((p) => p.type === c.type && (p.status ?? 'True') === c.status),
      );
      if (!cond) continue;
      failJobMessage = `Pod ${ns}/${name} has condition ${cond.type} matching ${action} rule at index ${index}`;
    } else continue;
    switch (action) {
      case 'Ignore':
        return { countFailed: false, action };
      case 'Count':
      case 'FailIndex':
        return { countFailed: true, action };
      case 'FailJob':
        return { failJobMessage, countFailed: true, action };
    }
  }
  return { countFailed: true };
}

function matchOnExitCodes(
  pod: Pod,
  req: PodFailurePolicyOnExitCodesRequirement,
): ContainerStatus | undefined {
  const pick = (list: ContainerStatus[] | undefined): ContainerStatus | undefined =>
    (list ?? []).find((cs) => {
      const code = cs.state?.terminated?.exitCode;
      if (code === undefined || code === 0) return false;
      if (req.containerName && req.containerName !== cs.name) return false;
      const listed = req.values.includes(code);
      return req.operator === 'In' ? listed : req.operator === 'NotIn' ? !listed : false;
    });
  return pick(pod.status?.containerStatuses) ?? pick(pod.status?.initContainerStatuses);
}

/** matchSuccessPolicy: the message of the first rule the succeeded indexes meet */
export function matchSuccessPolicy(
  policy: SuccessPolicy | undefined,
  completions: number,
  succeeded: OrderedIntervals,
): string | undefined {
  if (!policy || succeeded.intervals.length === 0) return undefined;
  for (const [index, rule] of policy.rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = OrderedIntervals.parse(rule.succeededIndexes, completions);
      if (required.intervals.length === 0) continue;
      if (matchSucceededIndexesRule(required, succeeded, rule.succeededCount))
        return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && succeeded.total() >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

function matchSucceededIndexesRule(
  rule: OrderedIntervals,
  succeeded: OrderedIntervals,
  succeededCount: number | undefined,
): boolean {
  let contains = 0;
  for (const r of rule.intervals)
    for (const s of succeeded.intervals) {
      const overlap = Math.min(r.last, s.last) - Math.max(r.first, s.first) + 1;
      if (overlap > 0) contains += overlap;
    }
  return contains === rule.total() || (succeededCount !== undefined && contains >= succeededCount);
}

/** onlyReplaceFailedPods: podReplacementPolicy Failed, or any podFailurePolicy */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** isPodFailed: Failed, or (unless only failed pods are replaced) being deleted without having succeeded */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}
