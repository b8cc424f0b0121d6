// CustomResourceDefinition validation against upstream's rules and messages (apiextensions-apiserver
// pkg/apis/apiextensions/validation, v0.33): the CronTab CRD of the docs' "Extend the Kubernetes API with
// CustomResourceDefinitions" page, then variants upstream refuses, each with upstream's field path and message.
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import { validateCrd, validateCrdUpdate } from './apiextensions.js';

const crontab = (): CustomResourceDefinition => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
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
            properties: {
              spec: {
                type: 'object',
                properties: {
                  cronSpec: { type: 'string' },
                  image: { type: 'string' },
                  replicas: { type: 'integer' },
                },
              },
            },
          },
        },
      },
    ],
    scope: 'Namespaced',
    names: {
      plural: 'crontabs',
      singular: 'crontab',
      kind: 'CronTab',
      listKind: 'CronTabList',
      shortNames: ['ct'],
    },
    conversion: { strategy: 'None' },
  },
  status: { storedVersions: ['v1'], acceptedNames: { plural: '', kind: '' } },
});

type Schema = Record<string, any>;
const schemaOf = (crd: CustomResourceDefinition, i = 0): Schema =>
  crd.spec.versions[i].schema!.openAPIV3Schema as Schema;
const errors = (crd: CustomResourceDefinition): string[] => validateCrd(crd).map(fieldErrorString);

function variant(change: (crd: CustomResourceDefinition) => void): string[] {
  const crd = crontab();
  change(crd);
  return errors(crd);
}

