// Label selectors as apimachinery's labels package parses, prints and matches them (labels/selector.go):
// its Lexer, its recursive-descent Parser, NewRequirement's validation with its field paths, and the
// messages labels.Parse returns, which the apiserver answers `?labelSelector=` with as a 400.
import { fieldErrorString, fe, type FieldError } from '../../api/errors.js';
import { isQualifiedName, isValidLabelValue } from '../../api/validation/names.js';

/** selection.Operator, spelled as upstream spells it */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOperator;
  /** sorted and without duplicates when parsed (upstream's sets.String.List()) */
  values: string[];
}

export interface LabelSelector {
  /** sorted by key, as labels.Parse and Selector.Add leave them */
  requirements: LabelRequirement[];
  matches(labels: Record<string, string> | undefined): boolean;
  /** Selector.String(): `a=b,c in (d,e),!f` */
  string(): string;
}

// ------------------------------------------------------------------ lexer

export enum Token {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const STRING_TO_TOKEN: Record<string, Token> = {
  ')': Token.ClosedPar,
  ',': Token.Comma,
  '!': Token.DoesNotExist,
  '==': Token.DoubleEquals,
  '=': Token.Equals,
  '>': Token.GreaterThan,
  in: Token.In,
  '<': Token.LessThan,
  '!=': Token.NotEquals,
  notin: Token.NotIn,
  '(': Token.OpenPar,
};
const tokenOf = (s: string): Token | undefined =>
  Object.prototype.hasOwnProperty.call(STRING_TO_TOKEN, s) ? STRING_TO_TOKEN[s] : undefined;

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string): boolean => '=!(),><'.includes(ch) && ch !== '';
/** Go's Lexer.read answers 0 at the end of the input: a NUL ends the selector there too */
const END = '\0';

export interface ScannedItem {
  tok: Token;
  literal: string;
}

/** labels.Lexer: turns a selector into tokens, the longest operator first */
export class Lexer {
  private pos = 0;
  constructor(private readonly s: string) {}

  private read(): string {
    // at the end the position stays put; an embedded NUL is read (and ends a token) like the end
    return this.pos < this.s.length ? this.s[this.pos++] : END;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): ScannedItem {
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    const tok = tokenOf(buffer);
    return tok !== undefined ? { tok, literal: buffer } : { tok: Token.Identifier, literal: buffer };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | undefined;
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (isSpecialSymbol(ch)) {
        buffer += ch;
        const tok = tokenOf(buffer);
        if (tok !== undefined) last = { tok, literal: buffer };
        else if (last) {
          this.unread();
          break;
        }
      } else {
        this.unread();
        break;
      }
    }
    return last ?? { tok: Token.Error, literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === END) return { tok: Token.EndOfString, literal: '' };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

// ------------------------------------------------------------------ requirements

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

class SelectorError extends Error {}

/** errors.Aggregate's Error(): one message alone, several as `[a, b]`, duplicates dropped */
function aggregate(errs: FieldError[]): string | undefined {
  const msgs = [...new Set(errs.map(fieldErrorString))];
  if (msgs.length === 0) return undefined;
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
}

/** validateLabelKey: a qualified name, the problems joined by "; " */
function labelKeyError(key: string, path: string): FieldError | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? fe.invalid(path, key, errs.join('; ')) : undefined;
}

/** strconv.ParseInt(s, 10, 64) succeeds */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/**
 * labels.NewRequirement: the key a qualified name, the operator's value count, Gt/Lt values integers and
 * every value a label value; `path` is the field.Path upstream passes (none for `?labelSelector=`).
 */
