// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go): a request is allowed when some rule that
// applies to the user allows it; otherwise RBAC has no opinion (the next authorizer, or a 403).
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../../../api/request.js';
import type {
  Authorizer,
  Decision,
  NonResourceAttributes,
  NonResourceRule,
  ResourceAttributes,
  ResourceRule,
} from '../authorizer.js';
import { nonResourceRuleAllows, resourceRuleMatcher } from './rules.js';
import type { RuleResolver } from './resolver.js';

function toReviewRules(rules: readonly PolicyRule[]): {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
} {
  const resourceRules: ResourceRule[] = [];
  const nonResourceRules: NonResourceRule[] = [];
  for (const r of rules) {
    if (r.resources?.length) {
      resourceRules.push({
        verbs: [...r.verbs],
        ...(r.apiGroups ? { apiGroups: [...r.apiGroups] } : {}),
        resources: [...r.resources],
        ...(r.resourceNames?.length ? { resourceNames: [...r.resourceNames] } : {}),
      });
    }
    if (r.nonResourceURLs?.length)
      nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs] });
  }
  return { resourceRules, nonResourceRules };
}

export class RbacAuthorizer implements Authorizer {
  constructor(private readonly resolver: RuleResolver) {}

  authorize(
    user: UserInfo,
    attrs: { resource?: ResourceAttributes; nonResource?: NonResourceAttributes },
  ): Decision {
    let allowed = false;
    let reason = '';
    const errors: string[] = [];
    const resource = attrs.resource;
    const nonResource = attrs.nonResource;
    const allows = resource
      ? resourceRuleMatcher(resource)
      : (rule: PolicyRule) => nonResourceRuleAllows(nonResource ?? {}, rule);
    this.resolver.visitRulesFor(user, resource?.namespace ?? '', (source, rule, err) => {
      if (err) {
        errors.push(err.message);
        return true;
      }
      if (allows(rule!)) {
        allowed = true;
        reason = `RBAC: allowed by ${source!()}`;
        return false;
      }
      return true;
    });
    if (allowed) return { allowed: true, reason };
    return { allowed: false, ...(errors.length ? { reason: `RBAC: ${aggregate(errors)}` } : {}) };
  }

  rulesFor(user: UserInfo, namespace: string) {
    const { rules, errors } = this.resolver.rulesFor(user, namespace);
    return {
      ...toReviewRules(rules),
      incomplete: errors.length > 0,
      ...(errors.length ? { evaluationError: aggregate(errors.map((e) => e.message)) } : {}),
    };
  }
}

/** utilerrors.NewAggregate(...).Error(): one message as it is, several as [a, b] */
export const aggregate = (messages: readonly string[]): string =>
  messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;

/**
 * The always-allowed groups (upstream's authorizerfactory.NewPrivilegedGroups(system:masters), first in the
 * chain): allows with no reason; its rules are everything.
 */
export function privilegedGroups(...groups: string[]): Authorizer {
  const isPrivileged = (u: UserInfo): boolean => u.groups.some((g) => groups.includes(g));
  return {
    authorize: (user) => (isPrivileged(user) ? { allowed: true } : { allowed: false }),
    rulesFor: (user) =>
      isPrivileged(user)
        ? {
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
            incomplete: false,
          }
        : { resourceRules: [], nonResourceRules: [], incomplete: false },
  };
}

/**
 * upstream's union authorizer: the first authorizer that allows (or denies) decides; reasons of those without an
 * opinion are joined with newlines. SelfSubjectRulesReview concatenates every authorizer's rules.
 */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    authorize(user, attrs) {
      const reasons: string[] = [];
      for (const a of authorizers) {
        const d = a.authorize(user, attrs);
        if (d.allowed || d.denied) return d;
        if (d.reason) reasons.push(d.reason);
      }
      return { allowed: false, ...(reasons.length ? { reason: reasons.join('\n') } : {}) };
    },
    rulesFor(user, namespace) {
      const out = {
        resourceRules: [] as ResourceRule[],
        nonResourceRules: [] as NonResourceRule[],
        incomplete: false,
      };
      const errors: string[] = [];
      for (const a of authorizers) {
        const r = a.rulesFor(user, namespace);
        out.resourceRules.push(...r.resourceRules);
        out.nonResourceRules.push(...r.nonResourceRules);
        out.incomplete ||= r.incomplete;
        if (r.evaluationError) errors.push(r.evaluationError);
      }
      return { ...out, ...(errors.length ? { evaluationError: errors.join(', ') } : {}) };
    },
  };
}
