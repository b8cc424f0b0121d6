// Job and CronJob validation against upstream's own cases: kubernetes/kubernetes release-1.33
// pkg/apis/batch/validation/validation_test.go (TestValidateJob, TestValidateJobUpdate, TestValidateCronJob*). Each
// case keeps upstream's name (the expected error) so it can be found there; the manifests are upstream's objects
// in their v1 JSON form.
import { describe, expect, it } from 'vitest';
import { createErrors, updateErrors } from './test-fixtures.js';

const UID = '00000000-0000-0000-0000-000000000001';

/** upstream's validGeneratedSelector / validPodTemplateSpecForGenerated (the four generated labels) */
function job(spec: Record<string, unknown> = {}, restartPolicy = 'OnFailure'): any {
  const labels = {
    'controller-uid': UID,
    'job-name': 'myjob',
    'batch.kubernetes.io/controller-uid': UID,
    'batch.kubernetes.io/job-name': 'myjob',
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'myjob', namespace: 'default' },
    spec: {
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels },
        spec: { restartPolicy, containers: [{ name: 'abc', image: 'image' }] },
      },
      ...spec,
    },
  };
}

const never = (spec: Record<string, unknown>) => job(spec, 'Never');
const rule = (r: Record<string, unknown>) => ({ podFailurePolicy: { rules: [r] } });
const exitCodes = (operator: string, values: number[], extra: Record<string, unknown> = {}) => ({
  action: 'FailJob',
  onExitCodes: { operator, values, ...extra },
});

