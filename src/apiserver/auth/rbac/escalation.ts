// RBAC's own guard on writes of roles and bindings (pkg/registry/rbac/role|clusterrole|rolebinding|
// clusterrolebinding/policybased): nobody grants what they do not hold. A Role or ClusterRole is written only by a
// user whose own rules cover it, or who may `escalate` it; a binding only by a user who holds every rule of the role
// it refers to, or who may `bind` that role. system:masters is exempt (rbacregistry.EscalationAllowed).
// Upstream does this in the storage layer, so it cannot be switched off; kubemu runs it as a validating step the
// registry always appends after the admission plugins.
import type { PolicyRule, RoleRef } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../../../api/request.js';
import {
  admissionForbidden,
  type AdmissionAttributes,
  type AdmissionPlugin,
} from '../../admission/interface.js';
import type { Authorizer } from '../authorizer.js';
import type { RuleResolver } from './resolver.js';
import { compactRules, compactString, covers, goQuoteList } from './rules.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const PRIVILEGED_GROUP = 'system:masters';
const FULL_AUTHORITY: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];

export interface EscalationCheckDeps {
  authorizer(): Authorizer;
  resolver(): RuleResolver;
}

/** ConfirmNoEscalation: the error text when `user`'s rules in `namespace` do not cover `rules` */
export function escalationError(
  resolver: RuleResolver,
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
): string | undefined {
  const owner = resolver.rulesFor(user, namespace);
  const missing = covers(owner.rules, rules);
  if (missing.length === 0) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (owner.errors.length) msg += `; resolution errors: [${owner.errors.map((e) => e.message).join(' ')}]`;
  return msg;
}

/** only ownerReferences/finalizers changed: what the garbage collector writes (IsOnlyMutatingGCFields) */
function onlyGcFields(a: AdmissionAttributes): boolean {
  if (!a.oldObject || !a.object) return false;
  const strip = (o: NonNullable<typeof a.object>): string => {
    const { metadata, ...rest } = o;
    const {
      ownerReferences: _o,
      finalizers: _f,
      resourceVersion: _r,
      managedFields: _m,
      ...meta
    } = metadata ?? {};
    return JSON.stringify({ ...rest, metadata: meta });
  };
  return strip(a.object) === strip(a.oldObject);
}

export function rbacEscalationCheck(deps: EscalationCheckDeps): AdmissionPlugin {
  const allowedTo = (
    user: UserInfo,
    verb: string,
    resource: string,
    namespace: string,
    name: string,
  ): boolean =>
    deps.authorizer().authorize(user, {
      resource: { verb, group: RBAC_GROUP, resource, ...(namespace ? { namespace } : {}), name },
    }).allowed;
  return {
    name: 'RBACEscalationCheck',
    validate(a) {
      if (a.resource.group !== RBAC_GROUP || a.subresource) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (a.user.groups.includes(PRIVILEGED_GROUP) || !a.object) return;
      if (a.operation === 'UPDATE' && onlyGcFields(a)) return;
      const resolver = deps.resolver();
      const resource = a.resource.resource;
      const name = a.name;
      if (resource === 'roles' || resource === 'clusterroles') {
        if (allowedTo(a.user, 'escalate', resource, a.namespace, name)) return;
        const aggregated = resource === 'clusterroles' && !!a.object['aggregationRule'];
        const rules = aggregated ? FULL_AUTHORITY : ((a.object['rules'] as PolicyRule[] | undefined) ?? []);
        const err = escalationError(resolver, a.user, a.namespace, rules);
        if (err) throw admissionForbidden(a, err);
        return;
      }
      if (resource === 'rolebindings' || resource === 'clusterrolebindings') {
        const ref = a.object['roleRef'] as RoleRef | undefined;
        if (!ref) return;
        const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
        if (allowedTo(a.user, 'bind', roleResource, a.namespace, ref.name)) return;
        let rules: PolicyRule[];
        try {
          rules = resolver.roleReferenceRules(ref, a.namespace);
        } catch (err) {
          throw admissionForbidden(a, (err as Error).message);
        }
        const err = escalationError(resolver, a.user, a.namespace, rules);
        if (err) throw admissionForbidden(a, err);
      }
    },
  };
}
