// Integration: the real kubectl (oldest and newest supported) against a throwaway HTTPS server that serves only
// /version, legacy discovery and kubemu's OpenAPI routes — explain and apply's validation must work from them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  legacyApiVersions,
  versionInfo,
} from '../src/apiserver/discovery/index.js';
import { handleOpenApi } from '../src/apiserver/openapi/index.js';
import { createCertificateAuthority, issueCertificate } from '../src/util/pki.js';

const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;

interface Seen {
  method: string;
  path: string;
  query: string;
  accept: string;
  contentType: string;
  body: string;
  status: number;
}

/** the one object this server has: deployment `live`, last applied with one container */
const applied = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'live', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'live' } },
    template: {
      metadata: { labels: { app: 'live' } },
      spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] },
    },
  },
};
const live = {
  ...applied,
  metadata: {
    ...applied.metadata,
    uid: '6b3c1f7e-0000-4000-8000-000000000001',
    resourceVersion: '7',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) },
  },
};

let server: Server;
let dir: string;
let kubeconfig: string;
const seen: Seen[] = [];

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    res.on('finish', () =>
      seen.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.search,
        accept: String(req.headers.accept ?? ''),
        contentType: String(req.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
        status: res.statusCode,
      }),
    );
    respond(req, res, url);
  });
}

function respond(req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (handleOpenApi(req, res, url)) return;
  if (url.pathname === '/apis/apps/v1/namespaces/default/deployments/live') return json(res, 200, live);
  const parts = url.pathname.split('/').filter(Boolean);
  let body: unknown;
  if (url.pathname === '/version') body = versionInfo();
  else if (url.pathname === '/api') body = legacyApiVersions();
  else if (url.pathname === '/apis') body = apiGroupList();
  else if (parts[0] === 'api' && parts.length === 2) body = apiResourceList('', parts[1]);
  else if (parts[0] === 'apis' && parts.length === 2) body = apiGroup(parts[1]);
  else if (parts[0] === 'apis' && parts.length === 3) body = apiResourceList(parts[1], parts[2]);
  if (body !== undefined) return json(res, 200, body);
  // no other object exists here: what upstream answers for a GET of a missing one
  const name = parts[parts.length - 1] ?? '';
  json(res, 404, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: `"${name}" not found`,
  });
}

function kubectl(version: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(KUBECTL_DIR, `kubectl.${version}`),
      [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(dir, `cache-${version}-${Math.random().toString(36).slice(2)}`),
        ...args,
      ],
      { timeout: 15_000, env: { PATH: process.env.PATH ?? '', HOME: dir } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubemu-openapi-'));
  const ca = await createCertificateAuthority('openapi-test-ca');
  const serving = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    hosts: ['127.0.0.1', 'localhost'],
  });
  server = createServer({ cert: serving.certPem, key: serving.keyPem }, route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 't',
          cluster: {
            server: `https://127.0.0.1:${port}`,
            'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'),
          },
        },
      ],
      users: [{ name: 't', user: { token: 'test-token' } }],
      contexts: [{ name: 't', context: { cluster: 't', user: 't', namespace: 'default' } }],
      'current-context': 't',
    }),
  );
  writeFileSync(
    join(dir, 'deploy.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec: {containers: [{name: app, image: kubemu/hello:v1}]}',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(VERSIONS)('kubectl %s', (version) => {
  it('is installed', () => {
    expect(existsSync(join(KUBECTL_DIR, `kubectl.${version}`))).toBe(true);
  });

  it('explains deployment.spec.strategy from OpenAPI v3', async () => {
    seen.length = 0;
    const out = await kubectl(version, ['explain', 'deployment.spec.strategy']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^KIND:\s+Deployment$/m);
    expect(out.stdout).toMatch(/^VERSION:\s+v1$/m);
    expect(out.stdout).toMatch(/^GROUP:\s+apps$/m);
    expect(out.stdout).toMatch(/^FIELD:\s+strategy <DeploymentStrategy>$/m);
    expect(out.stdout).toContain('The deployment strategy to use to replace existing pods with new ones.');
    expect(out.stdout).toMatch(/^\s+rollingUpdate\s+<RollingUpdateDeployment>$/m);
    expect(out.stdout).toMatch(/^\s+type\s+<string>$/m);
    expect(seen.some((r) => r.path === '/openapi/v3/apis/apps/v1' && r.status === 200)).toBe(true);
  });

  it('explains an IntOrString field and a list field', async () => {
    const surge = await kubectl(version, ['explain', 'deployment.spec.strategy.rollingUpdate.maxSurge']);
    expect(surge.code).toBe(0);
    expect(surge.stdout).toMatch(/^FIELD:\s+maxSurge <IntOrString>$/m);
    const containers = await kubectl(version, ['explain', 'pods.spec.containers']);
    expect(containers.code).toBe(0);
    expect(containers.stdout).toMatch(/^FIELD:\s+containers <\[\]Container>$/m);
    expect(containers.stdout).toMatch(/^\s+name\s+<string> -required-$/m);
  });

  it('explains from the protobuf OpenAPI v2 document too', async () => {
    seen.length = 0;
    const out = await kubectl(version, [
      'explain',
      '--output',
      'plaintext-openapiv2',
      'deployment.spec.strategy',
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^KIND:\s+Deployment$/m);
    expect(out.stdout).toMatch(/^VERSION:\s+apps\/v1$/m);
    expect(out.stdout).toMatch(/^RESOURCE:\s+strategy <Object>$/m);
    expect(out.stdout).toContain('The deployment strategy to use to replace existing pods with new ones.');
    expect(out.stdout).toMatch(/^\s+rollingUpdate\s+<Object>$/m);
    const v2 = seen.filter((r) => r.path === '/openapi/v2');
    expect(v2.map((r) => [r.accept, r.status])).toEqual([
      ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 200],
    ]);
  });

  it('applies a change as a strategic merge patch with fieldValidation=Strict', async () => {
    seen.length = 0;
    const changed = structuredClone(applied);
    changed.spec.template.spec.containers.push({ name: 'sidecar', image: 'kubemu/echo:v1' });
    writeFileSync(join(dir, 'live.json'), JSON.stringify(changed));
    const out = await kubectl(version, ['apply', '-f', join(dir, 'live.json')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('deployment.apps/live configured');
    const patch = seen.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    expect(new URLSearchParams(patch?.query).get('fieldValidation')).toBe('Strict');
    const body = JSON.parse(patch!.body) as { spec: { template: { spec: Record<string, unknown> } } };
    // merge key `name` on containers: the patch carries only the new container, plus the order directive
    expect(body.spec.template.spec['$setElementOrder/containers']).toEqual([
      { name: 'app' },
      { name: 'sidecar' },
    ]);
    expect(body.spec.template.spec.containers).toEqual([{ image: 'kubemu/echo:v1', name: 'sidecar' }]);
  });

  it('validates apply through the server: fieldValidation is found on PATCH in OpenAPI v3', async () => {
    seen.length = 0;
    const out = await kubectl(version, ['apply', '--dry-run=client', '-f', join(dir, 'deploy.yaml')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('deployment.apps/web created (dry run)');
    expect(seen.some((r) => r.path === '/openapi/v3/apis/apps/v1' && r.status === 200)).toBe(true);
    // nothing kubectl asked for was refused
    expect(seen.filter((r) => r.path.startsWith('/openapi') && r.status >= 400)).toEqual([]);
  });
});
