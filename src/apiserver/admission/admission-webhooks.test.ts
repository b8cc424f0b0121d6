// The webhook plugins through the registry against a real HTTPS server on 127.0.0.1: AdmissionReview v1 in and
// out, url and service (endpoints) targets with a caBundle, refusals, JSON patches, failurePolicy, timeouts,
// matchConditions, dryRun and reinvocation.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { ApiError } from '../../api/errors.js';
import { createCertificateAuthority, issueCertificate } from '../../util/pki.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from '../registry/registry.js';
import { rejection } from './testdata/memory-store.js';

let storage: SqliteStorage;
let registry: Registry;
let server: Server;
let port = 0;
let caBundle = '';
const user = { username: 'alice', groups: ['system:masters'] };
const AR = 'admissionregistration.k8s.io';
const calls: { path: string; review: { request: Record<string, unknown> } }[] = [];
let hang = false;

type Review = { request: { uid: string; object: KubeObject; dryRun: boolean } };
const handlers: Record<string, (r: Review) => Record<string, unknown>> = {
  '/deny': () => ({ allowed: false, status: { message: 'name must not be "bad"', code: 403 } }),
  '/allow': () => ({ allowed: true, warnings: ['looked at it'] }),
  '/label': (r) => ({
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(
      JSON.stringify(
        r.request.object.metadata?.labels
          ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }]
          : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }],
      ),
    ).toString('base64'),
  }),
};

beforeAll(async () => {
  const ca = await createCertificateAuthority('webhook-ca');
  const leaf = await issueCertificate(ca, { commonName: 'hook', hosts: ['127.0.0.1', 'hook.default.svc'] });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (hang) return;
      const review = JSON.parse(body) as Review & { request: Record<string, unknown> };
      const path = (req.url ?? '').split('?')[0];
      calls.push({ path, review });
      const response = { uid: review.request.uid, ...handlers[path](review) };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const call = (req: Partial<ApiRequest> & Pick<ApiRequest, 'verb' | 'resource'>) =>
  registry.handle({ group: '', version: 'v1', namespace: 'default', options: {}, user, ...req });
const configure = (resource: string, webhooks: Record<string, unknown>[]) =>
  call({
    verb: 'create',
    group: AR,
    namespace: undefined,
    resource,
    body: { metadata: { name: 'cfg' }, webhooks },
  });
const hook = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
  name,
  clientConfig: { url: `https://127.0.0.1:${port}${path}`, caBundle },
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
  ...extra,
});
const configMap = (name: string, options: ApiRequest['options'] = {}) =>
  call({ verb: 'create', resource: 'configmaps', body: { metadata: { name }, data: { a: 'b' } }, options });

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:' });
  registry = new Registry({ storage, admission: { serviceAccount: { defaultAttempts: 1 } } });
  await registry.init();
  calls.length = 0;
  hang = false;
});
afterEach(() => storage.close());

