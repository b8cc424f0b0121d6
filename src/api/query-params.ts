// Query parameters decoded as upstream's apiserver decodes them: apimachinery's runtime/conversion.go
// (booleans, int64s), metav1's generated url.Values conversions (List/Get/Create/Update/Patch/DeleteOptions),
// core/v1 PodLogOptions (sinceTime as RFC 3339), and the request-deadline filter's `timeout` (a Go duration).
// A malformed value is a 400 whose message is Go's own error text, as upstream's handlers wrap it.
import { errors, fe, type FieldError } from './errors.js';
import type { FieldValidation, PropagationPolicy, RequestOptions } from './request.js';

/** Go's strconv.Quote, for error messages that quote the offending value as upstream's do. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/**
 * runtime.Convert_Slice_string_To_bool: only "0" and "false" (any case) are false; anything else — "True",
 * "1", "yes", even an empty `?watch` — is true. Upstream never rejects a boolean query parameter.
 */
export function queryBool(value: string): boolean {
  return !(value === '0' || value.toLowerCase() === 'false');
}

const PARSE_BOOL: Readonly<Record<string, boolean>> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Go's strconv.ParseBool (what `?pretty=` goes through); undefined where Go returns an error. */
export function goParseBool(value: string): boolean | undefined {
  return Object.prototype.hasOwnProperty.call(PARSE_BOOL, value) ? PARSE_BOOL[value] : undefined;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Go's strconv.ParseInt(value, 10, 64), with its error text. */
export function goParseInt64(value: string): number {
  if (!/^[+-]?[0-9]+$/.test(value))
    throw errors.badRequest(`strconv.ParseInt: parsing ${goQuote(value)}: invalid syntax`);
  const n = BigInt(value);
  if (n > INT64_MAX || n < INT64_MIN)
    throw errors.badRequest(`strconv.ParseInt: parsing ${goQuote(value)}: value out of range`);
  return Number(n);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5
  μs: 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration (`1.5h`, `30s`, `-2m3s`), in milliseconds, with its error texts. */
export function goParseDuration(value: string): number {
  const invalid = (): Error => errors.badRequest(`time: invalid duration ${goQuote(value)}`);
  let s = value;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let ns = 0;
  while (s !== '') {
    const num = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const [whole, intPart = '', fracPart] = num;
    if (intPart === '' && !fracPart) throw invalid();
    s = s.slice(whole.length);
    const unitMatch = /^[^0-9.]*/.exec(s)![0];
    if (unitMatch === '') throw errors.badRequest(`time: missing unit in duration ${goQuote(value)}`);
    const unit = DURATION_UNITS[unitMatch];
    if (unit === undefined)
      throw errors.badRequest(`time: unknown unit ${goQuote(unitMatch)} in duration ${goQuote(value)}`);
    s = s.slice(unitMatch.length);
    ns += Number(`${intPart || '0'}.${fracPart ?? ''}0`) * unit;
    if (ns > 2 ** 63 - 1) throw invalid();
  }
  return (sign * ns) / 1e6;
}

const RFC3339 = '2006-01-02T15:04:05Z07:00';

/**
 * Go's time.Parse(time.RFC3339, value) (metav1.Time's query form), with Go's error texts:
 * `parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`, `...: month out of range`.
 */
export function goParseRFC3339(value: string): Date {
  let rest = value;
  const cannot = (layoutElem: string): Error =>
    errors.badRequest(
      `parsing time ${goQuote(value)} as ${goQuote(RFC3339)}: cannot parse ${goQuote(rest)} as ${goQuote(layoutElem)}`,
    );
  const outOfRange = (what: string): Error =>
    errors.badRequest(`parsing time ${goQuote(value)}: ${what} out of range`);
  const literal = (lit: string): void => {
    if (!rest.startsWith(lit)) throw cannot(lit);
    rest = rest.slice(lit.length);
  };
  const digits = (n: number, layoutElem: string): number => {
    const m = new RegExp(`^[0-9]{${n}}`).exec(rest);
    if (!m) throw cannot(layoutElem);
    rest = rest.slice(n);
    return Number(m[0]);
  };
  const year = digits(4, '2006');
  literal('-');
  const month = digits(2, '01');
  if (month < 1 || month > 12) throw outOfRange('month');
  literal('-');
  const day = digits(2, '02');
  if (day < 1 || day > 31) throw outOfRange('day');
  literal('T');
  // "15" takes one or two digits
  const hourMatch = /^[0-9]{1,2}/.exec(rest);
  if (!hourMatch) throw cannot('15');
  rest = rest.slice(hourMatch[0].length);
  const hour = Number(hourMatch[0]);
  if (hour > 23) throw outOfRange('hour');
  literal(':');
  const minute = digits(2, '04');
  if (minute > 59) throw outOfRange('minute');
  literal(':');
  const second = digits(2, '05');
  if (second > 59) throw outOfRange('second');
  let millis = 0;
  const frac = /^[.,]([0-9]+)/.exec(rest);
  if (frac) {
    millis = Number(`0.${frac[1]}`) * 1000;
    rest = rest.slice(frac[0].length);
  }
  let offsetMinutes = 0;
  if (rest.startsWith('Z')) rest = rest.slice(1);
  else {
    const tz = /^([+-])([0-9]{2}):([0-9]{2})/.exec(rest);
    if (!tz) throw cannot('Z07:00');
    rest = rest.slice(tz[0].length);
    const h = Number(tz[2]);
    const m = Number(tz[3]);
    if (h > 24) throw outOfRange('time zone offset hour');
    if (m > 60) throw outOfRange('time zone offset minute');
    offsetMinutes = (tz[1] === '-' ? -1 : 1) * (h * 60 + m);
  }
  if (rest !== '') throw errors.badRequest(`parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) throw outOfRange('day');
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(millis);
  return new Date(utc - offsetMinutes * 60_000);
}

/** The first value of each parameter, as Go's generated `url.Values` conversions read them. */
class Query {
  constructor(private readonly q: URLSearchParams) {}
  has(k: string): boolean {
    return this.q.has(k);
  }
  string(k: string): string | undefined {
    return this.q.get(k) ?? undefined;
  }
  bool(k: string): boolean | undefined {
    const v = this.q.get(k);
    return v === null ? undefined : queryBool(v);
  }
  int64(k: string): number | undefined {
    const v = this.q.get(k);
    return v === null ? undefined : goParseInt64(v);
  }
  all(k: string): string[] {
    return this.q.getAll(k);
  }
}

/** Which options struct a request decodes its query into, as upstream's handler for that verb does. */
export type OptionsKind = 'list' | 'get' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

type Mutable = { -readonly [K in keyof RequestOptions]: RequestOptions[K] };

function setIf<K extends keyof RequestOptions>(o: Mutable, k: K, v: RequestOptions[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function decodeListOptions(q: Query, o: Mutable): boolean {
  setIf(o, 'labelSelector', q.string('labelSelector'));
  setIf(o, 'fieldSelector', q.string('fieldSelector'));
  const watch = q.bool('watch') ?? false;
  setIf(o, 'allowWatchBookmarks', q.bool('allowWatchBookmarks'));
  setIf(o, 'resourceVersion', q.string('resourceVersion'));
  const rvm = q.string('resourceVersionMatch');
  setIf(o, 'timeoutSeconds', q.int64('timeoutSeconds'));
  const limit = q.int64('limit');
  if (limit) o.limit = limit;
  const cont = q.string('continue');
  if (cont) o.continue = cont;
  setIf(o, 'sendInitialEvents', q.bool('sendInitialEvents'));
  validateListOptions(o, rvm, watch);
  if (rvm) o.resourceVersionMatch = rvm as 'Exact' | 'NotOlderThan';
  return watch;
}

/** apimachinery's ValidateListOptions (the WatchList feature enabled), a 422 on ListOptions as upstream. */
function validateListOptions(o: RequestOptions, match: string | undefined, watch: boolean): void {
  const errs: FieldError[] = [];
  const path = 'resourceVersionMatch';
  if (watch) {
    if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan')
      errs.push(
        fe.forbidden(path, 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
      );
    if (match) {
      if (o.sendInitialEvents === undefined)
        errs.push(
          fe.forbidden(
            path,
            'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
          ),
        );
      if (match !== 'NotOlderThan') errs.push(fe.notSupported(path, match, ['NotOlderThan']));
      if (o.continue)
        errs.push(fe.forbidden(path, 'resourceVersionMatch is forbidden when continue is provided'));
    }
  } else {
    if (match) {
      if (!o.resourceVersion)
        errs.push(fe.forbidden(path, 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
      if (o.continue)
        errs.push(fe.forbidden(path, 'resourceVersionMatch is forbidden when continue is provided'));
      if (match !== 'Exact' && match !== 'NotOlderThan')
        errs.push(fe.notSupported(path, match, ['Exact', 'NotOlderThan', '']));
      if (match === 'Exact' && o.resourceVersion === '0')
        errs.push(fe.forbidden(path, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    }
    if (o.sendInitialEvents !== undefined)
      errs.push(fe.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  }
  if (errs.length)
    throw errors.invalid(
      { group: 'meta.k8s.io', kind: 'ListOptions', kindName: 'ListOptions', resource: '', name: '' },
      errs,
    );
}

/** upstream's FieldManagerMaxLength */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** apimachinery's ValidateFieldManager: at most 128 bytes, every character printable */
function validateFieldManager(manager: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager) > FIELD_MANAGER_MAX_LENGTH)
    errs.push(fe.tooLong('fieldManager', manager, FIELD_MANAGER_MAX_LENGTH));
  let index = 0;
  for (const ch of manager) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) {
      const code = ch.codePointAt(0)!;
      errs.push(
        fe.invalid('fieldManager', manager, `invalid character ${goUnicodeFormat(code)} at index ${index}`),
      );
    }
    index += Buffer.byteLength(ch);
  }
  return errs;
}

/** apimachinery's ValidateDryRun: every value must be `All` (NotSupported prints the slice as Go's %#v) */
function validateDryRun(values: readonly string[]): FieldError[] {
  if (values.every((v) => v === 'All')) return [];
  return [
    {
      ...fe.notSupported('dryRun', values, ['All']),
      goValue: `[]string{${values.map(goQuote).join(', ')}}`,
    },
  ];
}

/** the values ValidateFieldValidation allows, as its sorted set lists them */
const FIELD_VALIDATION_VALUES = ['', 'Ignore', 'Strict', 'Warn'];

/** A 422 on a meta.k8s.io options kind, as upstream's handlers answer a failed ValidateXxxOptions. */
function invalidOptions(kind: string, errs: FieldError[]): void {
  if (errs.length)
    throw errors.invalid({ group: 'meta.k8s.io', kind, kindName: kind, resource: '', name: '' }, errs);
}

/** Go's %#U of a character that is not printable (a printable one would be followed by itself in quotes) */
function goUnicodeFormat(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Create/Update/PatchOptions, validated as ValidateCreateOptions / ValidateUpdateOptions / ValidatePatchOptions
 * (`force` only for an apply patch, `fieldManager` required for one): one 422 on the kind with every error.
 */
function decodeWriteOptions(
  q: Query,
  o: Mutable,
  kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
  patchType: string | undefined,
): void {
  const dryRun = q.all('dryRun');
  if (dryRun.includes('All')) o.dryRun = true;
  setIf(o, 'fieldManager', q.string('fieldManager'));
  const fv = q.string('fieldValidation') ?? '';
  if (fv !== '') o.fieldValidation = fv as FieldValidation;
  const errs: FieldError[] = [];
  if (kind === 'PatchOptions') {
    setIf(o, 'force', q.bool('force'));
    if (patchType !== 'apply') {
      if (o.force !== undefined) errs.push(fe.forbidden('force', 'may not be specified for non-apply patch'));
    } else if (!o.fieldManager) errs.push(fe.required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...validateFieldManager(o.fieldManager ?? ''), ...validateDryRun(dryRun));
  if (!FIELD_VALIDATION_VALUES.includes(fv))
    errs.push(fe.notSupported('fieldValidation', fv, FIELD_VALIDATION_VALUES));
  invalidOptions(kind, errs);
}

function decodeDeleteOptions(q: Query, o: Mutable): void {
  setIf(o, 'gracePeriodSeconds', q.int64('gracePeriodSeconds'));
  setIf(o, 'orphanDependents', q.bool('orphanDependents'));
  setIf(o, 'propagationPolicy', q.string('propagationPolicy') as PropagationPolicy | undefined);
  if (q.all('dryRun').includes('All')) o.dryRun = true;
}

/**
 * ValidateDeleteOptions on the options the query and the DeleteOptions body gave together (the body's fields
 * replace the query's): a 422 on DeleteOptions.
 */
export function validateDeleteOptions(
  o: Pick<RequestOptions, 'orphanDependents' | 'propagationPolicy'>,
  dryRun: readonly string[],
): void {
  const errs: FieldError[] = [];
  const policy = o.propagationPolicy as string | undefined;
  if (o.orphanDependents !== undefined && policy !== undefined)
    errs.push(
      fe.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'),
    );
  if (policy !== undefined && policy !== 'Foreground' && policy !== 'Background' && policy !== 'Orphan')
    errs.push(fe.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan', 'nil']));
  errs.push(...validateDryRun(dryRun));
  invalidOptions('DeleteOptions', errs);
}

/** The decoded options, and whether `?watch` asked for a watch (a list request becomes one). */
export interface DecodedQuery {
  options: RequestOptions;
  watch: boolean;
}

/** Decode a resource request's query into the options struct its verb uses upstream; a 400 on a bad value. */
export function decodeRequestQuery(
  params: URLSearchParams,
  kind: OptionsKind,
  patchType?: string,
): DecodedQuery {
  const q = new Query(params);
  const o: Mutable = {};
  let watch = false;
  switch (kind) {
    case 'list':
      watch = decodeListOptions(q, o);
      break;
    case 'get':
      setIf(o, 'resourceVersion', q.string('resourceVersion'));
      break;
    case 'create':
      decodeWriteOptions(q, o, 'CreateOptions', undefined);
      break;
    case 'update':
      decodeWriteOptions(q, o, 'UpdateOptions', undefined);
      break;
    case 'patch':
      decodeWriteOptions(q, o, 'PatchOptions', patchType);
      break;
    case 'delete':
      decodeDeleteOptions(q, o);
      break;
    case 'deletecollection':
      decodeListOptions(q, o);
      decodeDeleteOptions(q, o);
      break;
  }
  return { options: o, watch };
}

/** Whether the query asks for a watch, as upstream's RequestInfoFactory decides it (never an error). */
export function isWatchQuery(params: URLSearchParams): boolean {
  const v = params.get('watch');
  return v !== null && queryBool(v);
}

/** core/v1 PodLogOptions from a `pods/log` (or kubelet `containerLogs`) query. */
export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
  sinceTime?: Date;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend?: boolean;
}

/** Convert_url_Values_To_v1_PodLogOptions; a 400 with Go's error text on a malformed value. */
export function decodePodLogOptions(params: URLSearchParams): PodLogOptions {
  const q = new Query(params);
  const o: PodLogOptions = {};
  const container = q.string('container');
  if (container) o.container = container;
  const set = <K extends keyof PodLogOptions>(k: K, v: PodLogOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('follow', q.bool('follow'));
  set('previous', q.bool('previous'));
  set('sinceSeconds', q.int64('sinceSeconds'));
  const sinceTime = q.string('sinceTime');
  // metav1.Time.UnmarshalQueryParameter: empty and "null" mean unset
  if (sinceTime !== undefined && sinceTime !== '' && sinceTime !== 'null')
    o.sinceTime = goParseRFC3339(sinceTime);
  set('timestamps', q.bool('timestamps'));
  set('tailLines', q.int64('tailLines'));
  set('limitBytes', q.int64('limitBytes'));
  set('insecureSkipTLSVerifyBackend', q.bool('insecureSkipTLSVerifyBackend'));
  return o;
}

/** ValidatePodLogOptions: upstream's field errors for a pod log request (422 on PodLogOptions). */
export function validatePodLogOptions(o: PodLogOptions, podName: string): void {
  const errs: FieldError[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0)
    errs.push(fe.invalid('tailLines', o.tailLines, 'must be greater than or equal to 0'));
  if (o.limitBytes !== undefined && o.limitBytes < 1)
    errs.push(fe.invalid('limitBytes', o.limitBytes, 'must be greater than 0'));
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined)
    errs.push(fe.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1)
    errs.push(fe.invalid('sinceSeconds', o.sinceSeconds, 'must be greater than 0'));
  if (errs.length)
    throw errors.invalid(
      { group: '', kind: 'PodLogOptions', kindName: 'PodLogOptions', resource: 'pods', name: podName },
      errs,
    );
}

/** PodLogOptions back into a query, normalized (`follow=true`), for the hop to the kubelet. */
export function encodePodLogOptions(o: PodLogOptions): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o) as [keyof PodLogOptions, PodLogOptions[keyof PodLogOptions]][]) {
    if (v === undefined || k === 'container') continue;
    q.set(k, v instanceof Date ? v.toISOString().replace(/\.000Z$/, 'Z') : String(v));
  }
  return q;
}

/**
 * The request-deadline filter's `?timeout=` (a Go duration, e.g. kubectl's `--request-timeout` sends `32s`):
 * milliseconds, or undefined when absent or empty; upstream's 400 on a malformed one.
 */
export function decodeRequestTimeout(params: URLSearchParams): number | undefined {
  const v = params.get('timeout');
  if (!v) return undefined;
  try {
    return goParseDuration(v);
  } catch (e) {
    throw errors.badRequest(`invalid timeout specified in the request URL - ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Upstream's isPrettyPrint: `?pretty=` through strconv.ParseBool (a malformed value is not pretty), else
 * pretty for curl, Wget and browsers by their User-Agent.
 */
export function isPrettyPrint(params: URLSearchParams, userAgent: string | undefined): boolean {
  const pp = params.get('pretty');
  if (pp) return goParseBool(pp) ?? false;
  const ua = userAgent ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

/** core/v1 PodExecOptions and PodAttachOptions (attach has no command) from a `pods/exec` or `pods/attach` query. */
export interface PodStreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  container?: string;
  command: string[];
}

/**
 * Convert_url_Values_To_v1_PodExecOptions / _PodAttachOptions: booleans as every query boolean (the Python client's
 * `stdin=True` is true), the first `container`, every `command` in order. Upstream never rejects any of them.
 */
export function decodePodStreamOptions(params: URLSearchParams): PodStreamOptions {
  const q = new Query(params);
  const container = q.string('container');
  return {
    stdin: q.bool('stdin') ?? false,
    stdout: q.bool('stdout') ?? false,
    stderr: q.bool('stderr') ?? false,
    tty: q.bool('tty') ?? false,
    ...(container ? { container } : {}),
    command: q.all('command'),
  };
}

/** Go's strconv.ParseUint(value, 10, 16), with its error text. */
function goParseUint16(value: string): number {
  if (!/^[0-9]+$/.test(value))
    throw new Error(`strconv.ParseUint: parsing ${goQuote(value)}: invalid syntax`);
  if (BigInt(value) > 65535n)
    throw new Error(`strconv.ParseUint: parsing ${goQuote(value)}: value out of range`);
  return Number(value);
}

/**
 * Convert_url_Values_To_v1_PodPortForwardOptions: `ports` repeated or comma-separated (the Python client sends
 * `ports=80,8080`), each through runtime.Convert_Slice_string_To_Slice_int32 — a 400 with its message otherwise.
 */
export function decodePodPortForwardPorts(params: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const value of params.getAll('ports'))
    for (const p of value.split(',')) {
      try {
        ports.push(goParseUint16(p));
      } catch (e) {
        throw errors.badRequest(`cannot convert to []int32: ${(e as Error).message}`, { cause: e });
      }
    }
  return ports;
}

/**
 * The kubelet's portforward.NewV4Options for a WebSocket port-forward: every `port` value, comma-separated, as
 * 16-bit ports above 0. The message of the first bad value (the kubelet answers it with a 400), or the ports.
 */
export function parseKubeletForwardPorts(params: URLSearchParams): number[] | string {
  const values = params.getAll('port');
  if (values.length === 0) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') return 'query parameter "port" cannot be empty';
    for (const p of value.split(',')) {
      let port: number;
      try {
        port = goParseUint16(p);
      } catch (e) {
        return `unable to parse ${goQuote(value)} as a port: ${(e as Error).message}`;
      }
      if (port < 1) return `port ${goQuote(value)} must be > 0`;
      ports.push(port);
    }
  }
  return ports;
}
