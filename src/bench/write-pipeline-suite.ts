// The apiserver's write path runs decode → defaults → validate on every create: at 3,000 creates/s on 2 cores that
// leaves about 0.6 ms per request for everything, so each of these should take a few hundredths of a millisecond.
// (This was a timed assertion in a unit test; speed is shown here, never asserted in tests.)
import { applyDefaults } from '../api/defaults/index.js';
import { decodeObject } from '../api/schema/index.js';
import { FIXTURES } from '../api/validation/fixtures.js';
import { validateObject } from '../api/validation/index.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const WARM_UP = 1000;
const MEASURED = 5000;

registerSuite('write-pipeline', (): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  for (const kind of ['Pod', 'Deployment', 'Service']) {
    const f = FIXTURES.find((x) => x.gvk.kind === kind);
    if (!f) throw new Error(`no validation fixture for ${kind}`);
    const json = JSON.stringify(f.object());
    const bodies = Array.from({ length: WARM_UP + MEASURED }, () => JSON.parse(json) as unknown);
    const run = (body: unknown): number => {
      const { object } = decodeObject(f.gvk, body, 'Strict');
      applyDefaults(f.gvk, object);
      return validateObject(f.gvk, object).length;
    };
    for (const b of bodies.slice(0, WARM_UP)) {
      if (run(b) !== 0) throw new Error(`the ${kind} fixture does not validate`);
    }
    const start = process.hrtime.bigint();
    for (const b of bodies.slice(WARM_UP)) run(b);
    const perObjectMs = Number(process.hrtime.bigint() - start) / 1e6 / MEASURED;
    results.push({
      name: `decode+defaults+validate, one ${kind}`,
      value: perObjectMs,
      unit: 'ms',
      target: { op: '<=', value: 0.1 },
    });
  }
  return Promise.resolve(results);
});
