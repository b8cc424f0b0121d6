// Which rules apply to a user in a namespace (pkg/registry/rbac/validation/rule.go DefaultRuleResolver):
// every ClusterRoleBinding naming the user, then every RoleBinding of the namespace naming the user, each
// giving the rules of the role it refers to.
import type { PolicyRule, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../../../api/request.js';
import type { RbacPolicyCache } from './policy-cache.js';

const SA_PREFIX = 'system:serviceaccount:';

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount')
    return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** appliesToUser: `namespace` is the binding's, for ServiceAccount subjects without one */
export function subjectMatches(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || namespace;
      if (!ns) return false;
      return user.username === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/** Where a rule came from: upstream's clusterRoleBindingDescriber / roleBindingDescriber text */
export type RuleSource = () => string;

/** visit returns false to stop */
export type RuleVisitor = (
  source: RuleSource | undefined,
  rule: PolicyRule | undefined,
  err: Error | undefined,
) => boolean;

export class RuleResolver {
  constructor(private readonly cache: RbacPolicyCache) {}

  /** GetRoleReferenceRules; throws upstream's NotFound text when the role is missing */
  roleReferenceRules(ref: RoleRef, namespace: string): PolicyRule[] {
    if (ref.kind === 'Role') {
      const role = this.cache.getRole(namespace, ref.name);
      if (!role) throw new Error(`role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
      return role.rules ?? [];
    }
    if (ref.kind === 'ClusterRole') {
      const role = this.cache.getClusterRole(ref.name);
      if (!role)
        throw new Error(`clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
      return role.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`);
  }

  visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    // only the bindings whose subjects may name the user: the others are skipped by the match below anyway, so the
    // rules visited, their order and the errors met are those of walking every binding (upstream's walk)
    for (const crb of this.cache.clusterRoleBindingsFor(user)) {
      const subject = (crb.subjects ?? []).find((s) => subjectMatches(user, s, ''));
      if (!subject) continue;
      let rules: PolicyRule[];
      try {
        rules = this.roleReferenceRules(crb.roleRef, '');
      } catch (err) {
        if (!visit(undefined, undefined, err as Error)) return;
        continue;
      }
      const source: RuleSource = () =>
        `ClusterRoleBinding ${JSON.stringify(crb.metadata?.name ?? '')} of ${crb.roleRef.kind} ${JSON.stringify(
          crb.roleRef.name,
        )} to ${describeSubject(subject, '')}`;
      for (const rule of rules) if (!visit(source, rule, undefined)) return;
    }
    if (!namespace) return;
    for (const rb of this.cache.roleBindingsFor(namespace, user)) {
      if (!this.visitRoleBinding(user, namespace, rb, visit)) return;
    }
  }

  private visitRoleBinding(user: UserInfo, namespace: string, rb: RoleBinding, visit: RuleVisitor): boolean {
    const subject = (rb.subjects ?? []).find((s) => subjectMatches(user, s, namespace));
    if (!subject) return true;
    let rules: PolicyRule[];
    try {
      rules = this.roleReferenceRules(rb.roleRef, namespace);
    } catch (err) {
      return visit(undefined, undefined, err as Error);
    }
    const source: RuleSource = () =>
      `RoleBinding "${rb.metadata?.name ?? ''}/${namespace}" of ${rb.roleRef.kind} ${JSON.stringify(
        rb.roleRef.name,
      )} to ${describeSubject(subject, namespace)}`;
    for (const rule of rules) if (!visit(source, rule, undefined)) return false;
    return true;
  }

  /** RulesFor: every rule that applies, with the errors met on the way (a missing role, say) */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: Error[] } {
    const rules: PolicyRule[] = [];
    const errors: Error[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, err) => {
      if (rule) rules.push(rule);
      if (err) errors.push(err);
      return true;
    });
    return { rules, errors };
  }
}
