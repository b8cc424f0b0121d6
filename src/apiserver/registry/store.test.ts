// The generic store in-process against SQLite in memory: dryRun=All stores and allocates nothing on every verb,
// subresource and kind; fieldValidation (Ignore/Warn/Strict) holds for every kind and write verb; the one
// guaranteed-update loop; the admission chain's attributes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, ApiResult, KubeObject, RequestOptions } from '../../api/request.js';
import { RESOURCES, type ResourceInfo } from '../../api/resources.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { defaultAdmissionPlugins, type AdmissionAttributes } from '../admission/index.js';
import { Registry } from './registry.js';
import { JANE_CSR_PEM } from '../../testing/certificate-requests.js';

let storage: SqliteStorage;
let registry: Registry;
let seen: AdmissionAttributes[];
const user = { username: 'alice', groups: ['system:masters'] };

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  seen = [];
  registry = new Registry({
    storage,
    notReadyTolerationSeconds: 300,
    nodePortRange: [30000, 30009],
    admissionPlugins: (deps) => [
      {
        name: 'Recorder',
        validate: (a) => void seen.push({ ...a, options: { ...a.options } }),
      },
      ...defaultAdmissionPlugins(deps),
    ],
  });
  await registry.init();
  await defaultServiceAccount();
});

/** what the controller-manager's serviceaccount controller makes: ServiceAccount admission waits for it */
async function defaultServiceAccount(): Promise<void> {
  await registry.handle({
    verb: 'create',
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    namespace: 'default',
    body: { metadata: { name: 'default' } },
    options: {},
    user,
  });
}

afterEach(() => storage.close());

const podSpec = { containers: [{ name: 'app', image: 'nginx' }] };
const template = { metadata: { labels: { app: 'x' } }, spec: podSpec };
const selector = { matchLabels: { app: 'x' } };

/** a valid object of every served kind (the test below fails for a kind added without one) */
const SAMPLES: Record<string, Record<string, unknown>> = {
  '/namespaces': {},
  '/nodes': {},
  '/pods': { spec: podSpec },
  '/services': { spec: { ports: [{ port: 80 }] } },
  '/endpoints': { subsets: [] },
  '/configmaps': { data: { a: 'b' } },
  '/secrets': { stringData: { a: 'b' } },
  '/events': {
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Tested',
    message: 'm',
    type: 'Normal',
  },
  '/serviceaccounts': {},
  'coordination.k8s.io/leases': { spec: { holderIdentity: 'me' } },
  'apps/deployments': { spec: { replicas: 1, selector, template } },
  'apps/replicasets': { spec: { replicas: 1, selector, template } },
  'discovery.k8s.io/endpointslices': { addressType: 'IPv4', endpoints: [], ports: [] },
  'networking.k8s.io/ingresses': {
    spec: { defaultBackend: { service: { name: 's', port: { number: 80 } } } },
  },
  'networking.k8s.io/ingressclasses': { spec: { controller: 'example.com/ingress' } },
  '/resourcequotas': { spec: { hard: { pods: '10' } } },
  '/limitranges': { spec: { limits: [{ type: 'Container', default: { cpu: '500m' } }] } },
  'scheduling.k8s.io/priorityclasses': { value: 1000 },
  'storage.k8s.io/storageclasses': { provisioner: 'example.com/csi' },
  'rbac.authorization.k8s.io/roles': { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  'rbac.authorization.k8s.io/clusterroles': {
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  },
  'rbac.authorization.k8s.io/rolebindings': {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }],
  },
  'rbac.authorization.k8s.io/clusterrolebindings': {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' },
    subjects: [{ kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }],
  },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': {},
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': {},
  'admissionregistration.k8s.io/validatingadmissionpolicies': {
    spec: {
      matchConstraints: {
        resourceRules: [
          { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] },
        ],
      },
      validations: [{ expression: 'object.spec.replicas <= 5' }],
    },
  },
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': {
    spec: { policyName: 'p', validationActions: ['Deny'] },
  },
  'flowcontrol.apiserver.k8s.io/flowschemas': {
    spec: { priorityLevelConfiguration: { name: 'global-default' }, matchingPrecedence: 1000 },
  },
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations': {
    spec: {
      type: 'Limited',
      limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
    },
  },
  'certificates.k8s.io/certificatesigningrequests': {
    spec: {
      request: Buffer.from(JANE_CSR_PEM).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
    },
  },
  'networking.k8s.io/networkpolicies': { spec: { podSelector: {} } },
  'batch/jobs': { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
  'batch/cronjobs': {
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'OnFailure' } } } },
    },
  },
  'apps/statefulsets': { spec: { selector, serviceName: 'web', template } },
  'apps/daemonsets': { spec: { selector, template } },
  'apps/controllerrevisions': { data: {}, revision: 1 },
  '/replicationcontrollers': { spec: { replicas: 1, selector: { app: 'x' }, template } },
  '/podtemplates': { template },
  '/persistentvolumes': {
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv' } },
  },
  '/persistentvolumeclaims': {
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  },
  'policy/poddisruptionbudgets': { spec: { minAvailable: 1, selector } },
  'node.k8s.io/runtimeclasses': { handler: 'runc' },
  'storage.k8s.io/csidrivers': { spec: {} },
  'storage.k8s.io/csinodes': { spec: { drivers: [] } },
  'storage.k8s.io/csistoragecapacities': { storageClassName: 'standard', capacity: '1Gi' },
  'storage.k8s.io/volumeattachments': {
    spec: { attacher: 'csi.example.com', nodeName: 'n1', source: { persistentVolumeName: 'pv' } },
  },
  'networking.k8s.io/servicecidrs': { spec: { cidrs: ['10.96.0.0/16'] } },
  'autoscaling/horizontalpodautoscalers': {
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, maxReplicas: 3 },
  },
  'events.k8s.io/events': {
    eventTime: '2024-05-01T12:00:00.000000Z',
    reportingController: 'example.com/tester',
    reportingInstance: 'tester-1',
    action: 'Testing',
    reason: 'Tested',
    type: 'Normal',
    regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
  },
};

