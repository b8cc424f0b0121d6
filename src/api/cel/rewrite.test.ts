// has() under an index, which @marcbachmann/cel-js refuses, rewritten to an optional field selection; checked on the
// expressions themselves and on Gateway API v1.3 HTTPRoute's rules (all 156 compile; the ReplacePrefixMatch rules
// that test `!has(self.matches[0].path)` give the answers of Gateway API's own CEL tests).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../errors.js';
import { compile, isCompileError } from './compile.js';
import { rewriteHasMacros } from './rewrite.js';
import { validateSchemaRules, type RuleSchema } from './schema-rules.js';

const FIXTURE = new URL(
  '../../../test/fixtures/gateway-api-v1.3.0/gateway.networking.k8s.io_httproutes.yaml',
  import.meta.url,
);

function ev(expression: string, self: unknown): unknown {
  const p = compile(expression, ['self']);
  if (isCompileError(p)) throw new Error(p.message);
  return p.evaluate({ self }).value;
}

describe('rewriteHasMacros', () => {
  it('rewrites only has() of a field under an index or a call, outside string literals', () => {
    expect(rewriteHasMacros('!has(self.matches[0].path)')).toBe('!(self.matches[0]).?path.hasValue()');
    expect(rewriteHasMacros('has(self.a) && has(self.a.b)')).toBe('has(self.a) && has(self.a.b)');
    expect(rewriteHasMacros("self.x == 'has(self.a[0].b)'")).toBe("self.x == 'has(self.a[0].b)'");
    expect(rewriteHasMacros('has(self.m["k"].v) || hasX(self.a[0].b)')).toBe(
      '(self.m["k"]).?v.hasValue() || hasX(self.a[0].b)',
    );
  });

  it('answers as has() does: present, absent, and an error out of bounds', () => {
    expect(ev('has(self.a[0].b)', { a: [{ b: 1 }] })).toBe(true);
    expect(ev('has(self.a[0].b)', { a: [{ c: 1 }] })).toBe(false);
    expect(ev('has(self.a[1].b)', { a: [{}, { b: { c: 1 } }] })).toBe(true);
    expect(() => ev('has(self.a[1].b)', { a: [{}] })).toThrow(/index out of bounds/);
    // a refused expression that the rewrite cannot help keeps the library's error
    const bad = compile('has(self.a[0])', ['self']);
    expect(isCompileError(bad) && bad.message).toMatch(/^ERROR: <input>:1:5: has\(\) invalid argument/);
  });
});

describe('Gateway API v1.3 HTTPRoute rules', () => {
  const crd = parseAllDocuments(readFileSync(FIXTURE, 'utf8'))[0].toJSON() as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: RuleSchema } }[] };
  };
  const schema = crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema;

  it('all compile', () => {
    const rules: string[] = [];
    const walk = (s: unknown): void => {
      if (!s || typeof s !== 'object') return;
      if (Array.isArray(s)) return s.forEach(walk);
      for (const r of ((s as RuleSchema)['x-kubernetes-validations'] ?? []) as { rule: string }[])
        rules.push(r.rule);
      Object.values(s).forEach(walk);
    };
    crd.spec.versions.forEach((v) => walk(v.schema));
    expect(rules).toHaveLength(156);
    const refused = rules.filter((r) =>
      isCompileError(compile(r, r.includes('oldSelf') ? ['self', 'oldSelf'] : ['self'])),
    );
    expect(refused).toEqual([]);
  });

  const route = (rule: Record<string, unknown>) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: { rules: [rule] },
  });
  const rewrite = (kind: 'urlRewrite' | 'requestRedirect') => ({
    type: kind === 'urlRewrite' ? 'URLRewrite' : 'RequestRedirect',
    [kind]: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/bar' } },
  });
  const errors = (rule: Record<string, unknown>) =>
    validateSchemaRules(schema, route(rule), undefined).map(fieldErrorString);

  it('ReplacePrefixMatch needs exactly one PathPrefix match (the rule with has(self.matches[0].path))', () => {
    const prefix = { path: { type: 'PathPrefix', value: '/foo' } };
    const exact = { path: { type: 'Exact', value: '/foo' } };
    for (const kind of ['urlRewrite', 'requestRedirect'] as const) {
      const name = kind === 'urlRewrite' ? 'URLRewrite' : 'RequestRedirect';
      const message = `spec.rules[0]: Invalid value: "object": When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`;
      expect(errors({ matches: [prefix], filters: [rewrite(kind)] }), kind).toEqual([]);
      expect(errors({ matches: [exact], filters: [rewrite(kind)] }), kind).toEqual([message]);
      expect(errors({ matches: [prefix, prefix], filters: [rewrite(kind)] }), kind).toEqual([message]);
      // a match without a path: !has(self.matches[0].path) is true, so the route is refused
      expect(
        errors({ matches: [{ headers: [{ name: 'x', value: 'y' }] }], filters: [rewrite(kind)] }),
        kind,
      ).toEqual([message]);
      // without the filter, any match goes
      expect(errors({ matches: [exact, prefix] }), kind).toEqual([]);
    }
  });
});
