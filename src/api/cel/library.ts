// The Kubernetes CEL libraries (upstream's apiserver/pkg/cel/library and cel-go's ext) that kubemu adds to
// @marcbachmann/cel-js, whose standard library already has the strings ext's lowerAscii, upperAscii, trim, split,
// join, indexOf, lastIndexOf and substring, and the optional types.
//
// Added here: strings (charAt, replace, reverse), lists (isSorted, sum, min, max, indexOf, lastIndexOf, slice,
// flatten, distinct), regex (find, findAll), sets (contains, intersects, equivalent), quantity (isQuantity,
// quantity, sign, isInteger, asInteger, asApproximateFloat, add, sub, compareTo, isGreaterThan, isLessThan),
// url (isURL, url, getScheme, getHost, getHostname, getPort, getEscapedPath, getQuery), ip/cidr (isIP, ip,
// family, isLoopback, isUnspecified, isCanonical, isCIDR, cidr, containsIP, prefixLength, ip()).
// Missing (see docs/design.md): format, semver, authorizer, base64 ext, math ext, two-variable comprehensions.
import { isIP } from 'node:net';
import type { Environment } from '@marcbachmann/cel-js';
import { parseQuantity, type Quantity, formatQuantity } from '../schema/quantity.js';

class CelError extends Error {}
class SetsNamespace {}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = typeof a === 'bigint' || typeof a === 'number' ? a : NaN;
  const y = typeof b === 'bigint' || typeof b === 'number' ? b : NaN;
  return x < y ? -1 : x > y ? 1 : 0;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint')
    return (typeof a === 'number' || typeof a === 'bigint') && a == b;
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

/** a Kubernetes Quantity as a CEL value */
export class CelQuantity {
  constructor(readonly q: Quantity) {}
  toString(): string {
    return formatQuantity(this.q);
  }
}

