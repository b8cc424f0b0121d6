// The has() macro where @marcbachmann/cel-js refuses it: a field under an index or a call, `has(self.a[0].b)`
// ("has() invalid argument"; cel-go accepts any select expression). CEL's has(e.f) is a presence test of field f of
// the map (or message) e; the optional field selection `e.?f` (CEL optional types, which our environment enables)
// is optional.none() exactly when f is absent, so `(e).?f.hasValue()` answers the same, and errors where has()
// errors (e not a map, an index out of bounds). compile.ts tries the expression as written first and this rewrite
// only when the library refused it; Gateway API v1.3 HTTPRoute's 8 such rules (`!has(self.matches[0].path)`)
// compile this way.

const IDENT = /[A-Za-z0-9_]/;

/** the end (index after the closing quote) of the string literal starting at `i`, or -1 */
function skipString(s: string, i: number): number {
  let q = s[i];
  if (q !== '"' && q !== "'") return -1;
  const triple = s.startsWith(q.repeat(3), i);
  if (triple) q = q.repeat(3);
  // a raw string (r"...") has no escapes
  const raw = i > 0 && (s[i - 1] === 'r' || s[i - 1] === 'R') && (i < 2 || !IDENT.test(s[i - 2]));
  for (let j = i + q.length; j < s.length; j++) {
    if (!raw && s[j] === '\\') {
      j++;
      continue;
    }
    if (s.startsWith(q, j)) return j + q.length;
  }
  return s.length;
}

/** the index of the `)` closing the `(` at `open`, or -1 */
function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const end = skipString(s, i);
    if (end >= 0) {
      i = end - 1;
      continue;
    }
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `has(X.f)` whose X has an index or a call becomes `(X).?f.hasValue()`; everything else is left as written */
export function rewriteHasMacros(expression: string): string {
  let out = '';
  for (let i = 0; i < expression.length; i++) {
    const end = skipString(expression, i);
    if (end >= 0) {
      out += expression.slice(i, end);
      i = end - 1;
      continue;
    }
    const atHas =
      expression.startsWith('has', i) &&
      (i === 0 || !/[A-Za-z0-9_.]/.test(expression[i - 1])) &&
      /^has\s*\(/.test(expression.slice(i, i + 16));
    if (!atHas) {
      out += expression[i];
      continue;
    }
    const open = expression.indexOf('(', i);
    const close = matchingParen(expression, open);
    if (close < 0) return expression;
    const arg = rewriteHasMacros(expression.slice(open + 1, close)).trim();
    const m = /^([\s\S]*)\.\s*([A-Za-z_][A-Za-z0-9_]*)$/.exec(arg);
    out += m && /[[(]/.test(m[1]) ? `(${m[1]}).?${m[2]}.hasValue()` : `has(${arg})`;
    i = close;
  }
  return out;
}
