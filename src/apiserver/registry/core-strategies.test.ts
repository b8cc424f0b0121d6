// The ReplicationController, PodTemplate, ResourceQuota and Event strategies through the real registry (SQLite in
// memory), against upstream's pkg/registry/core/{replicationcontroller,podtemplate,resourcequota,event}/strategy.go:
// status reset and kept, generation, the default garbage-collection policy, and the request's API group deciding which
// Event rules apply.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { apiErrorOf, registryPerTest, type RegistryRequest } from '../../testing/registry-per-test.js';

const registry = registryPerTest({ namespace: 'default' });

/** a request as the apiserver hands it over, answered with the body */
const api = (group: string, resource: string, req: RegistryRequest): Promise<any> =>
  registry.handle({ group, resource, ...req }).then((r) => r.body as KubeObject);

const failure = async (p: Promise<unknown>): Promise<string> => (await apiErrorOf(p)).message;

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
};

describe('rcStrategy', () => {
  const rc = (): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: { app: 'web' }, template },
    status: { replicas: 7 },
  });

  it('PrepareForCreate resets status and sets generation 1; PrepareForUpdate keeps status, bumps generation on spec', async () => {
    const created = await api('', 'replicationcontrollers', { verb: 'create', body: rc() });
    expect(created.status).toEqual({ replicas: 0 });
    expect(created.metadata.generation).toBe(1);
    const updated = await api('', 'replicationcontrollers', {
      verb: 'update',
      name: 'web',
      body: { ...created, spec: { ...created.spec, replicas: 3 }, status: { replicas: 9 } },
    });
    expect(updated.status).toEqual({ replicas: 0 });
    expect(updated.metadata.generation).toBe(2);
  });

  it('DefaultGarbageCollectionPolicy: a v1 delete naming no policy orphans (the orphan finalizer); Background does not', async () => {
    await api('', 'replicationcontrollers', { verb: 'create', body: rc() });
    const deleted = await api('', 'replicationcontrollers', { verb: 'delete', name: 'web' });
    expect(deleted.metadata.finalizers).toEqual(['orphan']);
    expect(deleted.metadata.deletionTimestamp).toBeDefined();

    await api('', 'replicationcontrollers', {
      verb: 'create',
      body: { ...rc(), metadata: { name: 'web2' } },
    });
    const gone = await api('', 'replicationcontrollers', {
      verb: 'delete',
      name: 'web2',
      options: { propagationPolicy: 'Background' },
    });
    expect(gone.metadata.finalizers).toBeUndefined();
    expect(await failure(api('', 'replicationcontrollers', { verb: 'get', name: 'web2' }))).toContain(
      'not found',
    );
  });
});

describe('jobStrategy: DefaultGarbageCollectionPolicy (pkg/registry/batch/job)', () => {
  const job = (name: string): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { ...template.spec, restartPolicy: 'Never' } } },
  });
  const handle = (req: RegistryRequest) => registry.handle({ group: 'batch', resource: 'jobs', ...req });

  it('a batch/v1 delete naming no policy orphans the pods and warns as upstream; Background neither', async () => {
    await handle({ verb: 'create', body: job('pi') });
    const orphaned = await handle({ verb: 'delete', name: 'pi' });
    expect((orphaned.body as KubeObject).metadata?.finalizers).toEqual(['orphan']);
    expect(orphaned.warnings).toEqual([
      'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning',
    ]);
    await handle({ verb: 'create', body: job('pi2') });
    const gone = await handle({ verb: 'delete', name: 'pi2', options: { propagationPolicy: 'Background' } });
    expect((gone.body as KubeObject).metadata?.finalizers).toBeUndefined();
    expect(gone.warnings ?? []).toEqual([]);
  });
});

describe('podTemplateStrategy', () => {
  it('generation 1 on create, bumped when the template changes, kept on a metadata change', async () => {
    const body = { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 't' }, template };
    const created = await api('', 'podtemplates', { verb: 'create', body });
    expect(created.metadata.generation).toBe(1);
    const labelled = await api('', 'podtemplates', {
      verb: 'update',
      name: 't',
      body: { ...created, metadata: { ...created.metadata, labels: { a: 'b' } } },
    });
    expect(labelled.metadata.generation).toBe(1);
    const changed = await api('', 'podtemplates', {
      verb: 'update',
      name: 't',
      body: {
        ...labelled,
        template: { ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } },
      },
    });
    expect(changed.metadata.generation).toBe(2);
  });
});

describe('resourcequotaStrategy', () => {
  it('status reset on create, spec and status written separately', async () => {
    const created = await api('', 'resourcequotas', {
      verb: 'create',
      body: {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'q' },
        spec: { hard: { pods: '2' } },
        status: { used: { pods: '5' } },
      },
    });
    expect(created.status).toEqual({});
    const status = await api('', 'resourcequotas', {
      verb: 'update',
      name: 'q',
      subresource: 'status',
      body: {
        ...created,
        spec: { hard: { pods: '9' } },
        status: { hard: { pods: '2' }, used: { pods: '1' } },
      },
    });
    expect(status.spec).toEqual({ hard: { pods: '2' } });
    expect(status.status).toEqual({ hard: { pods: '2' }, used: { pods: '1' } });
  });
});

describe('eventStrategy', () => {
  const coreEvent = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Started',
    message: 'hello',
    type: 'Normal',
  });

  it('DefaultGarbageCollectionPolicy Unsupported: an Orphan delete removes the Event at once', async () => {
    await api('', 'events', { verb: 'create', body: coreEvent('e1') });
    const deleted = await api('', 'events', {
      verb: 'delete',
      name: 'e1',
      options: { propagationPolicy: 'Orphan' },
    });
    expect(deleted.metadata.finalizers).toBeUndefined();
    expect(await failure(api('', 'events', { verb: 'get', name: 'e1' }))).toContain('not found');
  });

  it('core/v1 writes get the legacy rules only; events.k8s.io/v1 writes the strict ones', async () => {
    // a core/v1 Event may change its message, and its name need only be a path segment
    const created = await api('', 'events', { verb: 'create', body: coreEvent('Pod_p.1') });
    const updated = await api('', 'events', {
      verb: 'update',
      name: 'Pod_p.1',
      body: { ...created, message: 'changed' },
    });
    expect(updated.message).toBe('changed');

    const v1 = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e2' },
      eventTime: '2025-01-01T00:00:00.000000Z',
      reportingController: 'k8s.io/my-controller',
      reportingInstance: 'node-1',
      action: 'Do',
      reason: 'Because',
      type: 'Normal',
      regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
      note: 'first',
    };
    const made = await api('events.k8s.io', 'events', { verb: 'create', body: v1 });
    expect(
      await failure(
        api('events.k8s.io', 'events', { verb: 'update', name: 'e2', body: { ...made, note: 'second' } }),
      ),
    ).toContain('message: Invalid value: "second": field is immutable');
    expect(
      await failure(
        api('events.k8s.io', 'events', {
          verb: 'create',
          body: { ...v1, metadata: { name: 'e3' }, type: 'Info', deprecatedCount: 3 },
        }),
      ),
    ).toContain('type: Invalid value: "": has invalid value: Info');
  });
});
