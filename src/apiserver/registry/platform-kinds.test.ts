// The platform kinds of #18 through the real registry (SQLite in memory): upstream's validation messages,
// defaults, strategies (roleRef immutable, CSR requestor and /approval, CRD status) and APF's bootstrap objects.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from './registry.js';
import { JANE_CSR_PEM } from '../../testing/certificate-requests.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'] };

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage });
  await registry.init();
});

afterEach(() => storage.close());

type Req = Pick<ApiRequest, 'verb'> & Partial<ApiRequest>;

function api(group: string, resource: string, req: Req): Promise<KubeObject> {
  return registry
    .handle({ group, version: 'v1', resource, options: {}, user, ...req })
    .then((r) => r.body as KubeObject);
}

async function invalid(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).reason).toBe('Invalid');
  return (e as ApiError).message;
}

const RBAC = 'rbac.authorization.k8s.io';
const ADM = 'admissionregistration.k8s.io';

describe('rbac', () => {
  const binding = (roleName: string): KubeObject => ({
    apiVersion: `${RBAC}/v1`,
    kind: 'RoleBinding',
    metadata: { name: 'read-pods' },
    subjects: [{ kind: 'User', name: 'jane' }],
    roleRef: { kind: 'Role', name: roleName },
  });

  it('defaults API groups, and refuses to change roleRef', async () => {
    const created = await api(RBAC, 'rolebindings', {
      verb: 'create',
      namespace: 'default',
      body: binding('pod-reader'),
    });
    expect(created['roleRef']).toEqual({ apiGroup: RBAC, kind: 'Role', name: 'pod-reader' });
    expect(created['subjects']).toEqual([{ kind: 'User', name: 'jane', apiGroup: RBAC }]);
    const msg = await invalid(
      api(RBAC, 'rolebindings', {
        verb: 'update',
        namespace: 'default',
        name: 'read-pods',
        body: binding('other'),
      }),
    );
    expect(msg).toContain(
      'RoleBinding.rbac.authorization.k8s.io "read-pods" is invalid: roleRef: Invalid value:',
    );
    expect(msg).toContain('cannot change roleRef');
  });

  it('rejects rules without verbs and non-resource URLs in namespaced roles', async () => {
    const msg = await invalid(
      api(RBAC, 'roles', {
        verb: 'create',
        namespace: 'default',
        body: {
          metadata: { name: 'r' },
          rules: [
            { apiGroups: [''], resources: ['pods'] },
            { verbs: ['get'], nonResourceURLs: ['/healthz'] },
          ],
        },
      }),
    );
    expect(msg).toBe(
      'Role.rbac.authorization.k8s.io "r" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs]',
    );
  });

  it('stores a ClusterRole aggregationRule and requires a selector in it', async () => {
    const agg = {
      clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }],
    };
    const created = await api(RBAC, 'clusterroles', {
      verb: 'create',
      body: { metadata: { name: 'monitoring' }, aggregationRule: agg, rules: [] },
    });
    expect(created['aggregationRule']).toEqual(agg);
    expect(
      await invalid(
        api(RBAC, 'clusterroles', {
          verb: 'create',
          body: { metadata: { name: 'm2' }, aggregationRule: {} },
        }),
      ),
    ).toContain(
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    );
  });

  it('only binds a ClusterRoleBinding to a ClusterRole, with namespaced service accounts', async () => {
    const msg = await invalid(
      api(RBAC, 'clusterrolebindings', {
        verb: 'create',
        body: {
          metadata: { name: 'b' },
          roleRef: { apiGroup: RBAC, kind: 'Role', name: 'x' },
          subjects: [{ kind: 'ServiceAccount', name: 'default' }],
        },
      }),
    );
    expect(msg).toContain('roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
    expect(msg).toContain('subjects[0].namespace: Required value');
  });
});

