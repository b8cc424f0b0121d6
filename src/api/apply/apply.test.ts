// Server-side apply and managedFields bookkeeping, transcribing the cases of the "Server-Side Apply" docs page
// and of upstream's fieldmanager / structured-merge-diff tests.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../request.js';
import { LAST_APPLIED_ANNOTATION, serverSideApply, trackUpdate } from './index.js';

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:01:00Z';
const T2 = '2024-05-01T10:02:00Z';

interface DeploymentConfig {
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
  containers?: unknown[];
}

function deployment(c: DeploymentConfig = {}): KubeObject {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: {
        containers: c.containers ?? [
          { name: 'nginx', image: c.image ?? 'nginx:1.14.2', ports: [{ containerPort: 80 }] },
        ],
      },
    },
  };
  if (c.replicas !== undefined) spec['replicas'] = c.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', ...(c.labels ? { labels: c.labels } : {}) },
    spec,
  };
}

/** what the registry adds when it stores an object */
function stored(obj: KubeObject, rv = '1'): KubeObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, uid: 'uid-1', resourceVersion: rv, creationTimestamp: T0, generation: 1 },
  };
}

function apply(
  live: KubeObject | undefined,
  config: KubeObject,
  manager = 'kubectl',
  force = false,
  now = T1,
): KubeObject {
  return serverSideApply(live, config, { manager, force, gvk, now }).object;
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a conflict');
}

function entries(obj: KubeObject): { manager?: string; operation?: string; fieldsV1?: unknown }[] {
  return obj.metadata?.managedFields ?? [];
}

function spec(obj: KubeObject): Record<string, unknown> {
  return obj['spec'] as Record<string, unknown>;
}

function containers(obj: KubeObject): Record<string, unknown>[] {
  const tmpl = spec(obj)['template'] as { spec: { containers: Record<string, unknown>[] } };
  return tmpl.spec.containers;
}

describe('serverSideApply: first apply', () => {
  it('creates the object with one Apply entry in upstream FieldsV1 format', () => {
    const obj = apply(undefined, deployment({ replicas: 3, labels: { app: 'nginx' } }), 'kubectl', false, T0);
    expect(spec(obj)['replicas']).toBe(3);
    expect(obj.metadata?.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    // FieldsV1 keys are written in upstream's order: "." first, then fields sorted
    const fields = JSON.stringify(entries(obj)[0].fieldsV1);
    expect(fields.indexOf('"f:image"')).toBeLessThan(fields.indexOf('"f:name"'));
    expect(fields).toContain('{".":{},"f:image":{}');
  });

  it('never records name, namespace, apiVersion, kind or status', () => {
    const cfg = { ...deployment({ replicas: 1 }), status: { replicas: 7 } };
    const fields = entries(apply(undefined, cfg))[0].fieldsV1 as Record<string, Record<string, unknown>>;
    expect(Object.keys(fields)).toEqual(['f:spec']);
  });
});

describe('serverSideApply: re-apply', () => {
  it('updates a changed field and the entry time, keeping one entry', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), 'kubectl', false, T0));
    const next = apply(live, deployment({ replicas: 3, image: 'nginx:1.16.1' }), 'kubectl', false, T1);
    expect(containers(next)[0]['image']).toBe('nginx:1.16.1');
    expect(entries(next)).toHaveLength(1);
    expect(next.metadata?.managedFields?.[0]?.time).toBe(T1);
    expect(next.metadata?.uid).toBe('uid-1');
  });

  it('an identical re-apply changes nothing, not even the time', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), 'kubectl', false, T0));
    const next = apply(live, deployment({ replicas: 3 }), 'kubectl', false, T2);
    expect(next).toEqual(live);
  });

  it('removes fields the applier no longer sets', () => {
    const live = stored(
      apply(
        undefined,
        deployment({ replicas: 3, labels: { app: 'nginx', tier: 'web' } }),
        'kubectl',
        false,
        T0,
      ),
    );
    const next = apply(live, deployment({ labels: { app: 'nginx' } }));
    expect(spec(next)['replicas']).toBeUndefined();
    expect(next.metadata?.labels).toEqual({ app: 'nginx' });
    const fields = JSON.stringify(entries(next)[0].fieldsV1);
    expect(fields).not.toContain('f:replicas');
    expect(fields).not.toContain('f:tier');
  });

  it('removes a container the applier stopped listing, keeping the others in order', () => {
    const two = [
      { name: 'nginx', image: 'nginx' },
      { name: 'sidecar', image: 'busybox' },
    ];
    const live = stored(apply(undefined, deployment({ containers: two })));
    const next = apply(live, deployment({ containers: [{ name: 'nginx', image: 'nginx' }] }));
    expect(containers(next).map((c) => c['name'])).toEqual(['nginx']);
  });

  it('keeps a removed field another manager also owns', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), 'kubectl', false, T0));
    const shared = stored(apply(live, deployment({ replicas: 3 }), 'other-applier', false, T1));
    const next = apply(shared, deployment({}), 'kubectl', false, T2);
    expect(spec(next)['replicas']).toBe(3);
    const byManager = Object.fromEntries(entries(next).map((e) => [e.manager, JSON.stringify(e.fieldsV1)]));
    expect(byManager['kubectl']).not.toContain('f:replicas');
    expect(byManager['other-applier']).toContain('f:replicas');
  });

  it('does not touch fields nobody applied (set by an updater)', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 })));
    const edited = structuredClone(live);
    spec(edited)['paused'] = true;
    const tracked = trackUpdate(live, edited, { manager: 'kubectl-edit', gvk, now: T1 });
    const next = apply(tracked, deployment({}), 'kubectl', false, T2);
    expect(spec(next)['paused']).toBe(true);
    expect(spec(next)['replicas']).toBeUndefined();
  });
});

