// metav1.LabelSelector matching on the controller side (matchLabels and matchExpressions), as apimachinery's labels package.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

export type Labels = Readonly<Record<string, string>> | undefined;

/**
 * Whether `labels` satisfy `selector`. As metav1.LabelSelectorAsSelector: an undefined selector matches
 * nothing, an empty one `{}` matches everything; unknown operators match nothing.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(l[req.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[req.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

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
