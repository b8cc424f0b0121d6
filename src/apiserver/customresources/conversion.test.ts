// `conversion: Webhook` through the real registry (SQLite in memory) against a real HTTPS webhook on 127.0.0.1 with
// a certificate from our CA: the Kubernetes docs' example (v1beta1 `hostPort: "localhost:1234"` stored as v1 `host`
// and `port`), reached by url and by a Service's endpoints, with caBundle; objects validated in the request's version
// and written in the storage version; lists converted in one call, watch events in order; and upstream's errors
// when the webhook fails or answers wrongly (uid, apiVersion, kind, count, identity, result).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject, WatchEvent } from '../../api/request.js';
import { findResource } from '../../api/resources.js';
import { createCertificateAuthority, issueCertificate } from '../../util/pki.js';
import { Registry } from '../registry/registry.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';

const user = { username: 'alice', groups: ['system:masters'] };
const GROUP = 'conversion.example.com';

interface Review {
  apiVersion: string;
  kind: string;
  request: { uid: string; desiredAPIVersion: string; objects: KubeObject[] };
}
type Spec = { host?: string; port?: number; hostPort?: string };

/** the docs' conversion: v1beta1 hostPort <-> v1 host and port */
function convert(obj: KubeObject, desired: string): KubeObject {
  const spec = { ...(obj['spec'] as Spec) };
  if (desired.endsWith('/v1') && spec.hostPort !== undefined) {
    const [host, port] = spec.hostPort.split(':');
    delete spec.hostPort;
    Object.assign(spec, { host, port: Number(port) });
  } else if (desired.endsWith('/v1beta1') && spec.host !== undefined) {
    spec.hostPort = `${spec.host}:${spec.port}`;
    delete spec.host;
    delete spec.port;
  }
  return { ...obj, apiVersion: desired, spec };
}

let server: Server;
let port = 0;
let caBundle = '';
let otherCaBundle = '';
const reviews: Review[] = [];
/** how the webhook answers: a function of the review to the response body */
let answer: (r: Review) => unknown;
const correct = (r: Review): unknown => ({
  apiVersion: r.apiVersion,
  kind: 'ConversionReview',
  response: {
    uid: r.request.uid,
    result: { status: 'Success' },
    convertedObjects: r.request.objects.map((o) => convert(o, r.request.desiredAPIVersion)),
  },
});

beforeAll(async () => {
  const ca = await createCertificateAuthority('conversion-ca');
  const other = await createCertificateAuthority('another-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'hook',
    hosts: ['127.0.0.1', 'converter.default.svc'],
  });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  otherCaBundle = Buffer.from(other.certPem).toString('base64');
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const review = JSON.parse(body) as Review;
      reviews.push(review);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer(review)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const schema = (properties: Record<string, unknown>) => ({
  openAPIV3Schema: {
    type: 'object',
    properties: { spec: { type: 'object', properties } },
  },
});

function crd(conversion: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `endpoints.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural: 'endpoints', singular: 'endpoint', kind: 'Endpoint' },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: false,
          schema: schema({
            hostPort: { type: 'string', pattern: '^[a-z0-9.-]+:[0-9]+$' },
            replicas: { type: 'integer', default: 1 },
          }),
          subresources: {
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
        },
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: schema({
            host: { type: 'string' },
            port: { type: 'integer', maximum: 65535 },
            replicas: { type: 'integer', default: 1 },
          }),
          subresources: {
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
        },
      ],
      conversion,
    },
  };
}

const webhook = (extra: Record<string, unknown> = {}, reviewVersions = ['v1']) => ({
  strategy: 'Webhook',
  webhook: {
    conversionReviewVersions: reviewVersions,
    clientConfig: { url: `https://127.0.0.1:${port}/convert`, caBundle, ...extra },
  },
});

let storage: SqliteStorage;
let registry: Registry;

const call = async (r: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): Promise<KubeObject> =>
  (
    await registry.handle({
      group: GROUP,
      version: 'v1beta1',
      resource: 'endpoints',
      namespace: 'default',
      options: {},
      user,
      ...r,
    })
  ).body as KubeObject;

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

async function serve(conversion: Record<string, unknown>): Promise<void> {
  await registry.handle({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    verb: 'create',
    body: crd(conversion),
    options: {},
    user,
  });
  for (let i = 0; i < 200 && !findResource(GROUP, 'endpoints'); i++)
    await new Promise((r) => setTimeout(r, 10));
}