describe('serverSideApply: conflicts', () => {
  function scaledBy(manager: string): KubeObject {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), 'my-applier', false, T0));
    const scaled = structuredClone(live);
    spec(scaled)['replicas'] = 5;
    return stored(trackUpdate(live, scaled, { manager, gvk, now: T1 }), '2');
  }

  it('409 with upstream message and causes when another manager changed the field', () => {
    const live = scaledBy('kubectl-client-side-apply');
    const err = conflictOf(() => apply(live, deployment({ replicas: 3 }), 'my-applier'));
    expect(err.code).toBe(409);
    expect(err.reason).toBe('Conflict');
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    expect(err.toStatus().details).toEqual({
      causes: [
        {
          reason: 'FieldManagerConflict',
          message: 'conflict with "kubectl-client-side-apply" using apps/v1',
          field: '.spec.replicas',
        },
      ],
    });
  });

  it('no conflict when the applier sets the value the other manager set: both own it', () => {
    const live = scaledBy('kube-controller-manager');
    const next = apply(live, deployment({ replicas: 5 }), 'my-applier', false, T2);
    const owners = entries(next)
      .filter((e) => JSON.stringify(e.fieldsV1).includes('f:replicas'))
      .map((e) => e.manager);
    expect(owners.sort()).toEqual(['kube-controller-manager', 'my-applier']);
  });

  it('no conflict when the applier leaves the field out', () => {
    const live = scaledBy('kube-controller-manager');
    const next = apply(live, deployment({ image: 'nginx:2' }), 'my-applier', false, T2);
    expect(spec(next)['replicas']).toBe(5);
  });

  it('force takes the field over: the value is applied and the other manager loses it', () => {
    const live = scaledBy('kubectl-scale');
    const next = apply(live, deployment({ replicas: 3 }), 'my-applier', true, T2);
    expect(spec(next)['replicas']).toBe(3);
    expect(entries(next).map((e) => e.manager)).toEqual(['my-applier']);
  });

  it('lists every conflict, grouped by manager, as upstream does', () => {
    const live = scaledBy('kubectl-scale');
    const edited = structuredClone(live);
    containers(edited)[0]['image'] = 'nginx:edited';
    const tracked = stored(trackUpdate(live, edited, { manager: 'kubectl-edit', gvk, now: T2 }), '3');
    const err = conflictOf(() => apply(tracked, deployment({ replicas: 3 }), 'my-applier'));
    expect(err.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n' +
        '- .spec.template.spec.containers[name="nginx"].image\n' +
        'conflicts with "kubectl-scale" using apps/v1:\n' +
        '- .spec.replicas',
    );
    expect(err.details?.causes?.map((c) => c.field).sort()).toEqual([
      '.spec.replicas',
      '.spec.template.spec.containers[name="nginx"].image',
    ]);
  });

  it('a conflict with another applier names it without a version', () => {
    const live = stored(apply(undefined, deployment({ replicas: 3 }), 'team-a'));
    const err = conflictOf(() => apply(live, deployment({ replicas: 4 }), 'team-b'));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "team-a": .spec.replicas');
  });

  it('kubectl may take over fields its client-side last-applied annotation still describes', () => {
    const csa = deployment({ replicas: 3 });
    csa.metadata!.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(csa) + '\n' };
    const live = stored(trackUpdate(undefined, csa, { manager: 'kubectl-client-side-apply', gvk, now: T0 }));
    const next = apply(live, deployment({ replicas: 4 }), 'kubectl', false, T1);
    expect(spec(next)['replicas']).toBe(4);
    const annotation = next.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
    expect(JSON.parse(annotation ?? '{}')).toMatchObject({ spec: { replicas: 4 } });
    // another field manager name gets the plain conflict
    expect(conflictOf(() => apply(live, deployment({ replicas: 4 }), 'not-kubectl')).code).toBe(409);
  });
});

