// Property test: whatever a client sends, decode → defaults → validate fails only with ApiErrors, and what passes
// all three is a fixed point (decoding, defaulting and validating it again changes nothing and finds nothing).
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { applyDefaults } from '../defaults/index.js';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../request.js';
import { decodeObject, type Gvk } from '../schema/index.js';
import { FIXTURES } from './fixtures.js';
import { validateObject } from './index.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** run the write pipeline; returns the errors, or the object when it is accepted */
function pipeline(gvk: Gvk, body: unknown): { object?: KubeObject; invalid?: boolean } {
  try {
    const { object } = decodeObject(gvk, body, 'Ignore');
    applyDefaults(gvk, object);
    const errs = validateObject(gvk, object);
    return errs.length === 0 ? { object } : { invalid: true };
  } catch (e) {
    if (e instanceof ApiError) return { invalid: true };
    throw e;
  }
}

/** every path to a value inside `root` */
function paths(
  root: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(root)) root.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (root && typeof root === 'object')
    for (const [k, v] of Object.entries(root)) paths(v, [...prefix, k], out);
  return out;
}

type Mutation = { at: number; op: 'set' | 'delete' | 'add'; key: string; value: Json };

function mutate(root: Json, mutation: Mutation): Json {
  // fast-check reuses generated values across runs and the pipeline works in place: insert copies
  const m = { ...mutation, value: structuredClone(mutation.value) };
  const all = paths(root);
  const path = all[m.at % all.length];
  if (path.length === 0) return m.op === 'set' ? m.value : root;
  let parent: any = root;
  for (const p of path.slice(0, -1)) parent = parent[p];
  const last = path[path.length - 1];
  if (m.op === 'set') parent[last] = m.value;
  else if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) target[m.key] = m.value;
    else if (Array.isArray(target)) target.push(m.value);
  }
  return root;
}

const interesting = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1,
    1.5,
    70000,
    2 ** 31,
    '',
    'x',
    'Always',
    '-1',
    '1Gi',
    '25%',
    'Bad Name',
    'a'.repeat(70),
    {},
    [],
  ),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const keys = fc.constantFrom(
  'name',
  'image',
  'port',
  'replicas',
  'labels',
  'selector',
  'bogus',
  'matchLabels',
  'containers',
  'type',
  'spec',
);
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'add'),
  key: keys,
  value: interesting,
});

function assertFixedPoint(gvk: Gvk, object: KubeObject): void {
  const again = pipeline(gvk, structuredClone(object));
  expect(again.invalid, JSON.stringify(object)).toBeUndefined();
  expect(again.object).toEqual(object);
}

describe('write pipeline properties', () => {
  it('arbitrary JSON bodies never crash it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURES), fc.jsonValue({ maxDepth: 4 }), (f, body) => {
        const r = pipeline(f.gvk, body);
        if (r.object) assertFixedPoint(f.gvk, r.object);
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary bodies shaped like the kind never crash it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.dictionary(
          fc.constantFrom('metadata', 'spec', 'status', 'data', 'subsets', 'ports', 'endpoints'),
          fc.jsonValue({ maxDepth: 4 }),
        ),
        (f, body) => {
          const r = pipeline(f.gvk, { ...body, metadata: { name: 'x', namespace: 'default' } });
          if (r.object) assertFixedPoint(f.gvk, r.object);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated valid objects of every kind: only ApiErrors, and accepted objects re-validate clean', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (f, mutations) => {
          let body = f.object() as Json;
          for (const m of mutations) body = mutate(body, m);
          const r = pipeline(f.gvk, body);
          if (r.object) {
            accepted++;
            assertFixedPoint(f.gvk, r.object);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // the mutations must leave a fair share valid, or the fixed-point half of this test proves nothing
    expect(accepted).toBeGreaterThan(100);
  });

  it('accepted objects survive update validation against themselves', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 2 }),
        (f, mutations) => {
          let body = f.object() as Json;
          for (const m of mutations) body = mutate(body, m);
          const r = pipeline(f.gvk, body);
          if (r.object)
            expect(validateObject(f.gvk, structuredClone(r.object), { old: r.object })).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
