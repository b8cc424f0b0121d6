import { describe, expect, it } from 'vitest';
import { goUnmarshalMapError } from './go-json.js';

const err = (text: string) => goUnmarshalMapError(Buffer.from(text));

describe("Go encoding/json's error for unmarshalling into map[string]interface{}", () => {
  it('accepts objects and null', () => {
    expect(err('{"auths":{"r.io":{"auth":"eA=="}}}')).toBeUndefined();
    expect(err(' {} ')).toBeUndefined();
    expect(err('null')).toBeUndefined();
    expect(err('{"n":-1.5e+3,"t":true,"f":false,"u":"\\u00e9\\n","a":[1,[],{}]}')).toBeUndefined();
  });

  it.each([
    ['', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
    ['{"a":-}', "invalid character '}' in numeric literal"],
    ['{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
    ['{"a":1e}', "invalid character '}' in exponent of numeric literal"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"a":"\t"}', "invalid character '\\t' in string literal"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
  ])('%j → %s', (text, message) => {
    expect(err(text)).toBe(message);
  });

  it('names the JSON type that is not an object', () => {
    expect(err('[]')).toBe('json: cannot unmarshal array into Go value of type map[string]interface {}');
    expect(err('"s"')).toBe('json: cannot unmarshal string into Go value of type map[string]interface {}');
    expect(err('12')).toBe('json: cannot unmarshal number into Go value of type map[string]interface {}');
    expect(err('true')).toBe('json: cannot unmarshal bool into Go value of type map[string]interface {}');
  });
});
