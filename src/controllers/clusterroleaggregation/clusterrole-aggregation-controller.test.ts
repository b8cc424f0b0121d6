// The ClusterRole aggregation controller's rule gathering, as upstream's clusterroleaggregation controller.
import { describe, expect, it } from 'vitest';
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { aggregatedRules } from './clusterrole-aggregation-controller.js';

describe('aggregation', () => {
  it('gathers the rules of matching roles by name, each rule once, never its own', () => {
    const r = (name: string, labels: Record<string, string>, rules: PolicyRule[]): ClusterRole => ({
      metadata: { name, labels },
      rules,
    });
    const get: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
    const list: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['list'] };
    const agg: ClusterRole = {
      metadata: { name: 'agg', labels: { x: 'y' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
      rules: [],
    };
    const all = [
      agg,
      r('zeta', { x: 'y' }, [list, get]),
      r('alpha', { x: 'y' }, [get]),
      r('other', {}, [list]),
    ];
    expect(aggregatedRules(agg, all)).toEqual([get, list]);
  });
});