describe('CustomResourceDefinition validation', () => {
  it('accepts the docs CronTab CRD, also with a status subresource, defaults, a map list and CEL rules', () => {
    expect(errors(crontab())).toEqual([]);
    expect(
      variant((crd) => {
        crd.spec.versions[0].subresources = {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
        };
        const spec = schemaOf(crd).properties.spec;
        spec.properties.replicas.default = 1;
        spec.properties.ports = {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, port: { type: 'integer' } },
          },
        };
        spec.properties.size = {
          'x-kubernetes-int-or-string': true,
          anyOf: [{ type: 'integer' }, { type: 'string' }],
        };
        spec['x-kubernetes-validations'] = [{ rule: 'self.replicas <= 10', message: 'at most 10' }];
        crd.spec.versions[0].additionalPrinterColumns = [
          { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
        ];
      }),
    ).toEqual([]);
  });

  it('refuses names and versions as upstream does', () => {
    expect(variant((crd) => (crd.metadata!.name = 'crontab.stable.example.com'))).toEqual([
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
    ]);
    expect(
      variant((crd) => {
        crd.spec.group = 'example';
        crd.metadata!.name = 'crontabs.example';
      }),
    ).toEqual(['spec.group: Invalid value: "example": should be a domain with at least one dot']);
    expect(variant((crd) => crd.spec.versions.push({ ...crd.spec.versions[0], name: 'v2' }))).toContainEqual(
      expect.stringMatching(
        /^spec\.versions: Invalid value: .*: must have exactly one version marked as storage version$/,
      ),
    );
    expect(variant((crd) => (crd.spec.names.kind = 'Cron_Tab'))).toEqual([
      "spec.names.kind: Invalid value: \"Cron_Tab\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(variant((crd) => delete crd.spec.versions[0].schema)).toEqual([
      'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
    ]);
    expect(variant((crd) => (crd.spec.preserveUnknownFields = true))).toEqual([
      'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ]);
  });

  it('reports schema errors at spec.validation when every version shares the schema, per version otherwise', () => {
    expect(variant((crd) => delete schemaOf(crd).properties.spec.properties.image.type)).toEqual([
      'spec.validation.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields',
    ]);
    expect(
      variant((crd) => {
        crd.spec.versions[0].storage = false;
        crd.spec.versions.push(structuredClone({ ...crd.spec.versions[0], name: 'v2', storage: true }));
        delete schemaOf(crd, 1).properties.spec.type;
      }),
    ).toEqual([
      'spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
      'status.storedVersions: Invalid value: ["v1"]: must have the storage version v2',
    ]);
  });

  it('holds schemas to the structural rules', () => {
    const root = 'spec.validation.openAPIV3Schema';
    expect(variant((crd) => (schemaOf(crd).type = 'array'))).toEqual([
      `${root}.items: Required value: must be specified`,
      `${root}.type: Invalid value: "array": must be object at the root`,
    ]);
    expect(
      variant((crd) => {
        schemaOf(crd).properties.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
      }),
    ).toEqual([
      `${root}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ]);
    expect(
      variant((crd) => {
        schemaOf(crd).properties.spec.anyOf = [
          { type: 'object', properties: { schedule: { description: 'x' } } },
        ];
      }),
    ).toEqual([
      `${root}.properties[spec].anyOf[0].properties[schedule].description: Forbidden: must be empty to be structural`,
      `${root}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural`,
    ]);
    expect(variant((crd) => (schemaOf(crd).anyOf = [{ properties: { other: {} } }]))).toEqual([
      `${root}.properties[other]: Required value: because it is defined in ${root}.anyOf[0].properties[other]`,
    ]);
    expect(variant((crd) => (schemaOf(crd).properties.spec.properties.image.pattern = '(unclosed'))).toEqual([
      expect.stringMatching(
        /properties\[image\]\.pattern: Invalid value: "\(unclosed": must be a valid regular expression, but isn't: /,
      ),
    ]);
  });

  it('checks the x-kubernetes-* extensions, defaults and uniqueItems as upstream', () => {
    const spec = 'spec.validation.openAPIV3Schema.properties[spec]';
    const tags = (extra: Schema) =>
      variant((crd) => Object.assign(schemaOf(crd).properties.spec.properties, { tags: extra }));
    expect(tags({ type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'map' })).toEqual([
      `${spec}.properties[tags].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
      `${spec}.properties[tags].items.type: Invalid value: "string": must be object if parent array's x-kubernetes-list-type is map`,
    ]);
    expect(tags({ type: 'object', 'x-kubernetes-list-type': 'set' })).toEqual([
      `${spec}.properties[tags].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified`,
    ]);
    expect(tags({ type: 'array', items: { type: 'string' }, uniqueItems: true })).toEqual([
      `${spec}.properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
    ]);
    expect(
      tags({
        type: 'object',
        properties: { a: { type: 'string' } },
        additionalProperties: { type: 'string' },
      }),
    ).toEqual([
      `${spec}.properties[tags].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ]);
    expect(tags({ type: 'string', 'x-kubernetes-preserve-unknown-fields': false })).toEqual([
      `${spec}.properties[tags].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
    ]);
    expect(tags({ type: 'string', 'x-kubernetes-validations': [{ rule: ' ' }] })).toEqual([
      `${spec}.properties[tags].x-kubernetes-validations[0].rule: Required value: rule is not specified`,
    ]);
    expect(
      variant((crd) => (schemaOf(crd).properties.metadata = { type: 'object', default: { name: 'x' } })),
    ).toEqual([
      'spec.validation.openAPIV3Schema.properties[metadata].default: Forbidden: must not be set in top-level metadata',
    ]);
    expect(tags({ type: 'null' })).toEqual([
      `${spec}.properties[tags].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${spec}.properties[tags].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
    ]);
  });

  it('checks subresources, printer columns and conversion', () => {
    expect(
      variant((crd) => {
        crd.spec.versions[0].subresources = {
          scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: '.spec.replicas' },
        };
      }),
    ).toEqual([
      'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
      'spec.subresources.scale.statusReplicasPath: Invalid value: ".spec.replicas": should be a json path under .status',
    ]);
    expect(
      variant(
        (crd) =>
          (crd.spec.versions[0].additionalPrinterColumns = [{ name: 'Spec', type: 'text', jsonPath: '' }]),
      ),
    ).toEqual([
      'spec.additionalPrinterColumns[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].JSONPath: Required value',
    ]);
    expect(variant((crd) => (crd.spec.conversion = { strategy: 'Webhook' }))).toEqual([
      'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
      'spec.conversion.conversionReviewVersions: Required value',
    ]);
    expect(
      variant((crd) => {
        schemaOf(crd).type = 'object';
        schemaOf(crd).description = 'CronTab';
        schemaOf(crd).nullable = true;
        crd.spec.versions[0].subresources = { status: {} };
      }),
    ).toEqual([
      expect.stringMatching(
        /^spec\.validation\.openAPIV3Schema: Invalid value: .*: only \[Description Type Format Title .* XValidations\] fields are allowed at the root of the schema if the status subresource is enabled$/,
      ),
      'spec.validation.openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root',
    ]);
  });

  it('wants approval for protected groups and keeps group, plural and (once established) kind and scope', () => {
    expect(
      variant((crd) => {
        crd.spec.group = 'stable.k8s.io';
        crd.metadata!.name = 'crontabs.stable.k8s.io';
      }),
    ).toEqual([
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ]);
    const old = crontab();
    old.status = { ...old.status!, conditions: [{ type: 'Established', status: 'True' }] };
    const next = structuredClone(old);
    next.spec.scope = 'Cluster';
    next.spec.names.kind = 'Cron';
    next.spec.group = 'other.example.com';
    expect(validateCrdUpdate(next, old).map(fieldErrorString)).toEqual(
      expect.arrayContaining([
        'spec.scope: Invalid value: "Cluster": field is immutable',
        'spec.names.kind: Invalid value: "Cron": field is immutable',
        'spec.group: Invalid value: "other.example.com": field is immutable',
      ]),
    );
    const removed = structuredClone(old);
    removed.status!.storedVersions = ['v1beta1', 'v1'];
    expect(validateCrdUpdate(removed, old).map(fieldErrorString)).toEqual([
      'status.storedVersions[0]: Invalid value: "v1beta1": missing from spec.versions; v1beta1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1beta1 and removes v1beta1 from status.storedVersions',
    ]);
  });
});
