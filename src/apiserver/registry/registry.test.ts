// The registry's per-kind write rules on every verb, without sockets: a Secret's stringData folded into data,
// pod admission on update (default tolerations, service account aliases), managedFields of the scale subresource.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from './registry.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', groups: ['system:masters'] };

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage, notReadyTolerationSeconds: 300 });
  await registry.init();
  // what the serviceaccount controller makes in a real cluster; ServiceAccount admission refuses pods without it
  for (const name of ['default', 'robot'])
    await registry.handle({
      verb: 'create',
      group: '',
      version: 'v1',
      resource: 'serviceaccounts',
      namespace: 'default',
      body: { metadata: { name } },
      options: {},
      user,
    });
});

afterEach(() => storage.close());

type Verb = Pick<ApiRequest, 'verb'> & Partial<ApiRequest>;

function core(resource: string, req: Verb): Promise<KubeObject> {
  return registry
    .handle({ group: '', version: 'v1', resource, namespace: 'default', options: {}, user, ...req })
    .then((r) => r.body as KubeObject);
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function invalidCauses(p: Promise<unknown>): Promise<string[]> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  const err = e as ApiError;
  expect(err.reason).toBe('Invalid');
  return (err.details?.causes ?? []).map((cause) => `${cause.field}: ${cause.reason}`);
}

describe('Secret stringData', () => {
  const secret = (body: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    ...body,
  });

  it('is merged into data on create, overriding data, and never stored', async () => {
    const created = await core('secrets', {
      verb: 'create',
      body: secret({ data: { a: b64('old'), keep: b64('k') }, stringData: { a: 'new', b: 'bee' } }),
    });
    expect(created['data']).toEqual({ a: b64('new'), keep: b64('k'), b: b64('bee') });
    expect(created['stringData']).toBeUndefined();
    const got = await core('secrets', { verb: 'get', name: 's' });
    expect(got['stringData']).toBeUndefined();
    expect(got.metadata?.managedFields?.[0]?.fieldsV1).toEqual({
      'f:data': { '.': {}, 'f:a': {}, 'f:b': {}, 'f:keep': {} },
      'f:type': {},
    });
  });

  it('is merged on update and on every patch type, and on server-side apply', async () => {
    await core('secrets', { verb: 'create', body: secret({ stringData: { a: '1' } }) });
    await core('secrets', { verb: 'update', name: 's', body: secret({ stringData: { a: '2' } }) });
    expect((await core('secrets', { verb: 'get', name: 's' }))['data']).toEqual({ a: b64('2') });
    for (const [patchType, body, key] of [
      ['strategic', { stringData: { b: 's' } }, 'b'],
      ['merge', { stringData: { c: 'm' } }, 'c'],
      ['json', [{ op: 'add', path: '/stringData', value: { d: 'j' } }], 'd'],
    ] as const) {
      const out = await core('secrets', { verb: 'patch', name: 's', patchType, body });
      expect((out['data'] as Record<string, string>)[key], patchType).toBeDefined();
      expect(out['stringData'], patchType).toBeUndefined();
    }
    const applied = await core('secrets', {
      verb: 'patch',
      name: 's',
      patchType: 'apply',
      options: { fieldManager: 'ssa' },
      body: secret({ stringData: { a: 'applied' } }),
    });
    expect((applied['data'] as Record<string, string>)['a']).toBe(b64('applied'));
    expect(applied['stringData']).toBeUndefined();
  });

  it('is validated after the merge, with the data[key] paths of upstream', async () => {
    expect(
      await invalidCauses(
        core('secrets', {
          verb: 'create',
          body: secret({ type: 'kubernetes.io/basic-auth', stringData: { user: 'x' } }),
        }),
      ),
    ).toEqual(['data[username]: FieldValueRequired', 'data[password]: FieldValueRequired']);
    const ok = await core('secrets', {
      verb: 'create',
      body: secret({ type: 'kubernetes.io/basic-auth', stringData: { password: 'x' } }),
    });
    expect(ok['data']).toEqual({ password: b64('x') });
    expect(
      await invalidCauses(
        core('secrets', {
          verb: 'update',
          name: 's',
          body: secret({ type: 'kubernetes.io/basic-auth', stringData: { other: 'x' } }),
        }),
      ),
    ).toEqual(['data[username]: FieldValueRequired', 'data[password]: FieldValueRequired']);
    expect(
      await invalidCauses(core('secrets', { verb: 'update', name: 's', body: secret({ type: 'Opaque' }) })),
    ).toEqual(['type: FieldValueInvalid']);
  });

  it('cannot change an immutable Secret through stringData', async () => {
    await core('secrets', { verb: 'create', body: secret({ immutable: true, stringData: { a: '1' } }) });
    expect(
      await invalidCauses(
        core('secrets', {
          verb: 'update',
          name: 's',
          body: secret({ immutable: true, stringData: { a: '2' } }),
        }),
      ),
    ).toEqual(['data: FieldValueForbidden']);
  });
});

