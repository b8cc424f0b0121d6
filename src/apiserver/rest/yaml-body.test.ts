import { LineCounter, parseDocument } from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/errors.js';
import {
  countJsonKeys,
  countParsedKeys,
  decodeYaml,
  findDuplicateKey,
  parseYamlAsJson,
  parseYamlBody,
} from './yaml-body.js';

function yamlMap(keys: number, repeat?: number): string {
  let s = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n';
  for (let i = 0; i < keys; i++) s += `  key-${i}: value-${i}\n`;
  if (repeat !== undefined) s += `  key-${repeat}: again\n`;
  return s;
}

function badRequest(text: string): ApiError {
  try {
    parseYamlBody(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('parsed without error');
}

afterEach(() => vi.restoreAllMocks());

describe('YAML request bodies', () => {
  it('refuse a repeated key with upstream strict decoding words, naming the key and its line', () => {
    const e = badRequest(yamlMap(3, 1));
    expect(e.code).toBe(400);
    expect(e.message).toBe(
      'error converting YAML to JSON: yaml: unmarshal errors:\n  line 9: key "key-1" already set in map',
    );
  });

  it('refuse keys that are equal once resolved, in nested and flow mappings too', () => {
    expect(badRequest('a:\n  b: {x: 1, y: 2, x: 3}\n').message).toContain('line 2: key "x" already set');
    expect(badRequest('1: a\n0x1: b\n').message).toContain('key 1 already set in map');
    // the same key in two different mappings is fine
    expect(parseYamlBody('a: {x: 1}\nb: {x: 2}\n')).toEqual({ a: { x: 1 }, b: { x: 2 } });
  });

  it('refuse a repeated key in JSON sent as YAML (what kubectl apply --server-side sends)', () => {
    const e = badRequest('{"metadata": {"name": "a"},\n "data": {"k": "1", "k": "2"}}');
    expect(e.message).toContain('key "k" already set in map');
  });

  it('still report syntax errors and more than one document as 400', () => {
    expect(badRequest('a: [1, 2\n').message).toMatch(/^error converting YAML to JSON: /);
    expect(badRequest('a: 1\n---\nb: 2\n').message).toContain('multiple documents');
  });

  it('read JSON the way YAML reads it, and JSON.parse it (with escapes, unicode, numbers, nesting)', () => {
    const texts = [
      '{"a": "x\\"y\\\\", "b": [1, 2.5, -3e2, true, null], "c": {"d": {}}, "e": "\\u00e9\\ud83d\\ude00"}',
      '  [ {"k": "v"}, [], "s" ]  ',
      '{"__proto__": {"polluted": 1}, "a:b": "c"}',
    ];
    for (const text of texts) {
      expect(parseYamlAsJson(text)).toBeDefined();
      expect(parseYamlBody(text)).toEqual(parseDocument(text).toJS());
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(parseYamlAsJson('a: 1')).toBeUndefined();
    expect(parseYamlAsJson('{"a": 1, "a": 2}')).toBeUndefined();
  });

  it('count JSON keys through strings that hold quotes, colons and backslashes', () => {
    const text = '{"a\\"": "b:\\\\", "c": ["d", "e:"], "f\\\\": {"g": "\\"h\\": 1"}}';
    expect(countJsonKeys(text)).toBe(4);
    expect(countParsedKeys(JSON.parse(text))).toBe(4);
  });

  it('check a 5,000-key mapping for duplicates with one lookup per key (the yaml package compared each key with all earlier ones)', () => {
    const text = yamlMap(5_000);
    const lines = new LineCounter();
    const doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines });
    const has = vi.spyOn(Set.prototype, 'has');
    expect(findDuplicateKey(doc, lines)).toBeUndefined();
    const lookups = has.mock.calls.length;
    has.mockRestore();
    // one per key of each mapping (5,000 + 4 + 1), whatever the visitor itself may look up besides
    expect(lookups).toBeGreaterThanOrEqual(5_005);
    expect(lookups).toBeLessThan(5_500);
    expect((decodeYaml(text) as { data: Record<string, string> }).data['key-4999']).toBe('value-4999');
  });
});
