// RFC 6902 JSON patch: the RFC's examples (appendix A) and upstream's (evanphx/json-patch v4) quirks and errors.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyJsonPatch } from './index.js';

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

const REJECTED = 'the server rejected our request due to an error in our request';

describe('applyJsonPatch: RFC 6902 appendix A', () => {
  const cases: [string, unknown, unknown[], unknown][] = [
    [
      'A.1 add an object member',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz', value: 'qux' }],
      { baz: 'qux', foo: 'bar' },
    ],
    [
      'A.2 add an array element',
      { foo: ['bar', 'baz'] },
      [{ op: 'add', path: '/foo/1', value: 'qux' }],
      { foo: ['bar', 'qux', 'baz'] },
    ],
    [
      'A.3 remove an object member',
      { baz: 'qux', foo: 'bar' },
      [{ op: 'remove', path: '/baz' }],
      { foo: 'bar' },
    ],
    [
      'A.4 remove an array element',
      { foo: ['bar', 'qux', 'baz'] },
      [{ op: 'remove', path: '/foo/1' }],
      { foo: ['bar', 'baz'] },
    ],
    [
      'A.5 replace a value',
      { baz: 'qux', foo: 'bar' },
      [{ op: 'replace', path: '/baz', value: 'boo' }],
      { baz: 'boo', foo: 'bar' },
    ],
    [
      'A.6 move a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    [
      'A.7 move an array element',
      { foo: ['all', 'grass', 'cows', 'eat'] },
      [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
      { foo: ['all', 'cows', 'eat', 'grass'] },
    ],
    [
      'A.8 test a value (success)',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    [
      'A.10 add a nested member object',
      { foo: 'bar' },
      [{ op: 'add', path: '/child', value: { grandchild: {} } }],
      { foo: 'bar', child: { grandchild: {} } },
    ],
    [
      'A.11 ignore unrecognised members',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
      { foo: 'bar', baz: 'qux' },
    ],
    [
      'A.14 ~ escape ordering',
      { '/': 9, '~1': 10 },
      [{ op: 'test', path: '/~01', value: 10 }],
      { '/': 9, '~1': 10 },
    ],
    [
      'A.16 add an array value',
      { foo: ['bar'] },
      [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
      { foo: ['bar', ['abc', 'def']] },
    ],
    ['copy a value', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
  ];
  for (const [name, doc, patch, expected] of cases) {
    it(name, () => expect(applyJsonPatch(doc, patch)).toEqual(expected));
  }

  it('A.9 a failed test is upstream’s 422', () => {
    const e = thrown(() => applyJsonPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }]));
    expect(e.code).toBe(422);
    expect(e.reason).toBe('Invalid');
    expect(e.message).toBe(REJECTED);
    expect(String((e.cause as Error).message)).toBe('testing value /baz failed: test failed');
  });

  it('A.12 adding to a nonexistent target is 422', () => {
    const e = thrown(() => applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]));
    expect(e.code).toBe(422);
    expect((e.cause as Error).message).toBe(
      'add operation does not apply: doc is missing path: "/baz/bat": missing value',
    );
  });

  it('A.15 comparing strings and numbers fails', () => {
    expect(
      thrown(() => applyJsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }])).code,
    ).toBe(422);
  });
});

describe('applyJsonPatch: upstream behaviour', () => {
  it('updates a container image by index, as `kubectl patch --type json` users do', () => {
    const pod = { spec: { containers: [{ name: 'app', image: 'hello:1' }] } };
    const out = applyJsonPatch(pod, [{ op: 'replace', path: '/spec/containers/0/image', value: 'hello:2' }]);
    expect(out).toEqual({ spec: { containers: [{ name: 'app', image: 'hello:2' }] } });
  });

  it('supports negative indices and lets replace set a missing object key (v4 quirks)', () => {
    expect(applyJsonPatch({ a: [1, 2, 3] }, [{ op: 'remove', path: '/a/-1' }])).toEqual({ a: [1, 2] });
    expect(applyJsonPatch({ a: {} }, [{ op: 'replace', path: '/a/b', value: 1 }])).toEqual({ a: { b: 1 } });
  });

  it('removing a missing key, an out-of-range index or an unknown op are 422', () => {
    for (const op of [
      { op: 'remove', path: '/nope' },
      { op: 'replace', path: '/a/5', value: 1 },
      { op: 'add', path: '/a/7', value: 1 },
      { op: 'frobnicate', path: '/a' },
    ]) {
      const e = thrown(() => applyJsonPatch({ a: [1] }, [op]));
      expect(e.code).toBe(422);
      expect(e.message).toBe(REJECTED);
    }
  });

  it('replaces the whole document with path ""', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }])).toEqual({ b: 2 });
  });

  it('a patch that is not a list of operations is 400 with Go’s decode error', () => {
    const e = thrown(() => applyJsonPatch({}, { op: 'add' }));
    expect(e.code).toBe(400);
    expect(e.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expect(thrown(() => applyJsonPatch({}, ['add'])).message).toBe(
      'json: cannot unmarshal string into Go value of type jsonpatch.Operation',
    );
  });

  it('more than 10000 operations is 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/a', value: 1 }));
    const e = thrown(() => applyJsonPatch({ a: 1 }, ops));
    expect(e.code).toBe(413);
    expect(e.message).toBe('The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('applies operations in order, and a failure leaves the target untouched', () => {
    const target = { a: 1 };
    expect(() =>
      applyJsonPatch(target, [
        { op: 'replace', path: '/a', value: 2 },
        { op: 'test', path: '/a', value: 1 },
      ]),
    ).toThrow(ApiError);
    expect(target).toEqual({ a: 1 });
  });
});

describe('applyJsonPatch: the accumulated copy size limit (CVE-2019-1002100)', () => {
  it('copies that double the document stop once they added 3 MiB, with json-patch error text', () => {
    const ops: unknown[] = [{ op: 'add', path: '/d', value: { s: 'x'.repeat(60) } }];
    for (let i = 0; i < 20; i++) ops.push({ op: 'copy', from: '/d', path: `/d/c${i}` });
    const err = thrown(() => applyJsonPatch({ metadata: { name: 'x' } }, ops));
    expect(err.code).toBe(422);
    expect(err.message).toBe(REJECTED);
    expect(String((err.cause as Error).message)).toMatch(
      /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/,
    );
  });

  it('copies under the limit apply, each a copy of its own', () => {
    const out = applyJsonPatch({ a: { b: [1] } }, [
      { op: 'copy', from: '/a', path: '/c' },
      { op: 'add', path: '/c/b/-', value: 2 },
    ]);
    expect(out).toEqual({ a: { b: [1] }, c: { b: [1, 2] } });
  });

  it('a patch that moves the document deeper than the stack can copy is 422, not a crash', () => {
    // each copy puts /a under the end of its own deepest path, doubling its depth
    const ops: unknown[] = [{ op: 'add', path: '/a', value: { a: {} } }];
    let path = '/a/a';
    for (let i = 0; i < 14; i++) {
      ops.push({ op: 'copy', from: '/a', path: `${path}/a` });
      path = path + path.slice(2);
    }
    const err = thrown(() => applyJsonPatch({}, ops));
    expect(err.code).toBe(422);
  });
});