describe('TestValidateJob (upstream error cases)', () => {
  it('the valid cases validate clean', () => {
    expect(createErrors(job())).toEqual([]);
    expect(createErrors(job({ completionMode: 'NonIndexed' }))).toEqual([]);
    expect(createErrors(job({ completionMode: 'Indexed', completions: 2, parallelism: 100000 }))).toEqual([]);
    expect(
      createErrors(job({ manualSelector: true, selector: { matchLabels: { a: 'b' } } }, 'OnFailure')).filter(
        (e) => !e.startsWith('spec.template.metadata.labels:'),
      ),
    ).toEqual([]);
  });

  it.each<[string, any, string[]]>([
    [
      'spec.podFailurePolicy.rules[0]: specifying one of OnExitCodes and OnPodConditions is required',
      never(rule({ action: 'FailJob' })),
      [
        'spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Duplicate value: 11',
      never(rule(exitCodes('In', [11, 11]))),
      ['spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Duplicate value: 11'],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Too many: 256: must have at most 255 items',
      never(
        rule(
          exitCodes(
            'In',
            Array.from({ length: 256 }, (_, i) => i + 1),
          ),
        ),
      ),
      ['spec.podFailurePolicy.rules[0].onExitCodes.values: Too many: 256: must have at most 255 items'],
    ],
    [
      'spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items',
      never({
        podFailurePolicy: {
          rules: Array.from({ length: 21 }, (_, i) => exitCodes('In', [i + 1])),
        },
      }),
      ['spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items'],
    ],
    [
      'spec.podFailurePolicy.rules[0].onPodConditions: Too many: 21: must have at most 20 items',
      never(
        rule({
          action: 'FailJob',
          onPodConditions: Array.from({ length: 21 }, (_, i) => ({
            type: `CustomType_${i}`,
            status: 'True',
          })),
        }),
      ),
      ['spec.podFailurePolicy.rules[0].onPodConditions: Too many: 21: must have at most 20 items'],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 13',
      never(rule(exitCodes('In', [12, 13, 13, 13]))),
      [
        'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 13',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[3]: Duplicate value: 13',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values: must be ordered',
      never(rule(exitCodes('In', [19, 11]))),
      ['spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [19,11]: must be ordered'],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values: at least one value is required',
      never(rule(exitCodes('In', []))),
      [
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []: at least one value is required',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].action: Required value',
      never(rule({ ...exitCodes('In', [1, 2, 3]), action: '' })),
      [
        'spec.podFailurePolicy.rules[0].action: Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.operator: Required value',
      never(rule(exitCodes('', [1, 2, 3]))),
      ['spec.podFailurePolicy.rules[0].onExitCodes.operator: Required value: valid values: ["In" "NotIn"]'],
    ],
    [
      'spec.podFailurePolicy.rules[0]: specifying both OnExitCodes and OnPodConditions is not supported',
      never(
        rule({
          ...exitCodes('In', [1, 2, 3], { containerName: 'abc' }),
          onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }],
        }),
      ),
      [
        'spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: must not be 0 for the In operator',
      never(rule({ ...exitCodes('In', [1, 0, 2]), action: 'Ignore' })),
      [
        'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [1,0,2]: must be ordered',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[1].onExitCodes.containerName: must be one of the container names',
      never({
        podFailurePolicy: {
          rules: [
            { ...exitCodes('In', [1, 2, 3], { containerName: 'abc' }), action: 'Ignore' },
            exitCodes('In', [5, 6, 7], { containerName: 'xyz' }),
          ],
        },
      }),
      [
        'spec.podFailurePolicy.rules[1].onExitCodes.containerName: Invalid value: "xyz": must be one of the container or initContainer names in the pod template',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "UnknownAction"',
      never(rule({ ...exitCodes('In', [1, 2, 3], { containerName: 'abc' }), action: 'UnknownAction' })),
      [
        'spec.podFailurePolicy.rules[0].action: Unsupported value: "UnknownAction": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onExitCodes.operator: Unsupported value: "UnknownOperator"',
      never(rule({ ...exitCodes('UnknownOperator', [1, 2, 3]), action: 'Ignore' })),
      [
        'spec.podFailurePolicy.rules[0].onExitCodes.operator: Unsupported value: "UnknownOperator": supported values: "In", "NotIn"',
      ],
    ],
    [
      // upstream's case runs on the internal type; through the API SetDefaults_Job sets the empty status to True
      'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Required value (defaulted to True via the API)',
      never(rule({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: '' }] })),
      [],
    ],
    [
      'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "UnknownStatus"',
      never(
        rule({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'UnknownStatus' }] }),
      ),
      [
        'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "UnknownStatus": supported values: "False", "True", "Unknown"',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].onPodConditions[0].type: Invalid value: "Invalid Condition Type"',
      never(
        rule({ action: 'Ignore', onPodConditions: [{ type: 'Invalid Condition Type', status: 'True' }] }),
      ),
      [
        `spec.podFailurePolicy.rules[0].onPodConditions[0].type: Invalid value: "Invalid Condition Type": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
    ],
    [
      'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed" (with a podFailurePolicy)',
      never({
        podReplacementPolicy: 'TerminatingOrFailed',
        ...rule({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }),
      }),
      ['spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"'],
    ],
    [
      'spec.podReplacementPolicy: Unsupported value: ""',
      never({ podReplacementPolicy: '' }),
      ['spec.podReplacementPolicy: Unsupported value: "": supported values: "Failed", "TerminatingOrFailed"'],
    ],
    [
      'spec.template.spec.restartPolicy: only "Never" is supported when podFailurePolicy is specified',
      job(rule({ ...exitCodes('In', [1]), action: 'Ignore' }), 'OnFailure'),
      [
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
      ],
    ],
    [
      'spec.template.spec.restartPolicy: Required value (Always)',
      job({}, 'Always'),
      ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
    ],
    [
      'spec.template.spec.restartPolicy: Unsupported value',
      job({}, 'Invalid'),
      [
        'spec.template.spec.restartPolicy: Unsupported value: "Invalid": supported values: "Always", "OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Invalid": supported values: "OnFailure", "Never"',
      ],
    ],
    [
      'spec.ttlSecondsAfterFinished: must be greater than or equal to 0',
      job({ ttlSecondsAfterFinished: -1 }),
      ['spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      // (without parallelism SetDefaults_Job sets completions to 1)
      'spec.completions: Required value: when completion mode is Indexed',
      job({ completionMode: 'Indexed', parallelism: 2 }),
      ['spec.completions: Required value: when completion mode is Indexed'],
    ],
    [
      'spec.parallelism: must be less than or equal to 100000 when completion mode is Indexed',
      job({ completionMode: 'Indexed', completions: 2, parallelism: 100001 }),
      [
        'spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed',
      ],
    ],
    [
      'spec.backoffLimitPerIndex: requires indexed completion mode',
      job({ backoffLimitPerIndex: 1 }),
      ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode'],
    ],
    [
      'spec.maxFailedIndexes: requires indexed completion mode',
      job({ backoffLimitPerIndex: 1, maxFailedIndexes: 1 }),
      [
        'spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode',
        'spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode',
      ],
    ],
    [
      'spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified',
      job({ completionMode: 'Indexed', completions: 2, maxFailedIndexes: 1 }),
      ['spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified'],
    ],
    [
      'spec.maxFailedIndexes: must be less than or equal to completions',
      job({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 3 }),
      ['spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions'],
    ],
    [
      'spec.maxFailedIndexes: Required value: must be specified when completions is above 100000',
      job({ completionMode: 'Indexed', completions: 100001, parallelism: 1, backoffLimitPerIndex: 1 }),
      ['spec.maxFailedIndexes: Required value: must be specified when completions is above 100000'],
    ],
    [
      'spec.parallelism: must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index',
      job({
        completionMode: 'Indexed',
        completions: 100001,
        parallelism: 10001,
        backoffLimitPerIndex: 1,
        maxFailedIndexes: 1,
      }),
      [
        'spec.parallelism: Invalid value: 10001: must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index',
      ],
    ],
    [
      'spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
      never({
        completionMode: 'Indexed',
        completions: 2,
        ...rule({ ...exitCodes('In', [1]), action: 'FailIndex' }),
      }),
      [
        'spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
      ],
    ],
    [
      'spec.managedBy: must be a domain-prefixed path',
      job({ managedBy: 'invalid custom controller name' }),
      [
        'spec.managedBy: Invalid value: "invalid custom controller name": must be a domain-prefixed path (such as "acme.io/foo")',
      ],
    ],
    [
      'spec.managedBy: Too long',
      job({ managedBy: `example.com/${'a'.repeat(60)}` }),
      ['spec.managedBy: Too long: may not be more than 63 bytes'],
    ],
    [
      'spec.successPolicy: requires indexed completion mode',
      job({ successPolicy: { rules: [{ succeededCount: 1 }] } }),
      [
        'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode',
      ],
    ],
    [
      'spec.successPolicy.rules: Required value',
      job({ completionMode: 'Indexed', completions: 10, successPolicy: { rules: [] } }),
      [
        'spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified',
      ],
    ],
    [
      'spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified',
      job({ completionMode: 'Indexed', completions: 10, successPolicy: { rules: [{}] } }),
      [
        'spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified',
      ],
    ],
    [
      'spec.successPolicy.rules[0].succeededIndexes: error parsing succeededIndexes: non-increasing order',
      job({
        completionMode: 'Indexed',
        completions: 10,
        successPolicy: { rules: [{ succeededIndexes: '3,2' }] },
      }),
      [
        'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "3,2": error parsing succeededIndexes: non-increasing order, previous: 3, current: 2',
      ],
    ],
    [
      'spec.successPolicy.rules[0].succeededIndexes: too large index',
      job({
        completionMode: 'Indexed',
        completions: 10,
        successPolicy: { rules: [{ succeededIndexes: '0-10' }] },
      }),
      [
        'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0-10": error parsing succeededIndexes: too large index: "10"',
      ],
    ],
    [
      'spec.successPolicy.rules[0].succeededCount: must be less than or equal to the number of indexes',
      job({
        completionMode: 'Indexed',
        completions: 10,
        successPolicy: { rules: [{ succeededIndexes: '0-2', succeededCount: 4 }] },
      }),
      [
        'spec.successPolicy.rules[0].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number of indexes in the specified succeededIndexes field)',
      ],
    ],
    [
      'metadata.name: will not able to create pod with invalid DNS label',
      {
        ...job({ completionMode: 'Indexed', completions: 10 }),
        metadata: { name: 'a'.repeat(62), namespace: 'default' },
      },
      [
        `metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`,
      ],
    ],
  ])('%s', (_name, body, expected) => {
    const errs = createErrors(body).filter(
      // the long-name case also trips the generated job-name labels: only the rule under test matters here
      (e) => !e.startsWith('spec.template.metadata.labels[') && !e.startsWith('spec.selector:'),
    );
    expect(errs).toEqual(expected);
  });

  it('a generated selector needs the generated labels on the template (ValidateHasLabel)', () => {
    const j = job();
    delete j.spec.template.metadata.labels['job-name'];
    j.spec.template.metadata.labels['controller-uid'] = 'other';
    expect(createErrors(j)).toEqual([
      `spec.template.metadata.labels[controller-uid]: Invalid value: {"controller-uid":"other","batch.kubernetes.io/controller-uid":"${UID}","batch.kubernetes.io/job-name":"myjob"}: must be '${UID}'`,
      "spec.template.metadata.labels[job-name]: Required value: must be 'myjob'",
      'spec.template.metadata.labels: Invalid value: {"controller-uid":"other","batch.kubernetes.io/controller-uid":"00000000-0000-0000-0000-000000000001","batch.kubernetes.io/job-name":"myjob"}: `selector` does not match template `labels`',
    ]);
  });
});

describe('TestValidateJobUpdate (upstream cases)', () => {
  it('parallelism, activeDeadlineSeconds and ttlSecondsAfterFinished are mutable', () => {
    const old = job({ parallelism: 5, activeDeadlineSeconds: 2, ttlSecondsAfterFinished: 1 });
    expect(
      updateErrors(old, (j) => {
        j.spec.parallelism = 2;
        j.spec.activeDeadlineSeconds = 3;
        j.spec.ttlSecondsAfterFinished = 2;
      }),
    ).toEqual([]);
  });

  it.each<[string, any, (j: any) => void, string[]]>([
    [
      'immutable completions',
      job(),
      (j) => (j.spec.completions = 2),
      ['spec.completions: Invalid value: 2: field is immutable'],
    ],
    [
      'immutable selector',
      job(),
      (j) => (j.spec.selector.matchLabels.foo = 'bar'),
      // ValidateJob runs before ValidateJobUpdate in the strategy: the changed selector also fails its create rules
      [
        `spec.selector: Invalid value: {"matchLabels":{"controller-uid":"${UID}","job-name":"myjob","batch.kubernetes.io/controller-uid":"${UID}","batch.kubernetes.io/job-name":"myjob","foo":"bar"}}: \`selector\` not auto-generated`,
        `spec.template.metadata.labels: Invalid value: {"controller-uid":"${UID}","job-name":"myjob","batch.kubernetes.io/controller-uid":"${UID}","batch.kubernetes.io/job-name":"myjob"}: \`selector\` does not match template \`labels\``,
        `spec.selector: Invalid value: {"matchLabels":{"controller-uid":"${UID}","job-name":"myjob","batch.kubernetes.io/controller-uid":"${UID}","batch.kubernetes.io/job-name":"myjob","foo":"bar"}}: field is immutable`,
      ],
    ],
    [
      'immutable completion mode',
      job({ completionMode: 'Indexed', completions: 2 }),
      (j) => (j.spec.completionMode = 'NonIndexed'),
      ['spec.completionMode: Invalid value: "NonIndexed": field is immutable'],
    ],
    [
      'immutable backoffLimitPerIndex',
      job({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1 }),
      (j) => (j.spec.backoffLimitPerIndex = 2),
      ['spec.backoffLimitPerIndex: Invalid value: 2: field is immutable'],
    ],
    [
      'immutable managedBy',
      job({ managedBy: 'example.com/foo' }),
      (j) => (j.spec.managedBy = 'example.com/bar'),
      ['spec.managedBy: Invalid value: "example.com/bar": field is immutable'],
    ],
    [
      'elastic Indexed job: completions only in tandem with parallelism',
      job({ completionMode: 'Indexed', completions: 2, parallelism: 2 }),
      (j) => (j.spec.completions = 3),
      ['spec.completions: Invalid value: 3: can only be modified in tandem with spec.parallelism'],
    ],
  ])('%s', (_name, old, mutate, expected) => {
    expect(updateErrors(old, mutate)).toEqual(expected);
  });

  it('elastic Indexed job: completions and parallelism scale together, also from unequal values', () => {
    const old = job({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
    expect(
      updateErrors(old, (j) => {
        j.spec.completions = 3;
        j.spec.parallelism = 3;
      }),
    ).toEqual([]);
  });

  it('the pod template is immutable, except scheduling directives of a suspended job that never started', () => {
    const changeTemplate = (j: any) => {
      j.spec.template.spec.nodeSelector = { disk: 'ssd' };
      j.spec.template.spec.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
          },
        },
      };
      j.spec.template.metadata.annotations = { note: 'x' };
    };
    expect(updateErrors(job({ suspend: true }), changeTemplate)).toEqual([]);
    expect(updateErrors(job(), changeTemplate)[0]).toMatch(
      /^spec\.template: Invalid value: .*: field is immutable$/,
    );
    // only node affinity is a scheduling directive: pod affinity stays immutable
    expect(
      updateErrors(job({ suspend: true }), (j) => {
        j.spec.template.spec.affinity = {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'zone' },
            ],
          },
        };
      })[0],
    ).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
  });
});

