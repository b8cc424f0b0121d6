// How deeply a request body may nest, checked before any parser or recursive walk (patches, apply, validation)
// sees it. Upstream's decoders stop at 10,000 levels (encoding/json's scanner, go-yaml's max_flow_level and
// max_indents); kubemu's own parsers and walkers recurse on Node's ~1 MB stack, which runs out between roughly 800
// (the yaml library) and 4,000 (JSON.stringify) levels, so kubemu stops at 512 with upstream's wording.

/** the deepest nesting of arrays and objects a body, or a free-form field of a stored object, may have */
export const MAX_NESTING_DEPTH = 512;

/**
 * encoding/json's scanner error for the `[` or `{` that opens one level too many, with the limit spelled out
 * (`invalid character '[' exceeded max depth of 512`), or undefined when the JSON text nests within `max`.
 * Linear in the text and allocation-free; it does not validate the JSON (JSON.parse does that after it).
 */
export function jsonNestingError(text: Uint8Array, max = MAX_NESTING_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return `invalid character '${String.fromCharCode(c)}' exceeded max depth of ${max}`;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return undefined;
}

/**
 * go-yaml's error for a document that nests deeper than `max` (`yaml: line 7: exceeded max depth of 512`; go-yaml
 * leaves the line out on the first line), or undefined. Block collections are followed by their entries'
 * indentation (a `- ` entry or a `key:`), flow collections by brackets outside quotes, comments and block scalars.
 * One pass over the text; it does not validate the YAML (the parser does that after it).
 */
export function yamlNestingError(text: Uint8Array, max = MAX_NESTING_DEPTH): string | undefined {
  /** the open block collections: the column of their entries, and whether they are sequences */
  const blocks: { indent: number; seq: boolean }[] = [];
  let flow = 0;
  let quote = 0;
  let line = 1;
  /** the indentation of the line that opened a block scalar (`|`, `>`): deeper lines are its text */
  let blockScalarOf = -1;
  const fail = (): string => `yaml: ${line > 1 ? `line ${line}: ` : ''}exceeded max depth of ${max}`;
  for (let i = 0; i < text.length; line++) {
    let indent = 0;
    while (at(text, i + indent) === SPACE) indent++;
    let j = i + indent;
    const blank = j >= text.length || at(text, j) === NEWLINE || at(text, j) === HASH;
    if (blockScalarOf >= 0 && (blank || indent > blockScalarOf)) {
      i = lineEnd(text, j) + 1;
      continue;
    }
    blockScalarOf = -1;
    /** block context: entries on this line open or continue block collections */
    const block = flow === 0 && quote === 0 && !blank;
    let dashes = 0;
    if (block) {
      while (blocks.length && blocks[blocks.length - 1].indent > indent) blocks.pop();
      while (isEntryIndicator(text, j)) {
        const top = blocks[blocks.length - 1];
        // a sequence may sit at its parent key's own column: it is still one level deeper
        if (dashes > 0 || !top || top.indent < j - i || !top.seq) blocks.push({ indent: j - i, seq: true });
        if (blocks.length > max) return fail();
        dashes++;
        j += 1;
        while (at(text, j) === SPACE) j++;
      }
    }
    let keyed = !block;
    /** where the line's first scalar (a key, if a `:` follows it) begins */
    let keyColumn = -1;
    // the rest of the line; `last` is its last significant character, where a scalar may begin after : - ? , [ {
    let last = NEWLINE;
    for (; j < text.length; j++) {
      const c = at(text, j);
      if (c === NEWLINE) break;
      if (quote !== 0) {
        if (quote === DOUBLE_QUOTE && c === BACKSLASH) j++;
        else if (c === quote) {
          // '' inside a single-quoted scalar is an escaped quote
          if (quote === SINGLE_QUOTE && at(text, j + 1) === SINGLE_QUOTE) j++;
          else quote = 0;
        }
        last = c;
        continue;
      }
      if (c === SPACE || c === TAB) continue;
      if (keyColumn < 0) keyColumn = j;
      if ((CLASS[c] & SPECIAL) === 0) {
        last = PLAIN;
        continue;
      }
      if (c === HASH && isSpace(at(text, j - 1))) {
        j = lineEnd(text, j);
        break;
      }
      const scalarStart =
        (CLASS[last] & SCALAR_START) !== 0 && (last === NEWLINE || isSpace(at(text, j - 1)) || flow > 0);
      if (c === COLON && flow === 0 && !keyed && isSpace(at(text, j + 1))) {
        // the line's first `key:` is an entry of a mapping at the key's column
        keyed = true;
        const column = keyColumn - i;
        const top = blocks[blocks.length - 1];
        if (top && top.indent === column && top.seq) blocks.pop();
        const parent = blocks[blocks.length - 1];
        if (!parent || parent.indent < column) blocks.push({ indent: column, seq: false });
        if (blocks.length > max) return fail();
      } else if ((c === DOUBLE_QUOTE || c === SINGLE_QUOTE) && scalarStart) quote = c;
      else if ((c === OPEN_BRACKET || c === OPEN_BRACE) && (scalarStart || flow > 0)) {
        if (blocks.length + ++flow > max) return fail();
      } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && flow > 0) flow--;
      else if ((c === PIPE || c === GREATER) && scalarStart && flow === 0) blockScalarOf = indent;
      last = isIndicator(c, last, at(text, j + 1), flow > 0) ? c : PLAIN;
    }
    i = j + 1;
  }
  return undefined;
}

