// Custom resources through the real registry (SQLite in memory): a CRD becomes Established and served, its objects
// are decoded, defaulted, pruned and validated from its schema, its scale and status subresources work, strategic
// merge patch is refused, and deleting the CRD deletes its objects before the CRD goes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { findResource } from '../../api/resources.js';
import { aggregatedDiscovery, apiResourceList } from '../discovery/index.js';
import { openapiV3Document } from '../openapi/index.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from '../registry/registry.js';
import { toTable } from '../printers/index.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', groups: ['system:masters'] };

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wg'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'integer', minimum: 1 },
                  replicas: { type: 'integer', default: 1 },
                  tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer' } } },
            },
          },
        },
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
        },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
      },
      {
        name: 'v1beta1',
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

function req(r: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): ApiRequest {
  return {
    group: 'example.com',
    version: 'v1',
    resource: 'widgets',
    namespace: 'default',
    options: {},
    user,
    ...r,
  };
}
const call = async (r: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): Promise<KubeObject> =>
  (await registry.handle(req(r))).body as KubeObject;
const crdReq = (r: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): ApiRequest => ({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  options: {},
  user,
  ...r,
});

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage });
  await registry.init();
  await registry.handle(crdReq({ verb: 'create', body: structuredClone(CRD) }));
  await until('the CRD to be served', () => findResource('example.com', 'widgets'));
});

afterEach(async () => {
  registry.stop();
  await storage.close();
});

describe('a CustomResourceDefinition', () => {
  it('is named, established and served in discovery and OpenAPI', async () => {
    const crd = (await registry.handle(crdReq({ verb: 'get', name: 'widgets.example.com' }))).body as {
      status: {
        conditions: { type: string; status: string; reason: string }[];
        acceptedNames: { plural: string };
      };
    };
    expect(crd.status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ]);
    expect(crd.status.acceptedNames.plural).toBe('widgets');
    const list = apiResourceList('example.com', 'v1');
    expect(list?.resources.map((r) => r.name)).toEqual(['widgets', 'widgets/scale', 'widgets/status']);
    expect(list?.resources[0]).toMatchObject({ kind: 'Widget', shortNames: ['wg'], namespaced: true });
    const agg = aggregatedDiscovery('apis', 'v2').items.find((g) => g.metadata.name === 'example.com');
    expect(agg?.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
    const doc = openapiV3Document('apis/example.com/v1') as {
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.components.schemas)).toContain('com.example.v1.Widget');
  });

  it('refuses names another CRD of the group holds', async () => {
    const clash = structuredClone(CRD);
    clash.metadata.name = 'gadgets.example.com';
    clash.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: ['wg'] };
    await registry.handle(crdReq({ verb: 'create', body: clash }));
    const cond = await until('the names condition', async () => {
      const c = (await registry.handle(crdReq({ verb: 'get', name: 'gadgets.example.com' }))).body as {
        status: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      };
      return c.status.conditions?.find((x) => x.type === 'NamesAccepted');
    });
    expect(cond).toMatchObject({
      status: 'False',
      reason: 'ShortNamesConflict',
      message: '"wg" is already in use',
    });
    expect(findResource('example.com', 'gadgets')).toBeUndefined();
  });
});

describe('x-kubernetes-validations rules our CEL library cannot compile', () => {
  it('are named with their paths in Warnings of the CRD create and update, and not evaluated', async () => {
    const crd = structuredClone(CRD) as typeof CRD & { metadata: { name: string } };
    crd.metadata.name = 'gadgets.example.com';
    crd.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: [] };
    const schema = crd.spec.versions[0].schema.openAPIV3Schema as { properties: { spec: unknown } };
    const spec = schema.properties.spec as Record<string, unknown>;
    // the Kubernetes docs' format library example (upstream 1.31+); has() under an index compiles (rewritten)
    spec['x-kubernetes-validations'] = [
      { rule: '!format.dns1123Label().validate(string(self.size)).hasValue()', message: 'a label' },
      { rule: '!has(self.tags) || size(self.tags) == 0 || !has(self.tags[0].x)' },
    ];
    const created = await registry.handle(crdReq({ verb: 'create', body: crd }));
    expect(created.warnings).toEqual([
      "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: not evaluated: kubemu's CEL library cannot compile it, so gadgets.example.com objects are not checked against it (ERROR: <input>:1:2: Unknown variable: format)",
    ]);
    await until('gadgets to be served', () => findResource('example.com', 'gadgets'));
    const obj = await registry.handle(
      req({ verb: 'create', resource: 'gadgets', body: { metadata: { name: 'g' }, spec: { size: 3 } } }),
    );
    expect(obj.code).toBe(201);
    const stored = structuredClone(
      (await registry.handle(crdReq({ verb: 'get', name: 'gadgets.example.com' }))).body as KubeObject,
    );
    const updated = await registry.handle(
      crdReq({
        verb: 'update',
        name: 'gadgets.example.com',
        body: { ...stored, metadata: { ...stored.metadata, labels: { a: 'b' } } },
      }),
    );
    expect(updated.warnings).toHaveLength(1);
  });
});

