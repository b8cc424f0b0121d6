// Integration: a real apiserver process, driven over HTTPS like any client would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, watchStream, type Api } from './helpers/http.js';

let server: ApiServerProcess;
let api: Api;

const pod = (name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }], ...extra },
});

const deployment = (name: string, replicas = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] },
    },
  },
});

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
});

afterAll(async () => {
  await server?.cleanup();
});

describe('bootstrap and auth', () => {
  it('serves /version and health to system:anonymous, refuses it everything else; a wrong token is a 401', async () => {
    expect((await api('GET', '/version', undefined, { token: null })).status).toBe(200);
    expect((await api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    const denied = await api('GET', '/api/v1/namespaces', undefined, { token: null });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
    });
    expect((await api('GET', '/api/v1/namespaces', undefined, { token: 'wrong' })).status).toBe(401);
  });

  it('has the standard namespaces and the kubernetes Service on the first ClusterIP', async () => {
    const ns = await api('GET', '/api/v1/namespaces');
    expect(ns.body.items.map((n: any) => n.metadata.name).sort()).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
    expect(ns.body.items[0].status.phase).toBe('Active');
    const svc = await api('GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(svc.status).toBe(200);
    expect(svc.body.spec.clusterIP).toBe('127.96.0.1');
    expect(svc.body.spec.ports[0]).toMatchObject({ port: 443, targetPort: 6443, protocol: 'TCP' });
  });
});

describe('CRUD with upstream semantics', () => {
  it('creates with uid, creationTimestamp, resourceVersion and defaults; gets it back; 409 on a duplicate', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/pods', pod('crud-1'));
    expect(created.status).toBe(201);
    const m = created.body.metadata;
    expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(m.resourceVersion)).toBeGreaterThan(0);
    expect(m.namespace).toBe('default');
    expect(created.body.spec.restartPolicy).toBe('Always');
    expect(created.body.spec.terminationGracePeriodSeconds).toBe(30);
    expect(created.body.status.phase).toBe('Pending');
    const got = await api('GET', '/api/v1/namespaces/default/pods/crud-1');
    expect(got.body.metadata.uid).toBe(m.uid);
    const dup = await api('POST', '/api/v1/namespaces/default/pods', pod('crud-1'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'pods "crud-1" already exists' });
  });

  it('404s a missing object with upstream wording', async () => {
    const r = await api('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
  });

  it('rejects creates into a namespace that does not exist', async () => {
    const r = await api('POST', '/api/v1/namespaces/ghost/pods', pod('p'));
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('namespaces "ghost" not found');
  });

  it('generateName makes a unique name', async () => {
    const body = pod('');
    (body.metadata as any) = { generateName: 'gen-' };
    const a = await api('POST', '/api/v1/namespaces/default/pods', body);
    const b = await api('POST', '/api/v1/namespaces/default/pods', body);
    expect(a.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(a.body.metadata.name).not.toBe(b.body.metadata.name);
  });

  it('optimistic concurrency: an update with a stale resourceVersion gets 409 Conflict', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'occ' },
      data: { a: '1' },
    });
    const v1 = created.body;
    const ok = await api('PUT', '/api/v1/namespaces/default/configmaps/occ', { ...v1, data: { a: '2' } });
    expect(ok.status).toBe(200);
    expect(Number(ok.body.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));
    const stale = await api('PUT', '/api/v1/namespaces/default/configmaps/occ', { ...v1, data: { a: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/occ')).body.data).toEqual({ a: '2' });
  });

  it('an update that changes nothing writes nothing', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'noop' },
      data: { a: '1' },
    });
    const again = await api('PUT', '/api/v1/namespaces/default/configmaps/noop', created.body);
    expect(again.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
  });

  it('generation is bumped by spec changes only; status writes go through /status', async () => {
    const d = await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('gen'));
    expect(d.status).toBe(201);
    expect(d.body.metadata.generation).toBe(1);
    expect(d.body.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    expect(d.body.spec.revisionHistoryLimit).toBe(10);
    expect(d.body.spec.progressDeadlineSeconds).toBe(600);
    const labelled = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/gen',
      { metadata: { labels: { tier: 'web' } } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.generation).toBe(1);
    const scaled = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/gen',
      { spec: { replicas: 5 } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(scaled.body.metadata.generation).toBe(2);
    // status in a main-resource write is ignored
    const ignored = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/gen',
      { status: { replicas: 7 } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(ignored.body.status.replicas).toBeUndefined();
    const status = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/gen/status',
      { status: { replicas: 7, observedGeneration: 2 } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(status.status).toBe(200);
    expect(status.body.status.replicas).toBe(7);
    expect(status.body.metadata.generation).toBe(2);
    // the scale subresource
    const scale = await api('GET', '/apis/apps/v1/namespaces/default/deployments/gen/scale');
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 5 },
      status: { replicas: 7, selector: 'app=gen' },
    });
    const rescaled = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/gen/scale',
      { spec: { replicas: 3 } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(rescaled.body.spec.replicas).toBe(3);
    expect(
      (await api('GET', '/apis/apps/v1/namespaces/default/deployments/gen')).body.metadata.generation,
    ).toBe(3);
  });

  it('rejects a change to an immutable field (Deployment selector)', async () => {
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('immut'));
    const r = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/immut',
      {
        spec: {
          selector: { matchLabels: { app: 'other' } },
          template: { metadata: { labels: { app: 'other' } } },
        },
      },
      { contentType: 'application/merge-patch+json' },
    );
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details.causes.map((c: any) => c.field)).toContain('spec.selector');
    expect(r.body.message).toContain('field is immutable');
  });

  it('JSON patch applies and a failed test op is rejected', async () => {
    await api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'jp' },
      data: { a: '1' },
    });
    const ok = await api(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/jp',
      [{ op: 'add', path: '/data/b', value: '2' }],
      { contentType: 'application/json-patch+json' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ a: '1', b: '2' });
    const bad = await api(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/jp',
      [{ op: 'test', path: '/data/a', value: 'nope' }],
      { contentType: 'application/json-patch+json' },
    );
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
  });
  it('concurrent patches without a resourceVersion all apply (retried on conflict); a pinned stale one gets 409', async () => {
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('racing', 1));
    const path = '/apis/apps/v1/namespaces/default/deployments/racing/status';
    // 40 writers of one object: each round of the race has one winner, so the last needs up to 40 rounds
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api(
          'PATCH',
          path,
          { status: { conditions: [{ type: `Check${i}`, status: 'True' }] } },
          { contentType: 'application/strategic-merge-patch+json' },
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const after = await api('GET', path);
    expect(after.body.status.conditions).toHaveLength(40);
    const stale = await api(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/racing',
      { metadata: { resourceVersion: results[0].body.metadata.resourceVersion, labels: { late: 'yes' } } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(stale.status).toBe(409);
  });
});

