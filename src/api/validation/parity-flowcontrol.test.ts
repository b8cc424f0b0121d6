// flowcontrol.apiserver.k8s.io/v1 validation against upstream: pkg/apis/flowcontrol/validation/validation.go and the
// cases of its validation_test.go (TestFlowSchemaValidation, TestPriorityLevelConfigurationValidation,
// TestValidateFlowSchemaStatus, TestValidatePriorityLevelConfigurationStatus, TestValidateNonResourceURLPath,
// TestValidateLimitedPriorityLevelConfigurationWithBorrowing), by their names.
import { describe, expect, it } from 'vitest';
import { nonResourceURLPathError } from './flowcontrol.js';
import { createErrors, statusErrors, updateErrors } from './test-fixtures.js';

const fs = (name: string, spec: Record<string, unknown>): any => ({
  apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
  kind: 'FlowSchema',
  metadata: { name },
  spec: { matchingPrecedence: 50, priorityLevelConfiguration: { name: 'system-bar' }, ...spec },
});
const noxu = { kind: 'User', user: { name: 'noxu' } };
const all = { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] };
const rule = (extra: Record<string, unknown>) => ({ rules: [{ subjects: [noxu], ...extra }] });
const r0 = 'spec.rules[0]';

describe('FlowSchema (TestFlowSchemaValidation)', () => {
  it.each<[string, any, string[]]>([
    [
      'missing both resource and non-resource policy-rule should fail',
      fs('system-foo', rule({})),
      [`${r0}: Required value: at least one of resourceRules and nonResourceRules has to be non-empty`],
    ],
    [
      'normal flow-schema w/ * verbs/apiGroups/resources should work',
      fs('system-foo', {
        rules: [{ subjects: [{ kind: 'Group', group: { name: 'noxu' } }], resourceRules: [all] }],
      }),
      [],
    ],
    [
      'malformed Subject union in ServiceAccount case',
      fs('system-foo', {
        rules: [
          {
            subjects: [{ kind: 'ServiceAccount', user: { name: 'fred' }, group: { name: 'fred' } }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      }),
      [
        `${r0}.subjects[0].serviceAccount: Required value: serviceAccount is required when subject kind is 'ServiceAccount'`,
        `${r0}.subjects[0].user: Forbidden: user is forbidden when subject kind is not 'User'`,
        `${r0}.subjects[0].group: Forbidden: group is forbidden when subject kind is not 'Group'`,
      ],
    ],
    [
      'Subject union malformed in User case',
      fs('system-foo', {
        rules: [
          {
            subjects: [
              { kind: 'User', group: { name: 'fred' }, serviceAccount: { namespace: 's', name: 'n' } },
            ],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      }),
      [
        `${r0}.subjects[0].user: Required value: user is required when subject kind is 'User'`,
        `${r0}.subjects[0].serviceAccount: Forbidden: serviceAccount is forbidden when subject kind is not 'ServiceAccount'`,
        `${r0}.subjects[0].group: Forbidden: group is forbidden when subject kind is not 'Group'`,
      ],
    ],
    [
      'non-exempt flow-schema with matchingPrecedence==1 should fail',
      fs('fred', {
        matchingPrecedence: 1,
        priorityLevelConfiguration: { name: 'exempt' },
        rules: [
          {
            subjects: [{ kind: 'Group', group: { name: 'gorp' } }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      }),
      [
        `spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1`,
      ],
    ],
    [
      'flow-schema mixes * verbs/apiGroups/resources should fail',
      fs(
        'system-foo',
        rule({
          resourceRules: [
            { verbs: ['*', 'create'], apiGroups: ['*', 'tak'], resources: ['*', 'tok'], namespaces: ['*'] },
          ],
        }),
      ),
      [
        `${r0}.resourceRules[0].verbs: Invalid value: ["*","create"]: if '*' is present, must not specify other verbs`,
        `${r0}.resourceRules[0].apiGroups: Invalid value: ["*","tak"]: if '*' is present, must not specify other api groups`,
        `${r0}.resourceRules[0].resources: Invalid value: ["*","tok"]: if '*' is present, must not specify other resources`,
      ],
    ],
    [
      'flow-schema has both resource rules and non-resource rules should work',
      fs(
        'system-foo',
        rule({ resourceRules: [all], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['/apis/*'] }] }),
      ),
      [],
    ],
    [
      'flow-schema mixes * non-resource URLs should fail',
      fs('system-foo', rule({ nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*', 'tik'] }] })),
      [
        `${r0}.nonResourceRules[0].nonResourceURLs: Invalid value: ["*","tik"]: if '*' is present, must not specify other non-resource URLs`,
      ],
    ],
    [
      'invalid subject kind should fail',
      fs('system-foo', {
        rules: [
          { subjects: [{ kind: 'FooKind' }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] },
        ],
      }),
      [
        `${r0}.subjects[0].kind: Unsupported value: "FooKind": supported values: "Group", "ServiceAccount", "User"`,
      ],
    ],
    [
      'flow-schema w/ invalid verb should fail',
      fs('system-foo', rule({ resourceRules: [{ ...all, verbs: ['feed'] }] })),
      [
        `${r0}.resourceRules[0].verbs: Unsupported value: ["feed"]: supported values: "create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"`,
      ],
    ],
    [
      'flow-schema w/ invalid priority level configuration name should fail',
      fs('system-foo', {
        priorityLevelConfiguration: { name: 'system+++$$' },
        ...rule({ resourceRules: [all] }),
      }),
      [
        `spec.priorityLevelConfiguration.name: Invalid value: "system+++$$": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    [
      'flow-schema w/ service-account kind missing namespace should fail',
      fs('system-foo', {
        rules: [
          { subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: 'noxu' } }], resourceRules: [all] },
        ],
      }),
      [
        `${r0}.subjects[0].serviceAccount.namespace: Required value: must specify namespace for service account`,
      ],
    ],
    [
      'flow-schema missing kind should fail',
      fs('system-foo', { rules: [{ subjects: [{ kind: '' }], resourceRules: [all] }] }),
      [`${r0}.subjects[0].kind: Unsupported value: "": supported values: "Group", "ServiceAccount", "User"`],
    ],
    [
      'Omitted ResourceRule.Namespaces should fail',
      fs('system-foo', rule({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] })),
      [
        `${r0}.resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace`,
      ],
    ],
    [
      'ClusterScope is allowed, with no Namespaces',
      fs(
        'system-foo',
        rule({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true }] }),
      ),
      [],
    ],
    [
      'ClusterScope is allowed with NamespaceEvery',
      fs('system-foo', rule({ resourceRules: [{ ...all, clusterScope: true }] })),
      [],
    ],
    [
      'NamespaceEvery may not be combined with particulars',
      fs('system-foo', rule({ resourceRules: [{ ...all, namespaces: ['foo', '*'] }] })),
      [
        `${r0}.resourceRules[0].namespaces: Invalid value: ["foo","*"]: if '*' is present, must not specify other namespaces`,
      ],
    ],
    [
      'ResourceRule.Namespaces must be well formed',
      fs('system-foo', rule({ resourceRules: [{ ...all, namespaces: ['-foo'] }] })),
      [
        `${r0}.resourceRules[0].namespaces[0]: Invalid value: "-foo": each member of this list must be '*' or a DNS-1123 label; a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ],
    [
      'MatchingPrecedence must not be greater than 10000',
      fs('system-foo', { matchingPrecedence: 10001, ...rule({ resourceRules: [all] }) }),
      ['spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000'],
    ],
  ])('%s', (_name, manifest, expected) => {
    expect(createErrors(manifest).sort()).toEqual([...expected].sort());
  });

  it('exempt flow-schema should work; bad exempt flow-schema should fail', () => {
    const exempt = fs('exempt', {
      matchingPrecedence: 1,
      priorityLevelConfiguration: { name: 'exempt' },
      rules: [
        {
          subjects: [{ kind: 'Group', group: { name: 'system:masters' } }],
          resourceRules: [{ ...all, clusterScope: true }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        },
      ],
    });
    expect(createErrors(exempt)).toEqual([]);
    exempt.spec.rules[0].nonResourceRules[0].nonResourceURLs = ['/'];
    expect(createErrors(exempt)).toEqual([
      expect.stringMatching(/^spec: Invalid value: .*: spec of 'exempt' must equal the fixed value$/),
    ]);
  });

  it('catch-all flow-schema should work; bad catch-all flow-schema should fail', () => {
    const catchAll = fs('catch-all', {
      matchingPrecedence: 10000,
      priorityLevelConfiguration: { name: 'catch-all' },
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [
            { kind: 'Group', group: { name: 'system:unauthenticated' } },
            { kind: 'Group', group: { name: 'system:authenticated' } },
          ],
          resourceRules: [{ ...all, clusterScope: true }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        },
      ],
    });
    expect(createErrors(catchAll)).toEqual([]);
    catchAll.spec.matchingPrecedence = 9000;
    expect(createErrors(catchAll)).toEqual([
      expect.stringMatching(/^spec: Invalid value: .*: spec of 'catch-all' must equal the fixed value$/),
    ]);
  });

  it('names are DNS subdomains (ValidateFlowSchemaName), not path segments', () => {
    expect(createErrors(fs('Health_Strangers', rule({ resourceRules: [all] })))).toEqual([
      expect.stringMatching(
        /^metadata\.name: Invalid value: "Health_Strangers": a lowercase RFC 1123 subdomain/,
      ),
    ]);
  });
});

const pl = (name: string, spec: Record<string, unknown>): any => ({
  apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
  kind: 'PriorityLevelConfiguration',
  metadata: { name },
  spec,
});
const limited = (limitResponse: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  type: 'Limited',
  limited: { nominalConcurrencyShares: 100, limitResponse, ...more },
});
const q = 'spec.limited.limitResponse.queuing';

describe('PriorityLevelConfiguration (TestPriorityLevelConfigurationValidation)', () => {
  const badSpec = {
    type: 'Limited',
    limited: { nominalConcurrencyShares: 42, limitResponse: { type: 'Reject' } },
  };
  it.each<[string, any, string[]]>([
    [
      'exempt should work',
      pl('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
      [],
    ],
    [
      'wrong exempt spec should fail',
      pl('exempt', badSpec),
      [
        `spec.type: Invalid value: "Limited": type must be 'Exempt' if and only if name is 'exempt'`,
        expect.stringMatching(
          /^spec: Invalid value: .*: spec of 'exempt' except the 'spec.exempt' field must equal the fixed value$/,
        ),
      ],
    ],
    [
      'exempt priority level should have appropriate values for Exempt field',
      pl('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: -1, lendablePercent: 101 } }),
      [
        'spec.exempt.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer',
        'spec.exempt.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive',
      ],
    ],
    [
      "admins are allowed to change the Exempt field of the 'exempt' pl",
      pl('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 10, lendablePercent: 10 } }),
      [],
    ],
    [
      'limited must not set exempt priority level configuration for borrowing',
      pl('broken-limited', { type: 'Limited', exempt: {} }),
      [
        'spec.exempt: Forbidden: must be nil if the type is Limited',
        'spec.limited: Required value: must not be empty when type is Limited',
      ],
    ],
    [
      'max-in-flight should work',
      pl('max-in-flight', {
        type: 'Limited',
        limited: { nominalConcurrencyShares: 42, limitResponse: { type: 'Reject' } },
      }),
      [],
    ],
    [
      'forbid queuing details when not queuing',
      pl(
        'system-foo',
        limited({ type: 'Reject', queuing: { queues: 512, handSize: 4, queueLengthLimit: 100 } }),
      ),
      [`${q}: Forbidden: must be nil if limited.limitResponse.type is not Limited`],
    ],
    [
      'wrong backstop spec should fail',
      pl('catch-all', badSpec),
      [expect.stringMatching(/^spec: Invalid value: .*: spec of 'catch-all' must equal the fixed value$/)],
    ],
    [
      'backstop should work',
      pl('catch-all', {
        type: 'Limited',
        limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
      }),
      [],
    ],
    [
      'broken queuing level should fail',
      pl('system-foo', limited({ type: 'Queue' })),
      [`${q}: Required value: must not be empty if limited.limitResponse.type is Limited`],
    ],
    [
      'normal customized priority level should work',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queues: 512, handSize: 4, queueLengthLimit: 100 } }),
      ),
      [],
    ],
    [
      'customized priority level w/ overflowing handSize/queues should fail 1',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queueLengthLimit: 100, queues: 512, handSize: 8 } }),
      ),
      [
        `${q}.handSize: Invalid value: 8: required entropy bits of deckSize 512 and handSize 8 should not be greater than 60`,
      ],
    ],
    [
      'customized priority level w/ overflowing handSize/queues should fail 2',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queueLengthLimit: 100, queues: 128, handSize: 10 } }),
      ),
      [
        `${q}.handSize: Invalid value: 10: required entropy bits of deckSize 128 and handSize 10 should not be greater than 60`,
      ],
    ],
    [
      'customized priority level w/ overflowing handSize/queues should fail 3',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queueLengthLimit: 100, queues: 2147483647, handSize: 3 } }),
      ),
      [
        `${q}.handSize: Invalid value: 3: required entropy bits of deckSize 2147483647 and handSize 3 should not be greater than 60`,
        `${q}.queues: Invalid value: 2147483647: must not be greater than 10000000`,
      ],
    ],
    [
      'customized priority level w/ handSize=2 and queues=10^7 should work',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queueLengthLimit: 100, queues: 10_000_000, handSize: 2 } }),
      ),
      [],
    ],
    [
      'customized priority level w/ handSize greater than queues should fail',
      pl(
        'system-foo',
        limited({ type: 'Queue', queuing: { queueLengthLimit: 100, queues: 7, handSize: 8 } }),
      ),
      [`${q}.handSize: Invalid value: 8: should not be greater than queues (7)`],
    ],
    [
      'a Limited level must not be named exempt, an Exempt one must be',
      pl('my-exempt', { type: 'Exempt' }),
      [`spec.type: Invalid value: "Exempt": type must be 'Exempt' if and only if name is 'exempt'`],
    ],
    [
      'nominalConcurrencyShares 0 is refused through v1 (AllowZeroLimitedNominalConcurrencyShares off)',
      pl('system-foo', {
        type: 'Limited',
        limited: { nominalConcurrencyShares: 0, limitResponse: { type: 'Reject' } },
      }),
      ['spec.limited.nominalConcurrencyShares: Invalid value: 0: must be positive'],
    ],
  ])('%s', (_name, manifest, expected) => {
    expect(createErrors(manifest)).toEqual(expect.arrayContaining(expected));
    expect(createErrors(manifest)).toHaveLength(expected.length);
  });

  it("admins are not allowed to change any field of the 'exempt' pl except 'Exempt'", () => {
    const errs = createErrors(pl('exempt', { type: 'Exempt', exempt: {}, limited: badSpec.limited }));
    expect(errs).toEqual([
      'spec.limited: Forbidden: must be nil if the type is not Limited',
      expect.stringMatching(/: spec of 'exempt' except the 'spec.exempt' field must equal the fixed value$/),
    ]);
  });

  it.each<[string, Record<string, number>, string[]]>([
    [
      'lendablePercent 101',
      { lendablePercent: 101 },
      ['spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive'],
    ],
    [
      'lendablePercent -1',
      { lendablePercent: -1 },
      ['spec.limited.lendablePercent: Invalid value: -1: must be between 0 and 100, inclusive'],
    ],
    ['lendablePercent 100', { lendablePercent: 100 }, []],
    ['borrowingLimitPercent 0', { borrowingLimitPercent: 0 }, []],
    [
      'borrowingLimitPercent -1',
      { borrowingLimitPercent: -1 },
      ['spec.limited.borrowingLimitPercent: Invalid value: -1: if specified, must be a non-negative integer'],
    ],
  ])('TestValidateLimitedPriorityLevelConfigurationWithBorrowing: %s', (_name, more, expected) => {
    expect(createErrors(pl('system-foo', limited({ type: 'Reject' }, more)))).toEqual(expected);
  });
});