const keyOf = (ri: ResourceInfo): string => `${ri.group}/${ri.resource}`;

/** as over the wire: the server gets its own copy of the body (stored objects are frozen) */
function call(ri: ResourceInfo, req: Partial<ApiRequest> & Pick<ApiRequest, 'verb'>): Promise<ApiResult> {
  if (req.body !== undefined) req = { ...req, body: structuredClone(req.body) };
  return registry.handle({
    group: ri.group,
    version: ri.versions[0],
    resource: ri.resource,
    ...(ri.namespaced ? { namespace: 'default' } : {}),
    options: {},
    user,
    ...req,
  });
}

function sample(ri: ResourceInfo, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: ri.group ? `${ri.group}/${ri.versions[0]}` : ri.versions[0],
    kind: ri.kind,
    metadata: { name, labels: { app: 'x' } },
    ...structuredClone(SAMPLES[keyOf(ri)]),
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

const DRY: RequestOptions = { dryRun: true };

/**
 * kinds the generic round below cannot take, each shown elsewhere: names that must be derived from the spec
 * (a CRD is `<plural>.<group>`, an APIService `<version>.<group>`, an IPAddress is the address), create-only
 * reviews that are never stored,
 * read-only ComponentStatus
 */
const OWN_TESTS: ReadonlySet<string> = new Set([
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'networking.k8s.io/ipaddresses',
  '/componentstatuses',
]);
const ROUND_TRIP = RESOURCES.filter(
  (ri) => !OWN_TESTS.has(keyOf(ri)) && ri.verbs.includes('get') && ri.verbs.includes('delete'),
);

describe('every served kind', () => {
  it('has a sample object here', () => {
    expect(ROUND_TRIP.map(keyOf).filter((k) => !SAMPLES[k])).toEqual([]);
  });

  for (const ri of ROUND_TRIP) {
    const kind = keyOf(ri);
    it(`${kind}: dryRun=All creates, updates, patches, deletes and deletes collections without storing`, async () => {
      const rv0 = storage.currentRV();
      const dryCreated = (await call(ri, { verb: 'create', body: sample(ri, 'dry'), options: DRY }))
        .body as KubeObject;
      expect(dryCreated.metadata?.uid, kind).toBeTruthy();
      expect(dryCreated.metadata?.name).toBe('dry');
      const generated = (
        await call(ri, {
          verb: 'create',
          body: { ...sample(ri, ''), metadata: { generateName: 'gen-' } },
          options: DRY,
        })
      ).body as KubeObject;
      expect(generated.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
      expect(storage.currentRV(), kind).toBe(rv0);
      expect((await failure(call(ri, { verb: 'get', name: 'dry' }))).reason).toBe('NotFound');

      await call(ri, { verb: 'create', body: sample(ri, 'real') });
      const stored = (await call(ri, { verb: 'get', name: 'real' })).body as KubeObject;
      const rv1 = storage.currentRV();
      const changed = { ...stored, metadata: { ...stored.metadata, labels: { app: 'x', dry: 'run' } } };
      const dryUpdated = (await call(ri, { verb: 'update', name: 'real', body: changed, options: DRY }))
        .body as KubeObject;
      expect(dryUpdated.metadata?.labels?.['dry'], kind).toBe('run');
      for (const [patchType, body] of [
        ['merge', { metadata: { labels: { dry: 'merge' } } }],
        ['strategic', { metadata: { labels: { dry: 'strategic' } } }],
        ['json', [{ op: 'add', path: '/metadata/labels/dry', value: 'json' }]],
      ] as const) {
        const out = (await call(ri, { verb: 'patch', name: 'real', patchType, body, options: DRY }))
          .body as KubeObject;
        expect(out.metadata?.labels?.['dry'], `${kind} ${patchType}`).toBe(patchType);
      }
      const applied = (
        await call(ri, {
          verb: 'patch',
          name: 'real',
          patchType: 'apply',
          body: { ...sample(ri, 'real'), metadata: { name: 'real', labels: { dry: 'apply' } } },
          options: { ...DRY, fieldManager: 'tester', force: true },
        })
      ).body as KubeObject;
      expect(applied.metadata?.labels?.['dry']).toBe('apply');
      if (ri.subresources.some((s) => s.name === 'status')) {
        await call(ri, { verb: 'update', name: 'real', subresource: 'status', body: stored, options: DRY });
        await call(ri, {
          verb: 'patch',
          name: 'real',
          subresource: 'status',
          patchType: 'merge',
          body: { status: {} },
          options: DRY,
        });
      }
      if (ri.subresources.some((s) => s.name === 'scale')) {
        const scaled = (
          await call(ri, {
            verb: 'patch',
            name: 'real',
            subresource: 'scale',
            patchType: 'merge',
            body: { spec: { replicas: 7 } },
            options: DRY,
          })
        ).body as KubeObject;
        expect((scaled['spec'] as { replicas: number }).replicas).toBe(7);
      }
      if (ri.verbs.includes('delete')) {
        await call(ri, { verb: 'delete', name: 'real', options: DRY });
      }
      if (ri.verbs.includes('deletecollection')) {
        const gone = (await call(ri, { verb: 'deletecollection', options: DRY })).body as {
          items: unknown[];
        };
        expect(gone.items.length).toBeGreaterThan(0);
      }
      expect(storage.currentRV(), kind).toBe(rv1);
      expect((await call(ri, { verb: 'get', name: 'real' })).body).toEqual(stored);
    });

    it(`${kind}: fieldValidation Strict refuses, Warn warns about, Ignore drops an unknown field on every write`, async () => {
      const withBogus = (obj: KubeObject): KubeObject => ({ ...obj, bogusField: 1 });
      const strictCreate = await failure(
        call(ri, {
          verb: 'create',
          body: withBogus(sample(ri, 's')),
          options: { fieldValidation: 'Strict' },
        }),
      );
      expect([strictCreate.code, strictCreate.message], kind).toEqual([
        400,
        'strict decoding error: unknown field "bogusField"',
      ]);
      const warned = await call(ri, {
        verb: 'create',
        body: withBogus(sample(ri, 's')),
        options: { fieldValidation: 'Warn' },
      });
      expect(warned.warnings, kind).toEqual(['unknown field "bogusField"']);
      expect((warned.body as KubeObject)['bogusField']).toBeUndefined();
      const ignored = await call(ri, {
        verb: 'create',
        body: withBogus(sample(ri, 'i')),
        options: { fieldValidation: 'Ignore' },
      });
      expect(ignored.warnings ?? []).toEqual([]);
      const stored = (await call(ri, { verb: 'get', name: 's' })).body as KubeObject;
      expect(stored['bogusField']).toBeUndefined();
      const strict = { fieldValidation: 'Strict' } as const;
      const put = await failure(
        call(ri, { verb: 'update', name: 's', body: withBogus(stored), options: strict }),
      );
      expect(put.message).toBe('strict decoding error: unknown field "bogusField"');
      const patched = await failure(
        call(ri, { verb: 'patch', name: 's', patchType: 'merge', body: { bogusField: 1 }, options: strict }),
      );
      expect(patched.message).toBe('strict decoding error: unknown field "bogusField"');
      const warnPatch = await call(ri, {
        verb: 'patch',
        name: 's',
        patchType: 'merge',
        body: { bogusField: 1 },
        options: { fieldValidation: 'Warn' },
      });
      expect(warnPatch.warnings).toEqual(['unknown field "bogusField"']);
    });
  }
});

const core = (resource: string): ResourceInfo => RESOURCES.find((r) => !r.group && r.resource === resource)!;

describe('dryRun allocates nothing', () => {
  const nodePortService = (name: string, nodePort?: number, clusterIP?: string): KubeObject => ({
    metadata: { name },
    spec: {
      type: 'NodePort',
      ...(clusterIP ? { clusterIP } : {}),
      ports: [{ port: 80, ...(nodePort ? { nodePort } : {}) }],
    },
  });

  it('a dry-run Service create leaves its ClusterIP and NodePort free', async () => {
    const dry = (
      await call(core('services'), {
        verb: 'create',
        body: nodePortService('a', 30005, '127.96.0.50'),
        options: DRY,
      })
    ).body as KubeObject;
    expect(dry['spec']).toMatchObject({ clusterIP: '127.96.0.50', ports: [{ nodePort: 30005 }] });
    await call(core('services'), { verb: 'create', body: nodePortService('b', 30005, '127.96.0.50') });
  });

  it('a dry-run Service update to NodePort, or one that fails, leaves the port free', async () => {
    await call(core('services'), {
      verb: 'create',
      body: { metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } },
    });
    const current = (await call(core('services'), { verb: 'get', name: 'a' })).body as KubeObject;
    const toNodePort = {
      ...current,
      spec: { ...(current['spec'] as object), type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] },
    };
    const dry = (await call(core('services'), { verb: 'update', name: 'a', body: toNodePort, options: DRY }))
      .body as KubeObject;
    expect((dry['spec'] as { ports: { nodePort: number }[] }).ports[0].nodePort).toBe(30007);
    // an update whose validation fails after the allocation gives it back too
    const invalid = { ...toNodePort, metadata: { ...current.metadata, labels: { 'bad label!': 'x' } } };
    expect((await failure(call(core('services'), { verb: 'update', name: 'a', body: invalid }))).reason).toBe(
      'Invalid',
    );
    await call(core('services'), { verb: 'create', body: nodePortService('b', 30007) });
  });

  it('a dry-run delete of a Service keeps its ports; a real one frees them', async () => {
    await call(core('services'), { verb: 'create', body: nodePortService('a', 30003) });
    await call(core('services'), { verb: 'delete', name: 'a', options: DRY });
    expect(
      (await failure(call(core('services'), { verb: 'create', body: nodePortService('b', 30003) }))).reason,
    ).toBe('Invalid');
    await call(core('services'), { verb: 'delete', name: 'a' });
    await call(core('services'), { verb: 'create', body: nodePortService('b', 30003) });
  });
});