beforeEach(async () => {
  reviews.length = 0;
  answer = correct;
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage });
  await registry.init();
});

afterEach(async () => {
  registry.stop();
  await storage.close();
});

const create = (name: string, hostPort: string, version = 'v1beta1') =>
  call({
    verb: 'create',
    version,
    body: {
      apiVersion: `${GROUP}/${version}`,
      kind: 'Endpoint',
      metadata: { name },
      spec:
        version === 'v1'
          ? { host: hostPort.split(':')[0], port: Number(hostPort.split(':')[1]) }
          : { hostPort },
    },
  });

describe('conversion: Webhook', () => {
  it('writes in the storage version and reads in the requested one, through the webhook (url, caBundle)', async () => {
    await serve(webhook());
    const created = await create('a', 'db.local:5432');
    expect(created.apiVersion).toBe(`${GROUP}/v1beta1`);
    expect(created['spec']).toEqual({ hostPort: 'db.local:5432', replicas: 1 });
    // one review to the storage version, one back for the answer
    expect(reviews.map((r) => [r.apiVersion, r.request.desiredAPIVersion])).toEqual([
      ['apiextensions.k8s.io/v1', `${GROUP}/v1`],
      ['apiextensions.k8s.io/v1', `${GROUP}/v1beta1`],
    ]);
    const stored = await storage.get(`/registry/${GROUP}/endpoints/default/a`);
    expect(stored?.object.apiVersion).toBe(`${GROUP}/v1`);
    expect(stored?.object['spec']).toEqual({ host: 'db.local', port: 5432, replicas: 1 });
    // metadata is the apiserver's, whatever the webhook sends back
    expect(created.metadata?.uid).toBe(stored?.object.metadata?.uid);

    reviews.length = 0;
    const v1 = await call({ verb: 'get', name: 'a', version: 'v1' });
    expect(v1['spec']).toEqual({ host: 'db.local', port: 5432, replicas: 1 });
    expect(reviews).toHaveLength(0);
    const beta = await call({ verb: 'get', name: 'a' });
    expect(beta['spec']).toEqual({ hostPort: 'db.local:5432', replicas: 1 });
    expect(reviews).toHaveLength(1);
  });

  it('validates in the requested version, updates through both conversions and scales', async () => {
    await serve(webhook());
    const bad = await failure(create('bad', 'no port'));
    expect(bad.message).toContain(
      'spec.hostPort: Invalid value: "no port": spec.hostPort in body should match',
    );
    await create('a', 'db.local:5432');
    const patched = await call({
      verb: 'patch',
      name: 'a',
      patchType: 'merge',
      body: { spec: { hostPort: 'db.local:6543' } },
    });
    expect(patched['spec']).toEqual({ hostPort: 'db.local:6543', replicas: 1 });
    expect((await storage.get(`/registry/${GROUP}/endpoints/default/a`))?.object['spec']).toMatchObject({
      port: 6543,
    });
    // the storage version's schema still holds: port ≤ 65535, checked in the version written (v1)
    const big = await failure(
      call({ verb: 'patch', name: 'a', version: 'v1', patchType: 'merge', body: { spec: { port: 70000 } } }),
    );
    expect(big.message).toContain(
      'spec.port: Invalid value: 70000: spec.port in body should be less than or equal to 65535',
    );
    const scaled = await call({
      verb: 'patch',
      name: 'a',
      subresource: 'scale',
      patchType: 'merge',
      body: { spec: { replicas: 3 } },
    });
    expect(scaled['spec']).toEqual({ replicas: 3 });
    expect((await call({ verb: 'get', name: 'a' }))['spec']).toEqual({
      hostPort: 'db.local:6543',
      replicas: 3,
    });
  });

  it('converts a list in one review, sending only the objects not in the desired version', async () => {
    await serve(webhook());
    await create('a', 'a.local:1');
    await create('b', 'b.local:2');
    await create('c', 'c.local:3', 'v1');
    reviews.length = 0;
    const list = (await call({ verb: 'list' })) as unknown as { apiVersion: string; items: KubeObject[] };
    expect(list.apiVersion).toBe(`${GROUP}/v1beta1`);
    expect(list.items.map((i) => (i['spec'] as Spec).hostPort)).toEqual([
      'a.local:1',
      'b.local:2',
      'c.local:3',
    ]);
    expect(reviews).toHaveLength(1);
    expect(reviews[0].request.objects).toHaveLength(3);
    // the list in the storage version needs no webhook
    reviews.length = 0;
    await call({ verb: 'list', version: 'v1' });
    expect(reviews).toHaveLength(0);
  });

  it('converts watch events in order, and a failing conversion ends the watch with its error', async () => {
    await serve(webhook());
    await create('a', 'a.local:1');
    const events: WatchEvent[] = [];
    let ended: unknown = 'open';
    await registry.watch(
      {
        verb: 'watch',
        group: GROUP,
        version: 'v1beta1',
        resource: 'endpoints',
        namespace: 'default',
        options: { resourceVersion: '0' },
        user,
      },
      { event: (ev) => (events.push(ev), true), end: (err) => (ended = err) },
    );
    for (let i = 2; i <= 6; i++) await create(`n${i}`, `n${i}.local:${i}`, 'v1');
    for (let i = 0; i < 200 && events.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => [e.type, e.object.apiVersion, (e.object['spec'] as Spec).hostPort])).toEqual([
      ['ADDED', `${GROUP}/v1beta1`, 'a.local:1'],
      ...[2, 3, 4, 5, 6].map((i) => ['ADDED', `${GROUP}/v1beta1`, `n${i}.local:${i}`]),
    ]);
    answer = () => ({ nonsense: true });
    await create('z', 'z.local:9', 'v1');
    for (let i = 0; i < 200 && ended === 'open'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((ended as ApiError).message).toBe(
      `Internal error occurred: conversion webhook for ${GROUP}/v1, Kind=Endpoint failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got , Kind=`,
    );
  });

  it('refuses with upstream messages when the webhook answers wrongly', async () => {
    await serve(webhook());
    await create('a', 'a.local:1', 'v1');
    const gvk = `${GROUP}/v1, Kind=Endpoint`;
    const cases: [string, (r: Review) => unknown, string][] = [
      [
        'uid',
        (r) => ({
          ...(correct(r) as object),
          response: { ...(correct(r) as { response: object }).response, uid: 'x' },
        }),
        `conversion webhook for ${gvk} failed: expected response.uid="UID", got "x"`,
      ],
      [
        'result',
        (r) => ({
          ...(correct(r) as object),
          response: { uid: r.request.uid, result: { status: 'Failure', message: 'cannot convert that' } },
        }),
        `conversion webhook for ${gvk} failed: cannot convert that`,
      ],
      [
        'count',
        (r) => ({
          ...(correct(r) as object),
          response: { uid: r.request.uid, result: { status: 'Success' }, convertedObjects: [] },
        }),
        `conversion webhook for ${gvk} returned 0 objects, expected 1`,
      ],
      [
        'apiVersion',
        (r) => {
          const c = correct(r) as { response: { convertedObjects: KubeObject[] } };
          c.response.convertedObjects[0].apiVersion = `${GROUP}/v1`;
          return c;
        },
        `conversion webhook for ${gvk} returned invalid object at index 0: invalid groupVersion (expected ${GROUP}/v1beta1, received ${GROUP}/v1)`,
      ],
      [
        'name',
        (r) => {
          const c = correct(r) as { response: { convertedObjects: KubeObject[] } };
          c.response.convertedObjects[0].metadata = { ...c.response.convertedObjects[0].metadata, name: 'b' };
          return c;
        },
        `conversion webhook for ${gvk} returned invalid object: must have the same name: a != b`,
      ],
      [
        'labels',
        (r) => {
          const c = correct(r) as { response: { convertedObjects: KubeObject[] } };
          c.response.convertedObjects[0].metadata = {
            ...c.response.convertedObjects[0].metadata,
            labels: { 'a b': 'x' },
          };
          return c;
        },
        `conversion webhook for ${gvk} returned invalid metadata: metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
    ];
    for (const [what, respond, message] of cases) {
      reviews.length = 0;
      answer = respond;
      const e = await failure(call({ verb: 'get', name: 'a' }));
      expect(e.code, what).toBe(500);
      expect(e.message, what).toBe(
        `Internal error occurred: ${message.replace('UID', reviews[0].request.uid)}`,
      );
    }
    // the stored object is untouched and readable in its own version
    expect((await call({ verb: 'get', name: 'a', version: 'v1' }))['spec']).toMatchObject({ port: 1 });
  });

  it('labels and annotations come from the webhook, the rest of metadata from the apiserver', async () => {
    await serve(webhook());
    await create('a', 'a.local:1', 'v1');
    answer = (r) => {
      const c = correct(r) as { response: { convertedObjects: KubeObject[] } };
      const { name, namespace, uid } = r.request.objects[0].metadata ?? {};
      c.response.convertedObjects[0].metadata = {
        name,
        namespace,
        uid,
        resourceVersion: '1',
        labels: { converted: 'yes' },
      };
      return c;
    };
    const got = await call({ verb: 'get', name: 'a' });
    expect(got.metadata?.labels).toEqual({ converted: 'yes' });
    expect(got.metadata?.uid).toBeTruthy();
    const stored = await storage.get(`/registry/${GROUP}/endpoints/default/a`);
    expect(got.metadata?.resourceVersion).toBe(String(stored?.rv));
    expect(got.metadata?.creationTimestamp).toBeTruthy();
  });

  it('fails with the transport error when the webhook cannot be reached or is not trusted', async () => {
    await serve(webhook({ caBundle: otherCaBundle }));
    await create('a', 'a.local:1', 'v1');
    const untrusted = await failure(call({ verb: 'get', name: 'a' }));
    expect(untrusted.message).toBe(
      `Internal error occurred: conversion webhook for ${GROUP}/v1, Kind=Endpoint failed: Post "https://127.0.0.1:${port}/convert?timeout=30s": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    );
    // a create in a non-storage version is refused, nothing is written
    const refused = await failure(create('b', 'b.local:2'));
    expect(refused.code).toBe(500);
    expect(await storage.get(`/registry/${GROUP}/endpoints/default/b`)).toBeUndefined();
  });

  it('speaks ConversionReview v1beta1 when conversionReviewVersions asks for it first', async () => {
    await serve(webhook({}, ['v1beta1', 'v1']));
    await create('a', 'a.local:1', 'v1');
    answer = (r) => {
      const c = correct(r) as { response: object };
      // v1beta1 answers were never checked for kind or uid upstream
      return { response: { ...c.response, uid: 'whatever' } };
    };
    expect(((await call({ verb: 'get', name: 'a' }))['spec'] as Spec).hostPort).toBe('a.local:1');
    expect(reviews[0].apiVersion).toBe('apiextensions.k8s.io/v1beta1');
  });

  it('reaches a service-backed webhook at its endpoints, verified for <service>.<namespace>.svc', async () => {
    await registry.handle({
      group: '',
      version: 'v1',
      resource: 'services',
      namespace: 'default',
      verb: 'create',
      body: { metadata: { name: 'converter' }, spec: { ports: [{ port: 443, targetPort: port }] } },
      options: {},
      user,
    });
    await registry.handle({
      group: 'discovery.k8s.io',
      version: 'v1',
      resource: 'endpointslices',
      namespace: 'default',
      verb: 'create',
      body: {
        metadata: { name: 'converter-1', labels: { 'kubernetes.io/service-name': 'converter' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
        ports: [{ name: '', port, protocol: 'TCP' }],
      },
      options: {},
      user,
    });
    await serve({
      strategy: 'Webhook',
      webhook: {
        conversionReviewVersions: ['v1'],
        clientConfig: { service: { namespace: 'default', name: 'converter', path: '/convert' }, caBundle },
      },
    });
    await create('a', 'a.local:1');
    expect((await storage.get(`/registry/${GROUP}/endpoints/default/a`))?.object['spec']).toMatchObject({
      host: 'a.local',
      port: 1,
    });
  });

  it('conversion: None only changes apiVersion', async () => {
    await serve({ strategy: 'None' });
    const created = await call({
      verb: 'create',
      body: { metadata: { name: 'a' }, spec: { hostPort: 'a.local:1' } },
    });
    expect(created.apiVersion).toBe(`${GROUP}/v1beta1`);
    const stored = await storage.get(`/registry/${GROUP}/endpoints/default/a`);
    expect(stored?.object.apiVersion).toBe(`${GROUP}/v1`);
    // upstream's schemaCoercingConverter prunes with the desired version's schema: v1 has no hostPort
    expect(stored?.object['spec']).toEqual({ replicas: 1 });
    expect(reviews).toHaveLength(0);
  });
});