function quantityOf(s: string): CelQuantity {
  const q = parseQuantity(s);
  if (!q || s.trim() !== s)
    throw new CelError(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
  return new CelQuantity(q);
}

/** a/b aligned to the smaller exponent */
function aligned(a: Quantity, b: Quantity): [bigint, bigint, number] {
  const exp = Math.min(a.exp, b.exp);
  return [a.num * 10n ** BigInt(a.exp - exp), b.num * 10n ** BigInt(b.exp - exp), exp];
}

function qCompare(a: CelQuantity, b: CelQuantity): bigint {
  const [x, y] = aligned(a.q, b.q);
  return x < y ? -1n : x > y ? 1n : 0n;
}

function qInteger(a: CelQuantity): bigint | undefined {
  const { num, exp } = a.q;
  if (exp >= 0) return num * 10n ** BigInt(exp);
  const d = 10n ** BigInt(-exp);
  return num % d === 0n ? num / d : undefined;
}

class CelURL {
  constructor(readonly url: URL) {}
}

function parseUrl(s: string): URL | undefined {
  // upstream: url.ParseRequestURI — absolute URLs or absolute paths
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

class CelIP {
  constructor(readonly addr: string) {}
}
class CelCIDR {
  constructor(
    readonly addr: string,
    readonly prefix: number,
  ) {}
}

function ipToBigint(addr: string): bigint {
  if (isIP(addr) === 4) return addr.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const parts = addr.includes('::')
    ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return parts.reduce((n, p) => (n << 16n) | BigInt(parseInt(p || '0', 16)), 0n);
}

function strictIP(s: string): string {
  if (!isIP(s) || s.includes('%'))
    throw new CelError(
      `IP Address "${s}" parse error during conversion from string: ParseAddr("${s}"): unexpected character`,
    );
  if (isIP(s) === 6 && /\d+\.\d+\.\d+\.\d+$/.test(s))
    throw new CelError(`IPv4-mapped IPv6 address "${s}" is not allowed`);
  if (isIP(s) === 4 && s.split('.').some((o) => o.length > 1 && o.startsWith('0')))
    throw new CelError(
      `IP Address "${s}" parse error during conversion from string: ParseAddr("${s}"): IPv4 field has octet with leading zero`,
    );
  return s;
}

function parseCidr(s: string): CelCIDR {
  const m = /^(.*)\/(\d+)$/.exec(s);
  const family = m ? isIP(m[1]) : 0;
  if (!m || !family || Number(m[2]) > (family === 4 ? 32 : 128))
    throw new CelError(
      `network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("${s}"): no '/'`,
    );
  strictIP(m[1]);
  return new CelCIDR(m[1], Number(m[2]));
}

function cidrContains(c: CelCIDR, ip: string): boolean {
  const fam = isIP(c.addr);
  if (isIP(ip) !== fam) return false;
  const bits = fam === 4 ? 32 : 128;
  const shift = BigInt(bits - c.prefix);
  return ipToBigint(c.addr) >> shift === ipToBigint(ip) >> shift;
}

const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    // RE2 syntax is close to JavaScript's for the patterns rules use; (?i) flags are translated
    let flags = 'u';
    let p = pattern;
    const m = /^\(\?([ims]+)\)/.exec(p);
    if (m) {
      p = p.slice(m[0].length);
      flags += m[1].replace('m', 'm').replace('i', 'i').replace('s', 's');
    }
    try {
      re = new RegExp(p, flags);
    } catch (e) {
      throw new CelError(`error parsing regexp: ${(e as Error).message}`);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** add the Kubernetes libraries to `env` */
export function registerKubernetesLibraries(env: Environment): Environment {
  const fn = (sig: string, handler: (...args: never[]) => unknown) =>
    env.registerFunction(sig, handler as (...args: unknown[]) => unknown);

  // strings ext
  fn('string.charAt(int): string', (s: string, i: bigint) => {
    if (i < 0n || i > BigInt(s.length)) throw new CelError(`index out of range: ${i}`);
    return s.charAt(Number(i));
  });
  fn('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  fn('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
    if (n < 0n) return s.split(a).join(b);
    const parts = s.split(a);
    const k = Number(n);
    return parts.slice(0, k + 1).join(b) + (parts.length > k + 1 ? a + parts.slice(k + 1).join(a) : '');
  });
  fn('string.reverse(): string', (s: string) => [...s].reverse().join(''));

  // lists
  fn('list<dyn>.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0));
  fn('list<dyn>.sum(): dyn', (l: unknown[]) => {
    if (l.length === 0) return 0n;
    return (l as (bigint | number)[]).reduce((a, b) => ((a as bigint) + (b as bigint)) as bigint | number);
  });
  fn('list<dyn>.min(): dyn', (l: unknown[]) => {
    if (l.length === 0) throw new CelError('min(list) called on empty list');
    return l.reduce((a, b) => (compare(b, a) < 0 ? b : a));
  });
  fn('list<dyn>.max(): dyn', (l: unknown[]) => {
    if (l.length === 0) throw new CelError('max(list) called on empty list');
    return l.reduce((a, b) => (compare(b, a) > 0 ? b : a));
  });
  fn('list<dyn>.indexOf(dyn): int', (l: unknown[], x: unknown) =>
    BigInt(l.findIndex((y) => deepEqual(x, y))),
  );
  fn('list<dyn>.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => {
    for (let i = l.length - 1; i >= 0; i--) if (deepEqual(x, l[i])) return BigInt(i);
    return -1n;
  });
  fn('list<dyn>.slice(int, int): list<dyn>', (l: unknown[], a: bigint, b: bigint) => {
    if (a < 0n || b < a || b > BigInt(l.length))
      throw new CelError(`cannot slice(${a}, ${b}), invalid range`);
    return l.slice(Number(a), Number(b));
  });
  fn('list<dyn>.flatten(): list<dyn>', (l: unknown[]) =>
    l.flatMap((x): unknown[] => (Array.isArray(x) ? (x as unknown[]) : [x])),
  );
  fn('list<dyn>.distinct(): list<dyn>', (l: unknown[]) =>
    l.filter((x, i) => l.findIndex((y) => deepEqual(x, y)) === i),
  );

  // regex
  fn('string.find(string): string', (s: string, p: string) => regex(p).exec(s)?.[0] ?? '');
  fn('string.findAll(string): list<string>', (s: string, p: string) =>
    [...s.matchAll(new RegExp(regex(p).source, regex(p).flags + 'g'))].map((m) => m[0]),
  );
  fn('string.findAll(string, int): list<string>', (s: string, p: string, n: bigint) => {
    const all = [...s.matchAll(new RegExp(regex(p).source, regex(p).flags + 'g'))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  });

  // sets: a namespace value, as the library's own `cel.bind` and `optional.of`
  env.registerType('kubernetes.SetsNamespace', SetsNamespace);
  env.registerConstant('sets', 'kubernetes.SetsNamespace', new SetsNamespace());
  fn(
    'kubernetes.SetsNamespace.contains(list<dyn>, list<dyn>): bool',
    (_: SetsNamespace, a: unknown[], b: unknown[]) => b.every((x) => a.some((y) => deepEqual(x, y))),
  );
  fn(
    'kubernetes.SetsNamespace.intersects(list<dyn>, list<dyn>): bool',
    (_: SetsNamespace, a: unknown[], b: unknown[]) => b.some((x) => a.some((y) => deepEqual(x, y))),
  );
  fn(
    'kubernetes.SetsNamespace.equivalent(list<dyn>, list<dyn>): bool',
    (_: SetsNamespace, a: unknown[], b: unknown[]) =>
      b.every((x) => a.some((y) => deepEqual(x, y))) && a.every((x) => b.some((y) => deepEqual(x, y))),
  );

  // quantity
  env.registerType('kubernetes.Quantity', CelQuantity);
  fn('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined && s.trim() === s);
  fn('quantity(string): kubernetes.Quantity', quantityOf);
  fn('kubernetes.Quantity.sign(): int', (a: CelQuantity) => (a.q.num > 0n ? 1n : a.q.num < 0n ? -1n : 0n));
  fn('kubernetes.Quantity.isInteger(): bool', (a: CelQuantity) => qInteger(a) !== undefined);
  fn('kubernetes.Quantity.asInteger(): int', (a: CelQuantity) => {
    const n = qInteger(a);
    if (n === undefined || n > 2n ** 63n - 1n || n < -(2n ** 63n))
      throw new CelError('cannot convert value to integer');
    return n;
  });
  fn('kubernetes.Quantity.asApproximateFloat(): double', (a: CelQuantity) => Number(a.q.num) * 10 ** a.q.exp);
  fn('kubernetes.Quantity.compareTo(kubernetes.Quantity): int', qCompare);
  fn(
    'kubernetes.Quantity.isGreaterThan(kubernetes.Quantity): bool',
    (a: CelQuantity, b: CelQuantity) => qCompare(a, b) > 0n,
  );
  fn(
    'kubernetes.Quantity.isLessThan(kubernetes.Quantity): bool',
    (a: CelQuantity, b: CelQuantity) => qCompare(a, b) < 0n,
  );
  const addQ = (a: CelQuantity, b: CelQuantity, sign: bigint) => {
    const [x, y, exp] = aligned(a.q, b.q);
    return new CelQuantity({ num: x + sign * y, exp, format: a.q.format });
  };
  fn('kubernetes.Quantity.add(kubernetes.Quantity): kubernetes.Quantity', (a: CelQuantity, b: CelQuantity) =>
    addQ(a, b, 1n),
  );
  fn('kubernetes.Quantity.add(int): kubernetes.Quantity', (a: CelQuantity, b: bigint) =>
    addQ(a, new CelQuantity({ num: b, exp: 0, format: 'DecimalSI' }), 1n),
  );
  fn('kubernetes.Quantity.sub(kubernetes.Quantity): kubernetes.Quantity', (a: CelQuantity, b: CelQuantity) =>
    addQ(a, b, -1n),
  );
  fn('kubernetes.Quantity.sub(int): kubernetes.Quantity', (a: CelQuantity, b: bigint) =>
    addQ(a, new CelQuantity({ num: b, exp: 0, format: 'DecimalSI' }), -1n),
  );
  env.registerOperator(
    'kubernetes.Quantity == kubernetes.Quantity',
    (a: CelQuantity, b: CelQuantity) => qCompare(a, b) === 0n,
  );

  // url
  env.registerType('kubernetes.URL', CelURL);
  fn('isURL(string): bool', (s: string) => parseUrl(s) !== undefined);
  fn('url(string): kubernetes.URL', (s: string) => {
    const u = parseUrl(s);
    if (!u)
      throw new CelError(
        `URL parse error during conversion from string: parse "${s}": invalid URI for request`,
      );
    return new CelURL(u);
  });
  fn('kubernetes.URL.getScheme(): string', (u: CelURL) => u.url.protocol.replace(/:$/, ''));
  fn('kubernetes.URL.getHost(): string', (u: CelURL) => u.url.host);
  fn('kubernetes.URL.getHostname(): string', (u: CelURL) => u.url.hostname.replace(/^\[(.*)\]$/, '$1'));
  fn('kubernetes.URL.getPort(): string', (u: CelURL) => u.url.port);
  fn('kubernetes.URL.getEscapedPath(): string', (u: CelURL) => u.url.pathname);
  fn('kubernetes.URL.getQuery(): map<string, list<string>>', (u: CelURL) => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of u.url.searchParams) (out[k] ??= []).push(v);
    return out;
  });

  // ip / cidr
  env.registerType('net.IP', CelIP);
  env.registerType('net.CIDR', CelCIDR);
  fn('isIP(string): bool', (s: string) => {
    try {
      strictIP(s);
      return true;
    } catch {
      return false;
    }
  });
  fn('ip(string): net.IP', (s: string) => new CelIP(strictIP(s)));
  fn('net.IP.family(): int', (a: CelIP) => BigInt(isIP(a.addr)));
  fn('net.IP.isLoopback(): bool', (a: CelIP) =>
    isIP(a.addr) === 4 ? a.addr.startsWith('127.') : ipToBigint(a.addr) === 1n,
  );
  fn('net.IP.isUnspecified(): bool', (a: CelIP) => ipToBigint(a.addr) === 0n);
  fn('net.IP.isCanonical(): bool', (a: CelIP) =>
    isIP(a.addr) === 4
      ? true
      : a.addr === a.addr.toLowerCase() && new URL(`http://[${a.addr}]/`).hostname === `[${a.addr}]`,
  );
  env.registerOperator(
    'net.IP == net.IP',
    (a: CelIP, b: CelIP) => isIP(a.addr) === isIP(b.addr) && ipToBigint(a.addr) === ipToBigint(b.addr),
  );
  fn('isCIDR(string): bool', (s: string) => {
    try {
      parseCidr(s);
      return true;
    } catch {
      return false;
    }
  });
  fn('cidr(string): net.CIDR', parseCidr);
  fn('net.CIDR.containsIP(string): bool', (c: CelCIDR, s: string) => cidrContains(c, strictIP(s)));
  fn('net.CIDR.containsIP(net.IP): bool', (c: CelCIDR, ip: CelIP) => cidrContains(c, ip.addr));
  fn('net.CIDR.containsCIDR(string): bool', (c: CelCIDR, s: string) => {
    const o = parseCidr(s);
    return o.prefix >= c.prefix && cidrContains(c, o.addr);
  });
  fn('net.CIDR.prefixLength(): int', (c: CelCIDR) => BigInt(c.prefix));
  fn('net.CIDR.ip(): net.IP', (c: CelCIDR) => new CelIP(c.addr));
  return env;
}