describe('admissionregistration', () => {
  const webhook = (extra: Record<string, unknown> = {}) => ({
    metadata: { name: 'demo' },
    webhooks: [
      {
        name: 'demo.example.com',
        clientConfig: { service: { name: 'svc', namespace: 'default', path: '/validate' } },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        ...extra,
      },
    ],
  });

  it('defaults webhooks as upstream (failurePolicy, matchPolicy, selectors, timeout, scope, port)', async () => {
    const created = await api(ADM, 'validatingwebhookconfigurations', { verb: 'create', body: webhook() });
    const hook = (created['webhooks'] as Record<string, unknown>[])[0];
    expect(hook).toMatchObject({
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      namespaceSelector: {},
      objectSelector: {},
      timeoutSeconds: 10,
      rules: [{ resources: ['pods'], scope: '*' }],
      clientConfig: { service: { port: 443 } },
    });
    expect(created.metadata?.generation).toBe(1);
    const mutating = await api(ADM, 'mutatingwebhookconfigurations', { verb: 'create', body: webhook() });
    expect((mutating['webhooks'] as { reinvocationPolicy?: string }[])[0].reinvocationPolicy).toBe('Never');
  });

  it('rejects a webhook without sideEffects, a two-segment name and a long timeout', async () => {
    const msg = await invalid(
      api(ADM, 'validatingwebhookconfigurations', {
        verb: 'create',
        body: webhook({ name: 'example.com', sideEffects: undefined, timeoutSeconds: 31 }),
      }),
    );
    expect(msg).toContain(
      'webhooks[0].name: Invalid value: "example.com": should be a domain with at least three segments separated by dots',
    );
    expect(msg).toContain('webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun');
    expect(msg).toContain(
      'webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds',
    );
  });

  it('requires validations of a ValidatingAdmissionPolicy and resets its status', async () => {
    const msg = await invalid(
      api(ADM, 'validatingadmissionpolicies', {
        verb: 'create',
        body: {
          metadata: { name: 'p' },
          spec: {
            matchConstraints: {
              resourceRules: [
                {
                  apiGroups: ['apps'],
                  apiVersions: ['v1'],
                  operations: ['CREATE'],
                  resources: ['deployments'],
                },
              ],
            },
          },
        },
      }),
    );
    expect(msg).toContain(
      'spec.validations: Required value: validations or auditAnnotations must contain at least one item',
    );
    const created = await api(ADM, 'validatingadmissionpolicies', {
      verb: 'create',
      body: {
        metadata: { name: 'p' },
        spec: {
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['v1'],
                operations: ['CREATE'],
                resources: ['deployments'],
              },
            ],
          },
          validations: [{ expression: 'object.spec.replicas <= 5' }],
        },
        status: { observedGeneration: 7 },
      },
    });
    expect(created['status']).toEqual({});
    expect(created['spec']).toMatchObject({
      failurePolicy: 'Fail',
      matchConstraints: { matchPolicy: 'Equivalent' },
    });
  });

  it('refuses a binding that both denies and warns', async () => {
    const msg = await invalid(
      api(ADM, 'validatingadmissionpolicybindings', {
        verb: 'create',
        body: { metadata: { name: 'b' }, spec: { policyName: 'p', validationActions: ['Deny', 'Warn'] } },
      }),
    );
    expect(msg).toContain(
      'spec.validationActions: Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn',
    );
  });
});

