// The Node authorizer (upstream plugin/pkg/auth/authorizer/node/node_authorizer.go): a kubelet, `system:node:NAME`
// in `system:nodes`, may read the secrets, configmaps, PVCs and PVs of pods bound to its node and create tokens for
// their ServiceAccounts, reach its own Lease, and otherwise do what upstream's static node rules (the `system:node`
// ClusterRole's rules) allow. Everything else gets no opinion, with upstream's reason, so RBAC decides next.
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../../../api/request.js';
import type { Authorizer, Decision, NonResourceAttributes, ResourceAttributes } from '../authorizer.js';
import { nonResourceRuleAllows, resourceRuleAllows } from '../rbac/rules.js';
import type { NodeGraph, VertexType } from './graph.js';

export const NODES_GROUP = 'system:nodes';
const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** upstream's NodeIdentifier: the node's name for a `system:node:NAME` user in `system:nodes` ('' when unnamed) */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP)) return undefined;
  if (!user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  return user.username.slice(NODE_USER_PREFIX.length);
}

const noOpinion = (reason?: string): Decision => ({ allowed: false, ...(reason ? { reason } : {}) });
const ALLOW: Decision = { allowed: true };

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly graph: NodeGraph,
    private readonly nodeRules: readonly PolicyRule[],
  ) {}

  authorize(
    user: UserInfo,
    attrs: { resource?: ResourceAttributes; nonResource?: NonResourceAttributes },
  ): Decision {
    const nodeName = nodeIdentity(user);
    if (nodeName === undefined) return noOpinion();
    if (nodeName === '') return noOpinion(`unknown node for user ${JSON.stringify(user.username)}`);
    const r = attrs.resource;
    if (r) {
      const group = r.group ?? '';
      const resource = r.resource ?? '';
      if (group === '') {
        switch (resource) {
          case 'secrets':
            return this.readNamespaced(nodeName, 'secret', r);
          case 'configmaps':
            return this.readNamespaced(nodeName, 'configmap', r);
          case 'persistentvolumeclaims':
            if (r.subresource === 'status') return this.statusUpdate(nodeName, 'pvc', r);
            return this.get(nodeName, 'pvc', r);
          case 'persistentvolumes':
            return this.get(nodeName, 'pv', r);
          case 'serviceaccounts':
            return this.createToken(nodeName, r);
        }
      }
      if (group === 'coordination.k8s.io' && resource === 'leases') return this.lease(nodeName, r);
    }
    // access to other resources is not subdivided: upstream's static node rules
    return this.staticRules(attrs) ? ALLOW : noOpinion();
  }

  rulesFor(): ReturnType<Authorizer['rulesFor']> {
    // upstream's Node authorizer answers rules reviews with nothing, incomplete
    return { resourceRules: [], nonResourceRules: [], incomplete: true };
  }

  private staticRules(attrs: {
    resource?: ResourceAttributes;
    nonResource?: NonResourceAttributes;
  }): boolean {
    return this.nodeRules.some((rule) =>
      attrs.resource
        ? resourceRuleAllows(attrs.resource, rule)
        : nonResourceRuleAllows(attrs.nonResource ?? {}, rule),
    );
  }

  private readNamespaced(node: string, type: VertexType, r: ResourceAttributes): Decision {
    if (!['get', 'list', 'watch'].includes(r.verb ?? ''))
      return noOpinion('can only read resources of this type');
    if (r.subresource) return noOpinion('cannot read subresource');
    if (!r.namespace) return noOpinion('can only read namespaced object of this type');
    return this.path(node, type, r);
  }

  private get(node: string, type: VertexType, r: ResourceAttributes): Decision {
    if (r.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (r.subresource) return noOpinion('cannot get subresource');
    return this.path(node, type, r);
  }

  private statusUpdate(node: string, type: VertexType, r: ResourceAttributes): Decision {
    if (r.verb !== 'update' && r.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    return this.path(node, type, r);
  }

  private createToken(node: string, r: ResourceAttributes): Decision {
    if (r.verb !== 'create' || !r.name)
      return noOpinion('can only create tokens for individual service accounts');
    if (r.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.path(node, 'serviceAccount', r);
  }

  private lease(node: string, r: ResourceAttributes): Decision {
    const verb = r.verb ?? '';
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(verb))
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (r.namespace !== NODE_LEASE_NAMESPACE)
      return noOpinion(
        `can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`,
      );
    // the name of a create is checked by NodeRestriction
    if (verb !== 'create' && r.name !== node)
      return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }

  private path(node: string, type: VertexType, r: ResourceAttributes): Decision {
    if (!r.name) return noOpinion('No Object name found');
    return this.graph.hasPath(node, type, r.namespace ?? '', r.name)
      ? ALLOW
      : noOpinion(`no relationship found between node '${node}' and this object`);
  }
}
