// The authorizer with bindings found by subject (SubjectIndex) decides exactly as upstream's walk of every binding:
// same allowed/denied, same "allowed by" reason (the first binding in walk order), same denial reasons (missing roles
// met on the way, in order), same SelfSubjectRulesReview rules — over random policies, users and requests, and
// after the watches change the bindings.
import fc from 'fast-check';
import type { ClusterRoleBinding, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { describe, expect, it } from 'vitest';
import type { ApiHandler, KubeObject, UserInfo, WatchSink } from '../../../api/request.js';
import { silentLogger } from '../../../util/logger.js';
import type { ResourceAttributes } from '../authorizer.js';
import { RbacPolicyCache } from './policy-cache.js';
import { RbacAuthorizer } from './rbac-authorizer.js';
import { RuleResolver } from './resolver.js';
import { subjectKey, SubjectIndex } from './subject-index.js';

/** upstream's walk: every ClusterRoleBinding, then every RoleBinding of the namespace */
class WalkingPolicyCache extends RbacPolicyCache {
  override clusterRoleBindingsFor(): readonly ClusterRoleBinding[] {
    return this.clusterRoleBindings();
  }
  override roleBindingsFor(namespace: string): readonly RoleBinding[] {
    return this.roleBindings(namespace);
  }
}

/** the registry's watch as the cache uses it: the initial list, the end-of-list bookmark, then pushed events */
class FakeRbacApi implements ApiHandler {
  private readonly sinks = new Map<string, WatchSink[]>();
  constructor(private readonly objects: Record<string, KubeObject[]>) {}
  handle(): never {
    throw new Error('not used');
  }
  watch(req: { resource?: string }, sink: WatchSink) {
    const resource = req.resource!;
    (this.sinks.get(resource) ?? this.sinks.set(resource, []).get(resource)!).push(sink);
    queueMicrotask(() => {
      for (const object of this.objects[resource] ?? []) sink.event({ type: 'ADDED', object });
      sink.event({
        type: 'BOOKMARK',
        object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
      });
    });
    return Promise.resolve({ stop: () => undefined });
  }
  push(resource: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    for (const sink of this.sinks.get(resource) ?? []) sink.event({ type, object });
  }
}

const USERS = ['jane', 'bob', 'system:serviceaccount:ns1:sa', 'system:serviceaccount:ns2:sa', 'undefined'];
const GROUPS = ['devs', 'ops', 'system:authenticated', 'system:serviceaccounts'];
const NAMESPACES = ['ns1', 'ns2', ''];
const ROLES = ['reader', 'writer', 'missing', 'secrets'];

const subject = fc.oneof(
  fc.record({ kind: fc.constant('User'), name: fc.constantFrom(...USERS) }),
  fc.record({ kind: fc.constant('Group'), name: fc.constantFrom(...GROUPS) }),
  fc.record({
    kind: fc.constant('ServiceAccount'),
    name: fc.constantFrom('sa', 'other'),
    namespace: fc.constantFrom('', 'ns1', 'ns2'),
  }),
  fc.record({ kind: fc.constant('Robot'), name: fc.constantFrom(...USERS) }),
) as fc.Arbitrary<Subject>;

const roleRef = fc.record({
  apiGroup: fc.constant('rbac.authorization.k8s.io'),
  kind: fc.constantFrom('ClusterRole', 'Role', 'Odd'),
  name: fc.constantFrom(...ROLES),
});

const rules = [
  { reader: [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] }] },
  { writer: [{ apiGroups: ['', 'apps'], resources: ['*'], verbs: ['create', 'update'] }] },
  { secrets: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['s1'] }] },
];
const roleRules = Object.assign({}, ...rules) as Record<string, unknown[]>;

interface Policy {
  crbs: { subjects: Subject[]; roleRef: RoleRef }[];
  rbs: { namespace: string; subjects: Subject[]; roleRef: RoleRef }[];
}

const policy: fc.Arbitrary<Policy> = fc.record({
  crbs: fc.array(fc.record({ subjects: fc.array(subject, { maxLength: 3 }), roleRef }), { maxLength: 12 }),
  rbs: fc.array(
    fc.record({
      namespace: fc.constantFrom('ns1', 'ns2'),
      subjects: fc.array(subject, { maxLength: 3 }),
      roleRef,
    }),
    { maxLength: 12 },
  ),
});

const user = fc.record({
  username: fc.constantFrom(...USERS),
  groups: fc.subarray(GROUPS),
}) as fc.Arbitrary<UserInfo>;