describe('pod admission on update', () => {
  // no token volume: ServiceAccount admission adds kube-api-access-* on create only (as upstream), so a manifest
  // replaced as it was written would differ in its volumes too, which is not what these cases are about
  const manifest = (spec: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }], ...spec },
  });

  async function bind(node: string): Promise<void> {
    await registry.handle({
      verb: 'create',
      group: '',
      version: 'v1',
      resource: 'pods',
      subresource: 'binding',
      namespace: 'default',
      name: 'p',
      options: {},
      user,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'p' },
        target: { kind: 'Node', name: node },
      },
    });
  }

  it('refuses a PUT that leaves what create and scheduling set empty, and adds the tolerations again', async () => {
    const created = await core('pods', { verb: 'create', body: manifest() });
    await bind('node-1');
    // as upstream: ServiceAccount admission mutates on create only, so empty fields read as changes
    await expect(core('pods', { verb: 'update', name: 'p', body: manifest() })).rejects.toThrow(
      /pod updates may not change fields other than/,
    );
    const replaced = await core('pods', {
      verb: 'update',
      name: 'p',
      body: manifest({ nodeName: 'node-1', serviceAccountName: 'default' }),
    });
    const spec = replaced['spec'] as Record<string, unknown>;
    expect(spec['tolerations']).toEqual((created['spec'] as Record<string, unknown>)['tolerations']);
    expect([spec['serviceAccountName'], spec['serviceAccount']]).toEqual(['default', 'default']);
  });

  it('adds the default tolerations again on update, but keeps a toleration the pod already has', async () => {
    await core('pods', {
      verb: 'create',
      body: manifest({
        serviceAccountName: 'default',
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }],
      }),
    });
    const out = await core('pods', {
      verb: 'update',
      name: 'p',
      body: manifest({
        serviceAccountName: 'default',
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }],
      }),
    });
    expect((out['spec'] as { tolerations: unknown[] }).tolerations).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
  });

  it('treats serviceAccount and serviceAccountName as aliases, serviceAccountName winning', async () => {
    const byDeprecated = await core('pods', { verb: 'create', body: manifest({ serviceAccount: 'robot' }) });
    const spec = byDeprecated['spec'] as Record<string, unknown>;
    expect([spec['serviceAccountName'], spec['serviceAccount']]).toEqual(['robot', 'robot']);
    await core('pods', { verb: 'update', name: 'p', body: manifest({ serviceAccountName: 'robot' }) });
    await core('pods', { verb: 'update', name: 'p', body: manifest({ serviceAccount: 'robot' }) });
    const both = await core('pods', {
      verb: 'update',
      name: 'p',
      body: manifest({ serviceAccountName: 'robot', serviceAccount: 'ignored' }),
    });
    expect((both['spec'] as Record<string, unknown>)['serviceAccount']).toBe('robot');
    expect(
      await invalidCauses(
        core('pods', { verb: 'update', name: 'p', body: manifest({ serviceAccountName: 'other' }) }),
      ),
    ).toEqual(['spec: FieldValueForbidden']);
  });
});

describe('managedFields of the scale subresource', () => {
  it('records the writer with subresource scale and takes spec.replicas from the creator', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    };
    const apps = (req: Verb): Promise<KubeObject> =>
      registry
        .handle({
          group: 'apps',
          version: 'v1',
          resource: 'deployments',
          namespace: 'default',
          options: {},
          user,
          ...req,
        })
        .then((r) => r.body as KubeObject);
    await apps({ verb: 'create', body: deployment, options: { fieldManager: 'creator' } });
    await apps({
      verb: 'patch',
      name: 'd',
      subresource: 'scale',
      patchType: 'merge',
      body: { spec: { replicas: 1 } },
      options: { fieldManager: 'scaler' },
    });
    const got = await apps({ verb: 'get', name: 'd' });
    const entries = got.metadata?.managedFields ?? [];
    expect(entries.find((e) => e.manager === 'scaler')).toMatchObject({
      operation: 'Update',
      apiVersion: 'apps/v1',
      subresource: 'scale',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    });
    const creator = entries.find((e) => e.manager === 'creator')?.fieldsV1 as Record<
      string,
      Record<string, unknown>
    >;
    expect(creator['f:spec']?.['f:replicas']).toBeUndefined();
    expect(creator['f:spec']?.['f:selector']).toBeDefined();
  });
});

describe('managedFields of a Node created by kubectl create', () => {
  it('records the creator for what it set outside status, like upstream (status is the status subresource’s)', async () => {
    const node = (name: string, extra: Record<string, unknown>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, ...extra },
      status: { capacity: { cpu: '2', memory: '1Gi', pods: '110' } },
    });
    const create = (obj: KubeObject): Promise<KubeObject> =>
      registry
        .handle({
          verb: 'create',
          group: '',
          version: 'v1',
          resource: 'nodes',
          options: { fieldManager: 'kubectl-create' },
          user,
          body: obj,
        })
        .then((r) => r.body as KubeObject);
    const labelled = await create(node('labelled', { labels: { name: 'my-first-k8s-node' } }));
    expect(labelled.metadata?.managedFields).toEqual([
      expect.objectContaining({
        manager: 'kubectl-create',
        operation: 'Update',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:name': {} } } },
      }),
    ]);
    // nothing but a name and status: upstream's field manager has no field to record either
    expect((await create(node('bare', {}))).metadata?.managedFields).toBeUndefined();
  });
});
