// #23, custom resources from the user's side, on one cluster, with kubectl 1.27 and 1.33: Gateway API's published
// HTTPRoute CRD (v1.3.0, test/fixtures/gateway-api-v1.3.0, Apache-2.0) is applied as its install docs say
// (`kubectl apply --server-side`), becomes Established, shows in discovery, OpenAPI and categories; HTTPRoutes
// are created, defaulted, pruned, validated with field paths, printed with the CRD's columns, described, explained,
// patched (merge, JSON and server-side apply; strategic merge refused with upstream's message) and read in both
// served versions; a small CRD of our own shows the scale and status subresources (`kubectl scale`), short names,
// selectableFields, cluster-scoped resources and watch; deleting a CRD deletes its objects and its API.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlStream, run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];

const HTTPROUTE_CRD = readFileSync(
  new URL('../fixtures/gateway-api-v1.3.0/gateway.networking.k8s.io_httproutes.yaml', import.meta.url),
  'utf8',
);

let c: TestCluster;

beforeAll(async () => {
  c = await upCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await c?.down();
});

function kubectl(v: Version, args: string[], input?: string): Promise<Run> {
  const env = { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig };
  return run(`${SDK}/kubectl.${v}`, ['--kubeconfig', c.kubeconfig, ...args], env, {
    ...(input !== undefined ? { input } : {}),
    timeoutMs: 90_000,
  });
}

