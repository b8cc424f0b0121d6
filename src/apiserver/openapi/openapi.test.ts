import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../api/resources.js';
import { loadDefinitions } from '../../api/schema/definitions.js';
import {
  componentNames,
  handleOpenApi,
  openapiV2Document,
  openapiV2Protobuf,
  openapiV3Document,
  openapiV3Index,
} from './index.js';

// the documents are plain JSON, walked by path in assertions
type Json = any;

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);
const doc = (path: string): Json => openapiV3Document(path);
const schemaOf = (path: string, name: string): Json => doc(path).components.schemas[name];

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('component names', () => {
  // definitions.json is generated from upstream's 1.33 OpenAPI documents: every name must map back to the
  // upstream component it came from, one to one
  const upstreamDir = fileURLToPath(new URL('../../../api/upstream/v1.33/openapi/', import.meta.url));
  const upstream = new Set(
    readdirSync(upstreamDir).flatMap((f) =>
      Object.keys(JSON.parse(readFileSync(join(upstreamDir, f), 'utf8')).components.schemas),
    ),
  );

  it('names every definition after the upstream component it was generated from', () => {
    const names = componentNames(loadDefinitions());
    for (const [defName, component] of names)
      expect(upstream.has(component), `${defName} → ${component}`).toBe(true);
    expect(new Set(names.values()).size).toBe(names.size);
    expect(names.get('core/v1.PodSpec')).toBe('io.k8s.api.core.v1.PodSpec');
    expect(names.get('apps/v1.DeploymentSpec')).toBe('io.k8s.api.apps.v1.DeploymentSpec');
    expect(names.get('meta/v1.ObjectMeta')).toBe('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(names.get('apimachinery/resource.Quantity')).toBe('io.k8s.apimachinery.pkg.api.resource.Quantity');
    expect(names.get('events/v1.EventSeries')).toBe('io.k8s.api.events.v1.EventSeries');
    expect(names.get('core/v1.EventSource')).toBe('io.k8s.api.core.v1.EventSource');
    expect(names.get('rbac/v1.Role')).toBe('io.k8s.api.rbac.v1.Role');
    expect(names.get('apiextensions/v1.CustomResourceDefinition')).toBe(
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
    );
  });
});

describe('OpenAPI v3 documents', () => {
  it('indexes every served group-version with a hash-pinned URL', () => {
    const index = openapiV3Index();
    const expected = [
      ...new Set(RESOURCES.flatMap((ri) => ri.versions.map((v) => gvPath(ri.group, v)))),
    ].sort();
    expect(Object.keys(index.paths).sort()).toEqual(expected);
    expect(index.paths['apis/apps/v1'].serverRelativeURL).toMatch(
      /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/,
    );
    expect(openapiV3Document('apis/resource.k8s.io/v1beta2')).toBeUndefined();
  });

  it('has every served kind and its list, with x-kubernetes-group-version-kind', () => {
    for (const ri of RESOURCES) {
      for (const version of ri.versions) {
        const schemas = doc(gvPath(ri.group, version)).components.schemas;
        // create-only kinds (the reviews) have no list
        for (const kind of ri.verbs.includes('list') ? [ri.kind, `${ri.kind}List`] : [ri.kind]) {
          const hits = Object.values(schemas as Record<string, Json>).filter((s) =>
            (s['x-kubernetes-group-version-kind'] ?? []).some(
              (g: Json) => g.group === ri.group && g.version === version && g.kind === kind,
            ),
          );
          expect(hits, `${ri.group}/${version} ${kind}`).toHaveLength(1);
        }
      }
    }
    expect(
      schemaOf('apis/apps/v1', 'io.k8s.api.apps.v1.Deployment')['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(
      schemaOf('apis/apps/v1', 'io.k8s.api.autoscaling.v1.Scale')['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'autoscaling', kind: 'Scale', version: 'v1' }]);
  });

  it('resolves every $ref inside its own document', () => {
    for (const path of Object.keys(openapiV3Index().paths)) {
      const d = doc(path);
      for (const ref of refsIn(d)) {
        expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
        expect(
          d.components.schemas[ref.slice('#/components/schemas/'.length)],
          `${path}: ${ref}`,
        ).toBeDefined();
      }
    }
  });

  it('carries patch metadata where strategic merge patch needs it', () => {
    const podSpec = schemaOf('apis/apps/v1', 'io.k8s.api.core.v1.PodSpec');
    expect(podSpec.properties.containers).toMatchObject({
      type: 'array',
      items: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }], default: {} },
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
    expect(podSpec.properties.volumes['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    const strategy = schemaOf('apis/apps/v1', 'io.k8s.api.apps.v1.DeploymentSpec').properties.strategy;
    expect(strategy).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }],
      default: {},
      description: 'The deployment strategy to use to replace existing pods with new ones.',
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    const ports = schemaOf('api/v1', 'io.k8s.api.core.v1.Container').properties.ports;
    expect(ports['x-kubernetes-list-map-keys']).toEqual(['containerPort', 'protocol']);
    const owners = schemaOf('api/v1', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties
      .ownerReferences;
    expect(owners['x-kubernetes-patch-merge-key']).toBe('uid');
  });

  it('types fields as upstream: integers with formats, IntOrString and Quantity refs, required lists', () => {
    const spec = schemaOf('apis/apps/v1', 'io.k8s.api.apps.v1.DeploymentSpec');
    expect(spec.properties.replicas).toMatchObject({ type: 'integer', format: 'int32' });
    expect(spec.required).toEqual(['selector', 'template']);
    const rolling = schemaOf('apis/apps/v1', 'io.k8s.api.apps.v1.RollingUpdateDeployment');
    expect(rolling.properties.maxSurge.allOf).toEqual([
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
    ]);
    expect(schemaOf('apis/apps/v1', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString')).toMatchObject({
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    });
    const limits = schemaOf('api/v1', 'io.k8s.api.core.v1.ResourceRequirements').properties.limits;
    expect(limits.additionalProperties).toEqual({
      $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity',
    });
    expect(
      schemaOf('api/v1', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties.generation,
    ).toMatchObject({
      type: 'integer',
      format: 'int64',
    });
    expect(schemaOf('api/v1', 'io.k8s.api.core.v1.Pod').description).toMatch(
      /^Pod is a collection of containers/,
    );
  });

  it('offers fieldValidation, dryRun and fieldManager on every write, and SMP on PATCH', () => {
    const deployments = doc('apis/apps/v1').paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    expect(deployments.patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      kind: 'Deployment',
      version: 'v1',
    });
    expect(deployments.patch['x-kubernetes-action']).toBe('patch');
    expect(deployments.patch.operationId).toBe('patchAppsV1NamespacedDeployment');
    expect(Object.keys(deployments.patch.requestBody.content)).toContain(
      'application/strategic-merge-patch+json',
    );
    expect(deployments.parameters.map((p: Json) => p.name)).toEqual(['name', 'namespace', 'pretty']);
    for (const path of Object.keys(openapiV3Index().paths)) {
      for (const [url, item] of Object.entries(doc(path).paths as Record<string, Json>)) {
        for (const method of ['post', 'put', 'patch']) {
          // connect operations (exec, attach, portforward) upgrade the connection: no object is written
          if (!item[method] || item[method]['x-kubernetes-action'] === 'connect') continue;
          const names = item[method].parameters
            .filter((p: Json) => p.in === 'query')
            .map((p: Json) => p.name);
          expect(names, `${method} ${url}`).toEqual(
            expect.arrayContaining(['dryRun', 'fieldManager', 'fieldValidation']),
          );
        }
      }
    }
    const pods = doc('api/v1').paths;
    // as upstream 1.33 documents pods/exec: connect GET and POST, the PodExecOptions in the query
    const exec = pods['/api/v1/namespaces/{namespace}/pods/{name}/exec'];
    expect(exec.post.operationId).toBe('connectCoreV1PostNamespacedPodExec');
    expect(exec.get.operationId).toBe('connectCoreV1GetNamespacedPodExec');
    expect(exec.get['x-kubernetes-action']).toBe('connect');
    expect(exec.get['x-kubernetes-group-version-kind']).toEqual({
      group: '',
      kind: 'PodExecOptions',
      version: 'v1',
    });
    expect(exec.parameters.map((p: Json) => p.name).sort()).toEqual(
      ['command', 'container', 'name', 'namespace', 'stderr', 'stdin', 'stdout', 'tty'].sort(),
    );
    // pods/proxy and services/proxy as upstream 1.33: every method, at the root and below a path
    const upstream = JSON.parse(
      readFileSync(
        new URL('../../../api/upstream/v1.33/openapi/api__v1_openapi.json', import.meta.url),
        'utf8',
      ),
    ) as { paths: Record<string, Json> };
    const shape = (item: Json) => ({
      methods: Object.keys(item).sort(),
      ids: Object.keys(item)
        .filter((m) => m !== 'parameters')
        .map((m) => [
          m,
          item[m].operationId,
          item[m]['x-kubernetes-action'],
          item[m]['x-kubernetes-group-version-kind'],
        ])
        .sort(),
      parameters: item.parameters
        .map((p: Json) => [p.name, p.in, p.description])
        .sort((a: string[], b: string[]) => (a.join() < b.join() ? -1 : 1)),
    });
    for (const url of [
      '/api/v1/namespaces/{namespace}/pods/{name}/proxy',
      '/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}',
      '/api/v1/namespaces/{namespace}/services/{name}/proxy',
      '/api/v1/namespaces/{namespace}/services/{name}/proxy/{path}',
    ]) {
      expect(pods[url], url).toBeDefined();
      expect(shape(pods[url]), url).toEqual(shape(upstream.paths[url]));
    }
    const ephemeral = pods['/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers'];
    expect(Object.keys(ephemeral).sort()).toEqual(['get', 'parameters', 'patch', 'put']);
    expect(ephemeral.patch.operationId).toBe('patchCoreV1NamespacedPodEphemeralcontainers');
    expect(ephemeral.put.operationId).toBe('replaceCoreV1NamespacedPodEphemeralcontainers');
    expect(pods['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post.operationId).toBe(
      'createCoreV1NamespacedPodEviction',
    );
    expect(pods['/api/v1/namespaces/{namespace}/pods/{name}/log'].get.operationId).toBe(
      'readCoreV1NamespacedPodLog',
    );
    expect(pods['/api/v1/nodes/{name}/status'].patch.operationId).toBe('patchCoreV1NodeStatus');
    expect(pods['/api/v1/pods'].get.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect(
      doc('apis/apps/v1').paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].put[
        'x-kubernetes-group-version-kind'
      ],
    ).toEqual({
      group: 'autoscaling',
      kind: 'Scale',
      version: 'v1',
    });
  });
});

describe('OpenAPI v2 document', () => {
  const v2 = openapiV2Document() as Json;

  it('is Swagger 2.0 with #/definitions refs that all resolve, and no allOf', () => {
    expect(v2.swagger).toBe('2.0');
    for (const ref of refsIn(v2))
      expect(v2.definitions[ref.slice('#/definitions/'.length)], ref).toBeDefined();
    // no schema uses allOf (JSONSchemaProps, the CRD schema type, has a property of that name: a key in `properties`)
    const allOfKeywords = (node: unknown, parentKey = ''): number =>
      node && typeof node === 'object'
        ? Object.entries(node as Record<string, unknown>).reduce(
            (n, [k, v]) => n + (k === 'allOf' && parentKey !== 'properties' ? 1 : 0) + allOfKeywords(v, k),
            0,
          )
        : 0;
    expect(allOfKeywords(v2)).toBe(0);
    expect(v2.definitions['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy).toMatchObject({
      $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy',
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    expect(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      type: 'string',
      format: 'int-or-string',
    });
    const patch = v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch.parameters.find((p: Json) => p.name === 'fieldValidation')).toMatchObject({
      in: 'query',
      type: 'string',
    });
    expect(patch.parameters.find((p: Json) => p.in === 'body').schema).toEqual({
      $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
    });
  });

  it('encodes as gnostic protobuf: Document.swagger first, every definition name present', () => {
    const pb = openapiV2Protobuf();
    expect([...pb.subarray(0, 5)]).toEqual([0x0a, 0x03, ...Buffer.from('2.0')]);
    const text = pb.toString('latin1');
    for (const name of [
      'io.k8s.api.apps.v1.Deployment',
      'x-kubernetes-group-version-kind',
      'x-kubernetes-patch-merge-key',
    ]) {
      expect(text).toContain(name);
    }
    expect(openapiV2Protobuf()).toBe(pb); // cached
  });
});

describe('handleOpenApi', () => {
  function call(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const out = { handled: false, code: 0, headers: {} as Record<string, string>, body: Buffer.alloc(0) };
    const res = {
      writeHead(code: number, h: Record<string, string>) {
        out.code = code;
        out.headers = h;
        return this;
      },
      end(chunk?: Buffer | string) {
        if (chunk !== undefined) out.body = Buffer.from(chunk);
      },
    } as unknown as ServerResponse;
    const req = { method, headers } as unknown as IncomingMessage;
    out.handled = handleOpenApi(req, res, new URL(path, 'https://127.0.0.1:6443'));
    return out;
  }

  it('serves the index and hash-pinned documents, 304 on a matching ETag and 301 on a stale hash', () => {
    const index = call('/openapi/v3');
    expect(index.code).toBe(200);
    const url = (JSON.parse(index.body.toString()) as ReturnType<typeof openapiV3Index>).paths['apis/apps/v1']
      .serverRelativeURL;
    const pinned = call(url, { accept: 'application/json' });
    expect(pinned.code).toBe(200);
    expect(pinned.headers['Cache-Control']).toBe('public, immutable');
    expect(JSON.parse(pinned.body.toString()).openapi).toBe('3.0.0');
    const etag = pinned.headers['ETag'];
    expect(call('/openapi/v3/apis/apps/v1', { 'if-none-match': etag }).code).toBe(304);
    const stale = call('/openapi/v3/apis/apps/v1?hash=ABC');
    expect(stale.code).toBe(301);
    expect(stale.headers['Location']).toBe(url);
    expect(call('/openapi/v3/apis/nope/v1').code).toBe(404);
  });

  it('answers v2 as protobuf when asked, JSON otherwise, and 406 for what it cannot serve', () => {
    const pb = call('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(pb.code).toBe(200);
    expect(pb.headers['Content-Type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(pb.body.equals(openapiV2Protobuf())).toBe(true);
    const json = call('/openapi/v2', { accept: 'application/json' });
    expect(JSON.parse(json.body.toString()).swagger).toBe('2.0');
    expect(
      call('/openapi/v3/api/v1', { accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' })
        .code,
    ).toBe(406);
    expect(call('/openapi/v2', {}, 'POST').code).toBe(405);
    expect(call('/api/v1').handled).toBe(false);
  });
});
