// Query parameter decoding against upstream's behaviour and Go's error texts (values checked against
// apimachinery runtime/conversion.go, strconv, time.ParseDuration and time.Parse(RFC3339)).
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  decodePodLogOptions,
  decodePodPortForwardPorts,
  decodePodStreamOptions,
  decodeRequestQuery,
  decodeRequestTimeout,
  encodePodLogOptions,
  goParseDuration,
  goParseInt64,
  goParseRFC3339,
  goQuote,
  isPrettyPrint,
  isWatchQuery,
  parseKubeletForwardPorts,
  queryBool,
  validateDeleteOptions,
  validatePodLogOptions,
} from './query-params.js';

function failure(fn: () => unknown): { code: number; message: string; reason: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return { code: e.code, message: e.message, reason: e.reason };
    throw e;
  }
  throw new Error('expected an ApiError');
}

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('booleans (runtime.Convert_Slice_string_To_bool)', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['1', true],
    ['t', true],
    ['', true],
    ['yes', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['0', false],
  ])('%j is %s', (value, expected) => {
    expect(queryBool(value)).toBe(expected);
  });

  it('sees a watch in the Python client\'s "watch=True" and a bare "?watch"', () => {
    expect(isWatchQuery(q('watch=True'))).toBe(true);
    expect(isWatchQuery(q('watch'))).toBe(true);
    expect(isWatchQuery(q('watch=false'))).toBe(false);
    expect(isWatchQuery(q('limit=5'))).toBe(false);
    // the first value wins, as Go's generated conversions take values[0]
    expect(isWatchQuery(q('watch=0&watch=1'))).toBe(false);
  });

  it('decodes every ListOptions boolean the same way', () => {
    const { options, watch } = decodeRequestQuery(
      q('watch=True&allowWatchBookmarks=True&sendInitialEvents=True&resourceVersionMatch=NotOlderThan'),
      'list',
    );
    expect(watch).toBe(true);
    expect(options).toMatchObject({
      allowWatchBookmarks: true,
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
    });
    expect(decodeRequestQuery(q('force=True&fieldManager=me'), 'patch', 'apply').options.force).toBe(true);
    expect(decodeRequestQuery(q('orphanDependents=False'), 'delete').options.orphanDependents).toBe(false);
  });
});

describe('integers (strconv.ParseInt base 10, 64 bits)', () => {
  it("accepts signs and rejects everything else with Go's text", () => {
    expect(goParseInt64('42')).toBe(42);
    expect(goParseInt64('+7')).toBe(7);
    expect(goParseInt64('-3')).toBe(-3);
    expect(failure(() => goParseInt64('abc'))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'strconv.ParseInt: parsing "abc": invalid syntax',
    });
    expect(failure(() => goParseInt64('1.5')).message).toBe(
      'strconv.ParseInt: parsing "1.5": invalid syntax',
    );
    expect(failure(() => goParseInt64('')).message).toBe('strconv.ParseInt: parsing "": invalid syntax');
    expect(failure(() => goParseInt64('1_000')).message).toBe(
      'strconv.ParseInt: parsing "1_000": invalid syntax',
    );
    expect(failure(() => goParseInt64('9223372036854775808')).message).toBe(
      'strconv.ParseInt: parsing "9223372036854775808": value out of range',
    );
  });

  it('is a 400 on the option that carries it, and only on verbs that read it', () => {
    expect(failure(() => decodeRequestQuery(q('limit=ten'), 'list')).message).toBe(
      'strconv.ParseInt: parsing "ten": invalid syntax',
    );
    expect(failure(() => decodeRequestQuery(q('timeoutSeconds=5s'), 'list')).message).toBe(
      'strconv.ParseInt: parsing "5s": invalid syntax',
    );
    expect(failure(() => decodeRequestQuery(q('gracePeriodSeconds=x'), 'delete')).message).toBe(
      'strconv.ParseInt: parsing "x": invalid syntax',
    );
    // CreateOptions has no limit: upstream never looks at it on a POST
    expect(decodeRequestQuery(q('limit=ten'), 'create').options).toEqual({});
  });

  it('quotes values as Go does', () => {
    expect(goQuote('a"b\\c\n\x01é')).toBe('"a\\"b\\\\c\\n\\x01é"');
  });
});