async function ok(v: Version, args: string[], input?: string): Promise<string> {
  const r = await kubectl(v, args, input);
  expect(r.code, `kubectl ${v} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function fails(v: Version, args: string[], input?: string): Promise<string> {
  const r = await kubectl(v, args, input);
  expect(r.code, `kubectl ${v} ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
  return r.stderr;
}

const flat = (out: string): string => out.replace(/\s+/g, ' ');
const header = (out: string): string[] =>
  out
    .split('\n')[0]
    .trim()
    .split(/\s{2,}/);
function row(out: string, name: string): string[] {
  const line = out.split('\n').find((l) => l.split(/\s+/)[0] === name);
  expect(line, `${name} in\n${out}`).toBeDefined();
  return line!.trim().split(/\s{2,}/);
}

// the HTTPRoute of Gateway API's "Simple Gateway" guide (gateway-api.sigs.k8s.io/guides/simple-gateway/)
const route = (name: string, extra = ''): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
spec:
  parentRefs:
  - name: example-gateway
  hostnames:
  - "www.example.com"
  rules:
  - backendRefs:
    - name: example-svc
      port: 80
${extra}`;

// a small CRD of our own: scale and status subresources, printer columns, short names, selectable fields
const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.kubemu.dev
spec:
  group: example.kubemu.dev
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0, default: 1}
              color: {type: string, enum: [red, blue]}
              selector: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    selectableFields:
    - jsonPath: .spec.color
    additionalPrinterColumns:
    - {name: Desired, type: integer, jsonPath: .spec.replicas}
    - {name: Current, type: integer, jsonPath: .status.replicas}
    - {name: Color, type: string, jsonPath: .spec.color}
`;

const CLUSTER_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: zones.example.kubemu.dev
spec:
  group: example.kubemu.dev
  scope: Cluster
  names: {plural: zones, singular: zone, kind: Zone}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

describe('a published CRD: Gateway API HTTPRoute', () => {
  it('is applied server-side, gets NamesAccepted and Established, and shows in discovery and OpenAPI', async () => {
    expect(await ok('1.33', ['apply', '--server-side', '-f', '-'], HTTPROUTE_CRD)).toContain(
      'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io serverside-applied',
    );
    await ok('1.33', [
      'wait',
      '--for=condition=Established',
      '--timeout=10s',
      'crd/httproutes.gateway.networking.k8s.io',
    ]);
    const crd = await c.getJson(['get', 'crd', 'httproutes.gateway.networking.k8s.io']);
    const cond = (type: string) => crd.status.conditions.find((x: { type: string }) => x.type === type);
    expect(cond('NamesAccepted')).toMatchObject({
      status: 'True',
      reason: 'NoConflicts',
      message: 'no conflicts found',
    });
    expect(cond('Established')).toMatchObject({ status: 'True', reason: 'InitialNamesAccepted' });
    expect(crd.status.acceptedNames).toMatchObject({
      plural: 'httproutes',
      kind: 'HTTPRoute',
      categories: ['gateway-api'],
    });
    for (const v of VERSIONS) {
      const resources = await ok(v, ['api-resources', '--api-group=gateway.networking.k8s.io']);
      expect(row(resources, 'httproutes')).toEqual([
        'httproutes',
        'gateway.networking.k8s.io/v1',
        'true',
        'HTTPRoute',
      ]);
      expect(await ok(v, ['api-versions'])).toMatch(/gateway\.networking\.k8s\.io\/v1beta1/);
    }
    const index = JSON.parse(await ok('1.33', ['get', '--raw', '/openapi/v3']));
    expect(Object.keys(index.paths)).toEqual(
      expect.arrayContaining(['apis/gateway.networking.k8s.io/v1', 'apis/gateway.networking.k8s.io/v1beta1']),
    );
    const doc = JSON.parse(
      await ok('1.33', ['get', '--raw', '/openapi/v3/apis/gateway.networking.k8s.io/v1']),
    );
    expect(
      doc.components.schemas['io.k8s.networking.gateway.v1.HTTPRoute']['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', version: 'v1' }]);
    const v2 = JSON.parse(await ok('1.33', ['get', '--raw', '/openapi/v2']));
    expect(v2.definitions['io.k8s.networking.gateway.v1.HTTPRoute']).toBeDefined();
  });

  for (const v of VERSIONS) {
    it(`kubectl ${v}: creates a route from the docs, defaulted, and prints it with the CRD's columns`, async () => {
      const name = `route-${v.replace('.', '')}`;
      expect(await ok(v, ['apply', '-f', '-'], route(name))).toContain(
        `httproute.gateway.networking.k8s.io/${name} created`,
      );
      const obj = await c.getJson(['get', 'httproute', name]);
      // the schema's defaults: a PathPrefix "/" match, the backend's group/kind/weight, the parent's group/kind
      expect(obj.spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
      expect(obj.spec.rules[0].backendRefs[0]).toMatchObject({ group: '', kind: 'Service', weight: 1 });
      expect(obj.spec.parentRefs[0]).toMatchObject({ group: 'gateway.networking.k8s.io', kind: 'Gateway' });
      expect(obj.metadata.generation).toBe(1);
      const table = await ok(v, ['get', 'httproutes']);
      expect(header(table)).toEqual(['NAME', 'HOSTNAMES', 'AGE']);
      expect(row(table, name).slice(0, 2)).toEqual([name, '["www.example.com"]']);
      // the category and the other served version
      expect(await ok(v, ['get', 'gateway-api', '-o', 'name'])).toContain(
        `httproute.gateway.networking.k8s.io/${name}`,
      );
      expect(
        await ok(v, [
          'get',
          `httproutes.v1beta1.gateway.networking.k8s.io/${name}`,
          '-o',
          'jsonpath={.apiVersion}',
        ]),
      ).toBe('gateway.networking.k8s.io/v1beta1');
    });

    it(`kubectl ${v}: describes and explains HTTPRoutes`, async () => {
      const name = `route-${v.replace('.', '')}`;
      const described = await ok(v, ['describe', 'httproute', name]);
      expect(described).toMatch(new RegExp(`Name:\\s+${name}`));
      expect(described).toMatch(/Kind:\s+HTTPRoute/);
      expect(described).toContain('www.example.com');
      const explained = flat(await ok(v, ['explain', 'httproute.spec.hostnames']));
      expect(explained).toContain(
        'Hostnames defines a set of hostnames that should match against the HTTP Host',
      );
    });

    it(`kubectl ${v}: patches with merge, JSON patch and server-side apply; strategic merge is refused`, async () => {
      const name = `route-${v.replace('.', '')}`;
      await ok(v, [
        'patch',
        'httproute',
        name,
        '--type=merge',
        '-p',
        '{"spec":{"hostnames":["merge.example.com"]}}',
      ]);
      await ok(v, [
        'patch',
        'httproute',
        name,
        '--type=json',
        '-p',
        '[{"op":"add","path":"/spec/hostnames/-","value":"json.example.com"}]',
      ]);
      let obj = await c.getJson(['get', 'httproute', name]);
      expect(obj.spec.hostnames).toEqual(['merge.example.com', 'json.example.com']);
      expect(obj.metadata.generation).toBe(3);
      const smp = await fails(v, [
        'patch',
        'httproute',
        name,
        '-p',
        '{"spec":{"hostnames":["smp.example.com"]}}',
      ]);
      expect(smp).toContain(
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      );
      const ssaName = `ssa-${v.replace('.', '')}`;
      await ok(v, ['apply', '--server-side', '--field-manager=team-a', '-f', '-'], route(ssaName));
      await ok(
        v,
        ['apply', '--server-side', '--field-manager=team-a', '-f', '-'],
        route(ssaName).replace('www.example.com', 'ssa.example.com'),
      );
      obj = await c.getJson(['get', 'httproute', ssaName, '--show-managed-fields']);
      expect(obj.spec.hostnames).toEqual(['ssa.example.com']);
      expect(obj.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain('team-a');
      // another manager changing an owned field conflicts, as upstream's field manager says
      const conflict = await fails(
        v,
        ['apply', '--server-side', '--field-manager=team-b', '-f', '-'],
        route(ssaName).replace('www.example.com', 'other.example.com'),
      );
      expect(conflict).toContain('conflict');
      expect(conflict).toContain('team-a');
    });

    it(`kubectl ${v}: refuses invalid routes with field paths, prunes or refuses unknown fields`, async () => {
      const bad = route(`bad-${v.replace('.', '')}`)
        .replace('"www.example.com"', '"-bad-.example.com"')
        .replace('port: 80', 'port: 70000');
      const err = await fails(v, ['apply', '-f', '-'], bad);
      expect(err).toContain(`The HTTPRoute "bad-${v.replace('.', '')}" is invalid`);
      expect(err).toContain(
        'spec.hostnames[0]: Invalid value: "-bad-.example.com": spec.hostnames[0] in body should match',
      );
      expect(err).toContain(
        'spec.rules[0].backendRefs[0].port: Invalid value: 70000: spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535',
      );
      const unknown = route(`unknown-${v.replace('.', '')}`).replace(
        '  hostnames:',
        '  bogus: 1\n  hostnames:',
      );
      expect(await fails(v, ['create', '-f', '-'], unknown)).toContain('unknown field "spec.bogus"');
      await ok(v, ['create', '--validate=false', '-f', '-'], unknown);
      const stored = await c.getJson(['get', 'httproute', `unknown-${v.replace('.', '')}`]);
      expect(stored.spec.bogus).toBeUndefined();
      expect(stored.spec.hostnames).toEqual(['www.example.com']);
    });
  }
  for (const v of VERSIONS) {
    it(`kubectl ${v}: refuses a route breaking a CEL rule with the rule's message`, async () => {
      // Gateway API's rule `... !has(self.matches[0].path) ...` (has() under an index, compiled through a rewrite)
      const bad = route(`cel-${v.replace('.', '')}`).replace(
        '  - backendRefs:',
        `  - matches:
    - path: {type: Exact, value: /foo}
    filters:
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /bar}
    backendRefs:`,
      );
      const err = await fails(v, ['apply', '-f', '-'], bad);
      expect(err).toContain(`The HTTPRoute "cel-${v.replace('.', '')}" is invalid`);
      expect(err).toContain(
        'spec.rules[0]: Invalid value: "object": When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
      );
      await ok(v, ['apply', '-f', '-'], bad.replace('type: Exact', 'type: PathPrefix'));
    });
  }
});

describe('a CRD with scale and status subresources', () => {
  it('serves widgets: kubectl scale, status, columns, short names, selectable fields, watch', async () => {
    await ok('1.33', ['apply', '-f', '-'], WIDGET_CRD + '---\n' + CLUSTER_CRD);
    await ok('1.33', [
      'wait',
      '--for=condition=Established',
      '--timeout=10s',
      'crd/widgets.example.kubemu.dev',
      'crd/zones.example.kubemu.dev',
    ]);
    const watch = kubectlStream(c.kubeconfig, ['get', 'widgets', '--watch-only', '-o', 'name']);
    try {
      const widget = (name: string, color: string): string =>
        `apiVersion: example.kubemu.dev/v1\nkind: Widget\nmetadata:\n  name: ${name}\nspec:\n  color: ${color}\n`;
      await ok('1.27', ['create', '-f', '-'], widget('w1', 'red'));
      await ok('1.27', ['create', '-f', '-'], widget('w2', 'blue'));
      await c.waitFor('the watch to see w1 and w2', () =>
        Promise.resolve(
          /widget\.example\.kubemu\.dev\/w1[\s\S]*widget\.example\.kubemu\.dev\/w2/.test(watch.output()),
        ),
      );
      for (const v of VERSIONS) {
        expect(await ok(v, ['scale', 'widget/w1', `--replicas=${v === '1.27' ? 3 : 5}`])).toContain(
          'widget.example.kubemu.dev/w1 scaled',
        );
      }
      expect((await c.getJson(['get', 'widget', 'w1'])).spec.replicas).toBe(5);
      // status through its subresource only: a main-resource write keeps the stored status
      await ok('1.33', [
        'patch',
        'wg',
        'w1',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"replicas":4,"selector":"app=w1"}}',
      ]);
      await ok('1.33', ['patch', 'wg', 'w1', '--type=merge', '-p', '{"status":{"replicas":99}}']);
      const scale = JSON.parse(
        await ok('1.33', ['get', '--raw', '/apis/example.kubemu.dev/v1/namespaces/default/widgets/w1/scale']),
      );
      expect(scale).toMatchObject({
        kind: 'Scale',
        spec: { replicas: 5 },
        status: { replicas: 4, selector: 'app=w1' },
      });
      for (const v of VERSIONS) {
        const table = await ok(v, ['get', 'wg']);
        expect(header(table)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'COLOR']);
        expect(row(table, 'w1')).toEqual(['w1', '5', '4', 'red']);
        // a column whose path finds nothing is a nil cell, which kubectl prints empty
        expect(row(table, 'w2')).toEqual(['w2', '1', 'blue']);
        expect(await ok(v, ['get', 'widgets', '--field-selector', 'spec.color=blue', '-o', 'name'])).toBe(
          'widget.example.kubemu.dev/w2\n',
        );
        expect(await fails(v, ['get', 'widgets', '--field-selector', 'spec.replicas=1'])).toContain(
          'field label not supported: spec.replicas',
        );
        expect(await fails(v, ['scale', 'widget/w1', '--replicas=-1'])).toContain('replicas');
      }
      expect(
        await fails('1.33', ['patch', 'wg', 'w2', '--type=merge', '-p', '{"spec":{"color":"green"}}']),
      ).toContain('spec.color: Unsupported value: "green": supported values: "red", "blue"');
      // a cluster-scoped resource, schemaless (x-kubernetes-preserve-unknown-fields)
      await ok(
        '1.33',
        ['create', '-f', '-'],
        'apiVersion: example.kubemu.dev/v1\nkind: Zone\nmetadata:\n  name: z1\nanything: {goes: [1, 2]}\n',
      );
      expect((await c.getJson(['get', 'zone', 'z1'])).anything).toEqual({ goes: [1, 2] });
      expect(await ok('1.27', ['get', 'zones', '-o', 'name'])).toBe('zone.example.kubemu.dev/z1\n');
      expect(
        (await kubectl('1.33', ['get', '--raw', '/apis/example.kubemu.dev/v1/namespaces/default/zones/z1']))
          .code,
      ).not.toBe(0);
    } finally {
      watch.stop();
    }
  });
});

