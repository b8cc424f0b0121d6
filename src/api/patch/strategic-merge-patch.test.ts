// Strategic merge patch on real kinds: kubectl-style patches against Pods, Deployments, Services and metadata.

import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyStrategicMergePatch } from './index.js';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const SERVICE = { group: '', version: 'v1', kind: 'Service' };

function deployment(containers: unknown[]): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, finalizers: ['a/b'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
    },
  };
}

const app = {
  name: 'app',
  image: 'hello:1',
  ports: [{ containerPort: 80 }, { containerPort: 8080 }],
  env: [
    { name: 'A', value: '1' },
    { name: 'B', value: '2' },
  ],
};
const sidecar = { name: 'sidecar', image: 'echo:1' };

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('applyStrategicMergePatch on Deployments', () => {
  it('changes one container image by name, keeping the other containers (kubectl set image)', () => {
    const out = applyStrategicMergePatch(
      deployment([app, sidecar]),
      { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'echo:2' }] } } } },
      DEPLOYMENT,
    ) as any;
    expect(out.spec.template.spec.containers).toEqual([app, { name: 'sidecar', image: 'echo:2' }]);
  });

  it('adds an env var merged by name', () => {
    const out = applyStrategicMergePatch(
      deployment([app]),
      { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'C', value: '3' }] }] } } } },
      DEPLOYMENT,
    ) as any;
    // upstream puts patch items not in the live list first, unless $setElementOrder says otherwise
    expect(out.spec.template.spec.containers[0].env).toEqual([{ name: 'C', value: '3' }, ...app.env]);
  });

  it('applies the patch kubectl apply sends to remove a port ($setElementOrder + $patch: delete)', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [
              {
                '$setElementOrder/ports': [{ containerPort: 80 }],
                name: 'app',
                ports: [{ $patch: 'delete', containerPort: 8080 }],
              },
            ],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(deployment([app]), patch, DEPLOYMENT) as any;
    expect(out.spec.template.spec.containers).toEqual([{ ...app, ports: [{ containerPort: 80 }] }]);
  });

  it('orders a new env var as $setElementOrder says and leaves no directive in the result', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [
              {
                '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
                name: 'app',
                env: [{ name: 'C', value: '3' }],
              },
            ],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(deployment([app]), patch, DEPLOYMENT) as any;
    expect(out.spec.template.spec.containers[0].env.map((e: { name: string }) => e.name)).toEqual([
      'A',
      'B',
      'C',
    ]);
    expect(JSON.stringify(out)).not.toContain('$');
  });

  it('adds a new container with directives inside and strips them, as the typed decode upstream does', () => {
    const out = applyStrategicMergePatch(
      deployment([app]),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'app' }, { name: 'new' }],
              containers: [
                { name: 'new', image: 'x', '$setElementOrder/env': [{ name: 'Z' }], env: [{ name: 'Z' }] },
              ],
            },
          },
        },
      },
      DEPLOYMENT,
    ) as any;
    expect(out.spec.template.spec.containers).toEqual([
      app,
      { name: 'new', image: 'x', env: [{ name: 'Z' }] },
    ]);
  });

  it('scales with a plain merge of spec.replicas (kubectl scale)', () => {
    const out = applyStrategicMergePatch(deployment([app]), { spec: { replicas: 5 } }, DEPLOYMENT) as any;
    expect(out.spec.replicas).toBe(5);
    expect(out.spec.template.spec.containers).toEqual([app]);
  });

  it('labels and unlabels via metadata.labels, null deleting a key (kubectl label)', () => {
    const out = applyStrategicMergePatch(
      deployment([app]),
      { metadata: { labels: { tier: 'frontend', app: null } } },
      DEPLOYMENT,
    ) as any;
    expect(out.metadata.labels).toEqual({ tier: 'frontend' });
  });

  it('clears rollingUpdate when switching strategy to Recreate with $retainKeys', () => {
    const out = applyStrategicMergePatch(
      deployment([app]),
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      DEPLOYMENT,
    ) as any;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('rejects a $retainKeys list that omits a key the patch sets (400)', () => {
    const e = thrown(() =>
      applyStrategicMergePatch(
        deployment([app]),
        { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
        DEPLOYMENT,
      ),
    );
    expect(e.code).toBe(400);
    expect(e.message).toBe('invalid patch format of retainKeys');
  });

  it('merges metadata.finalizers as a set and deletes with $deleteFromPrimitiveList', () => {
    const added = applyStrategicMergePatch(
      deployment([app]),
      { metadata: { finalizers: ['c/d'] } },
      DEPLOYMENT,
    ) as any;
    expect(added.metadata.finalizers).toEqual(['c/d', 'a/b']);
    const removed = applyStrategicMergePatch(
      added,
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/b'] } },
      DEPLOYMENT,
    ) as any;
    expect(removed.metadata.finalizers).toEqual(['c/d']);
  });

  it('replaces the whole container list with $patch: replace', () => {
    const out = applyStrategicMergePatch(
      deployment([app, sidecar]),
      { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
      DEPLOYMENT,
    ) as any;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('replaces a map with $patch: replace and empties it with $patch: delete', () => {
    const replaced = applyStrategicMergePatch(
      deployment([app]),
      { spec: { selector: { matchLabels: { run: 'x' }, $patch: 'replace' } } },
      DEPLOYMENT,
    ) as any;
    expect(replaced.spec.selector).toEqual({ matchLabels: { run: 'x' } });
    const deleted = applyStrategicMergePatch(
      deployment([app]),
      { metadata: { labels: { $patch: 'delete' } } },
      DEPLOYMENT,
    ) as any;
    expect(deleted.metadata.labels).toEqual({});
  });

  it('replaces atomic lists (container args) whole', () => {
    const withArgs = deployment([{ ...app, args: ['a', 'b'] }]);
    const out = applyStrategicMergePatch(
      withArgs,
      { spec: { template: { spec: { containers: [{ name: 'app', args: ['c'] }] } } } },
      DEPLOYMENT,
    ) as any;
    expect(out.spec.template.spec.containers[0].args).toEqual(['c']);
  });

  it('reports a list item without its merge key as upstream does (500 with the merge error)', () => {
    const e = thrown(() =>
      applyStrategicMergePatch(
        deployment([app]),
        { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
        DEPLOYMENT,
      ),
    );
    expect(e.code).toBe(500);
    expect(e.message).toBe('map: map[image:x] does not contain declared merge key: name');
  });

  it('rejects $patch: merge inside a list like upstream', () => {
    const e = thrown(() =>
      applyStrategicMergePatch(
        deployment([app]),
        { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'merge' }] } } } },
        DEPLOYMENT,
      ),
    );
    expect(e.message).toBe('merging lists cannot yet be specified in the patch');
  });

  it('rejects a malformed $setElementOrder key and a non-object patch with 400', () => {
    expect(
      thrown(() =>
        applyStrategicMergePatch(deployment([app]), { spec: { $setElementOrder: [] } }, DEPLOYMENT),
      ).code,
    ).toBe(400);
    const e = thrown(() => applyStrategicMergePatch(deployment([app]), [1], DEPLOYMENT));
    expect(e.code).toBe(400);
    expect(e.message).toBe('json: cannot unmarshal array into Go value of type map[string]interface {}');
  });

  it('treats a null patch as empty', () => {
    expect(applyStrategicMergePatch(deployment([app]), null, DEPLOYMENT)).toEqual(deployment([app]));
  });
});

