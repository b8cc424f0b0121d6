// The error Go's encoding/json gives when unmarshalling bytes into a map[string]interface{}, so validation
// messages that quote it (a docker config Secret that is not JSON) read exactly as upstream's.
import { jsonNestingError } from '../nesting-depth.js';
import { jsonTypeWord } from '../patch/go-format.js';

class GoSyntaxError extends Error {}

/** Go's quoteChar: the offending byte as the scanner prints it */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const quoted = JSON.stringify(c);
  return `'${quoted.slice(1, -1)}'`;
}

/** A recursive-descent reading of JSON that fails where, and with the words, Go's scanner fails. */
class Scanner {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(context: string): never {
    if (this.pos >= this.text.length) throw new GoSyntaxError('unexpected end of JSON input');
    throw new GoSyntaxError(`invalid character ${quoteChar(this.text[this.pos])} ${context}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
  }

  document(): void {
    this.skipSpace();
    this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('after top-level value');
  }

  private value(): void {
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        this.pos++;
        for (const expected of word.slice(1)) {
          if (this.text[this.pos] !== expected) this.fail(`in literal ${word} (expecting '${expected}')`);
          this.pos++;
        }
        return;
      }
    }
    this.fail('looking for beginning of value');
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('looking for beginning of object key string');
      this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('after object key');
      this.pos++;
      this.skipSpace();
      this.value();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c !== ',') this.fail('after object key:value pair');
      this.pos++;
      this.skipSpace();
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return;
      }
      if (c !== ',') this.fail('after array element');
      this.pos++;
      this.skipSpace();
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('in string literal');
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c < ' ') this.fail('in string literal');
      if (c === '\\') {
        this.pos++;
        const e = this.text[this.pos];
        if (e === 'u') {
          this.pos++;
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(this.text[this.pos] ?? ''))
              this.fail('in \\u hexadecimal character escape');
            this.pos++;
          }
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('in string escape code');
      }
      this.pos++;
    }
  }

  private digits(): number {
    const start = this.pos;
    while (/[0-9]/.test(this.text[this.pos] ?? '')) this.pos++;
    return this.pos - start;
  }

  private number(): void {
    if (this.text[this.pos] === '-') {
      this.pos++;
      if (!/[0-9]/.test(this.text[this.pos] ?? '')) this.fail('in numeric literal');
    }
    if (this.text[this.pos] === '0') this.pos++;
    else this.digits();
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (this.digits() === 0) this.fail('after decimal point in numeric literal');
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (this.digits() === 0) this.fail('in exponent of numeric literal');
    }
  }
}

/**
 * What `json.Unmarshal(data, &map[string]interface{}{})` returns as its error text, or undefined when it
 * succeeds (JSON `null` included, as in Go).
 */
export function goUnmarshalMapError(data: Buffer): string | undefined {
  // the scanner below recurses: past the depth the apiserver's decoders allow, it answers as they do
  const tooDeep = jsonNestingError(data);
  if (tooDeep) return tooDeep;
  const text = data.toString('utf8');
  try {
    new Scanner(text).document();
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
  const value: unknown = JSON.parse(text);
  if (value === null || (typeof value === 'object' && !Array.isArray(value))) return undefined;
  return `json: cannot unmarshal ${jsonTypeWord(value)} into Go value of type map[string]interface {}`;
}
