// admissionregistration.k8s.io/v1 validation against upstream's pkg/apis/admissionregistration/validation/
// validation.go (the version read is named in docs/api-parity.md): validateResources, validateMatchConditions,
// the webhook configurations' update options, ValidatingAdmissionPolicy's paramKind, variables, validations and
// auditAnnotations, the binding's paramRef, matchResources and validationActions. Case names say which rule.
import { describe, expect, it } from 'vitest';
import { createErrors, statusErrors, updateErrors } from './test-fixtures.js';

const hook = (more: Record<string, unknown> = {}) => ({
  name: 'webhook.k8s.io',
  clientConfig: { url: 'https://example.com/validate' },
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  ...more,
});
const vwc = (...webhooks: unknown[]): any => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'config' },
  webhooks,
});
const resources = (...r: string[]) =>
  hook({ rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: r }] });
const rp = 'webhooks[0].rules[0].resources';

describe('webhook rules (validateResources)', () => {
  it.each<[string, string[], string[]]>([
    [
      "a wildcard subresource excludes that resource's subresources",
      ['pods/*', 'pods/status'],
      [`${rp}[1]: Invalid value: "pods/status": if 'pods/*' is present, must not specify pods/status`],
    ],
    [
      'a wildcard resource excludes that subresource',
      ['*/status', 'pods/status'],
      [`${rp}[1]: Invalid value: "pods/status": if '*/status' is present, must not specify pods/status`],
    ],
    [
      '*/* excludes everything else',
      ['*/*', 'pods'],
      [`${rp}: Invalid value: ["*/*","pods"]: if '*/*' is present, must not specify other resources`],
    ],
    ['* and subresources are fine', ['*', 'pods/status'], []],
    [
      '* excludes resources without subresources',
      ['*', 'pods'],
      [
        `${rp}: Invalid value: ["*","pods"]: if '*' is present, must not specify other resources without subresources`,
      ],
    ],
    ['an empty resource is Required', ['pods', ''], [`${rp}[1]: Required value`]],
  ])('%s', (_n, r, expected) => {
    expect(createErrors(vwc(resources(...r)))).toEqual(expected);
  });
});

describe('matchConditions (validateMatchConditions)', () => {
  it('names are qualified names and unique; expressions compile; at most 64', () => {
    const mc = (name: string, expression = 'true') => ({ name, expression });
    expect(createErrors(vwc(hook({ matchConditions: [mc('a b'), mc('x', 'object.'), mc('x')] })))).toEqual([
      expect.stringMatching(
        /^webhooks\[0\]\.matchConditions\[0\]\.name: Invalid value: "a b": name part must consist of alphanumeric characters/,
      ),
      expect.stringMatching(
        /^webhooks\[0\]\.matchConditions\[1\]\.expression: Invalid value: "object\.": compilation failed: ERROR: <input>:1:/,
      ),
      'webhooks[0].matchConditions[2].name: Duplicate value: "x"',
    ]);
    const many = Array.from({ length: 65 }, (_, i) => mc(`c${i}`));
    expect(createErrors(vwc(hook({ matchConditions: many })))).toEqual([
      'webhooks[0].matchConditions: Too many: 65: must have at most 64 items',
    ]);
  });
});

describe('webhook configuration updates tolerate what the stored object has (validationOptions)', () => {
  it('sideEffects Some/Unknown are refused on create, kept on update when a stored webhook has them', () => {
    expect(createErrors(vwc(hook({ sideEffects: 'Some' })))).toEqual([
      'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
    ]);
    // a configuration stored before the rule (or through v1beta1) keeps working: its update is not refused
    const stored = vwc(hook({ sideEffects: 'Some' }));
    expect(updateErrors(stored, (c: any) => (c.metadata.labels = { team: 'a' }))).toEqual([]);
    expect(updateErrors(vwc(hook()), (c: any) => (c.webhooks[0].sideEffects = 'Some'))).toEqual([
      'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
    ]);
  });
  it('duplicate webhook names are refused on create', () => {
    expect(createErrors(vwc(hook(), hook()))).toEqual([
      'webhooks[1].name: Duplicate value: "webhook.k8s.io"',
    ]);
  });
});

const vap = (spec: Record<string, unknown>, name = 'demo-policy.example.com'): any => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name },
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
    ...spec,
  },
});

