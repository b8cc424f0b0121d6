// resource.Quantity as upstream parses, canonicalises and compares it (apimachinery/pkg/api/resource).

/** upstream's ErrFormatWrong text */
export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact value: num / 10^scaleDown (num may be negative), times 2^(10·bin) for binary suffixes folded in. */
export interface Quantity {
  /** value = num × 10^exp (exp may be negative) — binary suffixes are multiplied out */
  num: bigint;
  exp: number;
  format: Format;
}

const DECIMAL_SUFFIX: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;
const EXPONENT_RE = /^[eE]([+-]?\d+)$/;

/** Parse a quantity string; undefined when it is not one. */
export function parseQuantity(input: string): Quantity | undefined {
  const s = input.trim();
  if (s.length === 0) return undefined;
  const m = NUMBER_RE.exec(s);
  if (!m) return undefined;
  const [, sign, whole = '', frac = '', suffix = ''] = m;
  if (whole.length === 0 && frac.length === 0) return undefined;
  let num = BigInt((whole || '0') + frac);
  if (sign === '-') num = -num;
  let exp = -frac.length;
  let format: Format;
  if (suffix in DECIMAL_SUFFIX) {
    exp += DECIMAL_SUFFIX[suffix];
    format = 'DecimalSI';
  } else if (suffix in BINARY_SUFFIX) {
    num *= 1024n ** BigInt(BINARY_SUFFIX[suffix]);
    format = 'BinarySI';
  } else {
    const e = EXPONENT_RE.exec(suffix);
    if (!e) return undefined;
    const n = Number(e[1]);
    if (!Number.isSafeInteger(n) || Math.abs(n) > 1000) return undefined;
    exp += n;
    format = 'DecimalExponent';
  }
  return { num, exp, format };
}

/** Round up (away from zero) to 10^minExp — upstream keeps nano precision, and rounds ResourceLists to milli. */
export function roundUp(q: Quantity, minExp: number): Quantity {
  if (q.exp >= minExp) return q;
  const div = 10n ** BigInt(minExp - q.exp);
  let n = q.num / div;
  if (n * div !== q.num) n += q.num > 0n ? 1n : -1n;
  return { num: n, exp: minExp, format: q.format };
}

/** Quantity.String(): the canonical form upstream serialises (`1000m` → `1`, `1024Mi` → `1Gi`). */
export function formatQuantity(q0: Quantity): string {
  const q = roundUp(q0, -9);
  if (q.num === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    // small or fractional values would lose information in binary form, upstream shows them as DecimalSI
    const abs = q.num < 0n ? -q.num : q.num;
    if (q.exp >= 0) {
      const whole = abs * 10n ** BigInt(q.exp);
      if (whole < 1024n) format = 'DecimalSI';
      else {
        let v = whole;
        let i = 0;
        while (i < 6 && v >= 1024n && v % 1024n === 0n) {
          v /= 1024n;
          i++;
        }
        const suffix = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][i];
        return `${q.num < 0n ? '-' : ''}${v}${suffix}`;
      }
    } else {
      // exp < 0: an integer only when the fractional digits are zeros
      const div = 10n ** BigInt(-q.exp);
      if (abs % div === 0n && abs / div >= 1024n)
        return formatQuantity({ num: q.num / div, exp: 0, format: 'BinarySI' });
      format = 'DecimalSI';
    }
  }
  let num = q.num;
  let exp = q.exp;
  while (num % 10n === 0n) {
    num /= 10n;
    exp++;
  }
  const r = ((exp % 3) + 3) % 3;
  if (r !== 0) {
    num *= 10n ** BigInt(r);
    exp -= r;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${num}` : `${num}e${exp}`;
  for (const [suffix, e] of Object.entries(DECIMAL_SUFFIX)) if (e === exp) return `${num}${suffix}`;
  return `${num}e${exp}`;
}

/** Canonical string of a quantity given as a string or JSON number; undefined when invalid. */
export function canonicalQuantity(value: string | number): string | undefined {
  const s = typeof value === 'number' ? numberToPlain(value) : value;
  if (s === undefined) return undefined;
  const q = parseQuantity(s);
  return q && formatQuantity(q);
}

function numberToPlain(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const s = String(n);
  // String(1e21) is exponent form with '+', which the quantity grammar accepts as e.g. `1e+21`
  return s;
}

/** The value as a float — for comparisons (requests ≤ limits, HPA targets); exact enough for that. */
export function quantityValue(q: Quantity): number {
  return Number(q.num) * 10 ** q.exp;
}

/** Compare two quantity strings exactly; NaN when either is invalid. */
export function compareQuantities(a: string, b: string): number {
  const qa = parseQuantity(a);
  const qb = parseQuantity(b);
  if (!qa || !qb) return NaN;
  const e = Math.min(qa.exp, qb.exp);
  const na = qa.num * 10n ** BigInt(qa.exp - e);
  const nb = qb.num * 10n ** BigInt(qb.exp - e);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Is the quantity negative? (validation: `must be greater than or equal to 0`) */
export function isNegativeQuantity(s: string): boolean {
  const q = parseQuantity(s);
  return q !== undefined && q.num < 0n;
}
