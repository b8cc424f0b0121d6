// Compile and evaluate CEL expressions as upstream's apiserver/pkg/cel: one environment per set of variables
// (all `dyn`, as unstructured objects are), the Kubernetes libraries, the size limits (upstream's
// MaxRequestSizeBytes for an expression's text; AST limits so parsing is bounded too) and the runtime cost
// limit (./budget.ts). Compiled programs are cached by (variables, expression).
import { Environment } from '@marcbachmann/cel-js';
import { CostLimitError, metered, PER_CALL_LIMIT } from './budget.js';
import { registerKubernetesLibraries } from './library.js';
import { rewriteHasMacros } from './rewrite.js';

/** upstream's celconfig.MaxRequestSizeBytes: the longest expression text accepted */
export const MAX_EXPRESSION_LENGTH = 3 * 1024 * 1024;

const LIMITS = {
  maxAstNodes: 10_000,
  maxDepth: 250,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32,
};

export interface CompileError {
  /** upstream's `ERROR: <input>:L:C: what\n | line\n | ...^` */
  message: string;
}

export interface Program {
  readonly expression: string;
  /** evaluate with the variables' values (CEL values: ./values.ts toCel); throws EvaluationError / CostLimitError */
  evaluate(activation: Record<string, unknown>, limit?: number): { value: unknown; cost: number };
}

const environments = new Map<string, Environment>();

function environment(variables: readonly string[]): Environment {
  const key = variables.join(',');
  let env = environments.get(key);
  if (!env) {
    env = registerKubernetesLibraries(new Environment({ enableOptionalTypes: true, limits: LIMITS }));
    for (const v of variables) env.registerVariable(v, 'dyn');
    environments.set(key, env);
  }
  return env;
}

interface CelLibError extends Error {
  summary?: string;
  range?: { start: number; end: number };
  node?: { input?: string };
}

/** upstream's (cel-go's) error text: `ERROR: <input>:1:5: message` and the line with a caret under the column */
export function formatCelError(expression: string, e: unknown): string {
  const err = e as CelLibError;
  const summary = err.summary ?? err.message ?? String(e);
  const pos = err.range?.start;
  if (pos === undefined) return `ERROR: <input>:1:1: ${summary}`;
  const before = expression.slice(0, pos);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const col = pos - lineStart;
  const text = expression.slice(lineStart).split('\n')[0];
  return `ERROR: <input>:${line}:${col + 1}: ${summary}\n | ${text}\n | ${'.'.repeat(col)}^`;
}

const cache = new Map<string, Program | CompileError>();

/** compile `expression` with these variables (e.g. ['object', 'oldObject', 'request', 'params']) */
export function compile(expression: string, variables: readonly string[]): Program | CompileError {
  const key = `${variables.join(',')}\u0000${expression}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let result: Program | CompileError;
  if (expression.length > MAX_EXPRESSION_LENGTH)
    result = { message: `expression exceeds the maximum size of ${MAX_EXPRESSION_LENGTH} bytes` };
  else {
    const env = environment(variables);
    const build = (text: string): Program => {
      const parsed = env.parse(text);
      const checked = parsed.check();
      if (!checked.valid) throw checked.error as Error;
      return {
        expression,
        evaluate(activation, limit = PER_CALL_LIMIT) {
          return metered(limit, () => parsed(activation) as unknown);
        },
      };
    };
    try {
      result = build(expression);
    } catch (e) {
      result = { message: formatCelError(expression, e) };
      // has() of a field under an index, which the library refuses: the same presence test in optional syntax
      const rewritten = rewriteHasMacros(expression);
      if (rewritten !== expression) {
        try {
          result = build(rewritten);
        } catch {
          // the rewrite did not help: the first error is the one to show
        }
      }
    }
  }
  if (cache.size > 5000) cache.clear();
  cache.set(key, result);
  return result;
}

export function isCompileError(p: Program | CompileError): p is CompileError {
  return !('evaluate' in p);
}

/** an evaluation error's text as upstream words it (cel-go's message without the source excerpt) */
export function evaluationErrorMessage(e: unknown): string {
  if (e instanceof CostLimitError) return e.message;
  const err = e as CelLibError;
  return err.summary ?? err.message ?? String(e);
}