describe('TestValidateCronJob (upstream cases)', () => {
  const cronJob = (spec: Record<string, unknown> = {}, name = 'mycronjob'): any => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '* * * * ?',
      concurrencyPolicy: 'Allow',
      jobTemplate: {
        spec: {
          template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'abc', image: 'image' }] } },
        },
      },
      ...spec,
    },
  });

  it.each<[string, any, string[]]>([
    ['valid', cronJob(), []],
    [
      'spec.schedule: Invalid value',
      cronJob({ schedule: 'error' }),
      ['spec.schedule: Invalid value: "error": expected exactly 5 fields, found 1: [error]'],
    ],
    [
      'spec.startingDeadlineSeconds:must be greater than or equal to 0',
      cronJob({ startingDeadlineSeconds: -1 }),
      ['spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'spec.successfulJobsHistoryLimit: must be greater than or equal to 0',
      cronJob({ successfulJobsHistoryLimit: -1 }),
      ['spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'spec.concurrencyPolicy: Unsupported value',
      cronJob({ concurrencyPolicy: 'Sometimes' }),
      [
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      ],
    ],
    [
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value',
      cronJob({
        jobTemplate: {
          spec: {
            template: { spec: { restartPolicy: 'Always', containers: [{ name: 'abc', image: 'image' }] } },
          },
        },
      }),
      [
        'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
      ],
    ],
    [
      'spec.jobTemplate.spec.manualSelector: Unsupported value',
      cronJob({
        jobTemplate: {
          spec: {
            manualSelector: true,
            template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'abc', image: 'image' }] } },
          },
        },
      }),
      ['spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"'],
    ],
    [
      'spec.timeZone: timeZone must be an explicit time zone',
      cronJob({ timeZone: 'Local' }),
      [
        'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ],
    ],
    [
      'metadata.name: must be no more than 52 characters',
      cronJob({}, 'a'.repeat(53)),
      [`metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`],
    ],
  ])('%s', (_name, body, expected) => {
    expect(createErrors(body)).toEqual(expected);
  });

  it('a name over 52 characters is not re-checked on update (old cronjobs stay editable)', () => {
    const long = cronJob({}, 'a'.repeat(53));
    expect(updateErrors(long, (c) => (c.spec.suspend = true))).toEqual([]);
  });
});
