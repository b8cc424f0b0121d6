// The one error family of kubemu: every failure a client can see becomes an upstream-style Status.
import type { Status, StatusCause } from 'kubernetes-types/meta/v1.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'MethodNotAllowed'
  | 'Timeout'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Expired'
  /** upstream's StatusReasonUnknown (""): an error that is no API status (etcd's, say), answered 500 as is */
  | 'Unknown';

/** One registry of reasons: the HTTP code each carries (fastify-style: one place, tested for consistency). */
export const REASON_CODES: Readonly<Record<StatusReason, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
  Unknown: 500,
};

/** upstream field.ErrorType values, as they appear in StatusCause.reason */
export type CauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound'
  | 'FieldValueInternal';

/** A field error as upstream's field.Error: the path (e.g. `spec.containers[0].image`) and what is wrong. */
export interface FieldError {
  type: CauseType;
  field: string;
  /** the offending value, rendered into the message as upstream does */
  value?: unknown;
  /** the value as Go's %#v prints it, where that is not JSON (a []string: `[]string{"true"}`) */
  goValue?: string;
  detail?: string;
  /** for FieldValueNotSupported */
  supported?: string[];
}

export interface ResourceRef {
  group: string;
  kind: string;
  /** plural resource name, e.g. `pods` — upstream's Status details.kind is the resource */
  resource: string;
  name?: string;
}

export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: Status['details'] | undefined;

  constructor(
    reason: StatusReason,
    message: string,
    details?: Status['details'],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = REASON_CODES[reason];
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      // StatusReasonUnknown is "", which upstream leaves out
      ...(this.reason !== 'Unknown' ? { reason: this.reason } : {}),
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }

  toJSON(): Status {
    return this.toStatus();
  }

  static isApiError(e: unknown): e is ApiError {
    return e instanceof ApiError;
  }
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function detailsOf(ref: ResourceRef, causes?: StatusCause[]): NonNullable<Status['details']> {
  const d: NonNullable<Status['details']> = { kind: ref.resource };
  if (ref.name !== undefined) d.name = ref.name;
  if (ref.group) d.group = ref.group;
  if (causes && causes.length) d.causes = causes;
  return d;
}

export const errors = {
  notFound(ref: ResourceRef): ApiError {
    return new ApiError('NotFound', `${qualified(ref)} "${ref.name ?? ''}" not found`, detailsOf(ref));
  },
  alreadyExists(ref: ResourceRef): ApiError {
    return new ApiError(
      'AlreadyExists',
      `${qualified(ref)} "${ref.name ?? ''}" already exists`,
      detailsOf(ref),
    );
  },
  conflict(ref: ResourceRef, why: string): ApiError {
    return new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name ?? ''}": ${why}`,
      detailsOf(ref),
    );
  },
  /** 409 on a stale resourceVersion, worded as upstream's registry does */
  staleResourceVersion(ref: ResourceRef): ApiError {
    return errors.conflict(
      ref,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  gone(message: string): ApiError {
    return new ApiError('Expired', message);
  },
  badRequest(message: string, options?: { cause?: unknown }): ApiError {
    return new ApiError('BadRequest', message, undefined, options);
  },
  unauthorized(): ApiError {
    return new ApiError('Unauthorized', 'Unauthorized');
  },
  forbidden(ref: ResourceRef, user: string, verb: string, why: string): ApiError {
    return new ApiError(
      'Forbidden',
      `${qualified(ref)}${ref.name ? ` "${ref.name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${ref.resource}"${ref.group ? ` in API group "${ref.group}"` : ''}: ${why}`,
      detailsOf(ref),
    );
  },
  methodNotAllowed(message: string): ApiError {
    return new ApiError('MethodNotAllowed', message);
  },
  tooLarge(message = 'Request entity too large: limit is 3145728'): ApiError {
    return new ApiError('RequestEntityTooLarge', message);
  },
  unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`,
    );
  },
  internal(message: string, cause?: unknown): ApiError {
    return new ApiError('InternalError', `Internal error occurred: ${message}`, undefined, { cause });
  },
  timeout(message: string): ApiError {
    return new ApiError('Timeout', message);
  },
  /** 429 as upstream's max-requests-inflight and priority-and-fairness filters answer; retry after that long */
  tooManyRequests(retryAfterSeconds = 1): ApiError {
    return new ApiError('TooManyRequests', 'Too many requests, please try again later.', {
      retryAfterSeconds,
    });
  },
  /** 422 Invalid with one cause per field error, message as upstream's NewInvalid */
  invalid(ref: ResourceRef & { kindName: string }, fieldErrors: FieldError[]): ApiError {
    const causes: StatusCause[] = fieldErrors.map((e) => ({
      reason: e.type,
      message: fieldErrorMessage(e),
      field: e.field,
    }));
    const summary =
      fieldErrors.length === 1
        ? fieldErrorString(fieldErrors[0])
        : `[${fieldErrors.map(fieldErrorString).join(', ')}]`;
    const message = `${ref.kindName}${ref.group ? `.${ref.group}` : ''} "${ref.name ?? ''}" is invalid: ${summary}`;
    const details: NonNullable<Status['details']> = { kind: ref.kindName, causes };
    if (ref.name !== undefined) details.name = ref.name;
    if (ref.group) details.group = ref.group;
    return new ApiError('Invalid', message, details);
  },
};

const TYPE_STRINGS: Record<CauseType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
  FieldValueInternal: 'Internal error',
};

function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v);
}

/** the message part of upstream's field.Error.Error(), without the field path */
export function fieldErrorMessage(e: FieldError): string {
  const parts: string[] = [TYPE_STRINGS[e.type]];
  const hasValue =
    e.value !== undefined &&
    e.type !== 'FieldValueRequired' &&
    e.type !== 'FieldValueForbidden' &&
    e.type !== 'FieldValueTooLong' &&
    e.type !== 'FieldValueInternal';
  let s = hasValue ? `${parts[0]}: ${e.goValue ?? renderValue(e.value)}` : parts[0];
  if (e.type === 'FieldValueNotSupported' && e.supported?.length) {
    s += `: supported values: ${e.supported.map((x) => `"${x}"`).join(', ')}`;
  } else if (e.detail) {
    s += `: ${e.detail}`;
  }
  return s;
}

/** upstream's field.Error.Error(): `spec.replicas: Invalid value: -1: must be greater than or equal to 0` */
export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorMessage(e)}`;
}

/** Build field errors tersely: `fe.required('spec.containers')`, `fe.invalid(path, value, detail)`. */
export const fe = {
  required: (field: string, detail?: string): FieldError => ({
    type: 'FieldValueRequired',
    field,
    ...(detail ? { detail } : {}),
  }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    detail,
  }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    supported,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    value,
    detail: `may not be more than ${max} bytes`,
  }),
  /** upstream's field.TooMany: `Too many: 21: must have at most 20 items` */
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    value: actual,
    detail: `must have at most ${max} items`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    value,
    detail,
  }),
};
