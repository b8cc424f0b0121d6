// Query parameter decoding against upstream's behaviour and Go's error texts (values checked against
// apimachinery runtime/conversion.go, strconv, time.ParseDuration and time.Parse(RFC3339)).
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  decodePodLogOptions,
  decodeRequestQuery,
  decodeRequestTimeout,
  encodePodLogOptions,
  goParseDuration,
  goParseInt64,
  goParseRFC3339,
  goQuote,
  isPrettyPrint,
  isWatchQuery,
  queryBool,
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
    expect(decodeRequestQuery(q('force=True'), 'patch').options.force).toBe(true);
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
