// Encodes the Swagger 2.0 document as gnostic's openapi_v2.Document protobuf — what client-go's OpenAPISchema()
// asks /openapi/v2 for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) and the only form it parses.
// kubectl up to 1.32 fetches it eagerly (explain in 1.27 fails without it). Field numbers are those of gnostic's
// openapiv2/OpenAPIv2.proto; vendor extensions travel as Any{yaml}, and JSON is valid YAML.
import type { OpenApiSchema } from './schemas.js';

/** what upstream labels the response: the `@` clients put in Accept is no valid media type (Go's mime rejects it) */
export const V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Field = Buffer;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function bytesField(field: number, payload: Buffer): Field {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

const str = (field: number, value: unknown): Field[] =>
  typeof value === 'string' && value !== '' ? [bytesField(field, Buffer.from(value, 'utf8'))] : [];
const strs = (field: number, values: unknown): Field[] =>
  Array.isArray(values)
    ? values
        .filter((v): v is string => typeof v === 'string')
        .map((v) => bytesField(field, Buffer.from(v, 'utf8')))
    : [];
const bool = (field: number, value: unknown): Field[] =>
  value === true ? [Buffer.concat([varint(field << 3), varint(1)])] : [];
const msg = (field: number, parts: Field[]): Field => bytesField(field, Buffer.concat(parts));

/** Any{yaml}: upstream's YAML text; JSON is YAML */
const any = (value: unknown): Field[] => str(2, JSON.stringify(value));
const namedAny = (name: string, value: unknown): Field[] => [...str(1, name), msg(2, any(value))];

function vendorExtensions(field: number, obj: OpenApiSchema): Field[] {
  return Object.entries(obj)
    .filter(([key]) => key.startsWith('x-'))
    .map(([key, value]) => msg(field, namedAny(key, value)));
}

function schema(s: OpenApiSchema): Field[] {
  const parts: Field[] = [
    ...str(1, s.$ref),
    ...str(2, s.format),
    ...str(3, s.title),
    ...str(4, s.description),
  ];
  if (s.default !== undefined) parts.push(msg(5, any(s.default)));
  parts.push(...bool(16, s.uniqueItems), ...strs(19, s.required));
  if (Array.isArray(s.enum)) parts.push(...s.enum.map((e) => msg(20, any(e))));
  const additional = s.additionalProperties;
  // a oneof member is written even when false
  if (typeof additional === 'boolean')
    parts.push(msg(21, [Buffer.concat([varint(2 << 3), varint(additional ? 1 : 0)])]));
  else if (additional && typeof additional === 'object')
    parts.push(msg(21, [msg(1, schema(additional as OpenApiSchema))]));
  if (typeof s.type === 'string') parts.push(msg(22, str(1, s.type)));
  if (s.items && typeof s.items === 'object') parts.push(msg(23, [msg(1, schema(s.items as OpenApiSchema))]));
  if (Array.isArray(s.allOf)) parts.push(...s.allOf.map((sub) => msg(24, schema(sub as OpenApiSchema))));
  if (s.properties && typeof s.properties === 'object') {
    const props = Object.entries(s.properties as Record<string, OpenApiSchema>).map(([name, sub]) =>
      msg(1, [...str(1, name), msg(2, schema(sub))]),
    );
    parts.push(msg(25, props));
  }
  parts.push(...vendorExtensions(31, s));
  return parts;
}

function parameter(p: OpenApiSchema): Field[] {
  if (p.in === 'body') {
    const body = [...str(1, p.description), ...str(2, p.name), ...str(3, p.in), ...bool(4, p.required)];
    if (p.schema) body.push(msg(5, schema(p.schema as OpenApiSchema)));
    return [msg(1, [msg(1, body)])]; // ParametersItem.parameter → Parameter.body_parameter
  }
  // Query/PathParameterSubSchema: required, in, description, name, then type and unique_items at different numbers
  const common = [...bool(1, p.required), ...str(2, p.in), ...str(3, p.description), ...str(4, p.name)];
  const sub =
    p.in === 'path'
      ? msg(4, [...common, ...str(5, p.type), ...bool(19, p.uniqueItems)])
      : msg(3, [...common, ...str(6, p.type), ...bool(20, p.uniqueItems)]);
  return [msg(1, [msg(2, [sub])])]; // ParametersItem.parameter → Parameter.non_body_parameter
}

function operation(op: OpenApiSchema): Field[] {
  const parts: Field[] = [...strs(1, op.tags), ...str(3, op.description), ...str(5, op.operationId)];
  parts.push(...strs(6, op.produces), ...strs(7, op.consumes));
  for (const p of (op.parameters as OpenApiSchema[] | undefined) ?? []) parts.push(msg(8, parameter(p)));
  const codes = Object.entries((op.responses as Record<string, OpenApiSchema> | undefined) ?? {}).map(
    ([code, r]) => {
      const response = [...str(1, r.description)];
      if (r.schema) response.push(msg(2, [msg(1, schema(r.schema as OpenApiSchema))]));
      return msg(1, [...str(1, code), msg(2, [msg(1, response)])]);
    },
  );
  parts.push(msg(9, codes), ...strs(10, op.schemes), ...vendorExtensions(13, op));
  return parts;
}

const METHOD_FIELDS: Readonly<Record<string, number>> = {
  get: 2,
  put: 3,
  post: 4,
  delete: 5,
  options: 6,
  head: 7,
  patch: 8,
};

function pathItem(item: OpenApiSchema): Field[] {
  const parts: Field[] = [];
  for (const [method, field] of Object.entries(METHOD_FIELDS)) {
    if (item[method]) parts.push(msg(field, operation(item[method] as OpenApiSchema)));
  }
  for (const p of (item.parameters as OpenApiSchema[] | undefined) ?? []) parts.push(msg(9, parameter(p)));
  return parts;
}

/** the Swagger 2.0 JSON document (as renderV2 makes it) as openapi_v2.Document bytes */
export function encodeV2Document(doc: OpenApiSchema): Buffer {
  const info = (doc.info ?? {}) as OpenApiSchema;
  const parts: Field[] = [...str(1, doc.swagger), msg(2, [...str(1, info.title), ...str(2, info.version)])];
  const paths = Object.entries((doc.paths ?? {}) as Record<string, OpenApiSchema>).map(([path, item]) =>
    msg(2, [...str(1, path), msg(2, pathItem(item))]),
  );
  parts.push(msg(8, paths));
  const definitions = Object.entries((doc.definitions ?? {}) as Record<string, OpenApiSchema>).map(
    ([name, s]) => msg(1, [...str(1, name), msg(2, schema(s))]),
  );
  parts.push(msg(9, definitions));
  for (const requirement of (doc.security as Record<string, string[]>[] | undefined) ?? []) {
    const named = Object.entries(requirement).map(([name, scopes]) =>
      msg(1, [...str(1, name), msg(2, strs(1, scopes))]),
    );
    parts.push(msg(12, named));
  }
  const securityDefinitions = Object.entries(
    (doc.securityDefinitions ?? {}) as Record<string, OpenApiSchema>,
  ).map(([name, d]) =>
    msg(1, [
      ...str(1, name),
      msg(2, [msg(2, [...str(1, d.type), ...str(2, d.name), ...str(3, d.in), ...str(4, d.description)])]),
    ]),
  );
  if (securityDefinitions.length) parts.push(msg(13, securityDefinitions));
  return Buffer.concat(parts);
}
