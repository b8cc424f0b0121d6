import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeys } from './sorted-keys.js';

describe('SortedKeys', () => {
  it('pages through a prefix exactly like a sorted, filtered array', () => {
    const key = fc.stringMatching(/^\/[ab]{0,2}\/?[a-c]{0,3}$/);
    fc.assert(
      fc.property(
        fc.array(key),
        fc.array(key),
        key,
        fc.option(key, { nil: undefined }),
        fc.nat(4),
        (added, removed, prefix, startAfter, limit) => {
          const keys = new SortedKeys(added.slice(0, 3));
          for (const k of added.slice(3)) keys.insert(k);
          for (const k of removed) keys.remove(k);
          const model = [...new Set(added)].filter((k) => !removed.includes(k)).sort();
          const under = model.filter(
            (k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter),
          );
          const want = limit > 0 ? under.slice(0, limit) : under;
          expect(keys.range(prefix, startAfter, limit)).toEqual({
            keys: want,
            remaining: under.length - want.length,
          });
          expect(keys.size).toBe(model.length);
        },
      ),
    );
  });
});