describe('dryRun on pod subresources', () => {
  const pods = core('pods');
  beforeEach(async () => {
    await call(pods, { verb: 'create', body: { metadata: { name: 'p' }, spec: podSpec } });
  });

  it('binding: answers 201 and leaves the pod unscheduled', async () => {
    const rv = storage.currentRV();
    const out = await call(pods, {
      verb: 'create',
      name: 'p',
      subresource: 'binding',
      body: { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } },
      options: DRY,
    });
    expect(out.code).toBe(201);
    expect(storage.currentRV()).toBe(rv);
    const pod = (await call(pods, { verb: 'get', name: 'p' })).body as KubeObject;
    expect((pod['spec'] as { nodeName?: string }).nodeName).toBeUndefined();
  });

  it('eviction: answers 201 and the pod stays', async () => {
    const rv = storage.currentRV();
    const out = await call(pods, {
      verb: 'create',
      name: 'p',
      subresource: 'eviction',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p' } },
      options: DRY,
    });
    expect(out.code).toBe(201);
    expect(storage.currentRV()).toBe(rv);
    await call(pods, { verb: 'get', name: 'p' });
  });

  it('a graceful delete of a scheduled pod marks nothing', async () => {
    await call(pods, {
      verb: 'create',
      name: 'p',
      subresource: 'binding',
      body: { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } },
    });
    const rv = storage.currentRV();
    const out = (await call(pods, { verb: 'delete', name: 'p', options: DRY })).body as KubeObject;
    expect(out.metadata?.deletionTimestamp).toBeTruthy();
    expect(storage.currentRV()).toBe(rv);
    const pod = (await call(pods, { verb: 'get', name: 'p' })).body as KubeObject;
    expect(pod.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('namespace finalize: stores nothing', async () => {
    const ns = core('namespaces');
    await call(ns, { verb: 'create', body: { metadata: { name: 'gone' } } });
    await call(ns, { verb: 'delete', name: 'gone' });
    const rv = storage.currentRV();
    const terminating = (await call(ns, { verb: 'get', name: 'gone' })).body as KubeObject;
    await call(ns, {
      verb: 'update',
      name: 'gone',
      subresource: 'finalize',
      body: { ...terminating, spec: { finalizers: [] } },
      options: DRY,
    });
    expect(storage.currentRV()).toBe(rv);
    await call(ns, { verb: 'get', name: 'gone' });
  });
});

describe('admission', () => {
  it('the chain sees upstream attributes on create, update, delete and subresources', async () => {
    const pods = core('pods');
    await call(pods, { verb: 'create', body: { metadata: { name: 'p' }, spec: podSpec }, options: DRY });
    await call(pods, { verb: 'create', body: { metadata: { name: 'p' }, spec: podSpec } });
    await call(pods, {
      verb: 'patch',
      name: 'p',
      patchType: 'merge',
      body: { metadata: { labels: { a: 'b' } } },
    });
    await call(pods, {
      verb: 'create',
      name: 'p',
      subresource: 'binding',
      body: { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } },
    });
    await call(pods, { verb: 'delete', name: 'p', options: { gracePeriodSeconds: 0 } });
    seen = seen.filter((a) => a.resource.resource === 'pods');
    expect(
      seen.map((a) => [
        a.operation,
        a.resource.resource,
        a.subresource,
        a.kind.kind,
        a.namespace,
        a.name,
        a.dryRun,
      ]),
    ).toEqual([
      ['CREATE', 'pods', '', 'Pod', 'default', 'p', true],
      ['CREATE', 'pods', '', 'Pod', 'default', 'p', false],
      ['UPDATE', 'pods', '', 'Pod', 'default', 'p', false],
      ['CREATE', 'pods', 'binding', 'Binding', 'default', 'p', false],
      ['DELETE', 'pods', '', 'Pod', 'default', 'p', false],
    ]);
    const [create, , update, , del] = seen;
    expect(create.object?.['spec']).toMatchObject({ serviceAccountName: 'default' });
    expect(create.user.username).toBe('alice');
    expect(update.oldObject?.metadata?.labels).toBeUndefined();
    expect(update.object?.metadata?.labels).toEqual({ a: 'b' });
    expect(del.object).toBeUndefined();
    expect(del.oldObject?.metadata?.name).toBe('p');
  });

  it('a plugin refusal is the request’s answer, and nothing is stored', async () => {
    await storage.close();
    storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
    registry = new Registry({
      storage,
      admissionPlugins: (deps) => [
        ...defaultAdmissionPlugins(deps),
        {
          name: 'DenyConfigMaps',
          validate: (a) => {
            if (a.resource.resource === 'configmaps') throw new ApiError('Forbidden', 'no configmaps');
          },
        },
      ],
    });
    await registry.init();
    await defaultServiceAccount();
    const rv = storage.currentRV();
    const e = await failure(call(core('configmaps'), { verb: 'create', body: { metadata: { name: 'c' } } }));
    expect([e.code, e.message]).toEqual([403, 'no configmaps']);
    expect(storage.currentRV()).toBe(rv);
  });
});

