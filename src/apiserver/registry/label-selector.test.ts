// Upstream's labels/selector_test.go, ported table by table, then the messages labels.Parse gives and the
// apiserver's 400 for `?labelSelector=`, and the field selector's per-kind words.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import {
  Context,
  EVERYTHING,
  Lexer,
  makeSelector,
  newRequirement,
  parseSelector,
  Parser,
  Token,
  type LabelOperator,
  type LabelRequirement,
  type LabelSelector,
} from './label-selector.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';

function parse(s: string): LabelSelector {
  const sel = parseSelector(s);
  if (sel instanceof Error) throw sel;
  return sel;
}
const req = (key: string, op: LabelOperator, values: string[] = []): LabelRequirement =>
  newRequirement(key, op, [...values].sort());
const valid = (key: string, op: LabelOperator, values: string[] = []): boolean => {
  try {
    newRequirement(key, op, values);
    return true;
  } catch {
    return false;
  }
};

describe('labels.Parse (selector_test.go)', () => {
  it('TestSelectorParse: good strings print back without their spaces, bad ones fail', () => {
    for (const s of ['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5'])
      expect(parse(s).string(), s).toBe(s.replaceAll(' ', ''));
    for (const s of ['x=a||y=b', 'x==a==b', '!x=a', 'x<a']) expect(parseSelector(s), s).toBeInstanceOf(Error);
  });

  it('TestDeterministicParse', () => {
    expect(parse('x=a,a=x').string()).toBe(parse('a=x,x=a').string());
  });

  it('TestSelectorMatches', () => {
    const yes: [string, Record<string, string>][] = [
      ['', { x: 'y' }],
      ['x=y', { x: 'y' }],
      ['x=y,z=w', { x: 'y', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'a' }],
      ['notin=in', { notin: 'in' }],
      ['x', { x: 'z' }],
      ['!x', { y: 'z' }],
      ['x>1', { x: '2' }],
      ['x<1', { x: '0' }],
      ['foo=bar', { foo: 'bar', baz: 'blah' }],
      ['baz=blah', { foo: 'bar', baz: 'blah' }],
      ['foo=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
    ];
    const no: [string, Record<string, string>][] = [
      ['x=z', {}],
      ['x=y', { x: 'z' }],
      ['x=y,z=w', { x: 'w', z: 'w' }],
      ['x!=y,z!=w', { x: 'z', z: 'w' }],
      ['x', { y: 'z' }],
      ['!x', { x: 'z' }],
      ['x>1', { x: '0' }],
      ['x<1', { x: '2' }],
      ['foo=blah', { foo: 'bar', baz: 'blah' }],
      ['baz=bar', { foo: 'bar', baz: 'blah' }],
      ['foo=bar,foobar=bar,baz=blah', { foo: 'bar', baz: 'blah' }],
    ];
    for (const [s, l] of yes) expect(parse(s).matches(l), `${s} ${JSON.stringify(l)}`).toBe(true);
    for (const [s, l] of no) expect(parse(s).matches(l), `${s} ${JSON.stringify(l)}`).toBe(false);
  });

  it('TestEverything', () => {
    expect(EVERYTHING.matches({ x: 'y' })).toBe(true);
    expect(EVERYTHING.requirements).toHaveLength(0);
  });

  it('TestLexer: one token each, the longest operator', () => {
    const cases: [string, Token][] = [
      ['', Token.EndOfString],
      [',', Token.Comma],
      ['notin', Token.NotIn],
      ['in', Token.In],
      ['=', Token.Equals],
      ['==', Token.DoubleEquals],
      ['>', Token.GreaterThan],
      ['<', Token.LessThan],
      ['!', Token.DoesNotExist],
      ['!=', Token.NotEquals],
      ['(', Token.OpenPar],
      [')', Token.ClosedPar],
      ['~', Token.Identifier],
      ['||', Token.Identifier],
    ];
    for (const [s, t] of cases) expect(new Lexer(s).lex(), s).toEqual({ tok: t, literal: s });
  });

  const T = Token;
  const sequences: [string, Token[]][] = [
    ['key in ( value )', [T.Identifier, T.In, T.OpenPar, T.Identifier, T.ClosedPar]],
    ['key notin ( value )', [T.Identifier, T.NotIn, T.OpenPar, T.Identifier, T.ClosedPar]],
    [
      'key in ( value1, value2 )',
      [T.Identifier, T.In, T.OpenPar, T.Identifier, T.Comma, T.Identifier, T.ClosedPar],
    ],
    ['key', [T.Identifier]],
    ['!key', [T.DoesNotExist, T.Identifier]],
    ['()', [T.OpenPar, T.ClosedPar]],
    ['x in (),y', [T.Identifier, T.In, T.OpenPar, T.ClosedPar, T.Comma, T.Identifier]],
    ['== != (), = notin', [T.DoubleEquals, T.NotEquals, T.OpenPar, T.ClosedPar, T.Comma, T.Equals, T.NotIn]],
    ['key>2', [T.Identifier, T.GreaterThan, T.Identifier]],
    ['key<1', [T.Identifier, T.LessThan, T.Identifier]],
  ];

  it('TestLexerSequence', () => {
    for (const [s, want] of sequences) {
      const lexer = new Lexer(s);
      const got: Token[] = [];
      for (let item = lexer.lex(); item.tok !== T.EndOfString; item = lexer.lex()) got.push(item.tok);
      expect(got, s).toEqual(want);
    }
  });

  it('TestParserLookahead: lookahead and consume agree, EndOfString last', () => {
    for (const [s, want] of [...sequences, ['', []] as [string, Token[]]]) {
      const p = new Parser(s);
      expect(
        p.scanned().map((i) => i.tok),
        s,
      ).toEqual([...want, T.EndOfString]);
      for (;;) {
        const a = p.lookahead(Context.KeyAndOperator);
        const b = p.consume(Context.KeyAndOperator);
        if (a.tok === T.EndOfString) break;
        expect(b).toEqual(a);
      }
    }
  });

  it('TestRequirementConstructor', () => {
    const cases: [string, LabelOperator, string[], boolean][] = [
      ['x', 'in', [], false],
      ['x', 'notin', [], false],
      ['x', 'in', ['foo'], true],
      ['x', 'notin', ['foo'], true],
      ['x', 'exists', [], true],
      ['x', '!', [], true],
      ['1foo', 'in', ['bar'], true],
      ['1234', 'in', ['bar'], true],
      ['y', 'gt', ['1'], true],
      ['z', 'lt', ['6'], true],
      ['foo', 'gt', ['bar'], false],
      ['barz', 'lt', ['blah'], false],
      ['a'.repeat(254), 'exists', [], false],
    ];
    for (const [key, op, values, ok] of cases)
      expect(valid(key, op, values), `${key} ${op} ${values.join(',')}`).toBe(ok);
  });

  it('TestToString', () => {
    const cases: [LabelRequirement[], string][] = [
      [
        [req('x', 'in', ['abc', 'def']), req('y', 'notin', ['jkl']), req('z', 'exists')],
        'x in (abc,def),y notin (jkl),z',
      ],
      [
        [req('x', 'notin', ['abc', 'def']), req('y', '!=', ['jkl']), req('z', '!')],
        'x notin (abc,def),y!=jkl,!z',
      ],
      [
        [req('x', 'notin', ['abc']), req('y', 'in', ['jkl', 'mno']), req('z', 'notin', [''])],
        'x notin (abc),y in (jkl,mno),z notin ()',
      ],
      [
        [req('x', '=', ['abc']), req('y', '==', ['jkl']), req('z', '!=', ['a']), req('z', 'exists')],
        'x=abc,y==jkl,z!=a,z',
      ],
      [[req('x', 'gt', ['2']), req('y', 'lt', ['8']), req('z', 'exists')], 'x>2,y<8,z'],
    ];
    for (const [reqs, want] of cases) expect(makeSelector(reqs).string()).toBe(want);
  });

  it('TestRequirementSelectorMatching', () => {
    const cases: [Record<string, string>, LabelRequirement[], boolean][] = [
      [{ x: 'foo', y: 'baz' }, [req('x', 'in', ['foo']), req('y', 'notin', ['alpha'])], true],
      [{ x: 'foo', y: 'baz' }, [req('x', 'in', ['foo']), req('y', 'in', ['alpha'])], false],
      [{ y: '' }, [req('x', 'notin', ['']), req('y', 'exists')], true],
      [{ y: '' }, [req('x', '!'), req('y', 'exists')], true],
      [{ y: '' }, [req('x', 'notin', ['']), req('y', '!')], false],
      [{ y: 'baz' }, [req('x', 'in', [''])], false],
      [{ z: '2' }, [req('z', 'gt', ['1'])], true],
      [{ z: 'v2' }, [req('z', 'gt', ['1'])], false],
    ];
    for (const [labels, reqs, want] of cases) expect(makeSelector(reqs).matches(labels)).toBe(want);
  });

  it('TestSetSelectorParser', () => {
    // [input, the requirements it parses to (or undefined when not compared), valid]
    const cases: [string, LabelRequirement[] | undefined, boolean][] = [
      ['', [], true],
      ['\rx', [req('x', 'exists')], true],
      [
        'this-is-a-dns.domain.com/key-with-dash',
        [req('this-is-a-dns.domain.com/key-with-dash', 'exists')],
        true,
      ],
      [
        'this-is-another-dns.domain.com/key-with-dash in (so,what)',
        [req('this-is-another-dns.domain.com/key-with-dash', 'in', ['so', 'what'])],
        true,
      ],
      [
        '0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)',
        [req('0.1.2.domain/99', 'notin', ['10.10.100.1', 'tick.tack.clock'])],
        true,
      ],
      ['foo  in\t (abc)', [req('foo', 'in', ['abc'])], true],
      ['x notin\n (abc)', [req('x', 'notin', ['abc'])], true],
      ['x  notin\t\t\t(abc,def)', [req('x', 'notin', ['abc', 'def'])], true],
      ['x in (abc,def)', [req('x', 'in', ['abc', 'def'])], true],
      ['x in (abc,)', [req('x', 'in', ['abc', ''])], true],
      ['x in ()', [req('x', 'in', [''])], true],
      [
        'x notin (abc,,def),bar,z in (),w',
        [
          req('bar', 'exists'),
          req('w', 'exists'),
          req('x', 'notin', ['abc', '', 'def']),
          req('z', 'in', ['']),
        ],
        true,
      ],
      ['x,y in (a)', undefined, true],
      ['x=a', [req('x', '=', ['a'])], true],
      ['x>1', [req('x', 'gt', ['1'])], true],
      ['x<7', [req('x', 'lt', ['7'])], true],
      ['x=a,y!=b', [req('x', '=', ['a']), req('y', '!=', ['b'])], true],
      [
        'x=a,y!=b,z in (h,i,j)',
        [req('x', '=', ['a']), req('y', '!=', ['b']), req('z', 'in', ['h', 'i', 'j'])],
        true,
      ],
      ['x=a||y=b', undefined, false],
      ['x,y', undefined, true],
      [',x,y', undefined, false],
      ['x nott in (y)', undefined, false],
      ['x notin ( )', [req('x', 'notin', [''])], true],
      ['x notin (, a)', [req('x', 'notin', ['', 'a'])], true],
      ['a in (xyz),', undefined, false],
      ['a in (xyz)b notin ()', undefined, false],
      ['a ', [req('a', 'exists')], true],
      ['a in (x,y,notin, z,in)', [req('a', 'in', ['in', 'notin', 'x', 'y', 'z'])], true],
      ['a in (xyz abc)', undefined, false],
      ['a notin(', undefined, false],
      ['a (', undefined, false],
      ['(', undefined, false],
    ];
    for (const [input, want, ok] of cases) {
      const got = parseSelector(input);
      expect(
        got instanceof Error,
        `${JSON.stringify(input)}: ${String(got instanceof Error && got.message)}`,
      ).toBe(!ok);
      if (want && !(got instanceof Error)) expect(got.requirements, JSON.stringify(input)).toEqual(want);
    }
  });
});

describe("labels.Parse's messages, as the apiserver's 400 for ?labelSelector=", () => {
  const message = (s: string): string => {
    try {
      parseLabelSelector(s);
    } catch (e) {
      if (e instanceof ApiError) return `${e.code} ${e.message}`;
    }
    return 'no ApiError';
  };
  const NAME_PART =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

  it('a bad key is an Invalid value at the parser\'s nil path, "<nil>"', () => {
    expect(message('app:monolith')).toBe(
      `400 unable to parse requirement: <nil>: Invalid value: "app:monolith": ${NAME_PART}`,
    );
    expect(message('app.kubernetes_io/name=x')).toBe(
      "400 unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  });

  it('a bad value is an Invalid value at values[i][key]', () => {
    expect(message('app=a b')).toBe("400 found 'b', expected: ',' or 'end of string'");
    expect(message('app in (ok,-bad)')).toBe(
      "400 unable to parse requirement: values[0][app]: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
    expect(message(`app=${'v'.repeat(64)}`)).toBe(
      `400 unable to parse requirement: values[0][app]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    );
  });

  it('Gt and Lt want an integer', () => {
    expect(message('x<a')).toBe(
      "400 unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
    );
    expect(message('x>-1')).toContain(
      '400 unable to parse requirement: values[0][x]: Invalid value: "-1": a valid label',
    );
  });

  it('syntax errors name the token found and what was expected', () => {
    expect(message('a in b')).toBe("400 unable to parse requirement: found 'b' expected: '('");
    expect(message('a (')).toBe(
      "400 unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt",
    );
    expect(message('a in (xyz abc)')).toBe(
      "400 unable to parse requirement: found 'abc', expected: ',' or ')'",
    );
    expect(message('x=a,')).toBe("400 found '', expected: identifier after ','");
    expect(message(',x')).toBe("400 found ',', expected: !, identifier, or 'end of string'");
    expect(message('!x=a')).toBe("400 found '=', expected: ',' or 'end of string'");
    expect(message('!')).toBe("400 unable to parse requirement: found '', expected: identifier");
    expect(message('x==a==b')).toBe("400 found '==', expected: ',' or 'end of string'");
    expect(message('a notin(')).toBe(
      "400 unable to parse requirement: found '', expected: ',', ')' or identifier",
    );
    expect(message('a in (x,=)')).toBe(
      "400 unable to parse requirement: found '=', expected: ',', or identifier",
    );
  });

  it('an empty or blank selector selects everything', () => {
    expect(parseLabelSelector('').requirements).toEqual([]);
    expect(parseLabelSelector(' \t').requirements).toEqual([]);
  });
});

describe("field selectors: each kind's conversion function's words", () => {
  const message = (s: string, resource: string): string => {
    try {
      parseFieldSelector(s, resource);
    } catch (e) {
      if (e instanceof ApiError) return `${e.code} ${e.message}`;
    }
    return 'no ApiError';
  };

  it('kinds without a conversion function accept metadata.name and metadata.namespace only', () => {
    expect(message('spec.replicas=1', 'deployments')).toBe(
      '400 "spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
    // apps/v1 registers no field label conversion for ReplicaSet
    expect(message('status.replicas=1', 'replicasets')).toBe(
      '400 "status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
    expect(message('metadata.namespace=default', 'configmaps')).toBe('no ApiError');
  });

  it('kinds with one answer in its words', () => {
    expect(message('spec.bogus=1', 'pods')).toBe('400 field label not supported: spec.bogus');
    expect(message('status.active=1', 'jobs')).toBe('400 field label "status.active" not supported for Job');
    expect(message('metadata.namespace=x', 'nodes')).toBe(
      '400 field label not supported: metadata.namespace',
    );
    expect(message('metadata.namespace=x', 'namespaces')).toBe(
      '400 field label not supported: metadata.namespace',
    );
    expect(message('status.phase=Active', 'namespaces')).toBe('no ApiError');
    expect(message('spec.signerName=x', 'certificatesigningrequests')).toBe('no ApiError');
  });
});
