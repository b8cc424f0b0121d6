// PolicyRule arithmetic, as upstream's RBAC: does a rule allow a request (plugin/pkg/auth/authorizer/rbac/rbac.go
// RuleAllows), do one set of rules cover another (pkg/registry/rbac/validation/policy_comparator.go Covers), and
// the compact text of missing rules that an escalation refusal names (CompactRules, PolicyRule.CompactString).
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import type { NonResourceAttributes, ResourceAttributes } from '../authorizer.js';

export const VERB_ALL = '*';
export const API_GROUP_ALL = '*';
export const RESOURCE_ALL = '*';
export const NON_RESOURCE_ALL = '*';

const has = (list: readonly string[] | undefined, item: string): boolean => !!list && list.includes(item);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes(VERB_ALL) || rule.verbs.includes(verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, API_GROUP_ALL) || has(rule.apiGroups, group);
}

/** `combined` is `resource` or `resource/subresource`; a rule's `*` + `/subresource` matches any resource's */
function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === RESOURCE_ALL || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r === `*/${subresource}`) return true;
  }
  return false;
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames;
  return !names || names.length === 0 || names.includes(name);
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === NON_RESOURCE_ALL || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/**
 * RuleAllows for one request's attributes, against many rules: what the request asks is worked out once (the
 * authorizer tries every rule that applies to the user until one allows).
 */
export function resourceRuleMatcher(attrs: ResourceAttributes): (rule: PolicyRule) => boolean {
  const sub = attrs.subresource ?? '';
  const combined = sub ? `${attrs.resource ?? ''}/${sub}` : (attrs.resource ?? '');
  const verb = attrs.verb ?? '';
  const group = attrs.group ?? '';
  const name = attrs.name ?? '';
  return (rule) =>
    verbMatches(rule, verb) &&
    apiGroupMatches(rule, group) &&
    resourceMatches(rule, combined, sub) &&
    resourceNameMatches(rule, name);
}

export function resourceRuleAllows(attrs: ResourceAttributes, rule: PolicyRule): boolean {
  return resourceRuleMatcher(attrs)(rule);
}

export function nonResourceRuleAllows(attrs: NonResourceAttributes, rule: PolicyRule): boolean {
  return verbMatches(rule, attrs.verb ?? '') && nonResourceUrlMatches(rule, attrs.path ?? '');
}

// ---------------------------------------------------------------- covers

/** BreakdownRule: one rule per verb × group × resource × resourceName (or verb × URL) */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        for (const name of names)
          out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: readonly string[] | undefined, items: readonly string[] | undefined): boolean =>
  (items ?? []).every((i) => has(set, i));

function resourceCoversAll(
  owner: readonly string[] | undefined,
  servant: readonly string[] | undefined,
): boolean {
  if (hasAll(owner, servant) || has(owner, RESOURCE_ALL)) return true;
  return (servant ?? []).every((res) => {
    if (has(owner, res)) return true;
    const slash = res.indexOf('/');
    return slash >= 0 && has(owner, `*${res.slice(slash)}`);
  });
}

function nonResourceUrlsCoverAll(
  owner: readonly string[] | undefined,
  servant: readonly string[] | undefined,
): boolean {
  return (servant ?? []).every((url) =>
    (owner ?? []).some(
      (o) => o === url || o === NON_RESOURCE_ALL || (o.endsWith('*') && url.startsWith(o.slice(0, -1))),
    ),
  );
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, VERB_ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, API_GROUP_ALL) || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = nonResourceUrlsCoverAll(owner.nonResourceURLs, sub.nonResourceURLs);
  const ownerNames = owner.resourceNames ?? [];
  const names =
    (sub.resourceNames ?? []).length === 0
      ? ownerNames.length === 0
      : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

/** Covers: whether `owner` rules include every permission of `servant`; else the simple rules missing */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of servant)
    for (const simple of breakdownRule(rule))
      if (!owner.some((o) => ruleCovers(o, simple))) missing.push(simple);
  return missing;
}

// ---------------------------------------------------------------- compact text

/** CompactRules: simple resource rules that differ only in verb become one rule */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const byKey = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const simple =
      !rule.nonResourceURLs?.length &&
      rule.apiGroups?.length === 1 &&
      rule.resources?.length === 1 &&
      (rule.resourceNames?.length ?? 0) <= 1;
    if (!simple) {
      out.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups, rule.resources, rule.resourceNames ?? []]);
    const found = byKey.get(key);
    if (found) {
      for (const v of rule.verbs) if (!found.verbs.includes(v)) found.verbs.push(v);
      continue;
    }
    const copy: PolicyRule = { ...rule, verbs: [...rule.verbs] };
    byKey.set(key, copy);
    out.push(copy);
  }
  return out;
}

/** Go's %q of a []string: ["a" "b"] */
export const goQuoteList = (items: readonly string[]): string =>
  `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;

/** PolicyRule.CompactString: {APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]} */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${goQuoteList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${goQuoteList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoteList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${goQuoteList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuoteList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