describe('the guaranteed-update loop', () => {
  it('serves 30 concurrent unpinned writes of one object through subresources, updates and deletes', async () => {
    const deploys = RESOURCES.find((r) => r.group === 'apps' && r.resource === 'deployments')!;
    await call(deploys, { verb: 'create', body: sample(deploys, 'd') });
    const writes: Promise<ApiResult>[] = [];
    for (let i = 0; i < 10; i++) {
      writes.push(
        call(deploys, {
          verb: 'patch',
          name: 'd',
          patchType: 'merge',
          body: { metadata: { annotations: { [`a${i}`]: 'x' } } },
        }),
        call(deploys, {
          verb: 'patch',
          name: 'd',
          subresource: 'status',
          patchType: 'merge',
          body: { status: { observedGeneration: i } },
        }),
        call(deploys, {
          verb: 'patch',
          name: 'd',
          subresource: 'scale',
          patchType: 'merge',
          body: { spec: { replicas: i + 2 } },
        }),
      );
    }
    await Promise.all(writes);
    const d = (await call(deploys, { verb: 'get', name: 'd' })).body as KubeObject;
    expect(Object.keys(d.metadata?.annotations ?? {})).toHaveLength(10);
    // a pinned stale write is not retried: 409
    const stale = await failure(
      call(deploys, {
        verb: 'patch',
        name: 'd',
        patchType: 'merge',
        body: { metadata: { resourceVersion: '1', labels: { z: 'z' } } },
      }),
    );
    expect(stale.reason).toBe('Conflict');
  });
});