describe('ListOptions validation (ValidateListOptions)', () => {
  it('forbids resourceVersionMatch without resourceVersion on a list, as a 422 on ListOptions', () => {
    const f = failure(() => decodeRequestQuery(q('resourceVersionMatch=Exact'), 'list'));
    expect(f.code).toBe(422);
    expect(f.message).toBe(
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
  });

  it('names the supported values of resourceVersionMatch', () => {
    expect(
      failure(() => decodeRequestQuery(q('resourceVersion=5&resourceVersionMatch=Newest'), 'list')).message,
    ).toBe(
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
    );
  });

  it('allows the watch-list form client-go sends and forbids sendInitialEvents on a list', () => {
    expect(
      decodeRequestQuery(
        q('watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true'),
        'list',
      ).watch,
    ).toBe(true);
    expect(failure(() => decodeRequestQuery(q('sendInitialEvents=true'), 'list')).message).toBe(
      'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list',
    );
  });
});

describe('durations (time.ParseDuration) and ?timeout=', () => {
  it.each([
    ['32s', 32_000],
    ['1.5h', 5_400_000],
    ['1m30s', 90_000],
    ['-2ms', -2],
    ['0', 0],
    ['250us', 0.25],
  ])('%s is %d ms', (value, ms) => {
    expect(goParseDuration(value)).toBeCloseTo(ms, 6);
  });

  it.each([
    ['abc', 'time: invalid duration "abc"'],
    ['', 'time: invalid duration ""'],
    ['5', 'time: missing unit in duration "5"'],
    ['5x', 'time: unknown unit "x" in duration "5x"'],
    ['.s', 'time: invalid duration ".s"'],
  ])('%j fails: %s', (value, message) => {
    expect(failure(() => goParseDuration(value)).message).toBe(message);
  });

  it("reports a bad ?timeout= with the request-deadline filter's words", () => {
    expect(decodeRequestTimeout(q('timeout=32s'))).toBe(32_000);
    expect(decodeRequestTimeout(q('timeout='))).toBeUndefined();
    expect(failure(() => decodeRequestTimeout(q('timeout=soon')))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'invalid timeout specified in the request URL - time: invalid duration "soon"',
    });
  });
});