describe('validating webhooks', () => {
  it('sends an AdmissionReview v1 and refuses with upstream message', async () => {
    await configure('validatingwebhookconfigurations', [hook('deny.example.com', '/deny')]);
    const e = (await rejection(configMap('bad'))) as ApiError;
    expect(e.code).toBe(403);
    expect(e.message).toBe(
      'configmaps "bad" is forbidden: admission webhook "deny.example.com" denied the request: name must not be "bad"',
    );
    expect(calls[0].review.request).toMatchObject({
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      name: 'bad',
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      object: { metadata: { name: 'bad' }, data: { a: 'b' } },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    });
  });

  it('passes warnings on, skips on matchConditions and objectSelector', async () => {
    await configure('validatingwebhookconfigurations', [
      hook('allow.example.com', '/allow'),
      hook('deny.example.com', '/deny', {
        matchConditions: [{ name: 'only-bad', expression: "object.metadata.name == 'bad'" }],
      }),
      hook('deny2.example.com', '/deny', { objectSelector: { matchLabels: { check: 'me' } } }),
    ]);
    const r = await configMap('good');
    expect(r.warnings).toEqual(['looked at it']);
    expect(calls.map((c) => c.path)).toEqual(['/allow']);
  });

  it('failurePolicy Fail refuses when the webhook cannot be reached, Ignore lets the write through', async () => {
    await configure('validatingwebhookconfigurations', [
      hook('down.example.com', '/deny', { clientConfig: { url: 'https://127.0.0.1:1/deny', caBundle } }),
    ]);
    const e = (await rejection(configMap('x'))) as ApiError;
    expect(e.code).toBe(500);
    expect(e.message).toBe(
      'Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https://127.0.0.1:1/deny?timeout=10s": dial tcp 127.0.0.1:1: connect: connection refused',
    );
    const cfg = (
      await call({
        verb: 'get',
        group: AR,
        namespace: undefined,
        resource: 'validatingwebhookconfigurations',
        name: 'cfg',
      })
    ).body as KubeObject & { webhooks: Record<string, unknown>[] };
    cfg.webhooks[0]['failurePolicy'] = 'Ignore';
    await call({
      verb: 'update',
      group: AR,
      namespace: undefined,
      resource: 'validatingwebhookconfigurations',
      name: 'cfg',
      body: cfg,
    });
    await configMap('y');
  });

  it('a hanging webhook times out after timeoutSeconds', async () => {
    hang = true;
    await configure('validatingwebhookconfigurations', [
      hook('slow.example.com', '/allow', { timeoutSeconds: 1 }),
    ]);
    const e = await rejection(configMap('z'));
    expect(e.message).toBe(
      `Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/allow?timeout=1s": context deadline exceeded`,
    );
  });

  it('a certificate not signed by the caBundle fails the call', async () => {
    const other = await createCertificateAuthority('other');
    await configure('validatingwebhookconfigurations', [
      hook('tls.example.com', '/allow', {
        clientConfig: {
          url: `https://127.0.0.1:${port}/allow`,
          caBundle: Buffer.from(other.certPem).toString('base64'),
        },
      }),
    ]);
    const e = await rejection(configMap('t'));
    expect(e.message).toContain('x509: certificate signed by unknown authority');
  });

  it('a dry run reaches NoneOnDryRun webhooks marked as a dry run', async () => {
    await configure('validatingwebhookconfigurations', [
      hook('fx.example.com', '/allow', { sideEffects: 'NoneOnDryRun' }),
    ]);
    await configMap('d', { dryRun: true });
    expect(calls[0].review.request).toMatchObject({ dryRun: true, options: { dryRun: ['All'] } });
  });
});

describe('mutating webhooks', () => {
  it('applies the JSON patch of a webhook reached through a Service', async () => {
    await call({
      verb: 'create',
      resource: 'services',
      body: { metadata: { name: 'hook' }, spec: { ports: [{ port: 443, targetPort: port }] } },
    });
    await call({
      verb: 'create',
      group: 'discovery.k8s.io',
      resource: 'endpointslices',
      body: {
        metadata: { name: 'hook-1', labels: { 'kubernetes.io/service-name': 'hook' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
        ports: [{ name: '', port, protocol: 'TCP' }],
      },
    });
    await configure('mutatingwebhookconfigurations', [
      hook('label.example.com', '/label', {
        clientConfig: {
          service: { namespace: 'default', name: 'hook', path: '/label', port: 443 },
          caBundle,
        },
      }),
    ]);
    const created = (await configMap('m')).body as KubeObject;
    expect(created.metadata?.labels).toEqual({ mutated: 'yes' });
  });

  it('names the Service with no endpoints in the failed call', async () => {
    await call({
      verb: 'create',
      resource: 'services',
      body: { metadata: { name: 'nohook' }, spec: { ports: [{ port: 443 }] } },
    });
    await configure('mutatingwebhookconfigurations', [
      hook('label.example.com', '/label', {
        clientConfig: { service: { namespace: 'default', name: 'nohook', path: '/label' }, caBundle },
      }),
    ]);
    const e = await rejection(configMap('n'));
    expect(e.message).toBe(
      'Internal error occurred: failed calling webhook "label.example.com": failed to call webhook: Post "https://nohook.default.svc:443/label?timeout=10s": no endpoints available for service "nohook"',
    );
  });

  it('reinvokes an IfNeeded webhook after a later webhook changed the object', async () => {
    await configure('mutatingwebhookconfigurations', [
      hook('first.example.com', '/allow', { reinvocationPolicy: 'IfNeeded' }),
      hook('label.example.com', '/label'),
    ]);
    await configMap('r');
    expect(calls.map((c) => c.path)).toEqual(['/allow', '/label', '/allow']);
    expect((calls[2].review.request['object'] as KubeObject).metadata?.labels).toEqual({ mutated: 'yes' });
  });
});