export function newRequirement(
  key: string,
  op: LabelOperator,
  values: string[],
  path?: string,
): LabelRequirement {
  const child = (name: string): string => (path ? `${path}.${name}` : name);
  const errs: FieldError[] = [];
  const keyErr = labelKeyError(key, child('key'));
  if (keyErr) errs.push(keyErr);
  const valuesPath = child('values');
  const goSlice = `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0)
        errs.push({
          ...fe.invalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"),
          goValue: goSlice,
        });
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1)
        errs.push({
          ...fe.invalid(valuesPath, values, 'exact-match compatibility requires one single value'),
          goValue: goSlice,
        });
      break;
    case 'exists':
    case '!':
      if (values.length !== 0)
        errs.push({
          ...fe.invalid(valuesPath, values, 'values set must be empty for exists and does not exist'),
          goValue: goSlice,
        });
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1)
        errs.push({
          ...fe.invalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required"),
          goValue: goSlice,
        });
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined)
          errs.push(
            fe.invalid(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"),
          );
      });
      break;
    default:
      errs.push(fe.notSupported(child('operator'), op, [...BINARY_OPERATORS, 'exists', '!']));
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length) errs.push(fe.invalid(`${valuesPath}[${i}][${key}]`, v, msgs.join('; ')));
  });
  const msg = aggregate(errs);
  if (msg !== undefined) throw new SelectorError(msg);
  return { key, op, values };
}

/** Requirement.Matches */
export function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.op) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key]);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key]);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const have = parseInt64(labels[r.key]);
      const want = parseInt64(r.values[0]);
      if (have === undefined || want === undefined) return false;
      return r.op === 'gt' ? have > want : have < want;
    }
  }
}

const OP_TEXT: Record<LabelOperator, string> = {
  '=': '=',
  '==': '==',
  '!=': '!=',
  in: ' in ',
  notin: ' notin ',
  gt: '>',
  lt: '<',
  exists: '',
  '!': '',
};

/** Requirement.String() */
export function requirementString(r: LabelRequirement): string {
  if (r.op === 'exists') return r.key;
  if (r.op === '!') return `!${r.key}`;
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
  const set = r.op === 'in' || r.op === 'notin';
  return `${r.key}${OP_TEXT[r.op]}${set ? `(${values})` : values}`;
}

/** Go's string comparison: byte order, which for the ASCII keys validation allows is code-unit order */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** a selector over requirements sorted by key (internalSelector) */
export function makeSelector(requirements: LabelRequirement[]): LabelSelector {
  const sorted = [...requirements].sort((a, b) => compareStrings(a.key, b.key));
  return {
    requirements: sorted,
    matches(labels) {
      const l = labels ?? {};
      return sorted.every((r) => requirementMatches(r, l));
    },
    string() {
      return sorted.map(requirementString).join(',');
    },
  };
}

/** labels.Everything() */
export const EVERYTHING: LabelSelector = makeSelector([]);

/** labels.Nothing(): what a nil metav1.LabelSelector converts to */
export const NOTHING: LabelSelector = {
  requirements: [],
  matches: () => false,
  string: () => '',
};

// ------------------------------------------------------------------ parser

/** ParserContext: whether 'in' and 'notin' are operators or values here */
export enum Context {
  KeyAndOperator,
  Values,
}

/** labels.Parser: left recursive descent over the scanned tokens */
export class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;

  constructor(
    input: string,
    private readonly path?: string,
  ) {
    const lexer = new Lexer(input);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.tok === Token.EndOfString) break;
    }
  }

  /** the scanned tokens, EndOfString last */
  scanned(): readonly ScannedItem[] {
    return this.items;
  }

  private static inContext(item: ScannedItem, context: Context): ScannedItem {
    // 'in' and 'notin' are values where values are expected: `x in (in,notin)`
    if (context === Context.Values && (item.tok === Token.In || item.tok === Token.NotIn))
      return { tok: Token.Identifier, literal: item.literal };
    return item;
  }

  lookahead(context: Context): ScannedItem {
    return Parser.inContext(this.items[this.position], context);
  }

  consume(context: Context): ScannedItem {
    this.position++;
    return Parser.inContext(this.items[this.position - 1], context);
  }

  /** Parser.parse: the requirements in input order */
  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, literal } = this.lookahead(Context.Values);
      switch (tok) {
        case Token.Identifier:
        case Token.DoesNotExist: {
          try {
            requirements.push(this.parseRequirement());
          } catch (e) {
            if (e instanceof SelectorError)
              throw new SelectorError(`unable to parse requirement: ${e.message}`);
            throw e;
          }
          const next = this.consume(Context.Values);
          if (next.tok === Token.EndOfString) return requirements;
          if (next.tok === Token.Comma) {
            const after = this.lookahead(Context.Values);
            if (after.tok !== Token.Identifier && after.tok !== Token.DoesNotExist)
              throw new SelectorError(`found '${after.literal}', expected: identifier after ','`);
            break;
          }
          throw new SelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
        }
        case Token.EndOfString:
          return requirements;
        default:
          throw new SelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, op: inferred } = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return newRequirement(key, inferred, [], this.path);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    // sets.String.List(): sorted, each value once
    return newRequirement(key, op, [...values].sort(compareStrings), this.path);
  }

  /** the key, and `exists` or `!` when no operator follows it */
  private parseKeyAndInferOperator(): { key: string; op: LabelOperator | undefined } {
    let op: LabelOperator | undefined;
    let item = this.consume(Context.Values);
    if (item.tok === Token.DoesNotExist) {
      op = '!';
      item = this.consume(Context.Values);
    }
    if (item.tok !== Token.Identifier)
      throw new SelectorError(`found '${item.literal}', expected: identifier`);
    // validateLabelKey with the parser's path: none for `?labelSelector=`, which Go prints as <nil>
    const keyErr = labelKeyError(item.literal, this.path ?? '<nil>');
    if (keyErr) throw new SelectorError(fieldErrorString(keyErr));
    const next = this.lookahead(Context.Values).tok;
    if ((next === Token.EndOfString || next === Token.Comma) && op !== '!') op = 'exists';
    return { key: item.literal, op };
  }

  private parseOperator(): LabelOperator {
    const { tok, literal } = this.consume(Context.KeyAndOperator);
    switch (tok) {
      case Token.In:
        return 'in';
      case Token.Equals:
        return '=';
      case Token.DoubleEquals:
        return '==';
      case Token.GreaterThan:
        return 'gt';
      case Token.LessThan:
        return 'lt';
      case Token.NotIn:
        return 'notin';
      case Token.NotEquals:
        return '!=';
      default:
        throw new SelectorError(`found '${literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  /** `(a,b,c)`; `()` is the one empty value */
  private parseValues(): Set<string> {
    const open = this.consume(Context.Values);
    if (open.tok !== Token.OpenPar) throw new SelectorError(`found '${open.literal}' expected: '('`);
    const { tok, literal } = this.lookahead(Context.Values);
    switch (tok) {
      case Token.Identifier:
      case Token.Comma: {
        const values = this.parseIdentifiersList();
        // upstream names the token it looked at before the list, not the one it found
        if (this.consume(Context.Values).tok !== Token.ClosedPar)
          throw new SelectorError(`found '${literal}', expected: ')'`);
        return values;
      }
      case Token.ClosedPar:
        this.consume(Context.Values);
        return new Set(['']);
      default:
        throw new SelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
  }

  /** a possibly empty list of possibly empty values: `(a,,b)`, `(,a)`, `(a,)` all hold "" */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { tok, literal } = this.consume(Context.Values);
      if (tok === Token.Identifier) {
        values.add(literal);
        const next = this.lookahead(Context.Values);
        if (next.tok === Token.Comma) continue;
        if (next.tok === Token.ClosedPar) return values;
        throw new SelectorError(`found '${next.literal}', expected: ',' or ')'`);
      } else if (tok === Token.Comma) {
        if (values.size === 0) values.add('');
        const next = this.lookahead(Context.Values).tok;
        if (next === Token.ClosedPar) {
          values.add('');
          return values;
        }
        if (next === Token.Comma) values.add('');
      } else {
        throw new SelectorError(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  /** the one value after `=`, `==`, `!=`, `>` or `<`; nothing is the empty value */
  private parseExactValue(): Set<string> {
    const next = this.lookahead(Context.Values).tok;
    if (next === Token.EndOfString || next === Token.Comma) return new Set(['']);
    const { tok, literal } = this.consume(Context.Values);
    if (tok === Token.Identifier) return new Set([literal]);
    throw new SelectorError(`found '${literal}', expected: identifier`);
  }
}

/** labels.Parse: the selector, or an Error carrying upstream's message */
export function parseSelector(input: string, path?: string): LabelSelector | Error {
  try {
    return makeSelector(new Parser(input, path).parse());
  } catch (e) {
    if (e instanceof SelectorError) return e;
    throw e;
  }
}
