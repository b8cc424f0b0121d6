import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { NodeGraph, podEdges } from './graph.js';
import { NodeAuthorizer } from './node-authorizer.js';

const pod = (
  name: string,
  nodeName: string | undefined,
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod => ({
  metadata: { name, namespace: 'ns' },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    serviceAccountName: 'app',
    containers: [
      {
        name: 'c',
        env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }],
        envFrom: [{ configMapRef: { name: 'env-cm' } }],
      },
    ],
    volumes: [
      { name: 'v', secret: { secretName: 'vol-secret' } },
      { name: 'p', projected: { sources: [{ configMap: { name: 'kube-root-ca.crt' } }] } },
      { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
    ],
    ...extra,
  },
});

describe('the Node authorizer graph', () => {
  it('a node reaches the objects of the pods bound to it, and no other node does', () => {
    const g = new NodeGraph();
    g.setPod(undefined, podEdges(pod('a', 'node-1')));
    g.setPvc('ns', 'data', 'pv-1');
    for (const [type, name] of [
      ['secret', 'env-secret'],
      ['secret', 'vol-secret'],
      ['configmap', 'env-cm'],
      ['configmap', 'kube-root-ca.crt'],
      ['pvc', 'data'],
      ['pv', 'pv-1'],
      ['serviceAccount', 'app'],
    ] as const) {
      expect(g.hasPath('node-1', type, 'ns', name), `${type} ${name}`).toBe(true);
      expect(g.hasPath('node-2', type, 'ns', name), `${type} ${name} from node-2`).toBe(false);
    }
    expect(g.hasPath('node-1', 'secret', 'other-ns', 'vol-secret')).toBe(false);
    expect(podEdges(pod('unscheduled', undefined))).toBeUndefined();
  });

  it('edges are counted: a Secret stays reachable until the last pod using it leaves the node', () => {
    const g = new NodeGraph();
    const a = podEdges(pod('a', 'node-1'));
    const b = podEdges(pod('b', 'node-1'));
    g.setPod(undefined, a);
    g.setPod(undefined, b);
    g.setPod(a, undefined);
    expect(g.hasPath('node-1', 'secret', 'ns', 'vol-secret')).toBe(true);
    // b moves to node-2 (deleted and recreated there)
    const b2 = podEdges(pod('b', 'node-2'));
    g.setPod(b, b2);
    expect(g.hasPath('node-1', 'secret', 'ns', 'vol-secret')).toBe(false);
    expect(g.hasPath('node-2', 'secret', 'ns', 'vol-secret')).toBe(true);
  });

  it("authorizes with upstream's reasons", () => {
    const g = new NodeGraph();
    g.setPod(undefined, podEdges(pod('a', 'node-1')));
    const authz = new NodeAuthorizer(g, [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const node1 = { username: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] };
    const node2 = { username: 'system:node:node-2', groups: ['system:nodes', 'system:authenticated'] };
    const get = (name: string) => ({
      resource: { verb: 'get', group: '', version: 'v1', resource: 'secrets', namespace: 'ns', name },
    });
    expect(authz.authorize(node1, get('vol-secret'))).toEqual({ allowed: true });
    expect(authz.authorize(node2, get('vol-secret'))).toEqual({
      allowed: false,
      reason: "no relationship found between node 'node-2' and this object",
    });
    expect(
      authz.authorize(node1, {
        resource: { verb: 'list', group: '', version: 'v1', resource: 'secrets', namespace: 'ns' },
      }),
    ).toEqual({ allowed: false, reason: 'No Object name found' });
    expect(
      authz.authorize(node1, {
        resource: {
          verb: 'delete',
          group: '',
          version: 'v1',
          resource: 'secrets',
          namespace: 'ns',
          name: 'vol-secret',
        },
      }),
    ).toEqual({ allowed: false, reason: 'can only read resources of this type' });
    const token = (name: string) => ({
      resource: {
        verb: 'create',
        group: '',
        version: 'v1',
        resource: 'serviceaccounts',
        subresource: 'token',
        namespace: 'ns',
        name,
      },
    });
    expect(authz.authorize(node1, token('app'))).toEqual({ allowed: true });
    expect(authz.authorize(node1, token('admin')).allowed).toBe(false);
    // static rules for the rest; other users get no opinion
    expect(
      authz.authorize(node2, { resource: { verb: 'list', group: '', version: 'v1', resource: 'pods' } }),
    ).toEqual({ allowed: true });
    expect(authz.authorize({ username: 'jane', groups: [] }, get('vol-secret'))).toEqual({ allowed: false });
  });
});