/**
 * Whether `c` is a structural character rather than part of a plain scalar: `-`, `?` and `:` only before a space,
 * except a `:` right after a quoted or bracketed flow key (`{"a":1}`); `,` only inside a flow collection (in block
 * context `-, "` is one plain scalar, and the quote after its comma starts no quoted one).
 */
function isIndicator(c: number, last: number, next: number, inFlow: boolean): boolean {
  if (c === DASH || c === QUESTION) return isSpace(next);
  if (c === COMMA) return inFlow;
  if (c === COLON) return isSpace(next) || (inFlow && (CLASS[last] & JSON_KEY_END) !== 0);
  return (CLASS[c] & STRUCTURAL) !== 0;
}

/** `- ` or `? ` (or a lone `-` ending the line): a block sequence entry or an explicit key */
function isEntryIndicator(text: Uint8Array, i: number): boolean {
  const c = at(text, i);
  return (c === DASH || c === QUESTION) && isSpace(at(text, i + 1));
}

function lineEnd(text: Uint8Array, from: number): number {
  const n = text.indexOf(NEWLINE, from);
  return n < 0 ? text.length : n;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === NEWLINE || c === CR || c === NONE;
}

/** the byte at `i`, or NONE past either end */
function at(text: Uint8Array, i: number): number {
  return i >= 0 && i < text.length ? text[i] : NONE;
}

/**
 * The same error as jsonNestingError for a value already parsed (any depth is safe to ask about: an explicit
 * stack), e.g. a free-form field of a decoded object that a patch or the internal face put there; `depth` is the
 * value's own level in its document.
 */
export function valueNestingError(value: unknown, max = MAX_NESTING_DEPTH, depth = 1): string | undefined {
  const deep = firstTooDeep(value, depth, max);
  if (deep === undefined) return undefined;
  return `invalid character '${Array.isArray(deep) ? '[' : '{'}' exceeded max depth of ${max}`;
}

/**
 * The first object or array found nested deeper than `max`. Recursive, but never deeper than `max` + 1 frames
 * (it stops there), and it allocates nothing: a 30,000-key managedFields entry is walked in a millisecond.
 */
function firstTooDeep(v: unknown, depth: number, max: number): object | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth > max) return v;
  if (Array.isArray(v)) {
    for (const child of v as unknown[]) {
      const deep = firstTooDeep(child, depth + 1, max);
      if (deep !== undefined) return deep;
    }
    return undefined;
  }
  const record = v as Record<string, unknown>;
  for (const k in record) {
    const deep = firstTooDeep(record[k], depth + 1, max);
    if (deep !== undefined) return deep;
  }
  return undefined;
}

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
/** before the start or past the end of the text */
const NONE = -1;
const NEWLINE = 0x0a;
const HASH = 0x23;
const DASH = 0x2d;
const QUESTION = 0x3f;
const COLON = 0x3a;
const COMMA = 0x2c;
const PIPE = 0x7c;
/** any character of a plain scalar */
const PLAIN = 0x61;
const GREATER = 0x3e;
/** what a byte can be in YAML, as flags: */
const CLASS = new Uint8Array(256);
/** a YAML scalar (and so a quote, a flow collection or a block scalar) can begin after it */
const SCALAR_START = 1;
/** it ends a quoted or bracketed flow key, which a `:` may follow without a space */
const JSON_KEY_END = 2;
/** never part of a plain scalar where it stands (once `isIndicator` has ruled on - ? :) */
const STRUCTURAL = 4;
/** it may mean something: everything else is plain scalar text */
const SPECIAL = 8;
for (const c of [NEWLINE, COLON, DASH, QUESTION, COMMA, OPEN_BRACKET, OPEN_BRACE]) CLASS[c] |= SCALAR_START;
for (const c of [DOUBLE_QUOTE, SINGLE_QUOTE, CLOSE_BRACKET, CLOSE_BRACE]) CLASS[c] |= JSON_KEY_END;
for (const c of [COMMA, OPEN_BRACKET, OPEN_BRACE, CLOSE_BRACKET, CLOSE_BRACE, DOUBLE_QUOTE, SINGLE_QUOTE])
  CLASS[c] |= STRUCTURAL;
for (const c of [HASH, COLON, DASH, QUESTION, COMMA, DOUBLE_QUOTE, SINGLE_QUOTE, PIPE, GREATER])
  CLASS[c] |= SPECIAL;
for (const c of [OPEN_BRACKET, OPEN_BRACE, CLOSE_BRACKET, CLOSE_BRACE]) CLASS[c] |= SPECIAL;
