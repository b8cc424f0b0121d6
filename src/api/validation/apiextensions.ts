// apiextensions.k8s.io/v1 CustomResourceDefinition validation, as upstream's apiextensions-apiserver
// (pkg/apis/apiextensions/validation/validation.go, v0.33): upstream validates the internal form of a CRD, into
// which a v1 object converts with per-version schemas, subresources, printer columns and selectable fields that are
// the same in every version moved to the top level (spec.validation, spec.subresources, …) — so a one-version CRD's
// schema errors read `spec.validation.openAPIV3Schema…`, as users of upstream see them. The schema rules
// (structural schemas, x-kubernetes-* extensions) are in ./crd-schema.ts.
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceSubresources,
  WebhookClientConfig,
} from 'kubernetes-types/apiextensions/v1.js';
import { fe, type FieldError } from '../errors.js';
import { validateClientConfig } from './admissionregistration.js';
import { validateCrdSchema, type Schema } from './crd-schema.js';
import {
  deepEqual,
  immutable,
  nameIsDNSSubdomain,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta.js';
import { isDNS1035Label, isDNS1123Subdomain } from './names.js';

const SCOPES = ['Cluster', 'Namespaced'];
const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const CONVERSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const MAX_SELECTABLE_FIELDS = 8;
const API_APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

interface Validation {
  openAPIV3Schema?: Schema;
}

interface SelectableField {
  jsonPath?: string;
}

/** a version in upstream's internal form */
interface InternalVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: Validation;
  subresources?: CustomResourceSubresources;
  additionalPrinterColumns?: CustomResourceColumnDefinition[];
  selectableFields?: SelectableField[];
}

/** the spec in upstream's internal form (Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_…) */
interface InternalSpec {
  group: string;
  names: CustomResourceDefinitionNames;
  scope: string;
  versions: InternalVersion[];
  validation?: Validation;
  subresources?: CustomResourceSubresources;
  additionalPrinterColumns?: CustomResourceColumnDefinition[];
  selectableFields?: SelectableField[];
  conversion?: {
    strategy: string;
    webhookClientConfig?: WebhookClientConfig;
    conversionReviewVersions?: string[];
  };
  preserveUnknownFields: boolean;
}

const PER_VERSION = ['schema', 'subresources', 'additionalPrinterColumns', 'selectableFields'] as const;

function toInternal(crd: CustomResourceDefinition): InternalSpec {
  const spec = (crd.spec ?? {}) as Partial<CustomResourceDefinition['spec']>;
  const versions: InternalVersion[] = (spec.versions ?? []).map((v) => ({ ...(v as InternalVersion) }));
  const out: InternalSpec = {
    group: spec.group ?? '',
    names: spec.names ?? ({} as CustomResourceDefinitionNames),
    scope: spec.scope ?? '',
    versions,
    preserveUnknownFields: spec.preserveUnknownFields === true,
  };
  if (spec.conversion) {
    out.conversion = {
      strategy: spec.conversion.strategy ?? '',
      ...(spec.conversion.webhook?.clientConfig
        ? { webhookClientConfig: spec.conversion.webhook.clientConfig }
        : {}),
      ...(spec.conversion.webhook?.conversionReviewVersions
        ? { conversionReviewVersions: spec.conversion.webhook.conversionReviewVersions }
        : {}),
    };
  }
  if (versions.length === 0) return out;
  // what every version has alike moves to the top level (an empty list counts as unset, as Go's nil slice)
  const norm = (v: unknown): unknown => (Array.isArray(v) && v.length === 0 ? undefined : v);
  for (const field of PER_VERSION) {
    const first = norm(versions[0][field]);
    if (!versions.every((v) => deepEqual(norm(v[field]), first))) continue;
    if (first !== undefined)
      (out as unknown as Record<string, unknown>)[field === 'schema' ? 'validation' : field] = first;
    for (const v of versions) delete v[field];
  }
  return out;
}

function crdName(crd: CustomResourceDefinition): NameValidator {
  return (name, prefix) => {
    const errs = nameIsDNSSubdomain(name, prefix);
    if (name !== `${crd.spec?.names?.plural ?? ''}.${crd.spec?.group ?? ''}`)
      errs.push('must be spec.names.plural+"."+spec.group');
    return errs;
  };
}

