// ReplicationController, ResourceQuota, PodTemplate, ServiceCIDR and Event rules checked against upstream (versions in
// docs/api-parity.md): pkg/apis/core/validation/validation.go (ValidateReplicationController*, ValidatePodTemplate*,
// ValidateResourceQuota*), pkg/apis/core/helper/helpers.go (quota scopes), pkg/apis/core/validation/events.go,
// pkg/apis/networking/validation/validation.go (ServiceCIDR). Case names are upstream's test names where one exists.
import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import { validateEventCreate, validateEventUpdate } from './events.js';
import { createErrors, statusErrors, updateErrors } from './test-fixtures.js';

const valid = (errs: string[]): boolean => errs.length === 0;

describe('ReplicationController (TestValidateReplicationController)', () => {
  const rc = (spec: Record<string, unknown>, name = 'abc'): any => ({
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: {
      selector: { a: 'b' },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'abc', image: 'image' }] } },
      ...spec,
    },
  });

  it('success cases (a writable GCE PD with one replica)', () => {
    expect(createErrors(rc({}))).toEqual([]);
    expect(createErrors(rc({}, 'abc-123'))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'selector_doesnt_match',
      { selector: { foo: 'bar' } },
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
      ],
    ],
    ['invalid manifest', { template: undefined }, ['spec.template: Required value']],
    [
      'negative_replicas',
      { replicas: -1 },
      ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      // upstream validates the selector only as non-empty: a bad key cannot match the (validated) template labels
      'invalid selector',
      { selector: { 'NoUppercaseOrSpecialCharsLike=Equals': 'b' } },
      [
        'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
      ],
    ],
  ])('%s', (_name, spec, want) => {
    expect(createErrors(rc(spec))).toEqual(want);
  });

  it('invalid_label: the template labels are reported at spec.template.labels (ValidatePodTemplateSpec)', () => {
    const bad = 'NoUppercaseOrSpecialCharsLike=Equals';
    const errs = createErrors(
      rc({
        selector: { [bad]: 'b' },
        template: {
          metadata: { labels: { [bad]: 'b' } },
          spec: { containers: [{ name: 'abc', image: 'image' }] },
        },
      }),
    );
    // (SetDefaults_ReplicationController copied the template's labels to the RC's: metadata.labels fails too)
    expect(errs.filter((e) => !e.startsWith('metadata.labels: ')).length).toBeGreaterThan(0);
    for (const e of errs.filter((e) => !e.startsWith('metadata.labels: ')))
      expect(e).toMatch(/^spec\.template\.labels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals": /);
  });

  it('an ephemeral container in the template is refused', () => {
    const errs = createErrors(
      rc({
        template: {
          metadata: { labels: { a: 'b' } },
          spec: {
            containers: [{ name: 'abc', image: 'image' }],
            ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
          },
        },
      }),
    );
    expect(errs).toContain(
      'spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template',
    );
  });

  it.each<[string, Record<string, number>, boolean]>([
    [
      'valid status',
      { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 2 },
      true,
    ],
    ['invalid replicas', { replicas: -1 }, false],
    ['invalid fullyLabeledReplicas', { replicas: 3, fullyLabeledReplicas: -1 }, false],
    ['invalid readyReplicas', { replicas: 3, readyReplicas: -1 }, false],
    ['invalid availableReplicas', { replicas: 3, readyReplicas: 3, availableReplicas: -1 }, false],
    ['invalid observedGeneration', { replicas: 3, observedGeneration: -1 }, false],
    ['fullyLabeledReplicas greater than replicas', { replicas: 3, fullyLabeledReplicas: 4 }, false],
    ['readyReplicas greater than replicas', { replicas: 3, readyReplicas: 4 }, false],
    [
      'availableReplicas greater than replicas',
      { replicas: 3, readyReplicas: 3, availableReplicas: 4 },
      false,
    ],
    [
      'availableReplicas greater than readyReplicas',
      { replicas: 3, readyReplicas: 2, availableReplicas: 3 },
      false,
    ],
  ])('TestValidateReplicationControllerStatus: %s', (_name, status, ok) => {
    expect(valid(statusErrors(rc({}), (o: any) => (o.status = status)))).toBe(ok);
  });
});

