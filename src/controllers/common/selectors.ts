// metav1.LabelSelector helpers on the controller side; matching itself is shared with validation in api/labels.ts.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

import { selectorMatches, type Labels } from '../../api/labels.js';

export { selectorMatches, type Labels };

/** true for `{}`: a selector that selects every object */
export function selectsEverything(selector: LabelSelector | undefined): boolean {
  return (
    !!selector &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

/** every label of `subset` is in `labels` with the same value (labels.Set(template).AsSelector().Matches) */
export function labelsContain(labels: Labels, subset: Labels): boolean {
  const l = labels ?? {};
  return Object.entries(subset ?? {}).every(([k, v]) => l[k] === v);
}

/** a copy of `selector` with one more matchLabels entry (labelsutil.CloneSelectorAndAddLabel) */
export function selectorWithLabel(
  selector: LabelSelector | undefined,
  key: string,
  value: string,
): LabelSelector {
  const copy: LabelSelector = structuredClone(selector ?? {});
  copy.matchLabels = { ...(copy.matchLabels ?? {}), [key]: value };
  return copy;
}