// CEL rules with `message` and `messageExpression`, a rule our CEL library cannot compile (a Warning), and a
// conversion webhook between v1 (`spec.size`, stored) and v2 (`spec.volume`): an HTTPS server in this test process
// on 127.0.0.1 (the docs allow a `url`), its certificate made with openssl, the CA in the CRD's caBundle.
const GADGET_CRD = (url: string, caBundle: string): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.kubemu.dev
spec:
  group: example.kubemu.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        url: ${url}
        caBundle: ${caBundle}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.size <= self.max
              message: size must not be greater than max
            - rule: size(self.label) < 8
              messageExpression: "'label ' + self.label + ' is longer than 7 characters'"
            - rule: "!format.dns1123Label().validate(self.label).hasValue()"
              message: label must be a DNS label
            properties:
              size: {type: integer}
              max: {type: integer}
              label: {type: string, default: gadget}
  - name: v2
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              volume: {type: integer}
              max: {type: integer}
              label: {type: string}
`;

describe('a CRD with CEL rules and a conversion webhook', () => {
  let dir: string;
  let server: Server | undefined;
  const reviews: string[] = [];
  afterAll(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl 1.27 and 1.33: CEL messages, a Warning for a rule not evaluated, objects read and written in v1 and v2', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-conversion-'));
    const openssl = (args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    };
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=conversion-ca',
    ]);
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl([
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]);
    // the docs' conversion: rename spec.size (v1) <-> spec.volume (v2)
    server = createServer(
      { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) },
      (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          const review = JSON.parse(body) as {
            request: {
              uid: string;
              desiredAPIVersion: string;
              objects: { spec?: Record<string, unknown> }[];
            };
          };
          const to = review.request.desiredAPIVersion;
          reviews.push(to);
          const convertedObjects = review.request.objects.map((o) => {
            const { size, volume, ...spec } = o.spec ?? {};
            const n = size ?? volume;
            return {
              ...o,
              apiVersion: to,
              spec: { ...spec, ...(n === undefined ? {} : to.endsWith('/v2') ? { volume: n } : { size: n }) },
            };
          });
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'apiextensions.k8s.io/v1',
              kind: 'ConversionReview',
              response: { uid: review.request.uid, result: { status: 'Success' }, convertedObjects },
            }),
          );
        });
      },
    );
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/convert`;
    const caBundle = readFileSync(join(dir, 'ca.crt')).toString('base64');

    const applied = await kubectl('1.33', ['apply', '-f', '-'], GADGET_CRD(url, caBundle));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(
      "Warning: spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].rule: not evaluated: kubemu's CEL library cannot compile it",
    );
    await ok('1.33', [
      'wait',
      '--for=condition=Established',
      '--timeout=10s',
      'crd/gadgets.example.kubemu.dev',
    ]);
    const gadget = (name: string, version: string, spec: string): string =>
      `apiVersion: example.kubemu.dev/${version}\nkind: Gadget\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    for (const v of VERSIONS) {
      const n = v.replace('.', '');
      const tooBig = await fails(v, ['create', '-f', '-'], gadget(`big-${n}`, 'v1', '  size: 5\n  max: 3\n'));
      expect(tooBig).toContain(
        `The Gadget "big-${n}" is invalid: spec: Invalid value: "object": size must not be greater than max`,
      );
      const long = await fails(
        v,
        ['create', '-f', '-'],
        gadget(`long-${n}`, 'v1', '  size: 1\n  max: 3\n  label: verylonglabel\n'),
      );
      expect(long).toContain(
        'spec: Invalid value: "object": label verylonglabel is longer than 7 characters',
      );
      // written in v2, stored in v1 through the webhook, read back in both
      await ok(v, ['create', '-f', '-'], gadget(`g-${n}`, 'v2', '  volume: 2\n  max: 3\n'));
      const v1 = JSON.parse(
        await ok(v, ['get', 'gadgets.v1.example.kubemu.dev', `g-${n}`, '-o', 'json']),
      ) as { apiVersion: string; spec: unknown };
      expect(v1.apiVersion).toBe('example.kubemu.dev/v1');
      expect(v1.spec).toEqual({ size: 2, max: 3, label: 'gadget' });
      const v2 = JSON.parse(
        await ok(v, ['get', 'gadgets.v2.example.kubemu.dev', `g-${n}`, '-o', 'json']),
      ) as { apiVersion: string; spec: unknown };
      expect(v2.apiVersion).toBe('example.kubemu.dev/v2');
      expect(v2.spec).toEqual({ volume: 2, max: 3, label: 'gadget' });
      await ok(v, [
        'patch',
        'gadgets.v2.example.kubemu.dev',
        `g-${n}`,
        '--type=merge',
        '-p',
        '{"spec":{"volume":3}}',
      ]);
      expect(
        await ok(v, ['get', 'gadgets.v1.example.kubemu.dev', `g-${n}`, '-o', 'jsonpath={.spec.size}']),
      ).toBe('3');
    }
    expect(reviews).toContain('example.kubemu.dev/v1');
    expect(reviews).toContain('example.kubemu.dev/v2');
    // the webhook gone, reads in v2 fail with upstream's words; v1 (the storage version) still works
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const down = await fails('1.33', ['get', 'gadgets.v2.example.kubemu.dev', 'g-133']);
    expect(down).toContain('conversion webhook for example.kubemu.dev/v1, Kind=Gadget failed: Post');
    await ok('1.33', ['get', 'gadgets.v1.example.kubemu.dev', 'g-133']);
    await ok('1.33', ['delete', 'crd', 'gadgets.example.kubemu.dev', '--timeout=60s']);
  });
});

describe('deleting a namespace', () => {
  it('deletes the custom objects in it, as the namespace controller does with every discovered resource', async () => {
    await ok('1.33', ['create', 'namespace', 'crd-ns']);
    await ok(
      '1.33',
      ['create', '-n', 'crd-ns', '-f', '-'],
      'apiVersion: example.kubemu.dev/v1\nkind: Widget\nmetadata:\n  name: w9\nspec:\n  color: red\n',
    );
    await ok('1.33', ['delete', 'namespace', 'crd-ns', '--timeout=60s']);
    const left = JSON.parse(
      await ok('1.33', ['get', '--raw', '/apis/example.kubemu.dev/v1/namespaces/crd-ns/widgets']),
    ) as { items: unknown[] };
    expect(left.items).toEqual([]);
  });
});

describe('deleting a CRD', () => {
  it('deletes its objects, then its API', async () => {
    await ok('1.33', ['delete', 'crd', 'httproutes.gateway.networking.k8s.io', '--timeout=60s']);
    for (const v of VERSIONS) {
      // kubectl names the type unknown once its discovery cache has caught up; until then the list is a 404
      const err = await fails(v, ['get', 'httproutes']);
      expect(err).toMatch(
        /the server doesn't have a resource type "httproutes"|the server could not find the requested resource/,
      );
    }
    const raw = await kubectl('1.33', [
      'get',
      '--raw',
      '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes',
    ]);
    expect(raw.code).not.toBe(0);
    expect(raw.stderr).toContain('NotFound');
    // applied again, the CRD serves an empty list: the objects went with it
    await ok('1.33', ['apply', '--server-side', '-f', '-'], HTTPROUTE_CRD);
    await ok('1.33', [
      'wait',
      '--for=condition=Established',
      '--timeout=10s',
      'crd/httproutes.gateway.networking.k8s.io',
    ]);
    const list = await c.waitFor('the list to be served again', async () => {
      const r = await kubectl('1.33', ['get', 'httproutes', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { items: unknown[] }) : undefined;
    });
    expect(list.items).toEqual([]);
  });
});
