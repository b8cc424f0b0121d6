// The runtime cost limit: every AST node the evaluator runs costs one unit (cel-go's cost is about that per
// node, plus sizes for string and list operations), so an expression that iterates too much is stopped with
// upstream's "operation cancelled: actual cost limit exceeded" instead of stalling the event loop.
//
// @marcbachmann/cel-js has no cost tracker: we count by wrapping its evaluator's `run`, every child's
// evaluation goes through it. The evaluator class is not exported; a function handler runs with the evaluator
// as `this`, which is how we reach its prototype once, at load.
import { Environment } from '@marcbachmann/cel-js';

/** upstream's apiserver/pkg/apis/cel: one expression's runtime cost limit (PerCallLimit) */
export const PER_CALL_LIMIT = 1_000_000;
/**
 * What one request's expressions may spend together (upstream's RuntimeCELCostBudget is 10,000,000; kubemu
 * evaluates on the apiserver's one event loop, where 1,000,000 units take about 0.1–0.35 s, so it allows 2,000,000).
 */
export const RUNTIME_CEL_COST_BUDGET = 2_000_000;

export class CostLimitError extends Error {
  constructor() {
    super('operation cancelled: actual cost limit exceeded');
    this.name = 'CostLimitError';
  }
}

interface EvaluatorProto {
  run: (this: unknown, ast: unknown, ctx: unknown) => unknown;
}

let remaining = Infinity;
let exceeded = false;

function patchEvaluator(): void {
  let proto: EvaluatorProto | undefined;
  new Environment()
    .registerFunction('kubemuCaptureEvaluator(): bool', function (this: unknown) {
      proto = Object.getPrototypeOf(this) as EvaluatorProto;
      return true;
    })
    .evaluate('kubemuCaptureEvaluator()');
  if (!proto || typeof proto.run !== 'function')
    throw new Error('cel: the evaluator has no run method to meter');
  const run = proto.run;
  proto.run = function (ast, ctx) {
    if (--remaining < 0) {
      exceeded = true;
      throw new CostLimitError();
    }
    return run.call(this, ast, ctx);
  };
}
patchEvaluator();

/**
 * Run `fn` (a synchronous evaluation) with at most `limit` units; returns its value and the units spent.
 * Throws CostLimitError past the limit, also when the expression swallowed the error (`exists`, `||`).
 */
export function metered<T>(limit: number, fn: () => T): { value: T; cost: number } {
  const outer = remaining;
  const outerExceeded = exceeded;
  remaining = limit;
  exceeded = false;
  try {
    const value = fn();
    if (exceeded) throw new CostLimitError();
    return { value, cost: limit - remaining };
  } finally {
    remaining = outer;
    exceeded = outerExceeded;
  }
}