describe('PodTemplate', () => {
  const pt = (labels: Record<string, string>): any => ({
    apiVersion: 'v1',
    kind: 'PodTemplate',
    metadata: { name: 'tmpl' },
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  });
  it('the template labels are validated at template.labels', () => {
    expect(createErrors(pt({ a: 'b' }))).toEqual([]);
    const errs = createErrors(pt({ 'a b': 'c' }));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^template\.labels: Invalid value: "a b": /);
  });
  it('an update revalidates the template (ValidatePodTemplateUpdate)', () => {
    expect(updateErrors(pt({ a: 'b' }), (o: any) => (o.template.spec.containers[0].image = ''))).toEqual([
      'template.spec.containers[0].image: Required value',
    ]);
  });
});

describe('ResourceQuota (TestValidateResourceQuota)', () => {
  const rq = (spec: Record<string, unknown>): any => ({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'abc', namespace: 'foo' },
    spec,
  });

  it.each<[string, Record<string, unknown>]>([
    ['spec', { hard: { cpu: '100', memory: '10000', pods: '10', services: '0', resourcequotas: '10' } }],
    ['fractionalComputeSpec', { hard: { cpu: '100m' } }],
    ['terminatingSpec', { hard: { cpu: '100', 'limits.cpu': '200' }, scopes: ['Terminating'] }],
    ['nonTerminatingSpec', { hard: { cpu: '100' }, scopes: ['NotTerminating'] }],
    ['bestEffortSpec', { hard: { pods: '100' }, scopes: ['BestEffort'] }],
    ['nonBestEffortSpec', { hard: { cpu: '100' }, scopes: ['NotBestEffort'] }],
    [
      'scopeSelector with PriorityClass In',
      {
        hard: { pods: '10' },
        scopeSelector: {
          matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }],
        },
      },
    ],
  ])('success: %s', (_name, spec) => {
    expect(createErrors(rq(spec))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'negative-limits',
      { hard: { cpu: '-100', pods: '-10' } },
      [
        'spec.hard[cpu]: Invalid value: "-100": must be greater than or equal to 0',
        'spec.hard[pods]: Invalid value: "-10": must be greater than or equal to 0',
      ],
    ],
    [
      'fractional-api-resource',
      { hard: { pods: '.1' } },
      ['spec.hard[pods]: Invalid value: "100m": must be an integer'],
    ],
    [
      'invalid-quota-resource',
      { hard: { storage: '10' } },
      ['spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota'],
    ],
    [
      'invalid-quota-terminating-pair',
      { hard: { cpu: '100' }, scopes: ['Terminating', 'NotTerminating'] },
      ['spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes'],
    ],
    [
      'invalid-quota-besteffort-pair',
      { hard: { pods: '100' }, scopes: ['BestEffort', 'NotBestEffort'] },
      ['spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes'],
    ],
    [
      'invalid-quota-scope-name',
      { hard: { cpu: '100' }, scopes: ['foo'] },
      ['spec.scopes: Invalid value: ["foo"]: unsupported scope'],
    ],
    [
      // IsResourceQuotaScopeValidForResource: BestEffort pods use no cpu; one error per hard limit it cannot restrict
      'unsupported scope applied to resource',
      { hard: { cpu: '100', secrets: '3', 'example.com/foo': '1' }, scopes: ['BestEffort'] },
      [
        'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource',
        'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource',
      ],
    ],
    [
      'negative and fractional: both errors (ValidateResourceQuantityValue)',
      { hard: { pods: '-1.5' } },
      [
        // the value is printed canonical, as Quantity.String() prints it
        'spec.hard[pods]: Invalid value: "-1500m": must be greater than or equal to 0',
        'spec.hard[pods]: Invalid value: "-1500m": must be an integer',
      ],
    ],
    [
      'an extended resource counts whole units (IsIntegerResourceName)',
      { hard: { 'count/widgets.example.com': '1500m' } },
      ['spec.hard[count/widgets.example.com]: Invalid value: "1500m": must be an integer'],
    ],
  ])('%s', (_name, spec, want) => {
    expect(createErrors(rq(spec))).toEqual(want);
  });

  it('scopeSelector: operator, values and scope rules (validateScopedResourceSelectorRequirement)', () => {
    const sel = (...matchExpressions: unknown[]) =>
      rq({ hard: { pods: '1' }, scopeSelector: { matchExpressions } });
    expect(createErrors(sel({ scopeName: 'BestEffort', operator: 'In', values: ['x'] }))).toEqual([
      'spec.scopeSelector.matchExpressions.operator: Invalid value: "In": must be \'Exists\' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity',
    ]);
    expect(createErrors(sel({ scopeName: 'PriorityClass', operator: 'In' }))).toEqual([
      "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
    ]);
    expect(createErrors(sel({ scopeName: 'PriorityClass', operator: 'Exists', values: ['a'] }))).toEqual([
      "spec.scopeSelector.matchExpressions.values: Invalid value: [\"a\"]: must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
    ]);
    expect(createErrors(sel({ scopeName: 'PriorityClass', operator: 'Gt' }))).toEqual([
      'spec.scopeSelector.matchExpressions.operator: Invalid value: "Gt": not a valid selector operator',
    ]);
    expect(createErrors(sel({ scopeName: 'Forever', operator: 'Exists' }))).toEqual([
      'spec.scopeSelector.matchExpressions.scopeName: Invalid value: "Forever": unsupported scope',
    ]);
    expect(
      createErrors(
        sel(
          { scopeName: 'Terminating', operator: 'Exists' },
          { scopeName: 'NotTerminating', operator: 'Exists' },
        ),
      ),
    ).toEqual(['spec.scopeSelector.matchExpressions: Invalid value: null: conflicting scopes']);
  });

  it('TestValidateResourceQuotaUpdate: scopes are a set and immutable', () => {
    const before = rq({ hard: { pods: '1' }, scopes: ['BestEffort', 'NotTerminating'] });
    expect(updateErrors(before, (o: any) => (o.spec.scopes = ['NotTerminating', 'BestEffort']))).toEqual([]);
    expect(updateErrors(before, (o: any) => (o.spec.scopes = ['BestEffort']))).toEqual([
      'spec.scopes: Invalid value: ["BestEffort"]: field is immutable',
    ]);
  });

  it('TestValidateResourceQuotaStatusUpdate: status hard and used are quantities of quota resources', () => {
    expect(
      statusErrors(
        rq({ hard: { pods: '1' } }),
        (o: any) => (o.status = { hard: { pods: '1' }, used: { pods: '-1' } }),
      ),
    ).toEqual(['status.used[pods]: Invalid value: "-1": must be greater than or equal to 0']);
  });
});