describe('times (time.Parse RFC3339)', () => {
  it('parses offsets and fractions', () => {
    expect(goParseRFC3339('2024-02-29T10:00:00Z').toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(goParseRFC3339('2024-02-29T10:00:00.25+02:00').toISOString()).toBe('2024-02-29T08:00:00.250Z');
  });

  it.each([
    [
      'yesterday',
      'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
    ],
    ['2024-01-01', 'parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"'],
    [
      '2024-01-01 10:00:00Z',
      'parsing time "2024-01-01 10:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 10:00:00Z" as "T"',
    ],
    [
      '2024-01-01T10:00:00',
      'parsing time "2024-01-01T10:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"',
    ],
    ['2024-13-01T10:00:00Z', 'parsing time "2024-13-01T10:00:00Z": month out of range'],
    ['2023-02-29T10:00:00Z', 'parsing time "2023-02-29T10:00:00Z": day out of range'],
    ['2024-01-01T10:00:00Zjunk', 'parsing time "2024-01-01T10:00:00Zjunk": extra text: "junk"'],
  ])('%j fails: %s', (value, message) => {
    expect(failure(() => goParseRFC3339(value)).message).toBe(message);
  });
});

describe('PodLogOptions', () => {
  it('decodes what kubectl and the Python client send, and re-encodes it for the kubelet', () => {
    const o = decodePodLogOptions(
      q('container=c&follow=True&timestamps=1&tailLines=10&sinceTime=2024-01-01T00:00:00Z&previous=false'),
    );
    expect(o).toEqual({
      container: 'c',
      follow: true,
      timestamps: true,
      previous: false,
      tailLines: 10,
      sinceTime: new Date('2024-01-01T00:00:00Z'),
    });
    expect(encodePodLogOptions(o).toString()).toBe(
      'follow=true&previous=false&sinceTime=2024-01-01T00%3A00%3A00Z&timestamps=true&tailLines=10',
    );
    expect(decodePodLogOptions(q('sinceTime=null'))).toEqual({});
  });

  it('is a 400 on a malformed value and a 422 on an invalid one', () => {
    expect(failure(() => decodePodLogOptions(q('tailLines=all'))).message).toBe(
      'strconv.ParseInt: parsing "all": invalid syntax',
    );
    const f = failure(() =>
      validatePodLogOptions(decodePodLogOptions(q('tailLines=-1&limitBytes=0')), 'web'),
    );
    expect(f.code).toBe(422);
    expect(f.message).toBe(
      'PodLogOptions "web" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]',
    );
    expect(
      failure(() =>
        validatePodLogOptions(decodePodLogOptions(q('sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z')), 'web'),
      ).message,
    ).toBe(
      'PodLogOptions "web" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    );
  });
});

describe('pretty', () => {
  it('follows ?pretty= through strconv.ParseBool, else the User-Agent', () => {
    expect(isPrettyPrint(q('pretty=true'), 'kubectl/v1.33')).toBe(true);
    expect(isPrettyPrint(q('pretty=T'), undefined)).toBe(true);
    expect(isPrettyPrint(q('pretty=false'), 'curl/8.0')).toBe(false);
    expect(isPrettyPrint(q('pretty=maybe'), 'curl/8.0')).toBe(false);
    expect(isPrettyPrint(q(''), 'curl/8.0')).toBe(true);
    expect(isPrettyPrint(q(''), 'OpenAPI-Generator/22.6.0/python')).toBe(false);
  });
});

describe('PodExecOptions / PodAttachOptions', () => {
  it('reads the Python client\'s "True"/"False", the first container and every command in order', () => {
    expect(
      decodePodStreamOptions(
        q(
          'command=sh&command=-c&command=echo%20hi&container=c&container=d&stderr=True&stdin=False&stdout=True&tty=False',
        ),
      ),
    ).toEqual({
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
      container: 'c',
      command: ['sh', '-c', 'echo hi'],
    });
    // client-node's and kubectl's forms; an empty value is true as for every query boolean
    expect(decodePodStreamOptions(q('stdout=true&stdin=1&tty=&stderr=0'))).toEqual({
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
      command: [],
    });
  });
});

describe('PodPortForwardOptions', () => {
  it('takes ports repeated or comma-separated (runtime.Convert_Slice_string_To_Slice_int32)', () => {
    expect(decodePodPortForwardPorts(q('ports=80,8080&ports=9090'))).toEqual([80, 8080, 9090]);
    expect(decodePodPortForwardPorts(q(''))).toEqual([]);
  });

  it.each([
    ['ports=http', 'cannot convert to []int32: strconv.ParseUint: parsing "http": invalid syntax'],
    ['ports=70000', 'cannot convert to []int32: strconv.ParseUint: parsing "70000": value out of range'],
    ['ports=80,', 'cannot convert to []int32: strconv.ParseUint: parsing "": invalid syntax'],
    ['ports=-1', 'cannot convert to []int32: strconv.ParseUint: parsing "-1": invalid syntax'],
  ])('%s is a 400: %s', (query, message) => {
    expect(failure(() => decodePodPortForwardPorts(q(query)))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message,
    });
  });

  it("checks the kubelet's port query as portforward.NewV4Options does", () => {
    expect(parseKubeletForwardPorts(q('port=80,8080&port=9090'))).toEqual([80, 8080, 9090]);
    expect(parseKubeletForwardPorts(q(''))).toBe('query parameter "port" is required');
    expect(parseKubeletForwardPorts(q('port='))).toBe('query parameter "port" cannot be empty');
    expect(parseKubeletForwardPorts(q('port=80,x'))).toBe(
      'unable to parse "80,x" as a port: strconv.ParseUint: parsing "x": invalid syntax',
    );
    expect(parseKubeletForwardPorts(q('port=0'))).toBe('port "0" must be > 0');
  });
});

describe('Create/Update/PatchOptions validation (ValidateCreateOptions, ValidatePatchOptions)', () => {
  it('accepts only dryRun=All, printing the values as Go does', () => {
    expect(decodeRequestQuery(q('dryRun=All'), 'create').options.dryRun).toBe(true);
    const f = failure(() => decodeRequestQuery(q('dryRun=true'), 'create'));
    expect(f.code).toBe(422);
    expect(f.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"',
    );
    expect(failure(() => decodeRequestQuery(q('dryRun=All&dryRun=server'), 'update')).message).toBe(
      'UpdateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "server"}: supported values: "All"',
    );
  });

  it('takes fieldValidation exactly as spelled upstream', () => {
    expect(decodeRequestQuery(q('fieldValidation=Strict'), 'update').options.fieldValidation).toBe('Strict');
    expect(decodeRequestQuery(q('fieldValidation='), 'create').options.fieldValidation).toBeUndefined();
    const f = failure(() => decodeRequestQuery(q('fieldValidation=strict'), 'create'));
    expect(f.code).toBe(422);
    expect(f.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
    );
  });

  it('forbids force on a non-apply patch and requires a field manager for apply, with the other errors', () => {
    expect(decodeRequestQuery(q('force=true&fieldManager=me'), 'patch', 'apply').options.force).toBe(true);
    expect(failure(() => decodeRequestQuery(q('force=false'), 'patch', 'merge')).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    expect(failure(() => decodeRequestQuery(q('dryRun=1'), 'patch', 'apply')).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: [fieldManager: Required value: is required for apply patch, dryRun: Unsupported value: []string{"1"}: supported values: "All"]',
    );
  });
});

describe('DeleteOptions validation (ValidateDeleteOptions)', () => {
  it('names the supported propagation policies, nil among them, as a 422 on DeleteOptions', () => {
    const f = failure(() => validateDeleteOptions({ propagationPolicy: 'Bogus' as 'Orphan' }, []));
    expect(f.code).toBe(422);
    expect(f.message).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Bogus": supported values: "Foreground", "Background", "Orphan", "nil"',
    );
  });

  it('refuses orphanDependents with a propagationPolicy, and a dryRun other than All', () => {
    expect(
      failure(() =>
        validateDeleteOptions({ orphanDependents: false, propagationPolicy: 'Foreground' }, ['x']),
      ).message,
    ).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: [propagationPolicy: Invalid value: "Foreground": orphanDependents and deletionPropagation cannot be both set, dryRun: Unsupported value: []string{"x"}: supported values: "All"]',
    );
    expect(() => validateDeleteOptions({ propagationPolicy: 'Background' }, ['All'])).not.toThrow();
  });
});
