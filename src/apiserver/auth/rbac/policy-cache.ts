// The RBAC objects the authorizer reads on every request, kept in memory from watches on the apiserver's own
// registry (upstream's RBAC authorizer reads the same objects from its informers' listers).
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { ApiHandler, KubeObject, UserInfo, WatchEvent, WatchHandle } from '../../../api/request.js';
import type { Logger } from '../../../util/logger.js';
import { SubjectIndex } from './subject-index.js';

const GROUP = 'rbac.authorization.k8s.io';
const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };
const RESOURCES = ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'] as const;
type RbacResource = (typeof RESOURCES)[number];

const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The four RBAC kinds as read-only maps, current within a watch event of the registry. */
export class RbacPolicyCache {
  private readonly live = new Map<RbacResource, Map<string, KubeObject>>();
  private roleBindingsByNs = new Map<string, RoleBinding[]>();
  private clusterRoleBindingList: ClusterRoleBinding[] = [];
  /** the bindings by the users and groups their subjects name, rebuilt with the lists above */
  private clusterRoleBindingIndex = new SubjectIndex<ClusterRoleBinding>([], '');
  private roleBindingIndexByNs = new Map<string, SubjectIndex<RoleBinding>>();
  private readonly handles = new Map<RbacResource, WatchHandle>();
  private stopped = false;
  /** bumped on every change: lets callers cache derived answers */
  generation = 0;

  constructor(
    private readonly api: ApiHandler,
    private readonly log: Logger,
  ) {
    for (const r of RESOURCES) this.live.set(r, new Map());
  }

  /** Starts the four watches; resolves once each has delivered its initial list. */
  async start(): Promise<void> {
    await Promise.all(RESOURCES.map((r) => this.watch(r)));
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.handles.values()) h.stop();
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.live.get('clusterroles')!.get(`/${name}`) as ClusterRole | undefined;
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.live.get('roles')!.get(`${namespace}/${name}`) as Role | undefined;
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

  /** list+watch with initial events; the new map replaces the live one only once its list is complete */
  private watch(resource: RbacResource): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let pending: Map<string, KubeObject> | undefined = new Map();
      let synced = false;
      const apply = (map: Map<string, KubeObject>, ev: WatchEvent): void => {
        if (ev.type === 'DELETED') map.delete(keyOf(ev.object));
        else map.set(keyOf(ev.object), ev.object);
      };
      const restart = (err?: unknown): void => {
        if (this.stopped) return;
        this.log.warn({ resource, err: (err as Error | undefined)?.message }, 'RBAC watch ended; relisting');
        setTimeout(() => void this.watch(resource).catch(() => undefined), 100).unref();
      };
      this.api
        .watch(
          {
            verb: 'watch',
            group: GROUP,
            version: 'v1',
            resource,
            options: {
              sendInitialEvents: true,
              allowWatchBookmarks: true,
              resourceVersionMatch: 'NotOlderThan',
            },
            user: SYSTEM,
          },
          {
            event: (ev) => {
              if (ev.type === 'BOOKMARK') {
                const end = ev.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true';
                if (end && pending) {
                  this.live.set(resource, pending);
                  pending = undefined;
                  this.reindex(resource);
                  synced = true;
                  resolve();
                }
                return true;
              }
              if (ev.type === 'ERROR') return true;
              if (pending) apply(pending, ev);
              else {
                apply(this.live.get(resource)!, ev);
                this.reindex(resource);
              }
              return true;
            },
            end: (err) => {
              if (!synced) reject(err instanceof Error ? err : new Error(`RBAC ${resource} watch ended`));
              else restart(err);
            },
          },
        )
        .then((h) => this.handles.set(resource, h), reject);
    });
  }
}
