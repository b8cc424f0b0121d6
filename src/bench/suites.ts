// The registry of benchmark suites: each suite module calls registerSuite; `npm run bench` runs them in order.
import type { BenchResult } from './report.js';

export type SuiteFn = () => Promise<BenchResult[]>;

export interface Suite {
  name: string;
  run: SuiteFn;
}

const suites: Suite[] = [];

export function registerSuite(name: string, run: SuiteFn): void {
  if (suites.some((s) => s.name === name)) throw new Error(`bench suite "${name}" registered twice`);
  suites.push({ name, run });
}

export function registeredSuites(): readonly Suite[] {
  return [...suites];
}
