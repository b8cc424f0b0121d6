// flowcontrol.apiserver.k8s.io/v1 defaults (upstream's pkg/apis/flowcontrol/v1/defaults.go).
import type { FlowSchema, PriorityLevelConfiguration } from 'kubernetes-types/flowcontrol/v1.js';

export function defaultFlowSchema(fs: FlowSchema): void {
  const spec = fs.spec;
  if (spec && !spec.matchingPrecedence) spec.matchingPrecedence = 1000;
}

export function defaultPriorityLevelConfiguration(pl: PriorityLevelConfiguration): void {
  const spec = pl.spec;
  if (!spec) return;
  if (spec.exempt) {
    spec.exempt.nominalConcurrencyShares ??= 0;
    spec.exempt.lendablePercent ??= 0;
  }
  const limited = spec.limited;
  if (!limited) return;
  limited.nominalConcurrencyShares ??= 30;
  limited.lendablePercent ??= 0;
  const q = limited.limitResponse?.queuing;
  if (q) {
    if (!q.handSize) q.handSize = 8;
    if (!q.queues) q.queues = 64;
    if (!q.queueLengthLimit) q.queueLengthLimit = 50;
  }
}
