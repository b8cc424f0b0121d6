// #18's last API gaps from the user's side, on one cluster, with kubectl 1.27 and 1.33: the served OpenAPI carries
// upstream's defaults and descriptions (kubectl explain, /openapi/v3), APIServices are served as kube-aggregator
// serves them (`kubectl get apiservices`, discovery, watch; one pointing at a Service is stored but honestly not
// available), and CustomResourceDefinitions are accepted or refused with upstream's messages: the CronTab CRD of
// the docs page "Extend the Kubernetes API with CustomResourceDefinitions" and invalid variants of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];

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
    timeoutMs: 60_000,
  });
}

/** explain output with its line wrapping undone */
const flat = (out: string): string => out.replace(/\s+/g, ' ');

async function ok(v: Version, args: string[], input?: string): Promise<string> {
  const r = await kubectl(v, args, input);
  expect(r.code, `kubectl ${v} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

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

// the CronTab CRD as https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
// shows it (resourcedefinition.yaml)
const CRONTAB_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  # name must match the spec fields below, and be in the form: <plural>.<group>
  name: crontabs.stable.example.com
spec:
  # group name to use for REST API: /apis/<group>/<version>
  group: stable.example.com
  # list of versions supported by this CustomResourceDefinition
  versions:
    - name: v1
      # Each version can be enabled/disabled by Served flag.
      served: true
      # One and only one version must be marked as the storage version.
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec:
                  type: string
                image:
                  type: string
                replicas:
                  type: integer
  # either Namespaced or Cluster
  scope: Namespaced
  names:
    # plural name to be used in the URL: /apis/<group>/<version>/<plural>
    plural: crontabs
    # singular name to be used as an alias on the CLI and for display
    singular: crontab
    # kind is normally the CamelCased singular type. Your resource manifests use this.
    kind: CronTab
    # shortNames allow shorter string to match your resource on the CLI
    shortNames:
    - ct
`;

// kubernetes/sample-apiserver's artifacts/example/apiservice.yaml: an aggregated API served by a Service
const WARDLE_APISERVICE = `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.wardle.example.com
spec:
  insecureSkipTLSVerify: true
  group: wardle.example.com
  groupPriorityMinimum: 1000
  versionPriority: 15
  service:
    name: api
    namespace: wardle
  version: v1alpha1
`;

describe('OpenAPI with upstream defaults', () => {
  it('publishes upstream 1.33 defaults in /openapi/v3 and none in /openapi/v2, as upstream', async () => {
    const v3 = JSON.parse(await ok('1.33', ['get', '--raw', '/openapi/v3/api/v1']));
    const schemas = v3.components.schemas;
    expect(schemas['io.k8s.api.core.v1.ContainerPort'].properties.protocol.default).toBe('TCP');
    expect(schemas['io.k8s.api.core.v1.PodSpec'].properties.containers.items).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }],
      default: {},
    });
    const apps = JSON.parse(await ok('1.33', ['get', '--raw', '/openapi/v3/apis/apps/v1']));
    expect(apps.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.template.default).toEqual(
      {},
    );
    const v2 = JSON.parse(await ok('1.33', ['get', '--raw', '/openapi/v2']));
    expect(v2.definitions['io.k8s.api.core.v1.ContainerPort'].properties.protocol).not.toHaveProperty(
      'default',
    );
  });

  for (const v of VERSIONS) {
    it(`kubectl ${v} explain shows upstream's texts for the new kinds`, async () => {
      const cj = flat(await ok(v, ['explain', 'cronjob.spec.concurrencyPolicy']));
      expect(cj).toMatch(/KIND:\s+CronJob/);
      expect(cj).toContain('Specifies how to treat concurrent executions of a Job.');
      const apisvc = flat(await ok(v, ['explain', 'apiservice.spec']));
      expect(apisvc).toMatch(/KIND:\s+APIService/);
      expect(apisvc).toContain('groupPriorityMinimum');
      expect(apisvc).toContain(
        'APIServiceSpec contains information for locating and communicating with a server.',
      );
      const crd = flat(await ok(v, ['explain', 'crd.spec.conversion']));
      expect(crd).toContain('conversion defines conversion settings for the CRD.');
      const port = flat(await ok(v, ['explain', 'pod.spec.containers.ports.protocol']));
      expect(port).toContain('Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".');
    });
  }
});

