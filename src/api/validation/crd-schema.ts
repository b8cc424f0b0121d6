// The openAPIV3Schema of a CustomResourceDefinition, validated as upstream's apiextensions-apiserver does
// (pkg/apis/apiextensions/validation/validation.go validateCustomResourceDefinitionValidation and
// ValidateCustomResourceDefinitionOpenAPISchema, pkg/apiserver/schema/validation.go and complete.go for the
// structural-schema rules): same field paths, same messages.
//
// Not done here: compiling x-kubernetes-validations rules (CEL) and checking their cost, and validating `default`
// values against their schema (upstream's structuraldefaulting.ValidateDefaults); the static rules on both are.
import { fe, fieldErrorString, type FieldError } from '../errors.js';

/** a JSONSchemaProps as JSON: the keys of apiextensions.k8s.io/v1 JSONSchemaProps */
export type Schema = { [key: string]: unknown };

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (s: Schema, key: string): string => (typeof s[key] === 'string' ? s[key] : '');
const props = (s: Schema): [string, Schema][] =>
  isSchema(s['properties'])
    ? Object.entries(s['properties']).filter((e): e is [string, Schema] => isSchema(e[1]))
    : [];
const schemaList = (v: unknown): Schema[] => (Array.isArray(v) ? v.filter(isSchema) : []);
/** `items` as a single schema (upstream: JSONSchemaPropsOrArray.Schema) */
const itemsSchema = (s: Schema): Schema | undefined => (isSchema(s['items']) ? s['items'] : undefined);
/** `additionalProperties` as a schema (JSONSchemaPropsOrBool.Schema) */
const additionalSchema = (s: Schema): Schema | undefined =>
  isSchema(s['additionalProperties']) ? s['additionalProperties'] : undefined;
const key = (path: string, k: string): string => `${path}[${k}]`;

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);
const SUPPORTED_VALIDATION_REASONS = [
  'FieldValueDuplicate',
  'FieldValueForbidden',
  'FieldValueInvalid',
  'FieldValueRequired',
];

/** JSON key → upstream's Go field name (JSONSchemaProps), in the struct's order (the root-with-status rule walks it) */
const GO_FIELDS: readonly [string, string][] = [
  ['id', 'ID'],
  ['$schema', 'Schema'],
  ['$ref', 'Ref'],
  ['description', 'Description'],
  ['type', 'Type'],
  ['format', 'Format'],
  ['title', 'Title'],
  ['default', 'Default'],
  ['maximum', 'Maximum'],
  ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'],
  ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'],
  ['minLength', 'MinLength'],
  ['pattern', 'Pattern'],
  ['maxItems', 'MaxItems'],
  ['minItems', 'MinItems'],
  ['uniqueItems', 'UniqueItems'],
  ['multipleOf', 'MultipleOf'],
  ['enum', 'Enum'],
  ['maxProperties', 'MaxProperties'],
  ['minProperties', 'MinProperties'],
  ['required', 'Required'],
  ['items', 'Items'],
  ['allOf', 'AllOf'],
  ['oneOf', 'OneOf'],
  ['anyOf', 'AnyOf'],
  ['not', 'Not'],
  ['properties', 'Properties'],
  ['additionalProperties', 'AdditionalProperties'],
  ['patternProperties', 'PatternProperties'],
  ['dependencies', 'Dependencies'],
  ['additionalItems', 'AdditionalItems'],
  ['definitions', 'Definitions'],
  ['externalDocs', 'ExternalDocs'],
  ['example', 'Example'],
  ['nullable', 'Nullable'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'],
  ['x-kubernetes-embedded-resource', 'XEmbeddedResource'],
  ['x-kubernetes-int-or-string', 'XIntOrString'],
  ['x-kubernetes-list-map-keys', 'XListMapKeys'],
  ['x-kubernetes-list-type', 'XListType'],
  ['x-kubernetes-map-type', 'XMapType'],
  ['x-kubernetes-validations', 'XValidations'],
];

const ALLOWED_AT_ROOT_WITH_STATUS = [
  'Description',
  'Type',
  'Format',
  'Title',
  'Maximum',
  'ExclusiveMaximum',
  'Minimum',
  'ExclusiveMinimum',
  'MaxLength',
  'MinLength',
  'Pattern',
  'MaxItems',
  'MinItems',
  'UniqueItems',
  'MultipleOf',
  'Required',
  'Items',
  'Properties',
  'ExternalDocs',
  'Example',
  'XPreserveUnknownFields',
  'XValidations',
];

/**
 * Go's zero-value test (reflect.DeepEqual with the zero value) of one JSONSchemaProps field given as JSON: strings
 * and the plain bools are zero when empty/false; every number, x-kubernetes-preserve-unknown-fields, default, and
 * every list or map is a pointer, slice or map, so any value given is non-zero.
 */
function isZero(jsonKey: string, v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  return v === false && jsonKey !== 'x-kubernetes-preserve-unknown-fields';
}

// ------------------------------------------------------------------ structural schema (pkg/apiserver/schema)

type Level = 'root' | 'item' | 'field';

const INT_OR_STRING_ANY_OF = JSON.stringify([{ type: 'integer' }, { type: 'string' }]);
const isIntOrStringAnyOf = (s: Schema): boolean =>
  Array.isArray(s['anyOf']) && JSON.stringify(s['anyOf']) === INT_OR_STRING_ANY_OF;
const isIntOrStringAllOf = (s: Schema): boolean => {
  const all = schemaList(s['allOf']);
  return all.length >= 1 && isIntOrStringAnyOf(all[0]);
};

/** Go regexp (RE2) syntax the JS engine would accept differently is not told apart: JS's own parse is the check */
function regexpError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (e) {
    return `error parsing regexp: ${(e as Error).message}`;
  }
}

