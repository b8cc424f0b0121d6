// Which requests a webhook or a ValidatingAdmissionPolicy sees: upstream's webhook/predicates (rules,
// namespaceSelector, objectSelector) and policy/matching (matchConstraints with excludeResourceRules), shared by
// the webhook plugins and the policy plugin.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { selectorMatches } from '../../../api/labels.js';
import type { AdmissionAttributes, AdmissionStore } from '../interface.js';

export interface RuleWithOperations {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface NamedRuleWithOperations extends RuleWithOperations {
  resourceNames?: string[];
}

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

function resourceMatches(patterns: string[] | undefined, resource: string, sub: string): boolean {
  for (const p of patterns ?? []) {
    if (p === '*/*') return true;
    const [res, s] = p.split('/', 2);
    if (s === undefined) {
      if (sub === '' && (res === '*' || res === resource)) return true;
    } else if ((res === '*' || res === resource) && (s === '*' || s === sub)) return true;
  }
  return false;
}

/** upstream's rules.Matcher: one rule against the request */
export function ruleMatches(rule: RuleWithOperations, a: AdmissionAttributes): boolean {
  if (!has(rule.operations, a.operation)) return false;
  if (!has(rule.apiGroups, a.resource.group)) return false;
  if (!has(rule.apiVersions, a.resource.version)) return false;
  if (!resourceMatches(rule.resources, a.resource.resource, a.subresource)) return false;
  const scope = rule.scope ?? '*';
  // a Namespace is cluster-scoped although its attributes carry its own name as namespace
  const clusterScoped =
    a.namespace === '' || (a.resource.group === '' && a.resource.resource === 'namespaces');
  if (scope === 'Cluster' && !clusterScoped) return false;
  if (scope === 'Namespaced' && clusterScoped) return false;
  if ((rule as NamedRuleWithOperations).resourceNames?.length) {
    const name = a.name || a.object?.metadata?.name || '';
    if (!(rule as NamedRuleWithOperations).resourceNames!.includes(name)) return false;
  }
  return true;
}

/** upstream's IsExemptAdmissionConfigurationResource: webhooks and policies never see their own configuration */
export function isExemptConfigurationResource(a: AdmissionAttributes): boolean {
  return (
    a.resource.group === 'admissionregistration.k8s.io' &&
    [
      'validatingwebhookconfigurations',
      'mutatingwebhookconfigurations',
      'validatingadmissionpolicies',
      'validatingadmissionpolicybindings',
      'mutatingadmissionpolicies',
      'mutatingadmissionpolicybindings',
    ].includes(a.resource.resource)
  );
}

function labelsOf(o: { metadata?: { labels?: Record<string, string> } } | undefined): Record<string, string> {
  return o?.metadata?.labels ?? {};
}

/** upstream's object.Matcher: the new or the old object's labels match */
export function objectSelectorMatches(sel: LabelSelector | undefined, a: AdmissionAttributes): boolean {
  if (!sel || (!sel.matchLabels && !sel.matchExpressions?.length)) return true;
  return (
    (a.object !== undefined && selectorMatches(sel, labelsOf(a.object))) ||
    (a.oldObject !== undefined && selectorMatches(sel, labelsOf(a.oldObject)))
  );
}

/** upstream's namespace.Matcher: cluster-scoped requests match; a Namespace is matched on its own labels */
export async function namespaceSelectorMatches(
  sel: LabelSelector | undefined,
  a: AdmissionAttributes,
  store: AdmissionStore,
): Promise<boolean> {
  if (!sel || (!sel.matchLabels && !sel.matchExpressions?.length)) return true;
  if (a.resource.group === '' && a.resource.resource === 'namespaces' && a.subresource === '') {
    const ns = a.object ?? a.oldObject;
    return selectorMatches(sel, labelsOf(ns));
  }
  if (a.namespace === '') return true;
  const ns = await store.get('', 'namespaces', '', a.namespace);
  return selectorMatches(sel, labelsOf(ns));
}

export interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: NamedRuleWithOperations[];
  excludeResourceRules?: NamedRuleWithOperations[];
  matchPolicy?: string;
}

/** upstream's policy matching.Matcher: selectors, then some resourceRule and no excludeResourceRule */
export async function matchResourcesMatch(
  m: MatchResources | undefined,
  a: AdmissionAttributes,
  store: AdmissionStore,
  requireRules: boolean,
): Promise<boolean> {
  if (!m) return !requireRules;
  if (!(await namespaceSelectorMatches(m.namespaceSelector, a, store))) return false;
  if (!objectSelectorMatches(m.objectSelector, a)) return false;
  if (m.excludeResourceRules?.some((r) => ruleMatches(r, a))) return false;
  if (!m.resourceRules?.length) return !requireRules;
  return m.resourceRules.some((r) => ruleMatches(r, a));
}
