import { describe, expect, it } from 'vitest';
import { deepCopy, deepEqual } from './objects.js';

describe('deepCopy', () => {
  it('copies plain objects and arrays all the way down, sharing nothing', () => {
    const src = { a: { b: [1, { c: 'x' }], d: null, e: undefined }, f: [[true]] };
    const copy = deepCopy(src);
    expect(copy).toEqual(src);
    expect('e' in copy.a).toBe(true);
    expect(copy.a).not.toBe(src.a);
    expect(copy.a.b).not.toBe(src.a.b);
    expect(copy.a.b[1]).not.toBe(src.a.b[1]);
    expect(copy.f[0]).not.toBe(src.f[0]);
    (copy.a.b[1] as { c: string }).c = 'y';
    expect((src.a.b[1] as { c: string }).c).toBe('x');
  });

  it('keeps an own "__proto__" key (as JSON.parse makes it) a key, without touching the prototype', () => {
    const src = JSON.parse('{"metadata":{"labels":{"__proto__":{"polluted":"yes"}}}}') as {
      metadata: { labels: Record<string, unknown> };
    };
    const copy = deepCopy(src);
    expect(Object.getPrototypeOf(copy.metadata.labels)).toBe(Object.prototype);
    expect(Object.keys(copy.metadata.labels)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(copy.metadata.labels, '__proto__')?.value).toEqual({
      polluted: 'yes',
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(deepEqual(copy, src)).toBe(true);
  });

  it('copies what is not plain JSON as structuredClone does (Dates, Maps, typed arrays)', () => {
    const when = new Date('2026-12-07T00:00:00Z');
    const src = { when, m: new Map([['k', { v: 1 }]]), bytes: new Uint8Array([1, 2, 3]) };
    const copy = deepCopy(src);
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(when);
    expect(copy.when.getTime()).toBe(when.getTime());
    expect(copy.m).toBeInstanceOf(Map);
    expect(copy.m.get('k')).toEqual({ v: 1 });
    expect(copy.m.get('k')).not.toBe(src.m.get('k'));
    expect([...copy.bytes]).toEqual([1, 2, 3]);
  });

  it('copies very deep and cyclic values (structuredClone takes over below a depth)', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 1000; i++) deep = { next: deep };
    const copy = deepCopy(deep);
    let node = copy;
    let depth = 0;
    while (node['next']) {
      node = node['next'] as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBe(1000);
    expect(node['leaf']).toBe(1);

    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic['self'] = cyclic;
    const c = deepCopy(cyclic);
    expect(c).not.toBe(cyclic);
    expect(c['name']).toBe('a');
    // the copy is a cycle of its own, not a way back into the original
    let walk = c;
    for (let i = 0; i < 100; i++) walk = walk['self'] as Record<string, unknown>;
    expect(walk).not.toBe(cyclic);
    expect(walk['name']).toBe('a');
  });

  it('returns scalars as they are', () => {
    expect(deepCopy(3)).toBe(3);
    expect(deepCopy('s')).toBe('s');
    expect(deepCopy(null)).toBe(null);
    expect(deepCopy(undefined)).toBe(undefined);
  });
});
