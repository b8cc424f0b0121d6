// The typical objects the write-pipeline benchmark (src/bench/write-pipeline-suite.ts) times must go through
// decode → defaults → validate cleanly, or the benchmark would time an error path.
import { describe, it, expect } from 'vitest';
import { applyDefaults } from '../defaults/index.js';
import { decodeObject } from '../schema/index.js';
import { FIXTURES } from './fixtures.js';
import { validateObject } from './index.js';

describe('write pipeline fixtures', () => {
  it.each(['Pod', 'Deployment', 'Service'])(
    'a typical %s decodes, defaults and validates cleanly',
    (kind) => {
      const f = FIXTURES.find((x) => x.gvk.kind === kind)!;
      const { object } = decodeObject(f.gvk, f.object(), 'Strict');
      applyDefaults(f.gvk, object);
      expect(validateObject(f.gvk, object)).toEqual([]);
    },
  );
});