function validateValueValidation(
  s: Schema,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  path: string,
  errs: FieldError[],
): void {
  if (!skipAnyOf)
    schemaList(s['anyOf']).forEach((v, i) => validateNested(v, false, `${path}.anyOf[${i}]`, errs));
  schemaList(s['allOf']).forEach((v, i) =>
    validateNested(v, skipFirstAllOfAnyOf && i === 0, `${path}.allOf[${i}]`, errs),
  );
  schemaList(s['oneOf']).forEach((v, i) => validateNested(v, false, `${path}.oneOf[${i}]`, errs));
  if (isSchema(s['not'])) validateNested(s['not'], false, `${path}.not`, errs);
  const pattern = str(s, 'pattern');
  if (pattern) {
    const problem = regexpError(pattern);
    if (problem)
      errs.push(
        fe.invalid(`${path}.pattern`, pattern, `must be a valid regular expression, but isn't: ${problem}`),
      );
  }
}

/** a schema inside anyOf/allOf/oneOf/not: value validations only (upstream's NestedValueValidation) */
function validateNested(v: Schema, skipAnyOf: boolean, path: string, errs: FieldError[]): void {
  validateValueValidation(v, skipAnyOf, false, path, errs);
  const items = itemsSchema(v);
  if (items) validateNested(items, false, `${path}.items`, errs);
  for (const [k, p] of props(v)) validateNested(p, false, key(`${path}.properties`, k), errs);
  if (str(v, 'type')) errs.push(fe.forbidden(`${path}.type`, 'must be empty to be structural'));
  if (v['additionalProperties'] !== undefined)
    errs.push(fe.forbidden(`${path}.additionalProperties`, 'must be undefined to be structural'));
  if (v['default'] !== undefined && v['default'] !== null)
    errs.push(fe.forbidden(`${path}.default`, 'must be undefined to be structural'));
  if (str(v, 'title')) errs.push(fe.forbidden(`${path}.title`, 'must be empty to be structural'));
  if (str(v, 'description')) errs.push(fe.forbidden(`${path}.description`, 'must be empty to be structural'));
  if (v['nullable'] === true) errs.push(fe.forbidden(`${path}.nullable`, 'must be false to be structural'));
  for (const ext of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-int-or-string',
  ])
    if (v[ext] === true) errs.push(fe.forbidden(`${path}.${ext}`, 'must be false to be structural'));
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length)
    errs.push(fe.forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty to be structural'));
  for (const ext of ['x-kubernetes-list-type', 'x-kubernetes-map-type'])
    if (v[ext] !== undefined && v[ext] !== null)
      errs.push(fe.forbidden(`${path}.${ext}`, 'must be undefined to be structural'));
  if (Array.isArray(v['x-kubernetes-validations']) && v['x-kubernetes-validations'].length)
    errs.push(fe.forbidden(`${path}.x-kubernetes-validations`, 'must be empty to be structural'));
  if (isSchema(v['properties']) && 'metadata' in v['properties'])
    errs.push(
      fe.forbidden(key(`${path}.properties`, 'metadata'), 'must not be specified in a nested context'),
    );
}