describe('apiextensions', () => {
  const crd = (over: Record<string, unknown> = {}): KubeObject => ({
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' } } } },
            },
          },
        },
      ],
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      ...over,
    },
  });

  it('defaults listKind and conversion, and records names, conditions and the stored version', async () => {
    const created = await api('apiextensions.k8s.io', 'customresourcedefinitions', {
      verb: 'create',
      body: crd(),
    });
    const spec = created['spec'] as Record<string, unknown>;
    expect(spec['conversion']).toEqual({ strategy: 'None' });
    expect((spec['names'] as Record<string, unknown>)['listKind']).toBe('CronTabList');
    type Status = {
      storedVersions: string[];
      conditions?: { type: string; status: string }[];
      acceptedNames: unknown;
    };
    // as upstream's strategy: the stored version recorded, names and conditions left to the CRD controller
    expect((created['status'] as Status).storedVersions).toEqual(['v1']);
    let status = created['status'] as Status;
    for (let i = 0; i < 200 && !status.conditions; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const got = await api('apiextensions.k8s.io', 'customresourcedefinitions', {
        verb: 'get',
        name: 'crontabs.stable.example.com',
      });
      status = got['status'] as Status;
    }
    expect(status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'NamesAccepted=True',
      'Established=True',
    ]);
    expect(status.acceptedNames).toMatchObject({ kind: 'CronTab', plural: 'crontabs' });
  });

  it('rejects a name that is not plural.group, no storage version and a missing schema', async () => {
    const bad = crd({
      versions: [{ name: 'v1', served: true, storage: false }],
    });
    bad.metadata = { name: 'crontab.stable.example.com' };
    const msg = await invalid(
      api('apiextensions.k8s.io', 'customresourcedefinitions', { verb: 'create', body: bad }),
    );
    expect(msg).toContain(
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
    );
    expect(msg).toContain('spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required');
    expect(msg).toContain('must have exactly one version marked as storage version');
  });

  it('rejects an unknown scope', async () => {
    const msg = await invalid(
      api('apiextensions.k8s.io', 'customresourcedefinitions', {
        verb: 'create',
        body: crd({ scope: 'Global' }),
      }),
    );
    expect(msg).toContain(
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    );
  });
});

describe('flowcontrol', () => {
  it('has the mandatory exempt and catch-all objects from startup', async () => {
    const fs = await api('flowcontrol.apiserver.k8s.io', 'flowschemas', { verb: 'list' });
    const items = fs['items'] as KubeObject[];
    expect(items.map((i) => i.metadata?.name).sort()).toEqual(['catch-all', 'exempt']);
    const exempt = items.find((i) => i.metadata?.name === 'exempt')!;
    expect(exempt['spec']).toMatchObject({
      matchingPrecedence: 1,
      priorityLevelConfiguration: { name: 'exempt' },
    });
    expect(
      (exempt['status'] as { conditions: { type: string; status: string }[] }).conditions[0],
    ).toMatchObject({
      type: 'Dangling',
      status: 'False',
    });
    const pl = await api('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations', {
      verb: 'get',
      name: 'catch-all',
    });
    expect(pl['spec']).toEqual({
      type: 'Limited',
      limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
    });
  });

  it('defaults queuing and rejects a hand larger than the queues', async () => {
    const created = await api('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations', {
      verb: 'create',
      body: {
        metadata: { name: 'q' },
        spec: { type: 'Limited', limited: { limitResponse: { type: 'Queue', queuing: {} } } },
      },
    });
    expect(created['spec']).toMatchObject({
      limited: {
        nominalConcurrencyShares: 30,
        lendablePercent: 0,
        limitResponse: { queuing: { handSize: 8, queues: 64, queueLengthLimit: 50 } },
      },
    });
    const msg = await invalid(
      api('flowcontrol.apiserver.k8s.io', 'prioritylevelconfigurations', {
        verb: 'create',
        body: {
          metadata: { name: 'q2' },
          spec: {
            type: 'Limited',
            limited: { limitResponse: { type: 'Queue', queuing: { queues: 2, handSize: 4 } } },
          },
        },
      }),
    );
    expect(msg).toContain(
      'spec.limited.limitResponse.queuing.handSize: Invalid value: 4: should not be greater than queues (2)',
    );
  });
});

