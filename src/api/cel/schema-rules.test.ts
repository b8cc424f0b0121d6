// Cases after upstream's apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go.
import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import { validateSchemaRules, type RuleSchema } from './index.js';

const crontab: RuleSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        {
          rule: 'self.minReplicas <= self.replicas',
          message: 'replicas should be greater than or equal to minReplicas',
        },
        {
          rule: 'self.replicas <= self.maxReplicas',
          messageExpression: "'replicas must be at most ' + string(self.maxReplicas)",
        },
        {
          rule: 'self.replicas >= 0',
          fieldPath: '.replicas',
          reason: 'FieldValueForbidden',
          message: 'negative',
        },
      ],
      properties: {
        replicas: { type: 'integer' },
        minReplicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        ratio: { type: 'number', 'x-kubernetes-validations': [{ rule: 'self < 1.5' }] },
        name: {
          type: 'string',
          'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }],
        },
        tags: {
          type: 'object',
          additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 5' }] },
        },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, port: { type: 'integer' } },
            'x-kubernetes-validations': [{ rule: 'self.port >= oldSelf.port', message: 'ports only grow' }],
          },
        },
      },
    },
  },
  'x-kubernetes-validations': [
    { rule: "self.metadata.name.startsWith('ct-')", message: 'name must start with ct-' },
  ],
};

const obj = (spec: Record<string, unknown>, name = 'ct-a') => ({
  apiVersion: 'stable.example.com/v1',
  kind: 'CronTab',
  metadata: { name, namespace: 'default', labels: { a: 'b' } },
  spec,
});
const strings = (errs: ReturnType<typeof validateSchemaRules>) => errs.map(fieldErrorString);

describe('validateSchemaRules', () => {
  it('passes a valid object', () => {
    expect(
      validateSchemaRules(crontab, obj({ replicas: 2, minReplicas: 1, maxReplicas: 3, ratio: 1.2 })),
    ).toEqual([]);
  });
  it('reports message, messageExpression, fieldPath and reason', () => {
    expect(
      strings(
        validateSchemaRules(crontab, obj({ replicas: -1, minReplicas: 1, maxReplicas: -2 }), undefined),
      ),
    ).toEqual([
      'spec: Invalid value: "object": replicas should be greater than or equal to minReplicas',
      'spec: Invalid value: "object": replicas must be at most -2',
      'spec.replicas: Forbidden: negative',
    ]);
  });
  it('checks the root with metadata.name visible, number fields as double, map values by key', () => {
    expect(
      strings(
        validateSchemaRules(
          crontab,
          obj({ replicas: 1, minReplicas: 1, maxReplicas: 1, ratio: 2, tags: { x: 'toolong' } }, 'bad'),
        ),
      ),
    ).toEqual([
      ': Invalid value: "object": name must start with ct-',
      'spec.ratio: Invalid value: "number": failed rule: self < 1.5',
      'spec.tags[x]: Invalid value: "string": failed rule: self.size() < 5',
    ]);
  });
  it('runs transition rules only with an old value, correlating list-map items by key', () => {
    const base = { replicas: 1, minReplicas: 1, maxReplicas: 1 };
    const created = obj({ ...base, name: 'x', ports: [{ name: 'http', port: 80 }] });
    expect(validateSchemaRules(crontab, created)).toEqual([]);
    const updated = obj({
      ...base,
      name: 'y',
      ports: [
        { name: 'https', port: 1 },
        { name: 'http', port: 79 },
      ],
    });
    expect(strings(validateSchemaRules(crontab, updated, created))).toEqual([
      'spec.name: Invalid value: "string": Value is immutable',
      'spec.ports[1]: Invalid value: "object": ports only grow',
    ]);
  });
  it('reports evaluation and compile errors on the rule', () => {
    const s: RuleSchema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          'x-kubernetes-validations': [{ rule: 'self.missing == 1' }, { rule: 'self.x ==' }],
        },
      },
    };
    expect(strings(validateSchemaRules(s, { spec: { x: 1 } }))).toEqual([
      'spec: Invalid value: "object": No such key: missing evaluating rule: self.missing == 1',
      expect.stringMatching(/^spec: Invalid value: "object": rule compile error: ERROR: <input>:1:10: /),
    ]);
  });
  it('stops at the cost limit with upstream message', () => {
    const s: RuleSchema = {
      type: 'object',
      properties: {
        l: {
          type: 'array',
          items: { type: 'integer' },
          'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }],
        },
      },
    };
    const errs = strings(validateSchemaRules(s, { l: Array.from({ length: 300 }, (_, i) => i) }));
    expect(errs).toEqual([
      `l: Invalid value: "array": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.all(a, self.all(b, self.all(c, a + b + c >= 0)))`,
    ]);
  });
});
