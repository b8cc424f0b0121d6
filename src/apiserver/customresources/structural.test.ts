import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../../api/errors.js';
import { applyDefaults, prune, validateValue, type Schema } from './structural.js';

const schema: Schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['host'],
      properties: {
        host: { type: 'string', maxLength: 10, pattern: '^[a-z.]+$' },
        replicas: { type: 'integer', minimum: 0, default: 1 },
        mode: { type: 'string', enum: ['Fast', 'Slow'], default: 'Fast' },
        port: { 'x-kubernetes-int-or-string': true },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        rules: {
          type: 'array',
          maxItems: 2,
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, weight: { type: 'integer', default: 1 } },
          },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      },
    },
  },
};

const errs = (obj: unknown): string[] => validateValue(obj, schema, '').map(fieldErrorString);

describe('prune', () => {
  it('drops fields the schema does not name, keeps preserved and embedded ones, and says which', () => {
    const obj = {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a', bogus: 1 },
      spec: {
        host: 'h',
        unknown: 1,
        extra: { anything: { goes: true } },
        labels: { a: 'b' },
        template: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', junk: 1 },
          spec: { a: 'x', b: 'y' },
        },
        rules: [{ name: 'r', zap: 2 }],
      },
      top: 1,
    };
    expect(prune(obj, schema).sort()).toEqual(
      [
        'metadata.bogus',
        'spec.rules[0].zap',
        'spec.template.metadata.junk',
        'spec.template.spec.b',
        'spec.unknown',
        'top',
      ].sort(),
    );
    expect(obj).toEqual({
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a' },
      spec: {
        host: 'h',
        extra: { anything: { goes: true } },
        labels: { a: 'b' },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x' } },
        rules: [{ name: 'r' }],
      },
    });
  });
});

describe('applyDefaults', () => {
  it('fills missing fields and non-nullable nulls, in list items too', () => {
    const obj = { spec: { host: 'h', mode: null, rules: [{ name: 'r' }, { name: 's', weight: 3 }] } };
    applyDefaults(obj, schema);
    expect(obj.spec).toEqual({
      host: 'h',
      replicas: 1,
      mode: 'Fast',
      rules: [
        { name: 'r', weight: 1 },
        { name: 's', weight: 3 },
      ],
    });
  });
});

describe('validateValue', () => {
  it('accepts a valid object', () => {
    expect(
      errs({ spec: { host: 'a.b', replicas: 2, port: 'http', template: { apiVersion: 'v1', kind: 'Pod' } } }),
    ).toEqual([]);
  });

  it("reports upstream's messages with field paths", () => {
    expect(
      errs({
        spec: {
          host: 'UPPER-and-much-too-long',
          replicas: -1,
          mode: 'Medium',
          port: 1.5,
          labels: { a: 1 },
          template: { spec: {} },
          rules: [{ name: 'a' }, { name: 'a' }, { name: 'c' }],
        },
      }),
    ).toEqual([
      'spec.host: Too long: may not be more than 10 bytes',
      'spec.host: Invalid value: "UPPER-and-much-too-long": spec.host in body should match \'^[a-z.]+$\'',
      'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
      'spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"',
      'spec.port: Invalid value: 1.5: spec.port in body must be of type integer,string: "number"',
      'spec.labels.a: Invalid value: 1: spec.labels.a in body must be of type string: "integer"',
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Required value: must not be empty',
      'spec.rules: Too many: 3: must have at most 2 items',
      'spec.rules[1]: Duplicate value: {"name":"a"}',
    ]);
  });

  it('requires required fields and checks types', () => {
    expect(errs({ spec: { replicas: 'two' } })).toEqual([
      'spec.host: Required value',
      'spec.replicas: Invalid value: "two": spec.replicas in body must be of type integer: "string"',
    ]);
  });
});