describe('APIService', () => {
  for (const v of VERSIONS) {
    it(`kubectl ${v} get apiservices lists every served group-version as Local and available`, async () => {
      const out = await ok(v, ['get', 'apiservices']);
      expect(header(out)).toEqual(['NAME', 'SERVICE', 'AVAILABLE', 'AGE']);
      for (const name of [
        'v1.',
        'v1.apps',
        'v1.batch',
        'v2.autoscaling',
        'v1.apiextensions.k8s.io',
        'v1.rbac.authorization.k8s.io',
      ])
        expect(row(out, name).slice(0, 3)).toEqual([name, 'Local', 'True']);
      expect(out).not.toMatch(/^v1\.apiregistration\.k8s\.io\s/m);
      const resources = await ok(v, ['api-resources', '--api-group=apiregistration.k8s.io']);
      expect(resources).toMatch(/^apiservices\s+apiregistration\.k8s\.io\/v1\s+false\s+APIService/m);
      expect(await ok(v, ['api-versions'])).toMatch(/^apiregistration\.k8s\.io\/v1$/m);
    });
  }

  it('gets one with upstream priorities and condition, and watches them', async () => {
    const apps = JSON.parse(await ok('1.33', ['get', 'apiservice', 'v1.apps', '-o', 'json']));
    expect(apps.spec).toEqual({
      group: 'apps',
      version: 'v1',
      groupPriorityMinimum: 17800,
      versionPriority: 15,
    });
    expect(apps.status.conditions).toEqual([
      expect.objectContaining({
        type: 'Available',
        status: 'True',
        reason: 'Local',
        message: 'Local APIServices are always available',
      }),
    ]);
    const events = await ok('1.33', [
      'get',
      '--raw',
      '/apis/apiregistration.k8s.io/v1/apiservices?watch=true&timeoutSeconds=1',
    ]);
    const added = events
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(added.find((e) => e.object.metadata.name === 'v1.apps')?.type).toBe('ADDED');
  });

  it('stores one that points at a Service as not available (no aggregated API server is proxied to)', async () => {
    await ok('1.33', ['apply', '-f', '-'], WARDLE_APISERVICE);
    const out = await ok('1.27', ['get', 'apiservices']);
    expect(row(out, 'v1alpha1.wardle.example.com').slice(0, 3)).toEqual([
      'v1alpha1.wardle.example.com',
      'wardle/api',
      'False (FailedDiscoveryCheck)',
    ]);
    const obj = JSON.parse(
      await ok('1.33', ['get', 'apiservice', 'v1alpha1.wardle.example.com', '-o', 'json']),
    );
    expect(obj.spec.service).toEqual({ name: 'api', namespace: 'wardle', port: 443 });
    expect(obj.status.conditions[0].message).toContain('kubemu does not proxy to aggregated API servers');
    expect(await ok('1.33', ['api-versions'])).not.toContain('wardle.example.com');
    await ok('1.33', ['delete', 'apiservice', 'v1alpha1.wardle.example.com']);
  });

  for (const v of VERSIONS) {
    it(`kubectl ${v}: an APIService whose name is not version.group is refused with upstream's message`, async () => {
      const r = await kubectl(
        v,
        ['apply', '-f', '-'],
        WARDLE_APISERVICE.replace('name: v1alpha1.wardle', 'name: v1.wardle'),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'metadata.name: Invalid value: "v1.wardle.example.com": must be `spec.version+"."+spec.group`: "v1alpha1.wardle.example.com"',
      );
    });
  }
});

describe('CustomResourceDefinition', () => {
  it('accepts the docs CronTab CRD and sets the conditions upstream controllers set', async () => {
    expect(await ok('1.33', ['apply', '-f', '-'], CRONTAB_CRD)).toContain(
      'customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created',
    );
    // the conditions come from the CRD controller a moment after the create, as upstream's
    await ok('1.33', [
      'wait',
      '--for=condition=Established',
      '--timeout=10s',
      'crd/crontabs.stable.example.com',
    ]);
    const crd = JSON.parse(await ok('1.27', ['get', 'crd', 'crontabs.stable.example.com', '-o', 'json']));
    const cond = (type: string) => crd.status.conditions.find((x: { type: string }) => x.type === type);
    expect(cond('NamesAccepted')).toMatchObject({ status: 'True', reason: 'NoConflicts' });
    expect(cond('Established')).toMatchObject({ status: 'True', reason: 'InitialNamesAccepted' });
    expect(crd.status.acceptedNames).toMatchObject({
      plural: 'crontabs',
      kind: 'CronTab',
      shortNames: ['ct'],
    });
    expect(crd.status.storedVersions).toEqual(['v1']);
  });

  const invalid: [string, string, string][] = [
    [
      'a name that is not plural.group',
      CRONTAB_CRD.replace('name: crontabs.stable', 'name: crontab.stable'),
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
    ],
    [
      'a property without a type',
      CRONTAB_CRD.replace(
        '                image:\n                  type: string\n',
        '                image: {}\n',
      ),
      'spec.validation.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields',
    ],
    [
      'no schema',
      CRONTAB_CRD.replace(/ {6}schema:\n[\s\S]*? {2}# either/, '  # either'),
      'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
    ],
    [
      'two storage versions',
      CRONTAB_CRD.replace(
        '  # either Namespaced',
        '    - name: v2\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n  # either Namespaced',
      ),
      'must have exactly one version marked as storage version',
    ],
    [
      'a map list without keys',
      CRONTAB_CRD.replace(
        '                replicas:\n',
        '                ports:\n                  type: array\n                  x-kubernetes-list-type: map\n                  items:\n                    type: object\n                    properties:\n                      name:\n                        type: string\n                replicas:\n',
      ),
      'spec.validation.openAPIV3Schema.properties[spec].properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map',
    ],
    [
      'a group under k8s.io without approval',
      CRONTAB_CRD.replace('name: crontabs.stable.example.com', 'name: crontabs.stable.k8s.io').replace(
        'group: stable.example.com',
        'group: stable.k8s.io',
      ),
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ],
  ];
  for (const v of VERSIONS) {
    for (const [what, manifest, message] of invalid) {
      it(`kubectl ${v}: refuses ${what} with upstream's message`, async () => {
        const r = await kubectl(v, ['apply', '-f', '-'], manifest);
        expect(r.code, r.stdout).not.toBe(0);
        expect(r.stderr).toContain(message);
      });
    }
  }
});