describe('status (TestValidateFlowSchemaStatus, TestValidatePriorityLevelConfigurationStatus)', () => {
  const level = pl('system-foo', limited({ type: 'Reject' }));
  it.each<[string, unknown[], string[]]>([
    ['empty status should work', [], []],
    [
      'duplicate key should fail',
      [{ type: '1' }, { type: '1' }],
      ['status.conditions[1].type: Duplicate value: "1"'],
    ],
    [
      'missing key should fail',
      [{ type: '' }],
      ['status.conditions[0].type: Required value: must not be empty'],
    ],
  ])('%s', (_name, conditions, expected) => {
    expect(statusErrors(level, (o: any) => (o.status = { conditions }))).toEqual(expected);
    const schema = fs('system-foo', rule({ resourceRules: [all] }));
    expect(statusErrors(schema, (o: any) => (o.status = { conditions }))).toEqual(expected);
  });
});

describe('TestValidateNonResourceURLPath', () => {
  it.each<[string, string, boolean]>([
    ['empty string should fail', '', true],
    ['no slash should fail', 'foo', true],
    ['single slash should work', '/', false],
    ['continuous slash should fail', '//', true],
    ['/foo slash should work', '/foo', false],
    ['multiple continuous slashes should fail', '/////', true],
    ['ending up with slash should work', '/apis/', false],
    ['ending up with wildcard should work', '/healthz/*', false],
    ['single wildcard inside the path should fail', '/healthz/*/foo', true],
    ['white-space in the path should fail', '/healthz/foo bar', true],
    ['wildcard plus plain path should fail', '/health*', true],
    ['wildcard plus plain path should fail 2', '/health*/foo', true],
    ['multiple wildcard internal and suffix should fail', '/*/*', true],
  ])('%s', (_name, path, failing) => {
    expect(nonResourceURLPathError(path) !== undefined).toBe(failing);
  });
});

describe('updates validate as creates do (ValidateFlowSchemaUpdate, ValidatePriorityLevelConfigurationUpdate)', () => {
  it("the mandatory catch-all level's spec cannot be edited", () => {
    const catchAll = pl('catch-all', {
      type: 'Limited',
      limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
    });
    expect(updateErrors(catchAll, (o: any) => (o.spec.limited.nominalConcurrencyShares = 50))).toEqual([
      expect.stringMatching(/^spec: Invalid value: .*: spec of 'catch-all' must equal the fixed value$/),
    ]);
  });
});