describe('ValidatingAdmissionPolicy (validateValidatingAdmissionPolicySpec)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['the docs example is valid', {}, []],
    [
      'params is only declared with a paramKind',
      { validations: [{ expression: 'object.spec.replicas <= params.max' }] },
      [
        expect.stringMatching(
          /^spec\.validations\[0\]\.expression: Invalid value: "object\.spec\.replicas <= params\.max": compilation failed: ERROR: <input>:1:/,
        ),
      ],
    ],
    [
      'with a paramKind, params is declared',
      {
        paramKind: { apiVersion: 'rules.example.com/v1', kind: 'ReplicaLimit' },
        validations: [{ expression: 'object.spec.replicas <= params.max' }],
      },
      [],
    ],
    [
      'paramKind apiVersion: group a DNS subdomain, version a DNS-1035 label',
      { paramKind: { apiVersion: 'rules.example.com/V1', kind: 'ReplicaLimit' } },
      [
        expect.stringMatching(
          /^spec\.paramKind\.apiVersion: Invalid value: "V1": a DNS-1035 label must consist of lower case/,
        ),
      ],
    ],
    [
      'paramKind apiVersion with two slashes',
      { paramKind: { apiVersion: 'a/b/c', kind: 'ReplicaLimit' } },
      ['spec.paramKind.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c'],
    ],
    [
      'variables: a name that is a CEL identifier, an expression',
      {
        variables: [
          { name: 'if', expression: 'true' },
          { name: '', expression: '' },
        ],
      },
      [
        'spec.variables[0].name: Invalid value: "if": name is not a valid CEL identifier',
        'spec.variables[1].name: Required value: name is not specified',
        'spec.variables[1].expression: Required value: expression is not specified',
      ],
    ],
    [
      'validation message: not blank, no line breaks; messageExpression not blank',
      {
        validations: [
          { expression: 'true', message: ' ' },
          { expression: 'true', message: 'a\nb', messageExpression: ' ' },
        ],
      },
      [
        'spec.validations[0].message: Invalid value: " ": message must be non-empty if specified',
        'spec.validations[1].messageExpression: Invalid value: " ": must be non-empty if specified',
        'spec.validations[1].message: Invalid value: "a\\nb": message must not contain line breaks',
      ],
    ],
    [
      'validation reasons: Forbidden, Invalid, RequestEntityTooLarge',
      { validations: [{ expression: 'true', reason: 'Unauthorized' }] },
      [
        'spec.validations[0].reason: Unsupported value: "Unauthorized": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge"',
      ],
    ],
    [
      'auditAnnotations: <policy name>/<key> is a qualified name; keys unique',
      {
        validations: [],
        auditAnnotations: [
          { key: 'bad key', valueExpression: '"x"' },
          { key: 'ok', valueExpression: '"x"' },
          { key: 'ok', valueExpression: '' },
        ],
      },
      [
        expect.stringMatching(
          /^spec\.auditAnnotations\[0\]\.key: Invalid value: "demo-policy\.example\.com\/bad key": name part must consist of/,
        ),
        'spec.auditAnnotations[2].valueExpression: Required value: valueExpression is not specified',
        'spec.auditAnnotations[2].key: Duplicate value: "ok"',
      ],
    ],
  ])('%s', (_n, spec, expected) => {
    expect(createErrors(vap(spec))).toEqual(expected);
  });

  it('more than 20 auditAnnotations', () => {
    const audits = Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, valueExpression: '"v"' }));
    expect(createErrors(vap({ auditAnnotations: audits }))).toEqual([
      expect.stringMatching(
        /^spec\.auditAnnotations: Invalid value: .*: must not have more than 20 auditAnnotations$/,
      ),
    ]);
  });

  it('status: type-checking warnings need their warning and fieldRef', () => {
    expect(
      statusErrors(
        vap({}),
        (p: any) => (p.status = { typeChecking: { expressionWarnings: [{ fieldRef: '', warning: '' }] } }),
      ),
    ).toEqual([
      'status.typeChecking.expressionWarnings[0].warning: Required value',
      'status.typeChecking.expressionWarnings[0].fieldRef: Required value',
    ]);
  });
});

const binding = (spec: Record<string, unknown>): any => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name: 'demo-binding' },
  spec: { policyName: 'demo-policy.example.com', validationActions: ['Deny'], ...spec },
});

describe('ValidatingAdmissionPolicyBinding (validateValidatingAdmissionPolicyBindingSpec)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'paramRef: name and selector exclude each other (reported on both)',
      { paramRef: { name: 'limits', selector: {}, parameterNotFoundAction: 'Deny' } },
      [
        'spec.paramRef.name: Forbidden: name and selector are mutually exclusive',
        'spec.paramRef.selector: Forbidden: name and selector are mutually exclusive',
      ],
    ],
    [
      'paramRef: the name is a path segment; parameterNotFoundAction Deny or Allow',
      { paramRef: { name: 'a/b', parameterNotFoundAction: 'Ignore' } },
      [
        `spec.paramRef.name: Invalid value: "a/b": may not contain '/'`,
        'spec.paramRef.parameterNotFoundAction: Unsupported value: "Ignore": supported values: "Deny", "Allow"',
      ],
    ],
    [
      'matchResources errors are under spec.matchResources',
      { matchResources: { matchPolicy: 'Sometimes', namespaceSelector: {}, objectSelector: {} } },
      [
        'spec.matchResources.matchPolicy: Unsupported value: "Sometimes": supported values: "Equivalent", "Exact"',
      ],
    ],
    [
      'validationActions: unsupported before duplicate; Required last',
      { validationActions: ['Deny', 'Block', 'Deny'] },
      [
        'spec.validationActions[1]: Unsupported value: "Block": supported values: "Audit", "Deny", "Warn"',
        'spec.validationActions[2]: Duplicate value: "Deny"',
      ],
    ],
    [
      'no validationActions',
      { validationActions: [] },
      ['spec.validationActions: Required value: at least one validation action is required'],
    ],
  ])('%s', (_n, spec, expected) => {
    expect(createErrors(binding(spec))).toEqual(expected);
  });
});