describe('serverSideApply: lists', () => {
  it('merges containers by name: another applier keeps its container', () => {
    const a = deployment({ containers: [{ name: 'nginx', image: 'nginx' }] });
    const b = deployment({ containers: [{ name: 'sidecar', image: 'busybox' }] });
    const live = stored(apply(undefined, a, 'team-a'));
    const both = stored(apply(live, b, 'team-b'), '2');
    expect(containers(both).map((c) => c['name'])).toEqual(['nginx', 'sidecar']);
    const updated = apply(both, deployment({ containers: [{ name: 'nginx', image: 'nginx:2' }] }), 'team-a');
    expect(containers(updated)).toEqual([
      { name: 'nginx', image: 'nginx:2' },
      { name: 'sidecar', image: 'busybox' },
    ]);
  });

  it('keys ports by containerPort and protocol (protocol defaulting to TCP)', () => {
    const ports = [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53 }];
    const obj = apply(undefined, deployment({ containers: [{ name: 'dns', image: 'dns', ports }] }));
    const fields = JSON.stringify(entries(obj)[0].fieldsV1);
    expect(fields).toContain('k:{\\"containerPort\\":53,\\"protocol\\":\\"UDP\\"}');
    expect(fields).toContain('k:{\\"containerPort\\":53,\\"protocol\\":\\"TCP\\"}');
    const live = stored(obj);
    const next = apply(
      live,
      deployment({ containers: [{ name: 'dns', image: 'dns', ports: [{ containerPort: 53 }] }] }),
    );
    expect(containers(next)[0]['ports']).toEqual([{ containerPort: 53 }]);
  });

  it('replaces atomic lists whole and records them as leaves', () => {
    const live = stored(
      apply(undefined, deployment({ containers: [{ name: 'c', image: 'i', args: ['a', 'b'] }] })),
    );
    const next = apply(live, deployment({ containers: [{ name: 'c', image: 'i', args: ['c'] }] }));
    expect(containers(next)[0]['args']).toEqual(['c']);
    expect(JSON.stringify(entries(next)[0].fieldsV1)).toContain('"f:args":{}');
  });

  it('records set items as v: elements (finalizers)', () => {
    const cfg = deployment({});
    cfg.metadata!.finalizers = ['example.com/a'];
    const fields = entries(apply(undefined, cfg))[0].fieldsV1 as Record<string, Record<string, unknown>>;
    expect(fields['f:metadata']['f:finalizers']).toEqual({ 'v:"example.com/a"': {} });
  });

  it('refuses duplicate keys and items without a key as upstream does (400)', () => {
    const dup = deployment({ containers: [{ name: 'a' }, { name: 'a' }] });
    const err = conflictOf(() => apply(undefined, dup));
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
    );
    const keyless = conflictOf(() => apply(undefined, deployment({ containers: [{ image: 'x' }] })));
    expect(keyless.message).toContain('omits key field "name"');
  });
});

describe('serverSideApply: requests upstream refuses', () => {
  it('fields the schema does not declare', () => {
    const cfg = deployment({});
    spec(cfg)['bogus'] = 1;
    const err = conflictOf(() => apply(undefined, cfg));
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema',
    );
  });

  it('managedFields in the configuration', () => {
    const cfg = deployment({});
    cfg.metadata!.managedFields = [];
    expect(conflictOf(() => apply(undefined, cfg)).message).toBe('metadata.managedFields must be nil');
  });

  it('a configuration for another version', () => {
    const cfg = { ...deployment({}), apiVersion: 'apps/v1beta1' };
    expect(conflictOf(() => apply(undefined, cfg)).message).toBe(
      'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1',
    );
  });
});

