// The RBAC objects the authorizer reads on every request, kept in memory from watches on the apiserver's own
// registry (upstream's RBAC authorizer reads the same objects from its informers' listers).
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { ApiHandler, KubeObject, UserInfo } from '../../../api/request.js';
import type { Logger } from '../../../util/logger.js';
import { RegistryMirror } from '../registry-mirror.js';
import { SubjectIndex } from './subject-index.js';

const GROUP = 'rbac.authorization.k8s.io';
const RESOURCES = ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'] as const;
type RbacResource = (typeof RESOURCES)[number];

/** The four RBAC kinds as read-only maps, current within a watch event of the registry. */
export class RbacPolicyCache {
  private readonly live = new Map<RbacResource, RegistryMirror<KubeObject>>();
  private roleBindingsByNs = new Map<string, RoleBinding[]>();
  private clusterRoleBindingList: ClusterRoleBinding[] = [];
  /** the bindings by the users and groups their subjects name, rebuilt with the lists above */
  private clusterRoleBindingIndex = new SubjectIndex<ClusterRoleBinding>([], '');
  private roleBindingIndexByNs = new Map<string, SubjectIndex<RoleBinding>>();
  /** bumped on every change: lets callers cache derived answers */
  generation = 0;

  constructor(api: ApiHandler, log: Logger) {
    for (const resource of RESOURCES)
      this.live.set(
        resource,
        new RegistryMirror<KubeObject>({
          api,
          group: GROUP,
          version: 'v1',
          resource,
          log,
          slim: (o) => o,
          onChange: () => this.reindex(resource),
          onReset: () => this.reindex(resource),
        }),
      );
  }

  /** Starts the four watches; resolves once each has delivered its initial list. */
  async start(): Promise<void> {
    await Promise.all([...this.live.values()].map((m) => m.start()));
  }

  stop(): void {
    for (const m of this.live.values()) m.stop();
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.live.get('clusterroles')!.get('', name) as ClusterRole | undefined;
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.live.get('roles')!.get(namespace, name) as Role | undefined;
  }

  clusterRoleBindings(): readonly ClusterRoleBinding[] {
    return this.clusterRoleBindingList;
  }

  roleBindings(namespace: string): readonly RoleBinding[] {
    return this.roleBindingsByNs.get(namespace) ?? [];
  }

  /**
   * The ClusterRoleBindings with a subject that may name `user`, in clusterRoleBindings() order: every binding the
   * full list has whose subjects match the user (and possibly a few more, which the caller's match skips).
   */
  clusterRoleBindingsFor(user: UserInfo): readonly ClusterRoleBinding[] {
    return this.clusterRoleBindingIndex.bindingsFor(user);
  }

  /** roleBindings(namespace) narrowed to the user, in the same order, as clusterRoleBindingsFor */
  roleBindingsFor(namespace: string, user: UserInfo): readonly RoleBinding[] {
    return this.roleBindingIndexByNs.get(namespace)?.bindingsFor(user) ?? [];
  }

  clusterRoles(): ClusterRole[] {
    return [...this.live.get('clusterroles')!.values()] as unknown as ClusterRole[];
  }

  private reindex(resource: RbacResource): void {
    this.generation++;
    const objects = [...this.live.get(resource)!.values()];
    if (resource === 'clusterrolebindings') {
      this.clusterRoleBindingList = objects as unknown as ClusterRoleBinding[];
      this.clusterRoleBindingIndex = new SubjectIndex(this.clusterRoleBindingList, '');
    }
    if (resource === 'rolebindings') {
      const byNs = new Map<string, RoleBinding[]>();
      for (const rb of objects as unknown as RoleBinding[]) {
        const ns = rb.metadata?.namespace ?? '';
        const list = byNs.get(ns) ?? [];
        list.push(rb);
        byNs.set(ns, list);
      }
      this.roleBindingsByNs = byNs;
      this.roleBindingIndexByNs = new Map([...byNs].map(([ns, list]) => [ns, new SubjectIndex(list, ns)]));
    }
  }
}
