// Bindings by the users and groups their subjects name, so the authorizer visits only the bindings that can apply to
// a request's user instead of walking all of them (upstream walks every binding on every request). Built from one
// list of bindings; answers in that list's order, so what the authorizer sees is the walk minus non-matching ones.
import type { Subject } from 'kubernetes-types/rbac/v1.js';
import type { UserInfo } from '../../../api/request.js';

const SA_PREFIX = 'system:serviceaccount:';

interface Binding {
  subjects?: Subject[];
}

/**
 * The one user name or group a subject matches (subjectMatches in resolver.ts): `u:<username>` for a User and for a
 * ServiceAccount (whose user is system:serviceaccount:NS:NAME), `g:<group>` for a Group; none for a subject that can
 * match nobody (another kind, no name, a ServiceAccount with no namespace in a ClusterRoleBinding).
 */
export function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  if (typeof s.name !== 'string') return undefined;
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns ? `u:${SA_PREFIX}${ns}:${s.name}` : undefined;
    }
    default:
      return undefined;
  }
}

export class SubjectIndex<B extends Binding> {
  /** key → positions in `bindings`, ascending */
  private readonly positions = new Map<string, number[]>();

  constructor(
    private readonly bindings: readonly B[],
    bindingNamespace: string,
  ) {
    bindings.forEach((binding, i) => {
      for (const s of binding.subjects ?? []) {
        const key = subjectKey(s, bindingNamespace);
        if (key === undefined) continue;
        const list = this.positions.get(key);
        if (!list) this.positions.set(key, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
  }

  /** the bindings with a subject naming the user or one of its groups, in list order, each once */
  bindingsFor(user: UserInfo): B[] {
    const found: number[][] = [];
    const byName = this.positions.get(`u:${user.username}`);
    if (byName) found.push(byName);
    for (const g of user.groups) {
      const byGroup = this.positions.get(`g:${g}`);
      if (byGroup) found.push(byGroup);
    }
    if (found.length === 0) return [];
    if (found.length === 1) return found[0].map((i) => this.bindings[i]);
    const merged = [...new Set(found.flat())].sort((a, b) => a - b);
    return merged.map((i) => this.bindings[i]);
  }
}