/** metadata at the root may only name `name` and `generateName` (and say type: object) */
function validateMetadataInvariants(
  s: Schema,
  checkMetadata: boolean,
  level: Level,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && str(s, 'type') !== 'object')
    errs.push(fe.invalid(`${path}.type`, str(s, 'type'), 'must be object'));
  if (level === 'root') {
    const names = props(s).map(([k]) => k);
    const onlyNames = names.every((n) => n === 'name' || n === 'generateName');
    const rest = Object.keys(s).filter((k) => {
      if (k === 'type' || k === 'default' || isZero(k, s[k])) return false;
      if (k === 'properties') return !onlyNames;
      return true;
    });
    if (rest.length)
      errs.push(
        fe.forbidden(
          path,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
  }
  return errs;
}

function validateInvariants(s: Schema, level: Level, path: string, errs: FieldError[]): void {
  const type = str(s, 'type');
  const items = itemsSchema(s);
  if (type === 'array' && s['items'] === undefined)
    errs.push(fe.required(`${path}.items`, 'must be specified'));
  if (items) validateInvariants(items, 'item', `${path}.items`, errs);
  for (const [k, p] of props(s)) validateInvariants(p, 'field', key(`${path}.properties`, k), errs);
  if (s['additionalProperties'] !== undefined && s['additionalProperties'] !== null) {
    if (level === 'root')
      errs.push(fe.forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    const ap = additionalSchema(s);
    if (ap) validateInvariants(ap, 'field', `${path}.additionalProperties`, errs);
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve)
    errs.push(
      fe.invalid(
        `${path}.x-kubernetes-preserve-unknown-fields`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  if (intOrString && embedded)
    errs.push(
      fe.invalid(
        `${path}.x-kubernetes-embedded-resource`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  validateValueValidation(s, isIntOrStringAnyOf(s), isIntOrStringAllOf(s), path, errs);

  const checkMetadata = level === 'root' || embedded;
  if (embedded && type !== 'object') {
    if (!type)
      errs.push(fe.required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else
      errs.push(fe.invalid(`${path}.type`, type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!type && !intOrString && !preserve) {
    const detail = {
      root: 'must not be empty at the root',
      item: 'must not be empty for specified array items',
      field: 'must not be empty for specified object fields',
    }[level];
    errs.push(fe.required(`${path}.type`, detail));
  }
  if (embedded && s['additionalProperties'] !== undefined)
    errs.push(
      fe.forbidden(
        `${path}.additionalProperties`,
        'must not be used if x-kubernetes-embedded-resource is set',
      ),
    );
  if (level === 'root' && type && type !== 'object')
    errs.push(fe.invalid(`${path}.type`, type, 'must be object at the root'));
  const properties = Object.fromEntries(props(s));
  for (const f of ['kind', 'apiVersion']) {
    if (properties[f] && checkMetadata && str(properties[f], 'type') !== 'string')
      errs.push(
        fe.invalid(`${key(`${path}.properties`, f)}.type`, str(properties[f], 'type'), 'must be string'),
      );
  }
  if (properties['metadata'])
    errs.push(
      ...validateMetadataInvariants(
        properties['metadata'],
        checkMetadata,
        level,
        key(`${path}.properties`, 'metadata'),
      ),
    );
  if (embedded && !preserve && props(s).length === 0)
    errs.push(
      fe.required(
        `${path}.properties`,
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
}

/** every property a value validation (anyOf, allOf, oneOf, not) names must be specified structurally */
function validateCompleteness(v: Schema, s: Schema, sPath: string, vPath: string, errs: FieldError[]): void {
  if (isSchema(v['not'])) validateCompletenessNested(v['not'], s, sPath, `${vPath}.not`, errs);
  schemaList(v['allOf']).forEach((n, i) =>
    validateCompletenessNested(n, s, sPath, `${vPath}.allOf[${i}]`, errs),
  );
  schemaList(v['anyOf']).forEach((n, i) =>
    validateCompletenessNested(n, s, sPath, `${vPath}.anyOf[${i}]`, errs),
  );
  schemaList(v['oneOf']).forEach((n, i) =>
    validateCompletenessNested(n, s, sPath, `${vPath}.oneOf[${i}]`, errs),
  );
}

function validateCompletenessNested(
  n: Schema,
  s: Schema | undefined,
  sPath: string,
  vPath: string,
  errs: FieldError[],
): void {
  if (!s) {
    errs.push(fe.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  validateCompleteness(n, s, sPath, vPath, errs);
  const nItems = itemsSchema(n);
  if (nItems) validateCompletenessNested(nItems, itemsSchema(s), `${sPath}.items`, `${vPath}.items`, errs);
  const sProps = Object.fromEntries(props(s));
  for (const [k, p] of props(n)) {
    const sp = key(`${sPath}.properties`, k);
    const vp = key(`${vPath}.properties`, k);
    if (!sProps[k]) errs.push(fe.required(sp, `because it is defined in ${vp}`));
    else validateCompletenessNested(p, sProps[k], sp, vp, errs);
  }
}

/** upstream's ValidateStructural: the invariants and completeness, sorted by their message as upstream sorts them */
export function validateStructural(root: Schema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  validateInvariants(root, 'root', path, errs);
  validateCompleteness(root, root, path, path, errs);
  return errs.sort((a, b) => {
    const [x, y] = [fieldErrorString(a), fieldErrorString(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

// ------------------------------------------------------------------ OpenAPI schema rules (validation.go)

interface SchemaContext {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
}

/** specStandardValidatorV3.validate */
function validateStandard(s: Schema, ctx: SchemaContext, path: string, errs: FieldError[]): void {
  const type = str(s, 'type');
  if (type && !OPENAPI_V3_TYPES.includes(type))
    errs.push(fe.notSupported(`${path}.type`, type, OPENAPI_V3_TYPES));
  if (s['default'] !== undefined && s['default'] !== null && !ctx.allowDefaults) {
    const detail = `must not be set${ctx.disallowDefaultsReason ? ` ${ctx.disallowDefaultsReason}` : ''}`;
    errs.push(fe.forbidden(`${path}.default`, detail));
  }
  if (str(s, 'id')) errs.push(fe.forbidden(`${path}.id`, 'id is not supported'));
  if (s['additionalItems'] !== undefined && s['additionalItems'] !== null)
    errs.push(fe.forbidden(`${path}.additionalItems`, 'additionalItems is not supported'));
  if (isSchema(s['patternProperties']) && Object.keys(s['patternProperties']).length)
    errs.push(fe.forbidden(`${path}.patternProperties`, 'patternProperties is not supported'));
  if (isSchema(s['definitions']) && Object.keys(s['definitions']).length)
    errs.push(fe.forbidden(`${path}.definitions`, 'definitions is not supported'));
  if (s['dependencies'] !== undefined && s['dependencies'] !== null)
    errs.push(fe.forbidden(`${path}.dependencies`, 'dependencies is not supported'));
  if (s['$ref'] !== undefined && s['$ref'] !== null)
    errs.push(fe.forbidden(`${path}.$ref`, '$ref is not supported'));
  if (type === 'null')
    errs.push(fe.forbidden(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s['items']) && s['items'].length)
    errs.push(fe.forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (ctx.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true)
    errs.push(
      fe.forbidden(`${path}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'),
    );
}

/** validateMapListKeysMapSet */
function validateMapListKeysMapSet(s: Schema, path: string, errs: FieldError[]): void {
  const items = itemsSchema(s);
  const listType = s['x-kubernetes-list-type'];
  if (!items || (listType !== 'set' && listType !== 'map')) return;
  if (items['nullable'] === true)
    errs.push(
      fe.forbidden(`${path}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${listType}`),
    );
  if (listType !== 'map') return;
  const required = new Set(Array.isArray(items['required']) ? (items['required'] as string[]) : []);
  const itemProps = Object.fromEntries(props(items));
  for (const k of (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? []) {
    const p = itemProps[k];
    if (!p) continue;
    const at = key(`${path}.items.properties`, k);
    if (!required.has(k) && (p['default'] === undefined || p['default'] === null))
      errs.push(
        fe.required(
          `${at}.default`,
          'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
        ),
      );
    if (p['nullable'] === true)
      errs.push(
        fe.forbidden(
          `${at}.nullable`,
          'this property is in x-kubernetes-list-map-keys, so it cannot be nullable',
        ),
      );
  }
}

/** a JSONPath of a CEL rule's fieldPath: `.a.b`, `.a['b']`, `.a[0]` over the schema's properties */
function fieldPathValid(s: Schema, fieldPath: string): boolean {
  let node: Schema | undefined = s;
  const re = /^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\])/;
  let rest = fieldPath.trim();
  if (!rest) return false;
  while (rest) {
    const m = re.exec(rest);
    if (!m || !node) return false;
    rest = rest.slice(m[0].length);
    if (m[3] !== undefined) {
      node = itemsSchema(node);
      continue;
    }
    const name = m[1] ?? m[2];
    const p: Schema | undefined = Object.fromEntries(props(node))[name] ?? additionalSchema(node);
    node = p;
  }
  return node !== undefined;
}

function validateXValidations(s: Schema, path: string, errs: FieldError[]): void {
  const rules = Array.isArray(s['x-kubernetes-validations'])
    ? (s['x-kubernetes-validations'] as unknown[])
    : [];
  rules.forEach((raw, i) => {
    const rule = isSchema(raw) ? raw : {};
    const at = `${path}.x-kubernetes-validations[${i}]`;
    const ruleText = str(rule, 'rule');
    const message = str(rule, 'message');
    const messageExpression = str(rule, 'messageExpression');
    const fieldPath = str(rule, 'fieldPath');
    const hasNewlines = (t: string) => /[\n\r]/.test(t);
    if (!ruleText.trim()) errs.push(fe.required(`${at}.rule`, 'rule is not specified'));
    else if (message && !message.trim())
      errs.push(fe.invalid(`${at}.message`, message, 'message must be non-empty if specified'));
    else if (hasNewlines(message.trim()))
      errs.push(fe.invalid(`${at}.message`, message, 'message must not contain line breaks'));
    else if (hasNewlines(ruleText.trim()) && !message.trim())
      errs.push(fe.required(`${at}.message`, 'message must be specified if rule contains line breaks'));
    if (messageExpression && !messageExpression.trim())
      errs.push(fe.required(`${at}.messageExpression`, 'messageExpression must be non-empty if specified'));
    const reason = rule['reason'];
    if (typeof reason === 'string' && !SUPPORTED_VALIDATION_REASONS.includes(reason))
      errs.push(fe.notSupported(`${at}.reason`, reason, SUPPORTED_VALIDATION_REASONS));
    if (fieldPath && !fieldPath.trim())
      errs.push(fe.invalid(`${at}.fieldPath`, fieldPath, 'fieldPath must be non-empty if specified'));
    if (hasNewlines(fieldPath))
      errs.push(fe.invalid(`${at}.fieldPath`, fieldPath, 'fieldPath must not contain line breaks'));
    if (fieldPath && !fieldPathValid(s, fieldPath))
      errs.push(fe.invalid(`${at}.fieldPath`, fieldPath, 'fieldPath must be a valid path'));
  });
}

/** ValidateCustomResourceDefinitionOpenAPISchema (its schema part; CEL compilation is not done) */
function validateOpenApiSchema(
  s: Schema,
  path: string,
  ctx: SchemaContext,
  isRoot: boolean,
  errs: FieldError[],
): void {
  validateStandard(s, ctx, path, errs);
  if (s['uniqueItems'] === true)
    errs.push(
      fe.forbidden(
        `${path}.uniqueItems`,
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  const ap = s['additionalProperties'];
  if (ap !== undefined && ap !== null) {
    if (props(s).length && (ap === false || isSchema(ap)))
      errs.push(
        fe.forbidden(
          `${path}.additionalProperties`,
          'additionalProperties and properties are mutual exclusive',
        ),
      );
    const sub = ctx.insideResourceMeta
      ? {
          ...ctx,
          allowDefaults: false,
          disallowDefaultsReason: 'inside additionalProperties applying to object metadata',
        }
      : ctx;
    if (isSchema(ap)) validateOpenApiSchema(ap, `${path}.additionalProperties`, sub, false, errs);
  }
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  for (const [k, p] of props(s)) {
    let sub = ctx;
    if ((isRoot || embedded) && META_FIELDS.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    validateOpenApiSchema(p, key(`${path}.properties`, k), sub, false, errs);
  }
  if (isSchema(s['not'])) validateOpenApiSchema(s['not'], `${path}.not`, ctx, false, errs);
  for (const list of ['allOf', 'oneOf', 'anyOf'])
    schemaList(s[list]).forEach((v, i) =>
      validateOpenApiSchema(v, `${path}.${list}[${i}]`, ctx, false, errs),
    );
  if (isSchema(s['definitions']))
    for (const [k, v] of Object.entries(s['definitions']))
      if (isSchema(v)) validateOpenApiSchema(v, key(`${path}.definitions`, k), ctx, false, errs);
  const items = itemsSchema(s);
  if (items) validateOpenApiSchema(items, `${path}.items`, ctx, false, errs);
  schemaList(s['items']).forEach((v, i) => validateOpenApiSchema(v, `${path}.items[${i}]`, ctx, false, errs));
  if (isSchema(s['dependencies']))
    for (const [k, v] of Object.entries(s['dependencies']))
      if (isSchema(v)) validateOpenApiSchema(v, key(`${path}.dependencies`, k), ctx, false, errs);

  if (s['x-kubernetes-preserve-unknown-fields'] === false)
    errs.push(fe.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  const type = str(s, 'type');
  const mapType = s['x-kubernetes-map-type'];
  const hasMapType = mapType !== undefined && mapType !== null;
  if (hasMapType && type !== 'object') {
    if (!type) errs.push(fe.required(`${path}.type`, 'must be object if x-kubernetes-map-type is specified'));
    else errs.push(fe.invalid(`${path}.type`, type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (hasMapType && mapType !== 'atomic' && mapType !== 'granular')
    errs.push(fe.notSupported(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));

  const listType = s['x-kubernetes-list-type'];
  const hasListType = listType !== undefined && listType !== null;
  if (hasListType && type !== 'array') {
    if (!type) errs.push(fe.required(`${path}.type`, 'must be array if x-kubernetes-list-type is specified'));
    else errs.push(fe.invalid(`${path}.type`, type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (listType === 'set' && items) {
    const itemType = str(items, 'type');
    const itemListType = items['x-kubernetes-list-type'];
    if (
      itemType === 'array' &&
      itemListType !== undefined &&
      itemListType !== null &&
      itemListType !== 'atomic'
    )
      errs.push(
        fe.invalid(
          `${path}.items.x-kubernetes-list-type`,
          itemListType,
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
    if (itemType === 'object' && items['x-kubernetes-map-type'] !== 'atomic')
      errs.push(
        fe.invalid(
          `${path}.items.x-kubernetes-map-type`,
          itemListType ?? null,
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
  }
  if (hasListType && listType !== 'atomic' && listType !== 'set' && listType !== 'map')
    errs.push(fe.notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  const mapKeys = Array.isArray(s['x-kubernetes-list-map-keys'])
    ? (s['x-kubernetes-list-map-keys'] as string[])
    : [];
  if (mapKeys.length) {
    if (!hasListType)
      errs.push(
        fe.required(
          `${path}.x-kubernetes-list-type`,
          'must be map if x-kubernetes-list-map-keys is non-empty',
        ),
      );
    else if (listType !== 'map')
      errs.push(
        fe.invalid(
          `${path}.x-kubernetes-list-type`,
          listType,
          'must be map if x-kubernetes-list-map-keys is non-empty',
        ),
      );
  }
  if (listType === 'map') {
    if (!mapKeys.length)
      errs.push(
        fe.required(
          `${path}.x-kubernetes-list-map-keys`,
          'must not be empty if x-kubernetes-list-type is map',
        ),
      );
    if (s['items'] === undefined || s['items'] === null)
      errs.push(fe.required(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s['items']))
      errs.push(
        fe.invalid(
          `${path}.items`,
          s['items'],
          'must only have a single schema if x-kubernetes-list-type is map',
        ),
      );
    if (items && str(items, 'type') !== 'object')
      errs.push(
        fe.invalid(
          `${path}.items.type`,
          str(items, 'type'),
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    if (items && str(items, 'type') === 'object') {
      const itemProps = Object.fromEntries(props(items));
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const p = itemProps[k];
        if (p) {
          if (str(p, 'type') === 'array' || str(p, 'type') === 'object')
            errs.push(
              fe.invalid(
                `${key(`${path}.items.properties`, k)}.type`,
                str(items, 'type'),
                "must be a scalar type if parent array's x-kubernetes-list-type is map",
              ),
            );
        } else {
          errs.push(
            fe.invalid(
              `${path}.x-kubernetes-list-map-keys`,
              mapKeys,
              'entries must all be names of item properties',
            ),
          );
        }
        if (seen.has(k))
          errs.push(
            fe.invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys, 'must not contain duplicate entries'),
          );
        seen.add(k);
      }
    }
  }
  validateMapListKeysMapSet(s, path, errs);
  validateXValidations(s, path, errs);
}

/**
 * validateCustomResourceDefinitionValidation for one schema: `path` is where its CustomResourceValidation sits
 * (`spec.validation` when every version shares it, else `spec.versions[i].schema`).
 */
export function validateCrdSchema(root: Schema, statusEnabled: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (statusEnabled) {
    for (const [jsonKey, goName] of GO_FIELDS) {
      if (isZero(jsonKey, root[jsonKey])) continue;
      if (goName === 'Type') {
        if (root['type'] !== 'object') {
          errs.push(
            fe.invalid(
              `${path}.openAPIV3Schema.type`,
              root['type'],
              'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
            ),
          );
          break;
        }
        continue;
      }
      if (!ALLOWED_AT_ROOT_WITH_STATUS.includes(goName)) {
        errs.push(
          fe.invalid(
            `${path}.openAPIV3Schema`,
            root,
            `only [${ALLOWED_AT_ROOT_WITH_STATUS.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`,
          ),
        );
        break;
      }
    }
  }
  if (root['nullable'] === true)
    errs.push(fe.forbidden(`${path}.openAPIV3Schema.nullable`, 'nullable cannot be true at the root'));
  errs.push(...validateStructural(root, `${path}.openAPIV3Schema`));
  validateOpenApiSchema(
    root,
    `${path}.openAPIV3Schema`,
    { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false },
    true,
    errs,
  );
  return errs;
}
