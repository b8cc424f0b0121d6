// ValidatingAdmissionPolicy through the registry: the docs' demo policy, params, validationActions, failurePolicy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { ApiError } from '../../api/errors.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from '../registry/registry.js';
import { rejection } from './testdata/memory-store.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', groups: ['system:masters'] };
const AR = 'admissionregistration.k8s.io';

const call = (req: Partial<ApiRequest> & Pick<ApiRequest, 'verb' | 'resource'>) =>
  registry.handle({ group: '', version: 'v1', namespace: 'default', options: {}, user, ...req });
const admission = (resource: string, body: KubeObject) =>
  call({ verb: 'create', group: AR, version: 'v1', namespace: undefined, resource, body });
const deployment = (name: string, replicas: number, labels: Record<string, string> = { app: name }) =>
  call({
    verb: 'create',
    group: 'apps',
    resource: 'deployments',
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    },
  });

// the docs' "demo-policy.example.com" (reference/access-authn-authz/validating-admission-policy)
const demoPolicy = (extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'demo-policy.example.com' },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ['apps'],
          apiVersions: ['v1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['deployments'],
        },
      ],
    },
    validations: [{ expression: 'object.spec.replicas <= 5' }],
    ...extra,
  },
});
const binding = (actions: string[], extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'demo-binding-test.example.com' },
  spec: { policyName: 'demo-policy.example.com', validationActions: actions, ...extra },
});

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:' });
  registry = new Registry({ storage, admission: { serviceAccount: { defaultAttempts: 1 } } });
  await registry.init();
});
afterEach(() => storage.close());

describe('ValidatingAdmissionPolicy', () => {
  it('refuses a Deployment with too many replicas with upstream status (the docs example)', async () => {
    await admission('validatingadmissionpolicies', demoPolicy());
    await admission('validatingadmissionpolicybindings', binding(['Deny']));
    await deployment('ok', 5);
    const e = (await rejection(deployment('nginx', 6))) as ApiError;
    expect(e.code).toBe(422);
    expect(e.toStatus()).toMatchObject({
      reason: 'Invalid',
      message:
        "deployments.apps \"nginx\" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5",
      details: {
        name: 'nginx',
        group: 'apps',
        kind: 'deployments',
        causes: [
          {
            message:
              "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5",
          },
        ],
      },
    });
  });

  it('refuses a policy whose expression does not compile, with the compiler message and field path', async () => {
    const e = (await rejection(
      admission(
        'validatingadmissionpolicies',
        demoPolicy({ validations: [{ expression: 'object.spec.replicas <= ' }] }),
      ),
    )) as ApiError;
    expect(e.code).toBe(422);
    expect(e.message).toBe(
      'ValidatingAdmissionPolicy.admissionregistration.k8s.io "demo-policy.example.com" is invalid: spec.validations[0].expression: Invalid value: "object.spec.replicas <= ": compilation failed: ERROR: <input>:1:25: Unexpected token: EOF\n | object.spec.replicas <= \n | ........................^',
    );
  });

  it('does nothing without a binding, and Warn/Audit do not refuse', async () => {
    await admission('validatingadmissionpolicies', demoPolicy());
    await deployment('a', 9);
    await admission('validatingadmissionpolicybindings', binding(['Warn', 'Audit']));
    const r = await deployment('b', 9);
    expect(r.warnings).toContain(
      "Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com': failed expression: object.spec.replicas <= 5",
    );
  });

  it('uses params (paramKind ConfigMap, paramRef), messageExpression, reason and variables', async () => {
    await call({
      verb: 'create',
      resource: 'configmaps',
      body: { metadata: { name: 'limits', namespace: 'default' }, data: { max: '3' } },
    });
    await admission(
      'validatingadmissionpolicies',
      demoPolicy({
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        variables: [{ name: 'max', expression: 'int(params.data.max)' }],
        validations: [
          {
            expression: 'object.spec.replicas <= variables.max',
            messageExpression: "'replicas ' + string(object.spec.replicas) + ' > ' + string(variables.max)",
            reason: 'Forbidden',
          },
        ],
      }),
    );
    await admission(
      'validatingadmissionpolicybindings',
      binding(['Deny'], { paramRef: { name: 'limits', parameterNotFoundAction: 'Deny' } }),
    );
    await deployment('small', 3);
    const e = (await rejection(deployment('big', 4))) as ApiError;
    expect(e.code).toBe(403);
    expect(e.message).toMatch(/denied request: replicas 4 > 3$/);
    // no ConfigMap "limits" in namespace other: parameterNotFoundAction Deny
    await call({
      verb: 'create',
      resource: 'namespaces',
      namespace: undefined,
      body: { metadata: { name: 'other' } },
    });
    const missing = await rejection(
      call({
        verb: 'create',
        group: 'apps',
        resource: 'deployments',
        namespace: 'other',
        body: {
          metadata: { name: 'd' },
          spec: {
            selector: { matchLabels: { a: 'b' } },
            template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
          },
        },
      }),
    );
    expect(missing.message).toBe(
      "deployments.apps \"d\" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
    );
  });

  it('follows failurePolicy on evaluation errors and matchConditions', async () => {
    await admission(
      'validatingadmissionpolicies',
      demoPolicy({
        matchConditions: [{ name: 'not-exempt', expression: "!('exempt' in object.metadata.labels)" }],
        validations: [{ expression: 'object.spec.missing == 1' }],
      }),
    );
    await admission('validatingadmissionpolicybindings', binding(['Deny']));
    const e = await rejection(deployment('x', 1));
    expect(e.message).toContain(
      "denied request: expression 'object.spec.missing == 1' resulted in error: No such key: missing",
    );
    await deployment('y', 1, { app: 'y', exempt: 'true' });
    const p = (
      await call({
        verb: 'get',
        group: AR,
        version: 'v1',
        namespace: undefined,
        resource: 'validatingadmissionpolicies',
        name: 'demo-policy.example.com',
      })
    ).body as KubeObject;
    (p['spec'] as Record<string, unknown>)['failurePolicy'] = 'Ignore';
    await call({
      verb: 'update',
      group: AR,
      version: 'v1',
      namespace: undefined,
      resource: 'validatingadmissionpolicies',
      name: 'demo-policy.example.com',
      body: p,
    });
    await deployment('z', 1);
  });
});
