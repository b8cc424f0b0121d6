import { describe, expect, it } from 'vitest';
import {
  compile,
  CostLimitError,
  evaluationErrorMessage,
  isCompileError,
  toCel,
  type Program,
} from './index.js';

function program(expr: string, vars: string[] = ['self']): Program {
  const p = compile(expr, vars);
  if (isCompileError(p)) throw new Error(p.message);
  return p;
}
const ev = (expr: string, self: unknown = null) => program(expr).evaluate({ self: toCel(self) }).value;

describe('compile', () => {
  it('reports syntax errors as cel-go does: ERROR: <input>:line:col and a caret', () => {
    const p = compile('object.spec.replicas <= ', ['object']);
    expect(isCompileError(p)).toBe(true);
    expect((p as { message: string }).message).toBe(
      'ERROR: <input>:1:25: Unexpected token: EOF\n | object.spec.replicas <= \n | ........................^',
    );
  });
  it('refuses undeclared variables and mistyped operators', () => {
    expect(compile('params.x', ['object'])).toMatchObject({
      message: expect.stringContaining('Unknown variable: params'),
    });
    expect(compile('"a" + 1', [])).toMatchObject({ message: expect.stringContaining('no such overload') });
  });
  it('caches compiled programs', () => {
    expect(compile('self > 1', ['self'])).toBe(compile('self > 1', ['self']));
  });
});

describe('Kubernetes libraries', () => {
  it.each([
    ['"a,b".replace(",", "-")', 'a-b'],
    ['"hello".charAt(1)', 'e'],
    ['"abc".reverse()', 'cba'],
    ['"ABC".lowerAscii()', 'abc'],
    ['[1, 2, 3].isSorted()', true],
    ['[3, 1].isSorted()', false],
    ['[1, 2, 3].sum()', 6n],
    ['[1, 5, 3].max()', 5n],
    ['[4, 2, 3].min()', 2n],
    ['[1, 2, 3].indexOf(2)', 1n],
    ['[1, 2, 1].lastIndexOf(1)', 2n],
    ['[1, 2, 3, 4].slice(1, 3)', [2n, 3n]],
    ['[[1], [2, 3]].flatten()', [1n, 2n, 3n]],
    ['"abc 123".find("[0-9]+")', '123'],
    ['"a1b22c333".findAll("[0-9]+")', ['1', '22', '333']],
    ['sets.contains([1, 2, 3], [3, 1])', true],
    ['sets.intersects([1, 2], [3])', false],
    ['sets.equivalent([1, 2], [2, 1, 1])', true],
    ['isQuantity("1.5Gi")', true],
    ['isQuantity("1.5GiB")', false],
    ['quantity("1Gi").isGreaterThan(quantity("1G"))', true],
    ['quantity("1500m").compareTo(quantity("1.5"))', 0n],
    ['quantity("2k").asInteger()', 2000n],
    ['quantity("1").add(quantity("500m")).isInteger()', false],
    ['url("https://example.com:8443/a/b?x=1&x=2").getHostname()', 'example.com'],
    ['url("https://example.com:8443/a").getPort()', '8443'],
    ['isURL("not a url")', false],
    ['isIP("10.0.0.1") && !isIP("10.0.0.01")', true],
    ['ip("::1").family()', 6n],
    ['cidr("10.0.0.0/8").containsIP("10.200.0.1")', true],
    ['cidr("10.0.0.0/8").containsCIDR("11.0.0.0/16")', false],
    ['cidr("192.168.0.0/16").prefixLength()', 16n],
  ])('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  it('sees JSON integers as int and fractions as double', () => {
    expect(ev('self.a + 1 == 3 && self.b > 1.0', { a: 2, b: 1.5 })).toBe(true);
  });
  it('no such key for an absent field, has() for presence, optional chaining', () => {
    expect(() => ev('self.spec.x == 1', { spec: {} })).toThrow(/No such key: x/);
    expect(ev('has(self.spec.x)', { spec: {} })).toBe(false);
    expect(ev('self.?spec.?x.orValue(7)', { spec: {} })).toBe(7n);
  });
});

describe('cost limit', () => {
  it('stops a runaway comprehension with upstream message, also when the error would be swallowed', () => {
    const big = Array.from({ length: 500 }, (_, i) => i);
    let err: unknown;
    try {
      program('self.all(x, self.all(y, self.all(z, x + y + z >= 0)))').evaluate({ self: toCel(big) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CostLimitError);
    expect(evaluationErrorMessage(err)).toBe('operation cancelled: actual cost limit exceeded');
    expect(() =>
      program('self.exists(x, self.exists(y, self.exists(z, x + y + z < 0))) || true').evaluate({
        self: toCel(big),
      }),
    ).toThrow(CostLimitError);
  });
  it('reports the cost of what ran', () => {
    const { cost } = program('self.all(x, x > 0)').evaluate({ self: toCel([1, 2, 3]) });
    expect(cost).toBeGreaterThan(3);
    expect(cost).toBeLessThan(50);
  });
});