describe('custom objects', () => {
  it('are defaulted and pruned (warnings, or an error under Strict), and read in every served version', async () => {
    const r = await registry.handle(
      req({
        verb: 'create',
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'a' },
          spec: { size: 2, junk: 1 },
          status: { replicas: 9 },
        },
      }),
    );
    expect(r.warnings).toEqual(['unknown field "spec.junk"']);
    const obj = r.body as { spec: unknown; status?: unknown; metadata: { generation: number } };
    expect(obj.spec).toEqual({ size: 2, replicas: 1 });
    expect(obj.status).toBeUndefined();
    expect(obj.metadata.generation).toBe(1);
    const strict = await failure(
      call({
        verb: 'create',
        options: { fieldValidation: 'Strict' },
        body: { metadata: { name: 'b' }, spec: { size: 1, junk: 1 } },
      }),
    );
    expect(strict.message).toBe('strict decoding error: unknown field "spec.junk"');
    const beta = await call({ verb: 'get', name: 'a', version: 'v1beta1' });
    expect(beta.apiVersion).toBe('example.com/v1beta1');
    const stored = await storage.get('/registry/example.com/widgets/default/a');
    expect(stored?.object.apiVersion).toBe('example.com/v1');
  });

  it("are refused between versions when the CRD's conversion webhook cannot be reached", async () => {
    await call({ verb: 'create', body: { metadata: { name: 'a' }, spec: { size: 2 } } });
    const crd = (await registry.handle(crdReq({ verb: 'get', name: 'widgets.example.com' })))
      .body as KubeObject;
    await registry.handle(
      crdReq({
        verb: 'patch',
        name: 'widgets.example.com',
        patchType: 'merge',
        body: {
          metadata: { resourceVersion: crd.metadata?.resourceVersion },
          spec: {
            conversion: {
              strategy: 'Webhook',
              webhook: {
                conversionReviewVersions: ['v1'],
                clientConfig: { url: 'https://127.0.0.1:1/convert' },
              },
            },
          },
        },
      }),
    );
    await until('the new CRD to be served', async () => {
      const e = await call({ verb: 'get', name: 'a', version: 'v1beta1' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      return e instanceof ApiError ? e : undefined;
    });
    const e = await failure(call({ verb: 'get', name: 'a', version: 'v1beta1' }));
    expect(e.message).toBe(
      'Internal error occurred: conversion webhook for example.com/v1, Kind=Widget failed: Post "https://127.0.0.1:1/convert?timeout=30s": dial tcp 127.0.0.1:1: connect: connection refused',
    );
    expect((await call({ verb: 'get', name: 'a' })).apiVersion).toBe('example.com/v1');
  });

  it('are validated with field paths', async () => {
    const e = await failure(
      call({ verb: 'create', body: { metadata: { name: 'Bad_Name' }, spec: { size: 0, tags: ['x', 'x'] } } }),
    );
    expect(e.reason).toBe('Invalid');
    expect(e.message).toBe(
      "Widget.example.com \"Bad_Name\" is invalid: [metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1, spec.tags[1]: Duplicate value: \"x\"]",
    );
    const missing = await failure(call({ verb: 'create', body: { metadata: { name: 'c' }, spec: {} } }));
    expect(missing.message).toBe('Widget.example.com "c" is invalid: spec.size: Required value');
  });

  it('have status and scale subresources; strategic merge patch is refused', async () => {
    await call({ verb: 'create', body: { metadata: { name: 'a' }, spec: { size: 2 } } });
    await call({
      verb: 'patch',
      name: 'a',
      subresource: 'status',
      patchType: 'merge',
      body: { status: { replicas: 3 } },
    });
    const main = await call({
      verb: 'patch',
      name: 'a',
      patchType: 'merge',
      body: { status: { replicas: 7 }, spec: { size: 3 } },
    });
    expect(main['status']).toEqual({ replicas: 3 });
    expect(main.metadata?.generation).toBe(2);
    const scaled = await call({
      verb: 'patch',
      name: 'a',
      subresource: 'scale',
      patchType: 'merge',
      body: { spec: { replicas: 4 } },
    });
    expect(scaled).toMatchObject({ kind: 'Scale', spec: { replicas: 4 }, status: { replicas: 3 } });
    expect(((await call({ verb: 'get', name: 'a' }))['spec'] as { replicas: number }).replicas).toBe(4);
    const smp = await failure(
      call({ verb: 'patch', name: 'a', patchType: 'strategic', body: { spec: { size: 5 } } }),
    );
    expect(smp.code).toBe(415);
    expect(smp.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });

  it("apply server-side with the schema's list types", async () => {
    const apply = (manager: string, tags: string[], force = false) =>
      call({
        verb: 'patch',
        name: 'a',
        patchType: 'apply',
        options: { fieldManager: manager, force },
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'a' },
          spec: { size: 1, tags },
        },
      });
    await apply('one', ['x']);
    // a set: the second manager's element joins the first's instead of replacing the list
    await apply('two', ['y'], true);
    const obj = await call({ verb: 'get', name: 'a' });
    expect([...(obj['spec'] as { tags: string[] }).tags].sort()).toEqual(['x', 'y']);
  });

  it('print with the CRD columns', async () => {
    const obj = await call({ verb: 'create', body: { metadata: { name: 'a' }, spec: { size: 2 } } });
    const table = toTable(findResource('example.com', 'widgets')!, [obj], { now: Date.now() });
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Size']);
    expect(table.rows[0].cells).toEqual(['a', 2]);
  });
});

describe('deleting the CRD', () => {
  it('deletes its objects first (the cleanup finalizer), then stops serving', async () => {
    await call({ verb: 'create', body: { metadata: { name: 'a' }, spec: { size: 2 } } });
    const marked = (await registry.handle(crdReq({ verb: 'delete', name: 'widgets.example.com' })))
      .body as KubeObject;
    expect(marked.metadata?.finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
    await until('the CRD to go', async () =>
      (await storage.get('/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com'))
        ? undefined
        : true,
    );
    await until('the resource to go', () => (findResource('example.com', 'widgets') ? undefined : true));
    expect(await storage.get('/registry/example.com/widgets/default/a')).toBeUndefined();
  });
});
