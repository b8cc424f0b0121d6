// Decodes a YAML request body (application/yaml, application/apply-patch+yaml) in time linear in its size.
// The yaml package's own duplicate-key check compares every key with every earlier key of its map (30,000 keys:
// 25 s); we turn it off and reject duplicates as upstream's strict YAML decoder does, with one Map per mapping.
import type { Document, LineCounter } from 'yaml';
import { errors } from '../../api/errors.js';
import { yaml } from '../../util/lazy-yaml.js';

const YAML_OPTIONS = { maxAliasCount: 100 } as const;

/** upstream (sigs.k8s.io/yaml → go-yaml v2, strict): `line 8: key "name" already set in map` */
export function duplicateKeyError(line: number, key: unknown): Error {
  return new Error(`yaml: unmarshal errors:\n  line ${line}: key ${JSON.stringify(key)} already set in map`);
}

/**
 * The first key that appears twice in one mapping of the document, with its 1-based line, or undefined.
 * Keys compare by their resolved scalar value, as the yaml package's default check does (`1` and `0x1` clash);
 * collection keys never clash (the package compares them by identity).
 */
export function findDuplicateKey(
  doc: Document.Parsed,
  lines: LineCounter,
): { line: number; key: unknown } | undefined {
  const { isMap, isScalar, visit } = yaml();
  let found: { line: number; key: unknown } | undefined;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return undefined;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value: unknown = pair.key.value;
        if (seen.has(value)) {
          found = { line: lines.linePos(pair.key.range?.[0] ?? 0).line, key: value };
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return found;
}

/**
 * How many object keys the JSON text spells out: every string literal followed by a colon. Linear, and cheap
 * enough to run beside JSON.parse, which keeps only the last of duplicate keys.
 */
export function countJsonKeys(text: string): number {
  let keys = 0;
  const n = text.length;
  // indexOf scans natively: a character loop in JS took 80 ms per megabyte on a loaded machine
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && escaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) break;
    let next = close + 1;
    while (next < n) {
      const c = text.charCodeAt(next);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      next++;
    }
    if (text.charCodeAt(next) === 0x3a /* : */) keys++;
    open = text.indexOf('"', close + 1);
  }
  return keys;
}

/** whether the quote at `at` is escaped: an odd run of backslashes before it */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; i >= 0 && text.charCodeAt(i) === 0x5c; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** How many own keys the objects of a parsed JSON value hold, walked without recursion (bodies may nest deeply). */
export function countParsedKeys(value: unknown): number {
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    const record = v as Record<string, unknown>;
    for (const k in record) {
      keys++;
      stack.push(record[k]);
    }
  }
  return keys;
}

/**
 * kubectl's server-side apply sends JSON as application/apply-patch+yaml: JSON is YAML, and JSON.parse reads it
 * a hundred times faster. Undefined when the text is not JSON or repeats a key (the YAML path then says which).
 */
export function parseYamlAsJson(text: string): { value: unknown } | undefined {
  const value = jsonValueOf(text);
  return value && countJsonKeys(text) === countParsedKeys(value.value) ? value : undefined;
}

/** JSON.parse of a text that looks like JSON; undefined when it does not parse (the YAML path says why) */
export function jsonValueOf(text: string): { value: unknown } | undefined {
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The raw error for a YAML text, or its value; the message is what follows "error converting YAML to JSON: ". */
export function decodeYaml(text: string): unknown {
  const json = parseYamlAsJson(text);
  if (json) return json.value;
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length > 0) throw doc.errors[0];
  const duplicate = findDuplicateKey(doc, lines);
  if (duplicate) throw duplicateKeyError(duplicate.line, duplicate.key);
  return doc.toJS(YAML_OPTIONS) as unknown;
}

/** A YAML body as the apiserver reads it: a 400 naming where it broke or which key is repeated. */
export function parseYamlBody(text: string): unknown {
  try {
    return decodeYaml(text);
  } catch (e) {
    throw yamlBadRequest(e);
  }
}

export function yamlBadRequest(e: unknown): Error {
  return errors.badRequest(`error converting YAML to JSON: ${(e as Error).message}`, { cause: e });
}