/** ValidateCustomResourceDefinitionNames (spec.names and status.acceptedNames) */
function validateNames(n: CustomResourceDefinitionNames, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const dns1035 = (value: string | undefined, field: string, detail = (m: string) => m): void => {
    if (!value) return;
    const problems = isDNS1035Label(field === 'kind' || field === 'listKind' ? value.toLowerCase() : value);
    if (problems.length) errs.push(fe.invalid(`${path}.${field}`, value, detail(problems.join(','))));
  };
  const mixed = (m: string) => `may have mixed case, but should otherwise match: ${m}`;
  dns1035(n.plural, 'plural');
  dns1035(n.singular, 'singular');
  dns1035(n.kind, 'kind', mixed);
  dns1035(n.listKind, 'listKind', mixed);
  (n.shortNames ?? []).forEach((s, i) => {
    const problems = isDNS1035Label(s);
    if (problems.length) errs.push(fe.invalid(`${path}.shortNames[${i}]`, s, problems.join(',')));
  });
  if (n.kind && n.kind === n.listKind)
    errs.push(fe.invalid(`${path}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.categories ?? []).forEach((c, i) => {
    const problems = isDNS1035Label(c);
    if (problems.length) errs.push(fe.invalid(`${path}.categories[${i}]`, c, problems.join(',')));
  });
  return errs;
}

/** validateSimpleJSONPath */
function validateSimpleJsonPath(s: string, path: string): FieldError[] {
  if (s.length === 0) return [fe.invalid(path, s, 'must not be empty')];
  if (s[0] !== '.') return [fe.invalid(path, s, 'must be a simple json path starting with .')];
  return [];
}

/** ValidateCustomResourceColumnDefinition */
function validateColumn(col: CustomResourceColumnDefinition, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!col.name) errs.push(fe.required(`${path}.name`));
  if (!col.type) errs.push(fe.required(`${path}.type`, `must be one of ${COLUMN_TYPES.join(',')}`));
  else if (!COLUMN_TYPES.includes(col.type))
    errs.push(fe.invalid(`${path}.type`, col.type, `must be one of ${COLUMN_TYPES.join(',')}`));
  if (col.format && !COLUMN_FORMATS.includes(col.format))
    errs.push(fe.invalid(`${path}.format`, col.format, `must be one of ${COLUMN_FORMATS.join(',')}`));
  if (!col.jsonPath) errs.push(fe.required(`${path}.JSONPath`));
  else errs.push(...validateSimpleJsonPath(col.jsonPath, `${path}.JSONPath`));
  return errs;
}

/** ValidateCustomResourceDefinitionSubresources */
function validateSubresources(sub: CustomResourceSubresources | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const scale = sub?.scale;
  if (!scale) return errs;
  const under = (value: string | undefined, field: string, prefixes: string[], detail: string): void => {
    const at = `${path}.scale.${field}`;
    if (!value) {
      errs.push(fe.required(at));
      return;
    }
    const problems = validateSimpleJsonPath(value, at);
    if (problems.length) errs.push(...problems);
    else if (!prefixes.some((p) => value.startsWith(p))) errs.push(fe.invalid(at, value, detail));
  };
  under(scale.specReplicasPath, 'specReplicasPath', ['.spec.'], 'should be a json path under .spec');
  under(scale.statusReplicasPath, 'statusReplicasPath', ['.status.'], 'should be a json path under .status');
  if (scale.labelSelectorPath)
    under(
      scale.labelSelectorPath,
      'labelSelectorPath',
      ['.spec.', '.status.'],
      'should be a json path under either .spec or .status',
    );
  return errs;
}

/** ValidateCustomResourceSelectableFields: `.a.b` paths to a string, boolean or integer field outside metadata */
function validateSelectableFields(
  fields: SelectableField[],
  schema: Schema | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Set<string>();
  fields.forEach((f, i) => {
    const at = `${path}[${i}].jsonPath`;
    if (!f.jsonPath) {
      errs.push(fe.required(at));
      return;
    }
    const parts = /^(\.[A-Za-z_][A-Za-z0-9_-]*)+$/.test(f.jsonPath)
      ? f.jsonPath.slice(1).split('.')
      : undefined;
    let node: Schema | undefined = schema;
    for (const p of parts ?? []) {
      const properties = node?.['properties'] as Record<string, Schema> | undefined;
      node = properties?.[p];
    }
    if (!parts || !node) {
      errs.push(fe.invalid(at, f.jsonPath, 'is an invalid path: does not refer to a valid field'));
      return;
    }
    if (parts[0] === 'metadata')
      errs.push(fe.invalid(at, f.jsonPath, 'must not point to fields in metadata'));
    if (!['string', 'boolean', 'integer'].includes(String(node['type'])))
      errs.push(
        fe.invalid(
          at,
          f.jsonPath,
          'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
        ),
      );
    if (unique.has(f.jsonPath)) errs.push(fe.duplicate(at, f.jsonPath));
    else unique.add(f.jsonPath);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS)
    errs.push({
      type: 'FieldValueTooMany',
      field: path,
      value: unique.size,
      detail: `must have at most ${MAX_SELECTABLE_FIELDS} items`,
    });
  return errs;
}

/** validateDeprecationWarning */
function deprecationWarningProblems(deprecated: boolean, warning: string | undefined): string[] {
  if (!deprecated && warning !== undefined) return ['can only be set for deprecated versions'];
  if (warning === undefined) return [];
  const out: string[] = [];
  if (warning.length > 256) out.push('must be <= 256 characters long');
  if (warning.length === 0) out.push('must not be an empty string');
  const bad = [...warning].findIndex((c) => /[\p{Cc}\p{Cn}\p{Co}\p{Cs}]/u.test(c));
  if (bad >= 0)
    out.push(`must only contain printable UTF-8 characters; non-printable character found at index ${bad}`);
  return out;
}

const hasStatus = (s: CustomResourceSubresources | undefined): boolean => !!s?.status;

function schemaHas(s: unknown, pred: (s: Schema) => boolean): boolean {
  if (typeof s !== 'object' || s === null) return false;
  if (Array.isArray(s)) return s.some((x) => schemaHas(x, pred));
  const node = s as Schema;
  if (pred(node)) return true;
  for (const k of ['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf', 'additionalItems'])
    if (schemaHas(node[k], pred)) return true;
  for (const k of ['properties', 'patternProperties', 'definitions', 'dependencies']) {
    const m = node[k];
    if (typeof m === 'object' && m !== null && Object.values(m).some((x) => schemaHas(x, pred))) return true;
  }
  return false;
}

function allSchemas(spec: InternalSpec): Schema[] {
  return [spec.validation, ...spec.versions.map((v) => v.schema)]
    .map((v) => v?.openAPIV3Schema)
    .filter((s): s is Schema => !!s);
}

/** validateCustomResourceDefinitionVersion */
function validateVersion(v: InternalVersion, path: string, statusEnabled: boolean): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of deprecationWarningProblems(v.deprecated === true, v.deprecationWarning))
    errs.push(fe.invalid(`${path}.deprecationWarning`, v.deprecationWarning, m));
  const schema = v.schema?.openAPIV3Schema;
  if (schema) errs.push(...validateCrdSchema(schema, statusEnabled, `${path}.schema`));
  errs.push(...validateSubresources(v.subresources, `${path}.subresources`));
  (v.additionalPrinterColumns ?? []).forEach((c, i) =>
    errs.push(...validateColumn(c, `${path}.additionalPrinterColumns[${i}]`)),
  );
  if (v.selectableFields?.length) {
    if (!schema)
      errs.push(
        fe.invalid(
          `${path}.selectableFields`,
          '',
          'selectableFields may only be set when version.schema.openAPIV3Schema is not included',
        ),
      );
    else errs.push(...validateSelectableFields(v.selectableFields, schema, `${path}.selectableFields`));
  }
  return errs;
}

/** validateCustomResourceConversion */
function validateConversion(
  c: InternalSpec['conversion'],
  path: string,
  requireRecognizedVersion: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!c) return errs;
  const strategies = ['None', 'Webhook'];
  if (!c.strategy) errs.push(fe.required(`${path}.strategy`));
  else if (!strategies.includes(c.strategy))
    errs.push(fe.notSupported(`${path}.strategy`, c.strategy, strategies));
  if (c.strategy === 'Webhook') {
    if (!c.webhookClientConfig)
      errs.push(fe.required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
    else errs.push(...validateClientConfig(c.webhookClientConfig, `${path}.webhookClientConfig`));
    const versions = c.conversionReviewVersions ?? [];
    const at = `${path}.conversionReviewVersions`;
    if (versions.length === 0) errs.push(fe.required(at));
    else {
      const seen = new Set<string>();
      let accepted = false;
      versions.forEach((v, i) => {
        if (seen.has(v)) {
          errs.push(fe.invalid(`${at}[${i}]`, v, 'duplicate version'));
          return;
        }
        seen.add(v);
        for (const m of isDNS1035Label(v)) errs.push(fe.invalid(`${at}[${i}]`, v, m));
        if (CONVERSION_REVIEW_VERSIONS.includes(v)) accepted = true;
      });
      if (requireRecognizedVersion && !accepted)
        errs.push(
          fe.invalid(at, versions, `must include at least one of ${CONVERSION_REVIEW_VERSIONS.join(', ')}`),
        );
    }
  } else {
    if (c.webhookClientConfig)
      errs.push(
        fe.forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook'),
      );
    if (c.conversionReviewVersions?.length)
      errs.push(
        fe.forbidden(
          `${path}.conversionReviewVersions`,
          'should not be set when strategy is not set to Webhook',
        ),
      );
  }
  return errs;
}

/** validateCustomResourceDefinitionSpec */
function validateSpec(spec: InternalSpec, requireRecognizedConversionReviewVersion: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.group) errs.push(fe.required('spec.group'));
  else {
    const problems = isDNS1123Subdomain(spec.group);
    if (problems.length) errs.push(fe.invalid('spec.group', spec.group, problems.join(',')));
    else if (spec.group.split('.').length < 2)
      errs.push(fe.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(fe.required('spec.scope'));
  else if (!SCOPES.includes(spec.scope)) errs.push(fe.notSupported('spec.scope', spec.scope, SCOPES));

  if (!spec.validation?.openAPIV3Schema) {
    spec.versions.forEach((v, i) => {
      if (!v.schema?.openAPIV3Schema)
        errs.push(fe.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    });
  }
  const schemas = allSchemas(spec);
  if (spec.preserveUnknownFields && schemas.some((s) => schemaHas(s, (n) => n['default'] !== undefined)))
    errs.push(
      fe.invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'),
    );

  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  spec.versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const problems = isDNS1035Label(v.name ?? '');
    if (problems.length) errs.push(fe.invalid(`spec.versions[${i}].name`, v.name ?? '', problems.join(',')));
    const sub = spec.subresources ?? v.subresources;
    errs.push(...validateVersion(v, `spec.versions[${i}]`, hasStatus(sub)));
  });
  if (!unique) errs.push(fe.invalid('spec.versions', spec.versions, 'must contain unique version names'));
  if (storage !== 1)
    errs.push(
      fe.invalid('spec.versions', spec.versions, 'must have exactly one version marked as storage version'),
    );

  if (!spec.names.plural) errs.push(fe.required('spec.names.plural'));
  if (!spec.names.singular) errs.push(fe.required('spec.names.singular'));
  if (!spec.names.kind) errs.push(fe.required('spec.names.kind'));
  if (!spec.names.listKind) errs.push(fe.required('spec.names.listKind'));
  errs.push(...validateNames(spec.names, 'spec.names'));

  const anyStatus = hasStatus(spec.subresources) || spec.versions.some((v) => hasStatus(v.subresources));
  if (spec.validation?.openAPIV3Schema)
    errs.push(...validateCrdSchema(spec.validation.openAPIV3Schema, anyStatus, 'spec.validation'));
  errs.push(...validateSubresources(spec.subresources, 'spec.subresources'));
  (spec.additionalPrinterColumns ?? []).forEach((c, i) =>
    errs.push(...validateColumn(c, `spec.additionalPrinterColumns[${i}]`)),
  );
  if (spec.selectableFields?.length) {
    if (!spec.validation)
      errs.push(
        fe.invalid(
          'spec.selectableFields',
          '',
          'selectableFields may only be set when validations.schema is included',
        ),
      );
    else
      errs.push(
        ...validateSelectableFields(
          spec.selectableFields,
          spec.validation.openAPIV3Schema,
          'spec.selectableFields',
        ),
      );
  }
  if (spec.conversion && spec.conversion.strategy !== 'None' && spec.preserveUnknownFields)
    errs.push(
      fe.invalid(
        'spec.conversion.strategy',
        spec.conversion.strategy,
        'must be None if spec.preserveUnknownFields is true',
      ),
    );
  errs.push(
    ...validateConversion(spec.conversion, 'spec.conversion', requireRecognizedConversionReviewVersion),
  );
  return errs;
}

/** ValidateCustomResourceDefinitionStoredVersions */
function validateStoredVersions(stored: string[], versions: InternalVersion[]): FieldError[] {
  if (stored.length === 0)
    return [fe.invalid('status.storedVersions', stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of versions) {
    const found = remaining.has(v.name);
    if (v.storage && !found)
      errs.push(fe.invalid('status.storedVersions', stored, `must have the storage version ${v.name}`));
    if (found) remaining.delete(v.name);
  }
  for (const [v, i] of remaining)
    errs.push(
      fe.invalid(
        `status.storedVersions[${i}]`,
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  return errs;
}

type ApprovalState = 'invalid' | 'approved' | 'bypassed' | 'missing';

/** apihelpers.GetAPIApprovalState */
function approvalState(annotations: Record<string, string> | undefined): [ApprovalState, string] {
  const a = annotations?.[API_APPROVAL_ANNOTATION] ?? '';
  if (!a)
    return [
      'missing',
      `protected groups must have approval annotation "${API_APPROVAL_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
    ];
  if (a.startsWith('unapproved')) return ['bypassed', `not approved: "${a}"`];
  try {
    const u = new URL(a);
    if (u.host && u.protocol) return ['approved', `approved in ${a}`];
  } catch {
    // not a URL: invalid below
  }
  return [
    'invalid',
    `protected groups must have approval annotation "${API_APPROVAL_ANNOTATION}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  ];
}

/** validateAPIApproval: groups under k8s.io and kubernetes.io need the api-approved.kubernetes.io annotation */
function validateApproval(crd: CustomResourceDefinition, old?: CustomResourceDefinition): FieldError[] {
  const group = crd.spec?.group ?? '';
  const isProtected = ['k8s.io', 'kubernetes.io'].some((g) => group === g || group.endsWith(`.${g}`));
  if (!isProtected) return [];
  const [state, reason] = approvalState(crd.metadata?.annotations);
  if (old && approvalState(old.metadata?.annotations)[0] === state) return [];
  const at = `metadata.annotations[${API_APPROVAL_ANNOTATION}]`;
  if (state === 'missing') return [fe.required(at, reason)];
  if (state === 'invalid')
    return [fe.invalid(at, crd.metadata?.annotations?.[API_APPROVAL_ANNOTATION] ?? '', reason)];
  return [];
}

/** validatePreserveUnknownFields: v1 CRDs may not turn pruning off */
function validatePreserveUnknownFields(
  crd: CustomResourceDefinition,
  old?: CustomResourceDefinition,
): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields !== true) return [];
  return [
    fe.invalid(
      'spec.preserveUnknownFields',
      true,
      'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ),
  ];
}

const isEstablished = (crd: CustomResourceDefinition): boolean =>
  (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');

export function validateCrd(crd: CustomResourceDefinition): FieldError[] {
  const spec = toInternal(crd);
  // the status a create is validated with is the strategy's fresh one (names accepted from spec, checked there)
  return [
    ...validateObjectMeta(crd.metadata, false, crdName(crd)),
    ...validateSpec(spec, true),
    ...validateStoredVersions(crd.status?.storedVersions ?? [], spec.versions),
    ...validateApproval(crd),
    ...validatePreserveUnknownFields(crd),
  ];
}

export function validateCrdUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  const spec = toInternal(crd);
  const oldSpec = toInternal(old);
  const oldReview = oldSpec.conversion?.conversionReviewVersions ?? [];
  const requireRecognized =
    oldReview.length === 0 || oldReview.some((v) => CONVERSION_REVIEW_VERSIONS.includes(v));
  const errs = [
    ...validateObjectMetaUpdate(crd.metadata, old.metadata, false, crdName(crd)),
    ...validateSpec(spec, requireRecognized),
  ];
  if (isEstablished(old)) {
    errs.push(...immutable(spec.scope, oldSpec.scope, 'spec.scope'));
    errs.push(...immutable(spec.names.kind, oldSpec.names.kind, 'spec.names.kind'));
  }
  errs.push(...immutable(spec.group, oldSpec.group, 'spec.group'));
  errs.push(...immutable(spec.names.plural, oldSpec.names.plural, 'spec.names.plural'));
  errs.push(
    ...validateNames(
      crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames),
      'status.acceptedNames',
    ),
  );
  errs.push(...validateStoredVersions(crd.status?.storedVersions ?? [], spec.versions));
  errs.push(...validateApproval(crd, old));
  errs.push(...validatePreserveUnknownFields(crd, old));
  return errs;
}

export function validateCrdStatusUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(crd.metadata, old.metadata, false, crdName(crd)),
    ...validateNames(
      crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames),
      'status.acceptedNames',
    ),
  ];
}