describe('ServiceCIDR (ValidateServiceCIDR, ValidateServiceCIDRUpdate)', () => {
  const sc = (cidrs: string[]): any => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'ServiceCIDR',
    metadata: { name: 'extra' },
    spec: { cidrs },
  });
  it.each<[string, string[], string[]]>([
    ['valid dual stack', ['10.96.0.0/16', 'fd00::/108'], []],
    [
      'too many',
      ['10.0.0.0/24', 'fd00::/64', '10.1.0.0/24'],
      [
        'spec.cidrs: Invalid value: {"cidrs":["10.0.0.0/24","fd00::/64","10.1.0.0/24"]}: may only hold up to 2 values',
      ],
    ],
    [
      'same family',
      ['10.0.0.0/24', '10.1.0.0/24'],
      [
        'spec.cidrs: Invalid value: {"cidrs":["10.0.0.0/24","10.1.0.0/24"]}: may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64',
      ],
    ],
  ])('%s', (_n, cidrs, want) => {
    expect(createErrors(sc(cidrs))).toEqual(want);
  });
  it('a single-stack ServiceCIDR may gain the other family; nothing else changes', () => {
    expect(updateErrors(sc(['10.96.0.0/16']), (o: any) => o.spec.cidrs.push('fd00::/108'))).toEqual([]);
    expect(
      updateErrors(sc(['10.96.0.0/16']), (o: any) => (o.spec.cidrs = ['10.97.0.0/16', 'fd00::/108'])),
    ).toEqual(['spec.cidrs[0]: Invalid value: "10.97.0.0/16": field is immutable']);
    expect(updateErrors(sc(['10.96.0.0/16']), (o: any) => (o.spec.cidrs = ['10.97.0.0/16']))).toEqual([
      'spec.cidrs[0]: Invalid value: "10.97.0.0/16": field is immutable',
    ]);
    expect(updateErrors(sc(['10.96.0.0/16', 'fd00::/108']), (o: any) => o.spec.cidrs.pop())).toEqual([
      'spec.cidrs: Invalid value: ["10.96.0.0/16"]: field is immutable',
    ]);
  });
});