describe('applyStrategicMergePatch on other kinds', () => {
  it('merges Service ports by port', () => {
    const svc = {
      spec: {
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 443, targetPort: 8443 },
        ],
      },
    };
    const out = applyStrategicMergePatch(
      svc,
      { spec: { ports: [{ port: 443, nodePort: 30443 }] } },
      SERVICE,
    ) as any;
    expect(out.spec.ports).toEqual([
      { port: 80, targetPort: 8080 },
      { port: 443, targetPort: 8443, nodePort: 30443 },
    ]);
  });

  it('merges pod conditions by type (kubelet status patches)', () => {
    const pod = {
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    };
    const out = applyStrategicMergePatch(
      pod,
      {
        status: {
          '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'PodScheduled' }],
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      POD,
    ) as any;
    expect(out.status.conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ]);
  });

  it('merges ownerReferences by uid and volumes by name', () => {
    const pod = {
      metadata: { ownerReferences: [{ uid: 'u1', name: 'rs-1' }] },
      spec: { volumes: [{ name: 'data', emptyDir: {} }] },
    };
    const out = applyStrategicMergePatch(
      pod,
      {
        metadata: { ownerReferences: [{ uid: 'u1', controller: true }] },
        spec: { volumes: [{ name: 'cfg', configMap: { name: 'c' } }] },
      },
      POD,
    ) as any;
    expect(out.metadata.ownerReferences).toEqual([{ uid: 'u1', name: 'rs-1', controller: true }]);
    expect(out.spec.volumes.map((v: { name: string }) => v.name).sort()).toEqual(['cfg', 'data']);
  });

  it('switches a volume source with $retainKeys', () => {
    const pod = { spec: { volumes: [{ name: 'data', emptyDir: {} }] } };
    const out = applyStrategicMergePatch(
      pod,
      { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } },
      POD,
    ) as any;
    expect(out.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/x' } }]);
  });

  it('treats kinds without a schema like a merge patch with atomic lists', () => {
    const unknown = { group: 'example.com', version: 'v1', kind: 'Widget' };
    const out = applyStrategicMergePatch(
      { spec: { items: [{ name: 'a', v: 1 }], m: { x: 1, y: 2 } } },
      { spec: { items: [{ name: 'a', w: 2 }], m: { y: null } } },
      unknown,
    );
    expect(out).toEqual({ spec: { items: [{ name: 'a', w: 2 }], m: { x: 1 } } });
  });
});
