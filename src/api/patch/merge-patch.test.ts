// RFC 7386 JSON merge patch: the RFC's appendix A examples plus upstream's (evanphx/json-patch v4) edge cases.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyMergePatch } from './index.js';

describe('applyMergePatch: RFC 7386 appendix A', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  cases.forEach(([doc, patch, expected], i) => {
    it(`example ${i + 1}: ${JSON.stringify(patch)}`, () =>
      expect(applyMergePatch(doc, patch)).toEqual(expected));
  });

  it('an array patch replaces the document (nulls in it kept)', () => {
    expect(applyMergePatch({ a: 'b' }, ['c', null])).toEqual(['c', null]);
  });
});

describe('applyMergePatch: kubectl-style patches', () => {
  it('scales a Deployment and labels it', () => {
    const d = {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'a' }] } } },
    };
    expect(
      applyMergePatch(d, { spec: { replicas: 3 }, metadata: { labels: { tier: 'x', app: null } } }),
    ).toEqual({
      metadata: { name: 'web', labels: { tier: 'x' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'a' }] } } },
    });
  });

  it('replaces lists whole (no merge by key)', () => {
    const d = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b' }] } };
    expect(applyMergePatch(d, { spec: { containers: [{ name: 'a', image: '2' }] } })).toEqual({
      spec: { containers: [{ name: 'a', image: '2' }] },
    });
  });

  it('null and scalar patches are 400 "Invalid JSON Patch"', () => {
    for (const patch of [null, 5, 'x', true]) {
      let caught: unknown;
      try {
        applyMergePatch({}, patch);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ApiError);
      expect((caught as ApiError).code).toBe(400);
      expect((caught as ApiError).message).toBe('Invalid JSON Patch');
    }
  });
});