describe('Event (pkg/apis/core/validation/events.go)', () => {
  const someTime = '2017-09-19T13:49:16.000000Z';
  const ev = (o: Record<string, unknown>): any => ({
    metadata: { name: 'test', namespace: 'kube-system' },
    involvedObject: { apiVersion: 'v1', kind: 'Node' },
    ...o,
  });
  const create = (e: any, group: string): string[] => validateEventCreate(e, group).map(fieldErrorString);
  const newEvent = {
    eventTime: someTime,
    reportingComponent: 'k8s.io/my-controller',
    reportingInstance: 'node-xyz',
    action: 'Do',
    reason: 'Because',
    type: 'Normal',
  };

  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ['test1', { name: 'test1', namespace: 'foo' }, { namespace: 'bar', kind: 'Pod' }, false],
    ['test2', { name: 'test2', namespace: 'aoeu-_-aoeu' }, { namespace: 'aoeu-_-aoeu', kind: 'Pod' }, false],
    ['test3', { name: 'test3', namespace: 'default' }, { apiVersion: 'v1', kind: 'Node' }, true],
    [
      'test6',
      { name: 'test6', namespace: 'default' },
      { apiVersion: 'batch/v1', kind: 'Job', namespace: 'foo' },
      false,
    ],
    [
      'test7',
      { name: 'test7', namespace: 'default' },
      { apiVersion: 'batch/v1', kind: 'Job', namespace: 'default' },
      true,
    ],
    [
      'test11',
      { name: 'test11', namespace: 'foo' },
      { apiVersion: 'batch/v1', kind: 'Job', namespace: 'foo' },
      true,
    ],
    [
      'test14',
      { name: 'test14', namespace: 'foo' },
      { apiVersion: 'other/v1beta1', kind: 'FooBar', namespace: '' },
      false,
    ],
  ])('TestValidateEventForCoreV1Events: %s', (_n, metadata, involvedObject, ok) => {
    expect(valid(create({ metadata, involvedObject }, ''))).toBe(ok);
  });

  it('core/v1: names are only path segments; the reporting controller is `reportingComponent`', () => {
    expect(create({ metadata: { name: 'Web_1.17a', namespace: 'default' }, involvedObject: {} }, '')).toEqual(
      [],
    );
    expect(create(ev({ ...newEvent, reportingComponent: '' }), '')).toContain(
      'reportingComponent: Required value',
    );
    expect(create(ev({ ...newEvent, reportingComponent: '' }), 'events.k8s.io')).toContain(
      'reportingController: Required value',
    );
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid new event', {}, []],
    [
      'missing EventTime',
      { eventTime: undefined, reportingComponent: undefined },
      ['eventTime: Required value'],
    ],
    [
      'not qualified reportingController',
      { reportingComponent: 'my-contr@ller' },
      ['reportingController: Invalid value: "my-contr@ller": '],
    ],
    [
      'too long reporting instance',
      { reportingInstance: `node-${'z'.repeat(130)}` },
      ['reportingInstance: Invalid value: "": can have at most 128 characters'],
    ],
    ['missing reason', { reason: undefined }, ['reason: Required value']],
    ['missing action', { action: undefined }, ['action: Required value']],
    [
      'too long message',
      { message: 'z'.repeat(1025) },
      ['message: Invalid value: "": can have at most 1024 characters'],
    ],
    ['invalid type', { type: 'invalid-type' }, ['type: Invalid value: "": has invalid value: invalid-type']],
    [
      'non-empty firstTimestamp',
      { firstTimestamp: '2017-09-19T13:49:16Z' },
      ['firstTimestamp: Invalid value: "": needs to be unset'],
    ],
    [
      'non-empty lastTimestamp',
      { lastTimestamp: '2017-09-19T13:49:16Z' },
      ['lastTimestamp: Invalid value: "": needs to be unset'],
    ],
    ['non-empty count', { count: 123 }, ['count: Invalid value: "": needs to be unset']],
    ['non-empty source', { source: { host: 'host' } }, ['source: Invalid value: "": needs to be unset']],
    [
      'non-nil series with cound < 2',
      { series: { count: 0, lastObservedTime: someTime } },
      ['series.count: Invalid value: "": should be at least 2'],
    ],
    [
      'non-nil series with empty lastObservedTime',
      { series: { count: 2 } },
      ['series.lastObservedTime: Required value'],
    ],
  ])('TestValidateEventCreateForNewV1Events: %s', (_n, change, want) => {
    const errs = create(ev({ ...newEvent, ...change }), 'events.k8s.io');
    if (want.length === 0) expect(errs).toEqual([]);
    for (const w of want) expect(errs.some((e) => e.startsWith(w))).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['forbidden updates to involvedObject', { involvedObject: { apiVersion: 'v2', kind: 'Node' } }],
    ['forbidden updates to reason', { reason: 'Yeees-new' }],
    ['forbidden updates to message', { message: 'new-message' }],
    ['forbidden updates to source', { source: { host: 'host' } }],
    ['forbidden updates to count', { count: 2 }],
    ['forbidden updates to type', { type: 'Warning' }],
    ['forbidden updates to eventTime', { eventTime: '2017-09-19T13:49:59.000000Z' }],
    ['forbidden updates to action', { action: 'Undo' }],
    ['forbidden updates to related', { related: { apiVersion: 'v1' } }],
    ['forbidden updates to reportingController', { reportingComponent: 'k8s.io/my-controller/new' }],
    ['forbidden updates to reportingInstance', { reportingInstance: 'node-xyz-new' }],
  ])('TestValidateEventUpdateForNewV1Events: %s', (_n, change) => {
    const old = ev({
      ...newEvent,
      metadata: { name: 'test', namespace: 'kube-system', resourceVersion: '1' },
    });
    const updated = { ...old, ...change };
    expect(validateEventUpdate(updated, old, 'events.k8s.io').length).toBeGreaterThan(0);
    // through core/v1 nothing is immutable (legacy rules only)
    expect(
      validateEventUpdate(updated, old, '')
        .map(fieldErrorString)
        .filter((e) => e.endsWith('field is immutable')),
    ).toEqual([]);
  });

  it('TestValidateEventUpdateForNewV1Events: valid new updated event (series grows)', () => {
    const old = ev({ ...newEvent, series: { count: 1, lastObservedTime: someTime } });
    expect(
      validateEventUpdate({ ...old, series: { count: 2, lastObservedTime: someTime } }, old, 'events.k8s.io'),
    ).toEqual([]);
  });

  it.each<[string, string, string, boolean]>([
    ['noop microsecond precision', '1970-01-01T00:01:40.000005Z', '1970-01-01T00:01:40.000005Z', true],
    ['modify microseconds', '1970-01-01T00:01:40.000005Z', '1970-01-01T00:01:40.000004Z', false],
    ['modify seconds', '1970-01-01T00:01:40.000000Z', '1970-01-01T00:01:41.000000Z', false],
  ])('TestEventV1EventTimeImmutability: %s', (_n, before, after, ok) => {
    const old = ev({ ...newEvent, eventTime: before });
    expect(
      valid(validateEventUpdate({ ...old, eventTime: after }, old, 'events.k8s.io').map(fieldErrorString)),
    ).toBe(ok);
  });
});
