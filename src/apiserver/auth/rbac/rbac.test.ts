// RBAC's rule arithmetic, the bootstrap reconciliation and the request attributes, against upstream's behaviour.
import { describe, expect, it } from 'vitest';
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { forbiddenMessage, requestAttributes } from '../request-attributes.js';
import { bootstrapPolicy, reconcile } from './bootstrap.js';
import { compactRules, compactString, covers, resourceRuleAllows, nonResourceRuleAllows } from './rules.js';

describe('rules', () => {
  it('matches verbs, groups, resources, subresources (with */sub) and resource names as RuleAllows', () => {
    const rule: PolicyRule = {
      apiGroups: [''],
      resources: ['pods', '*/status'],
      verbs: ['get'],
      resourceNames: ['a'],
    };
    expect(resourceRuleAllows({ verb: 'get', group: '', resource: 'pods', name: 'a' }, rule)).toBe(true);
    expect(resourceRuleAllows({ verb: 'get', group: '', resource: 'pods', name: 'b' }, rule)).toBe(false);
    expect(
      resourceRuleAllows(
        { verb: 'get', group: '', resource: 'nodes', subresource: 'status', name: 'a' },
        rule,
      ),
    ).toBe(true);
    expect(
      resourceRuleAllows({ verb: 'get', group: '', resource: 'pods', subresource: 'log', name: 'a' }, rule),
    ).toBe(false);
    expect(resourceRuleAllows({ verb: 'list', group: '', resource: 'pods', name: 'a' }, rule)).toBe(false);
    expect(resourceRuleAllows({ verb: 'get', group: 'apps', resource: 'pods', name: 'a' }, rule)).toBe(false);
    const urls: PolicyRule = { nonResourceURLs: ['/healthz', '/apis/*'], verbs: ['get'] };
    expect(nonResourceRuleAllows({ verb: 'get', path: '/apis/apps/v1' }, urls)).toBe(true);
    expect(nonResourceRuleAllows({ verb: 'get', path: '/healthz/ping' }, urls)).toBe(false);
  });

  it('covers: what is missing, broken down, compacted and printed as upstream', () => {
    const owner: PolicyRule[] = [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }];
    expect(covers(owner, [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }])).toEqual([]);
    const missing = covers(owner, [
      { apiGroups: ['', 'apps'], resources: ['pods'], verbs: ['get', 'watch'] },
    ]);
    expect(compactRules(missing).map(compactString).sort()).toEqual([
      '{APIGroups:[""], Resources:["pods"], Verbs:["watch"]}',
      '{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "watch"]}',
    ]);
    expect(
      covers(
        [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        [{ nonResourceURLs: ['/x'], verbs: ['get'] }],
      ),
    ).toHaveLength(1);
    expect(
      covers(
        [{ nonResourceURLs: ['/x/*'], verbs: ['get'] }],
        [{ nonResourceURLs: ['/x/y'], verbs: ['get'] }],
      ),
    ).toEqual([]);
  });
});

describe('bootstrap policy', () => {
  it("is upstream's test data: admin/edit/view aggregate, cluster-admin is everything", () => {
    const policy = bootstrapPolicy();
    const role = (name: string) =>
      policy.find((p) => p.resource === 'clusterroles' && p.object.metadata?.name === name)!;
    expect(role('cluster-admin').object.rules).toEqual([
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]);
    expect(role('view').object.aggregationRule).toBeDefined();
    expect(policy.filter((p) => p.resource === 'rolebindings').length).toBeGreaterThan(0);
  });

  it('reconcile adds missing rules, subjects and labels, and keeps what the user added', () => {
    const expected = {
      metadata: {
        name: 'r',
        labels: { a: '1' },
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
      },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    };
    const existing = {
      metadata: { name: 'r', labels: { mine: 'x' } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    };
    const next = reconcile('clusterroles', existing, expected)!;
    expect(next.rules).toEqual([...existing.rules, ...expected.rules]);
    expect(next.metadata?.labels).toEqual({ a: '1', mine: 'x' });
    expect(reconcile('clusterroles', next, expected)).toBeUndefined();
    const binding = reconcile(
      'clusterrolebindings',
      { metadata: { name: 'b' }, subjects: [{ kind: 'User', name: 'me' }] },
      { metadata: { name: 'b' }, subjects: [{ kind: 'Group', name: 'g' }] },
    )!;
    expect(binding.subjects).toEqual([
      { kind: 'User', name: 'me' },
      { kind: 'Group', name: 'g' },
    ]);
  });
});

describe('request attributes', () => {
  const attrs = (method: string, path: string) => requestAttributes(method, new URL(path, 'https://x'));
  it('names what upstream RequestInfo names', () => {
    expect(attrs('GET', '/api/v1/namespaces/default/pods')).toEqual({
      resource: { verb: 'list', group: '', version: 'v1', resource: 'pods', namespace: 'default' },
    });
    expect(
      attrs('GET', '/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dweb').resource,
    ).toMatchObject({
      verb: 'watch',
      name: 'web',
    });
    expect(attrs('GET', '/api/v1/namespaces/kube-system').resource).toMatchObject({
      resource: 'namespaces',
      name: 'kube-system',
      namespace: 'kube-system',
    });
    expect(attrs('POST', '/api/v1/namespaces/d/pods/p/exec').resource).toMatchObject({
      verb: 'create',
      subresource: 'exec',
    });
    expect(attrs('GET', '/api/v1/namespaces/d/services/s/proxy/a/b').resource).toMatchObject({
      verb: 'get',
      resource: 'services',
      subresource: 'proxy',
    });
    expect(attrs('DELETE', '/apis/apps/v1/namespaces/d/deployments').resource?.verb).toBe('deletecollection');
    expect(attrs('GET', '/apis')).toEqual({ nonResource: { verb: 'get', path: '/apis' } });
  });

  it('words a refusal as upstream', () => {
    const u = { username: 'jane', groups: [] };
    expect(forbiddenMessage(u, attrs('GET', '/api/v1/namespaces/default/pods'))).toBe(
      'User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect(forbiddenMessage(u, attrs('PATCH', '/api/v1/nodes/n/status'))).toBe(
      'User "jane" cannot patch resource "nodes/status" in API group "" at the cluster scope',
    );
    expect(forbiddenMessage(u, attrs('GET', '/metrics'))).toBe('User "jane" cannot get path "/metrics"');
  });
});
