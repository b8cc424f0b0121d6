// decodeObject: the apiserver's decode step for every write — type check, prune, canonicalise, fieldValidation.
import type { StatusCause } from 'kubernetes-types/meta/v1.js';
import { ApiError, errors } from '../errors.js';
import type { KubeObject } from '../request.js';
import { groupVersion } from '../resources.js';
import { goTypeName, rootNode } from './compile.js';
import { DecodeError, decodeValue, type DecodeContext } from './decode.js';

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

/**
 * Type-check `input` against the kind's schema and prune unknown fields (never stored, in any mode):
 * Strict → unknown fields are an error, Warn → warnings, Ignore → silent. Canonicalises quantities
 * (`cpu: 1` → `"1"`, `1000m` → `"1"`) and times as upstream's decoder does, and drops nulls.
 *
 * `input` is taken over: it is pruned and canonicalised in place and returned as `object`
 * (pass a copy if you still need the original).
 */
export function decodeObject(
  gvk: Gvk,
  input: unknown,
  mode: FieldValidationMode,
): { object: KubeObject; warnings: string[] } {
  const gv = groupVersion(gvk.group, gvk.version);
  const node = rootNode(gvk.group, gvk.version, gvk.kind);
  if (!node || node.t !== 'struct') {
    throw errors.badRequest(`no kind "${gvk.kind}" is registered for version "${gv}"`);
  }
  const cannotHandle = (detail: string) =>
    `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: ${detail}`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const what = Array.isArray(input)
      ? 'array'
      : input === null
        ? 'null'
        : typeof input === 'boolean'
          ? 'bool'
          : typeof input;
    throw errors.badRequest(
      cannotHandle(`json: cannot unmarshal ${what} into Go value of type ${goTypeName(node)}`),
    );
  }
  const obj = input as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== null && obj.apiVersion !== gv) {
    throw errors.badRequest(
      typeof obj.apiVersion === 'string'
        ? `the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`
        : cannotHandle(
            `json: cannot unmarshal ${typeof obj.apiVersion} into Go struct field ${node.name}.apiVersion of type string`,
          ),
    );
  }
  if (obj.kind !== undefined && obj.kind !== null && obj.kind !== gvk.kind) {
    throw errors.badRequest(
      typeof obj.kind === 'string'
        ? `${obj.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: the kind in the data (${obj.kind}) does not match the expected kind (${gvk.kind})`
        : cannotHandle(
            `json: cannot unmarshal ${typeof obj.kind} into Go struct field ${node.name}.kind of type string`,
          ),
    );
  }

  const ctx: DecodeContext = { path: [], unknown: [] };
  try {
    decodeValue(node, obj, undefined, ctx);
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new ApiError('BadRequest', cannotHandle(e.message), {
        kind: gvk.kind,
        causes: [{ reason: 'FieldValueInvalid', message: e.message, field: e.field }],
      });
    }
    throw e;
  }
  obj.apiVersion = gv;
  obj.kind = gvk.kind;

  const warnings: string[] = [];
  if (ctx.unknown.length > 0 && mode !== 'Ignore') {
    const messages = ctx.unknown.map((path) => `unknown field "${path}"`);
    if (mode === 'Strict') {
      const causes: StatusCause[] = ctx.unknown.map((field, i) => ({
        reason: 'FieldValueUnknown',
        message: messages[i],
        field,
      }));
      throw new ApiError('BadRequest', `strict decoding error: ${messages.join(', ')}`, {
        kind: gvk.kind,
        causes,
      });
    }
    warnings.push(...messages);
  }
  return { object: obj, warnings };
}

export {
  parseQuantity,
  formatQuantity,
  canonicalQuantity,
  compareQuantities,
  QUANTITY_FORMAT_ERROR,
} from './quantity.js';