describe('serverSideApply: objects that predate tracking', () => {
  it('gives existing fields to "before-first-apply", so changing them conflicts until forced', () => {
    const legacy = stored(deployment({ replicas: 2 }));
    const err = conflictOf(() => apply(legacy, deployment({ image: 'nginx:2' })));
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.template.spec.containers[name="nginx"].image',
    );
    const next = apply(legacy, deployment({ image: 'nginx:2' }), 'kubectl', true, T1);
    expect(entries(next).map((e) => `${e.manager}/${e.operation}`)).toEqual([
      'kubectl/Apply',
      'before-first-apply/Update',
    ]);
    expect(spec(next)['replicas']).toBe(2);
    const bfa = JSON.stringify(entries(next)[1].fieldsV1);
    expect(bfa).toContain('f:replicas');
    expect(bfa).not.toContain('f:image');
  });
});

describe('trackUpdate', () => {
  it('on create the creator owns every field it set, new maps and lists marked with "."', () => {
    const obj = trackUpdate(undefined, deployment({ replicas: 1, labels: { app: 'nginx' } }), {
      manager: 'kubectl-create',
      gvk,
      now: T0,
    });
    const [entry] = obj.metadata!.managedFields!;
    expect(entry).toMatchObject({
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T0,
    });
    const fields = entry.fieldsV1 as Record<string, Record<string, Record<string, unknown>>>;
    expect(fields['f:metadata']['f:labels']).toEqual({ '.': {}, 'f:app': {} });
    expect(fields['f:spec']['f:replicas']).toEqual({});
    expect(fields['f:spec']['.']).toBeUndefined();
  });

  it('an update moves the changed field to the updater and keeps times of untouched entries', () => {
    const created = stored(
      trackUpdate(undefined, deployment({ replicas: 1 }), { manager: 'creator', gvk, now: T0 }),
    );
    const next = structuredClone(created);
    spec(next)['replicas'] = 4;
    const tracked = trackUpdate(created, next, { manager: 'scaler', gvk, now: T1 });
    const e = tracked.metadata!.managedFields!;
    expect(e.map((x) => [x.manager, x.time])).toEqual([
      ['creator', T0],
      ['scaler', T1],
    ]);
    expect(e[1].fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(JSON.stringify(e[0].fieldsV1)).not.toContain('f:replicas');
  });

  it('leaves an existing untracked object untracked, and [{}] clears managedFields', () => {
    const legacy = stored(deployment({ replicas: 1 }));
    const next = structuredClone(legacy);
    spec(next)['replicas'] = 2;
    expect(trackUpdate(legacy, next, { manager: 'm', gvk, now: T1 }).metadata?.managedFields).toBeUndefined();
    const tracked = stored(
      trackUpdate(undefined, deployment({ replicas: 1 }), { manager: 'm', gvk, now: T0 }),
    );
    const cleared = structuredClone(tracked);
    cleared.metadata!.managedFields = [{}];
    expect(
      trackUpdate(tracked, cleared, { manager: 'm', gvk, now: T1 }).metadata?.managedFields,
    ).toBeUndefined();
  });

  it('a status write never owns spec, a main write never owns status; entries keyed by subresource', () => {
    const created = stored(
      trackUpdate(undefined, deployment({ replicas: 1 }), { manager: 'creator', gvk, now: T0 }),
    );
    const next = { ...structuredClone(created), status: { replicas: 1 } };
    const main = trackUpdate(created, next, { manager: 'x', gvk, now: T1 });
    expect(main.metadata!.managedFields!.map((e) => e.manager)).toEqual(['creator']);
    const status = trackUpdate(created, next, {
      manager: 'kube-controller-manager',
      gvk,
      now: T1,
      subresource: 'status',
    });
    const entry = status.metadata!.managedFields!.find((e) => e.subresource === 'status');
    expect(entry).toMatchObject({
      manager: 'kube-controller-manager',
      operation: 'Update',
      subresource: 'status',
    });
    expect(entry!.fieldsV1).toEqual({ 'f:status': { '.': {}, 'f:replicas': {} } });
  });

  it('does not modify its inputs', () => {
    const old = stored(trackUpdate(undefined, deployment({ replicas: 1 }), { manager: 'a', gvk, now: T0 }));
    const next = structuredClone(old);
    spec(next)['replicas'] = 9;
    const [o, n] = [structuredClone(old), structuredClone(next)];
    trackUpdate(old, next, { manager: 'b', gvk, now: T1 });
    expect(old).toEqual(o);
    expect(next).toEqual(n);
  });
});