describe('certificates', () => {
  const pem = Buffer.from(JANE_CSR_PEM).toString('base64');
  const csr = {
    metadata: { name: 'jane' },
    spec: {
      request: pem,
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
      username: 'mallory',
      expirationSeconds: 86400,
    },
    status: { conditions: [{ type: 'Approved', status: 'True' }] },
  };

  it('records the requestor, drops a client-set approval, and approves only through /approval', async () => {
    const created = await api('certificates.k8s.io', 'certificatesigningrequests', {
      verb: 'create',
      body: csr,
    });
    expect(created['spec']).toMatchObject({
      username: 'alice',
      uid: 'u-1',
      groups: ['devs', 'system:authenticated'],
    });
    expect(created['status']).toEqual({});
    // a main-resource update cannot approve
    await api('certificates.k8s.io', 'certificatesigningrequests', {
      verb: 'update',
      name: 'jane',
      body: { ...structuredClone(created), status: { conditions: [{ type: 'Approved', status: 'True' }] } },
    });
    const after = await api('certificates.k8s.io', 'certificatesigningrequests', {
      verb: 'get',
      name: 'jane',
    });
    expect(after['status']).toEqual({});
    const approved = await api('certificates.k8s.io', 'certificatesigningrequests', {
      verb: 'update',
      name: 'jane',
      subresource: 'approval',
      body: {
        ...structuredClone(after),
        status: { conditions: [{ type: 'Approved', reason: 'KubectlApprove', message: 'ok' }] },
      },
    });
    const cond = (approved['status'] as { conditions: Record<string, string>[] }).conditions[0];
    expect(cond).toMatchObject({ type: 'Approved', status: 'True', reason: 'KubectlApprove' });
    expect(cond['lastUpdateTime']).toMatch(/Z$/);
    const msg = await invalid(
      api('certificates.k8s.io', 'certificatesigningrequests', {
        verb: 'update',
        name: 'jane',
        subresource: 'approval',
        body: {
          ...structuredClone(approved),
          status: { conditions: [structuredClone(cond), { type: 'Denied', status: 'True' }] },
        },
      }),
    );
    expect(msg).toContain(
      'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
    );
  });

  it('rejects a request that is not a PEM certificate request and a short duration', async () => {
    const msg = await invalid(
      api('certificates.k8s.io', 'certificatesigningrequests', {
        verb: 'create',
        body: {
          ...csr,
          spec: { ...csr.spec, request: Buffer.from('hello').toString('base64'), expirationSeconds: 60 },
        },
      }),
    );
    expect(msg).toContain('PEM block type must be CERTIFICATE REQUEST');
    expect(msg).toContain(
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)',
    );
  });
});

describe('networking', () => {
  it('defaults policyTypes and port protocols of a NetworkPolicy and rejects a peer-less rule', async () => {
    const created = await api('networking.k8s.io', 'networkpolicies', {
      verb: 'create',
      namespace: 'default',
      body: {
        metadata: { name: 'np' },
        spec: { podSelector: { matchLabels: { role: 'db' } }, egress: [{ ports: [{ port: 5978 }] }] },
      },
    });
    expect(created['spec']).toMatchObject({
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ ports: [{ port: 5978, protocol: 'TCP' }] }],
    });
    const msg = await invalid(
      api('networking.k8s.io', 'networkpolicies', {
        verb: 'create',
        namespace: 'default',
        body: { metadata: { name: 'np2' }, spec: { podSelector: {}, ingress: [{ from: [{}] }] } },
      }),
    );
    expect(msg).toContain('spec.ingress[0].from[0]: Required value: must specify a peer');
  });

  it('validates ServiceCIDR families and IPAddress names', async () => {
    expect(
      await invalid(
        api('networking.k8s.io', 'servicecidrs', {
          verb: 'create',
          body: { metadata: { name: 's' }, spec: { cidrs: ['10.0.0.0/24', '10.1.0.0/24'] } },
        }),
      ),
    ).toContain('may specify no more than one IP for each IP family');
    expect(
      await invalid(
        api('networking.k8s.io', 'ipaddresses', {
          verb: 'create',
          body: {
            metadata: { name: 'not-an-ip' },
            spec: { parentRef: { resource: 'services', name: 'x', namespace: 'default' } },
          },
        }),
      ),
    ).toContain('metadata.name: Invalid value: "not-an-ip"');
  });
});
