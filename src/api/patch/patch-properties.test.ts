// Property tests: whatever the input, patches fail only with ApiErrors and never mutate their inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './index.js';

const KEYS = [
  'metadata',
  'finalizers',
  'labels',
  'ownerReferences',
  'uid',
  'spec',
  'template',
  'containers',
  'name',
  'image',
  'env',
  'value',
  'ports',
  'containerPort',
  'args',
  'strategy',
  'type',
  'volumes',
  '$patch',
  '$retainKeys',
  '$setElementOrder/containers',
  '$setElementOrder/env',
  '$setElementOrder/finalizers',
  '$deleteFromPrimitiveList/finalizers',
  '$deleteFromPrimitiveList/args',
  '__proto__',
];

/** JSON shaped like Kubernetes objects and strategic patches, directives included */
const tree = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, 'app', 'sidecar', 'delete', 'replace', 'merge', 'name', 80, 8080, 1.5, true),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
}));

const KINDS = [
  { group: '', version: 'v1', kind: 'Pod' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: 'example.com', version: 'v1', kind: 'Widget' },
];

const jsonPatchOp = fc.record(
  {
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'nope'),
    path: fc.constantFrom(
      '',
      '/',
      '/spec',
      '/spec/containers',
      '/spec/containers/0',
      '/spec/containers/-',
      '/a/b',
      '/x~1y',
      'spec',
    ),
    from: fc.constantFrom('/spec', '/spec/containers/0', '/metadata/name', '/missing'),
    value: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['op'] },
);

function onlyApiErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
  }
}

describe('patch properties', () => {
  it('strategic merge patch: only ApiErrors, inputs untouched', () => {
    fc.assert(
      fc.property(
        tree.object,
        fc.oneof(tree.object, tree.value),
        fc.constantFrom(...KINDS),
        (target, patch, gvk) => {
          const before = structuredClone([target, patch]);
          onlyApiErrors(() => applyStrategicMergePatch(target, patch, gvk));
          expect([target, patch]).toEqual(before);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('merge patch: only ApiErrors, inputs untouched', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
        const before = structuredClone([target, patch]);
        onlyApiErrors(() => applyMergePatch(target, patch));
        expect([target, patch]).toEqual(before);
      }),
      { numRuns: 1000 },
    );
  });

  it('json patch: only ApiErrors, inputs untouched', () => {
    fc.assert(
      fc.property(
        tree.object,
        fc.oneof(fc.array(jsonPatchOp, { maxLength: 4 }), fc.jsonValue()),
        (target, patch) => {
          const before = structuredClone([target, patch]);
          onlyApiErrors(() => applyJsonPatch(target, patch));
          expect([target, patch]).toEqual(before);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a merge patch with no nulls, applied twice, is idempotent', () => {
    fc.assert(
      fc.property(tree.object, tree.object, (target, patch) => {
        fc.pre(!JSON.stringify(patch).includes('null'));
        const once = applyMergePatch(target, patch);
        expect(applyMergePatch(once, patch)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });
});
