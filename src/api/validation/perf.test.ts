// The write path runs decode → defaults → validate on every create: it must stay far below the apiserver's budget
// (3,000 creates/s on 2 cores leaves ~0.6 ms per request for everything).
import { describe, it, expect } from 'vitest';
import { applyDefaults } from '../defaults/index.js';
import { decodeObject } from '../schema/index.js';
import { FIXTURES } from './fixtures.js';
import { validateObject } from './index.js';

describe('write pipeline speed', () => {
  it.each(['Pod', 'Deployment', 'Service'])(
    'decode+defaults+validate of a typical %s takes well under 0.1 ms',
    (kind) => {
      const f = FIXTURES.find((x) => x.gvk.kind === kind)!;
      const json = JSON.stringify(f.object());
      const bodies = Array.from({ length: 6000 }, () => JSON.parse(json) as unknown);
      const run = (body: unknown) => {
        const { object } = decodeObject(f.gvk, body, 'Strict');
        applyDefaults(f.gvk, object);
        return validateObject(f.gvk, object);
      };
      for (const b of bodies.slice(0, 1000)) expect(run(b)).toEqual([]); // warm up (and prove the work is real)
      const measured = bodies.slice(1000);
      const start = process.hrtime.bigint();
      for (const b of measured) run(b);
      const perObjectMs = Number(process.hrtime.bigint() - start) / 1e6 / measured.length;
      // generous bound so a loaded CI machine does not flake; typical is a few hundredths of a millisecond
      expect(perObjectMs).toBeLessThan(0.1);
    },
  );
});
