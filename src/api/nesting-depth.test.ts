import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonNestingError, valueNestingError, yamlNestingError } from './nesting-depth.js';

const bytes = (s: string): Buffer => Buffer.from(s);

/** how deeply a value nests arrays and objects (a scalar is 0) */
function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

describe('nesting depth', () => {
  it('JSON: the bracket that opens one level too many, as encoding/json words it', () => {
    expect(jsonNestingError(bytes('[[[]]]'), 3)).toBeUndefined();
    expect(jsonNestingError(bytes('[[{"a":[]}]]'), 3)).toBe("invalid character '[' exceeded max depth of 3");
    expect(jsonNestingError(bytes('{"a":{"b":{"c":{}}}}'), 3)).toBe(
      "invalid character '{' exceeded max depth of 3",
    );
    // brackets inside strings, escaped quotes included, do not count
    expect(jsonNestingError(bytes('{"a":"[[[[\\"{{{{"}'), 1)).toBeUndefined();
    expect(jsonNestingError(bytes('['.repeat(3_000_000)))).toBe(
      "invalid character '[' exceeded max depth of 512",
    );
  });

  it('YAML: block, compact, flow, quoted and block-scalar text', () => {
    expect(yamlNestingError(bytes('a:\n  b:\n    c: 1\n'), 3)).toBeUndefined();
    expect(yamlNestingError(bytes('a:\n  b:\n    c:\n      d: 1\n'), 3)).toBe(
      'yaml: line 4: exceeded max depth of 3',
    );
    // a sequence at its parent key's column is still a level deeper
    expect(yamlNestingError(bytes('a:\n- b:\n  - c\n'), 4)).toBeUndefined();
    expect(yamlNestingError(bytes('a:\n- b:\n  - - c\n'), 4)).toBe('yaml: line 3: exceeded max depth of 4');
    expect(yamlNestingError(bytes('- - - - x\n'), 3)).toBe('yaml: exceeded max depth of 3');
    expect(yamlNestingError(bytes('a: [[{b: [1]}]]\n'), 4)).toBe('yaml: exceeded max depth of 4');
    expect(yamlNestingError(bytes('a: "[[[[[[" # {{{{{{\nb: it\'s [not {flow\n'), 2)).toBeUndefined();
    expect(yamlNestingError(bytes('script: |\n  [[[[[[\n     {{{{{\n  "\nnext: 1\n'), 1)).toBeUndefined();
    expect(yamlNestingError(bytes('- '.repeat(1_500_000)))).toBe('yaml: exceeded max depth of 512');
    // a comma in a block-context plain scalar is text: the quote after it opens nothing (found by the property below)
    expect(yamlNestingError(bytes('-, ": A\n" ": {}\n'), 1)).toBe('yaml: line 2: exceeded max depth of 1');
  });

  it('counts exactly what the yaml library and JSON.stringify write, for any value', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 6 }), (value, max) => {
        const tooDeep = depthOf(value) > max;
        expect(jsonNestingError(bytes(JSON.stringify(value)), max) !== undefined).toBe(tooDeep);
        expect(valueNestingError(value, max) !== undefined).toBe(tooDeep);
        for (const text of [
          stringify(value),
          stringify(value, { collectionStyle: 'flow' }),
          JSON.stringify(value),
        ])
          expect(yamlNestingError(bytes(text), max) !== undefined, text).toBe(tooDeep);
      }),
      { numRuns: 2000 },
    );
  });

  it('a parsed value of any depth is measured without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(valueNestingError(deep)).toBe("invalid character '[' exceeded max depth of 512");
  });
});