describe('selectors and pagination', () => {
  beforeAll(async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    for (let i = 0; i < 12; i++) {
      await api(
        'POST',
        '/api/v1/namespaces/sel/pods',
        pod(
          `p-${String(i).padStart(2, '0')}`,
          { app: i % 2 ? 'odd' : 'even', idx: String(i) },
          i < 3 ? { nodeName: 'node-1' } : {},
        ),
      );
    }
  });

  it('filters by label selector (=, !=, in, notin, exists, gt, lt)', async () => {
    const names = async (sel: string) =>
      (
        await api('GET', `/api/v1/namespaces/sel/pods?labelSelector=${encodeURIComponent(sel)}`)
      ).body.items.map((p: any) => p.metadata.name);
    expect(await names('app=odd')).toHaveLength(6);
    expect(await names('app!=odd')).toHaveLength(6);
    expect(await names('idx in (1,2,3)')).toEqual(['p-01', 'p-02', 'p-03']);
    expect(await names('app=even,idx notin (0,2,4)')).toEqual(['p-06', 'p-08', 'p-10']);
    expect(await names('idx')).toHaveLength(12);
    const bad = await api('GET', `/api/v1/namespaces/sel/pods?labelSelector=${encodeURIComponent('a in b')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("unable to parse requirement: found 'b' expected: '('");
    // labels.Parse's gt and lt compare integers
    expect(await names('idx>9')).toEqual(['p-10', 'p-11']);
    expect(await names('idx<2,app=even')).toEqual(['p-00']);
  });

  it('filters by field selector (metadata.name, spec.nodeName, status.phase) and rejects unknown fields', async () => {
    const get = (sel: string) => api('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(sel)}`);
    expect((await get('spec.nodeName=node-1')).body.items).toHaveLength(3);
    expect((await get('metadata.name=p-05,metadata.namespace=sel')).body.items).toHaveLength(1);
    expect((await get('status.phase=Running')).body.items).toHaveLength(0);
    const bad = await get('spec.bogus=1');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('field label not supported: spec.bogus');
  });

  it('pages with limit/continue and sees every item exactly once', async () => {
    const seen: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const r = await api(
        'GET',
        `/api/v1/namespaces/sel/pods?limit=5${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((p: any) => p.metadata.name));
      cont = r.body.metadata.continue ?? '';
      if (cont && pages === 0) expect(r.body.metadata.remainingItemCount).toBe(7);
      pages++;
    } while (cont);
    expect(pages).toBe(3);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(12);
    const bad = await api('GET', '/api/v1/namespaces/sel/pods?limit=5&continue=garbage');
    expect(bad.status).toBe(400);
  });
});

describe('deletion: finalizers, graceful pods, propagation', () => {
  it('an object with finalizers gets a deletionTimestamp and goes when the last finalizer is removed', async () => {
    await api('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'fin', finalizers: ['example.com/hold'] },
      data: {},
    });
    const del = await api('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    const still = await api('GET', '/api/v1/namespaces/default/configmaps/fin');
    expect(still.status).toBe(200);
    expect(still.body.metadata.finalizers).toEqual(['example.com/hold']);
    const removed = await api(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/fin',
      { metadata: { finalizers: null } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(removed.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  it('propagationPolicy is kept on the object as a finalizer for the garbage collector', async () => {
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('orphan-me'));
    const del = await api('DELETE', '/apis/apps/v1/namespaces/default/deployments/orphan-me', {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Orphan',
    });
    expect(del.status).toBe(200);
    expect(del.body.metadata.finalizers).toContain('orphan');
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('fg'));
    const fg = await api(
      'DELETE',
      '/apis/apps/v1/namespaces/default/deployments/fg?propagationPolicy=Foreground',
    );
    expect(fg.body.metadata.finalizers).toContain('foregroundDeletion');
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('bg'));
    const bg = await api(
      'DELETE',
      '/apis/apps/v1/namespaces/default/deployments/bg?propagationPolicy=Background',
    );
    expect(bg.status).toBe(200);
    expect((await api('GET', '/apis/apps/v1/namespaces/default/deployments/bg')).status).toBe(404);
  });

  it('a pod bound to a node is deleted gracefully; unbound pods go at once', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', pod('graceful', {}, { nodeName: 'node-1' }));
    const del = await api('DELETE', '/api/v1/namespaces/default/pods/graceful');
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await api('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(200);
    const now = await api('DELETE', '/api/v1/namespaces/default/pods/graceful', { gracePeriodSeconds: 0 });
    expect(now.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(404);
    await api('POST', '/api/v1/namespaces/default/pods', pod('unbound'));
    await api('DELETE', '/api/v1/namespaces/default/pods/unbound');
    expect((await api('GET', '/api/v1/namespaces/default/pods/unbound')).status).toBe(404);
  });

  it('a terminating pod with a finalizer goes when the finalizer does, once its kubelet deleted it with grace 0', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', pod('held', {}, { nodeName: 'node-1' }));
    // kubectl delete pod --cascade=orphan: the garbage collector's finalizer stays until it has orphaned dependents
    await api('DELETE', '/api/v1/namespaces/default/pods/held?propagationPolicy=Orphan');
    const unhold = () =>
      api(
        'PATCH',
        '/api/v1/namespaces/default/pods/held',
        { metadata: { finalizers: null } },
        { contentType: 'application/merge-patch+json' },
      );
    // the kubelet has not stopped it yet: without its finalizer it still waits for the kubelet
    expect((await unhold()).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/held')).status).toBe(200);
    await api('DELETE', '/api/v1/namespaces/default/pods/held?propagationPolicy=Orphan');
    // the kubelet finished first: its grace-0 delete leaves the pod to its finalizer...
    const kubelet = await api('DELETE', '/api/v1/namespaces/default/pods/held', { gracePeriodSeconds: 0 });
    expect(kubelet.body.metadata.deletionGracePeriodSeconds).toBe(0);
    expect((await api('GET', '/api/v1/namespaces/default/pods/held')).status).toBe(200);
    // ...and the finalizer going deletes it (upstream's ShouldDeleteDuringUpdate)
    expect((await unhold()).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/held')).status).toBe(404);
  });

  it('binding assigns a node once', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', pod('bindme'));
    const b = await api('POST', '/api/v1/namespaces/default/pods/bindme/binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'bindme' },
      target: { kind: 'Node', name: 'node-2' },
    });
    expect(b.status).toBe(201);
    const p = await api('GET', '/api/v1/namespaces/default/pods/bindme');
    expect(p.body.spec.nodeName).toBe('node-2');
    expect(p.body.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'PodScheduled', status: 'True' }),
    );
    const again = await api('POST', '/api/v1/namespaces/default/pods/bindme/binding', {
      target: { kind: 'Node', name: 'node-3' },
    });
    expect(again.status).toBe(409);
  });

  it('immortal namespaces cannot be deleted; others go Terminating', async () => {
    const r = await api('DELETE', '/api/v1/namespaces/default');
    expect(r.status).toBe(403);
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    const d = await api('DELETE', '/api/v1/namespaces/doomed');
    expect(d.body.status.phase).toBe('Terminating');
    const create = await api('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'x' } });
    expect(create.status).toBe(403);
    expect(create.body.message).toContain('because it is being terminated');
  });
});

describe('watch', () => {
  it('streams ADDED/MODIFIED/DELETED from a resourceVersion, with selector transitions', async () => {
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'w' } });
    const start = await api('GET', '/api/v1/namespaces/w/configmaps');
    const rv = start.body.metadata.resourceVersion;
    const w = watchStream(
      server,
      `/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${rv}&labelSelector=keep%3Dyes`,
    );
    await api('POST', '/api/v1/namespaces/w/configmaps', {
      metadata: { name: 'a', labels: { keep: 'yes' } },
    });
    await api('POST', '/api/v1/namespaces/w/configmaps', { metadata: { name: 'b', labels: { keep: 'no' } } });
    await api(
      'PATCH',
      '/api/v1/namespaces/w/configmaps/a',
      { data: { x: '1' } },
      { contentType: 'application/merge-patch+json' },
    );
    await api(
      'PATCH',
      '/api/v1/namespaces/w/configmaps/b',
      { metadata: { labels: { keep: 'yes' } } },
      { contentType: 'application/merge-patch+json' },
    );
    await api(
      'PATCH',
      '/api/v1/namespaces/w/configmaps/a',
      { metadata: { labels: { keep: 'no' } } },
      { contentType: 'application/merge-patch+json' },
    );
    await api('DELETE', '/api/v1/namespaces/w/configmaps/b');
    const evs = await w.waitFor((e) => e.length >= 5);
    w.close();
    expect(evs.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual([
      'ADDED:a',
      'MODIFIED:a',
      'ADDED:b',
      'DELETED:a',
      'DELETED:b',
    ]);
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
  });

  it('resumes from a resourceVersion: a new watch gets exactly what happened after it', async () => {
    const a = await api('POST', '/api/v1/namespaces/w/configmaps', { metadata: { name: 'r1' } });
    await api('POST', '/api/v1/namespaces/w/configmaps', { metadata: { name: 'r2' } });
    await api('POST', '/api/v1/namespaces/w/configmaps', { metadata: { name: 'r3' } });
    const w = watchStream(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${a.body.metadata.resourceVersion}`,
    );
    const evs = await w.waitFor((e) => e.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    w.close();
    expect(evs.map((e) => e.object.metadata.name)).toEqual(['r2', 'r3']);
  });

  it('a watch without resourceVersion starts with the current state as ADDED events', async () => {
    const w = watchStream(server, '/api/v1/namespaces/sel/pods?watch=true');
    const evs = await w.waitFor((e) => e.length >= 12);
    w.close();
    expect(evs.every((e) => e.type === 'ADDED')).toBe(true);
  });
});