const request = fc.record({
  verb: fc.constantFrom('get', 'list', 'create', 'delete'),
  group: fc.constantFrom('', 'apps'),
  version: fc.constant('v1'),
  resource: fc.constantFrom('pods', 'configmaps', 'secrets', 'deployments'),
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom('s1', 's2'),
}) as fc.Arbitrary<ResourceAttributes>;

function objectsOf(p: Policy): Record<string, KubeObject[]> {
  const clusterroles = ROLES.filter((r) => r !== 'missing').map((name) => ({
    metadata: { name },
    rules: roleRules[name],
  }));
  const roles = ['ns1', 'ns2'].flatMap((namespace) =>
    ['reader', 'secrets'].map((name) => ({ metadata: { name, namespace }, rules: roleRules[name] })),
  );
  return {
    clusterroles,
    roles,
    clusterrolebindings: p.crbs.map((b, i) => ({ metadata: { name: `crb-${i}` }, ...b })),
    rolebindings: p.rbs.map((b, i) => ({
      metadata: { name: `rb-${i}`, namespace: b.namespace },
      subjects: b.subjects,
      roleRef: b.roleRef,
    })),
  };
}

async function authorizers(objects: Record<string, KubeObject[]>) {
  const api = new FakeRbacApi(objects);
  const indexed = new RbacPolicyCache(api, silentLogger());
  const walking = new WalkingPolicyCache(api, silentLogger());
  await Promise.all([indexed.start(), walking.start()]);
  return {
    api,
    indexed: new RbacAuthorizer(new RuleResolver(indexed)),
    walking: new RbacAuthorizer(new RuleResolver(walking)),
  };
}

describe('RBAC with bindings indexed by subject', () => {
  it('decides exactly as the walk over every binding (allowed, reason, denial reasons, rules)', async () => {
    await fc.assert(
      fc.asyncProperty(
        policy,
        fc.array(fc.tuple(user, request), { minLength: 1, maxLength: 20 }),
        async (p, asks) => {
          const { indexed, walking } = await authorizers(objectsOf(p));
          for (const [u, attrs] of asks) {
            expect(indexed.authorize(u, { resource: attrs })).toEqual(
              walking.authorize(u, { resource: attrs }),
            );
            expect(indexed.rulesFor(u, attrs.namespace ?? '')).toEqual(
              walking.rulesFor(u, attrs.namespace ?? ''),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stays exact as bindings are added, changed and deleted through the watch', async () => {
    await fc.assert(
      fc.asyncProperty(
        policy,
        policy,
        fc.array(fc.tuple(user, request), { minLength: 1, maxLength: 10 }),
        async (p, q, asks) => {
          const before = objectsOf(p);
          const after = objectsOf(q);
          const { api, indexed, walking } = await authorizers(before);
          for (const resource of ['clusterrolebindings', 'rolebindings']) {
            const now = new Map(
              after[resource].map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]),
            );
            for (const o of before[resource])
              if (!now.has(`${o.metadata?.namespace}/${o.metadata?.name}`)) api.push(resource, 'DELETED', o);
            for (const o of after[resource]) api.push(resource, 'MODIFIED', o);
          }
          for (const [u, attrs] of asks)
            expect(indexed.authorize(u, { resource: attrs })).toEqual(
              walking.authorize(u, { resource: attrs }),
            );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keys subjects by the one user or group they can match', () => {
    expect(subjectKey({ kind: 'User', name: 'jane' }, 'ns1')).toBe('u:jane');
    expect(subjectKey({ kind: 'Group', name: 'devs' }, '')).toBe('g:devs');
    expect(subjectKey({ kind: 'ServiceAccount', name: 'sa' }, 'ns1')).toBe('u:system:serviceaccount:ns1:sa');
    expect(subjectKey({ kind: 'ServiceAccount', name: 'sa', namespace: 'ns2' }, 'ns1')).toBe(
      'u:system:serviceaccount:ns2:sa',
    );
    // a ClusterRoleBinding's ServiceAccount without a namespace names nobody, as appliesToUser
    expect(subjectKey({ kind: 'ServiceAccount', name: 'sa' }, '')).toBeUndefined();
    expect(subjectKey({ kind: 'Robot', name: 'jane' }, '')).toBeUndefined();
    const index = new SubjectIndex(
      [
        {
          subjects: [
            { kind: 'Group', name: 'devs' },
            { kind: 'User', name: 'jane' },
          ],
        },
        { subjects: [{ kind: 'User', name: 'bob' }] },
        { subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
      ],
      '',
    );
    const found = index.bindingsFor({ username: 'jane', groups: ['system:authenticated', 'devs'] });
    expect(found.map((b) => b.subjects[0].name)).toEqual(['devs', 'system:authenticated']);
  });
});
