// The CEL side of admission (upstream's admission/plugin/cel): the variables every admission expression sees,
// matchConditions, and the evaluation of one expression with upstream's error texts.
import {
  compile,
  evaluationErrorMessage,
  isCompileError,
  PER_CALL_LIMIT,
  toCel,
  CostLimitError,
  type Program,
} from '../../../api/cel/index.js';
import type { AdmissionAttributes } from '../interface.js';
import { admissionRequest } from './request.js';

/** upstream's admission expression variables (authorizer is not offered: see docs/design.md) */
export const ADMISSION_VARIABLES = [
  'object',
  'oldObject',
  'request',
  'params',
  'namespaceObject',
  'variables',
] as const;

/** a running budget shared by the expressions of one request (upstream's RuntimeCELCostBudget) */
export class Budget {
  constructor(public remaining: number) {}
}

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly outOfBudget = false,
  ) {
    super(message);
  }
}

/** upstream's CreateNamespaceObject: the namespace's metadata, spec and status, no managed fields */
function namespaceObject(ns: Record<string, unknown> | undefined): unknown {
  if (!ns) return null;
  const { metadata, spec, status } = ns as {
    metadata?: Record<string, unknown>;
    spec?: unknown;
    status?: unknown;
  };
  const md = { ...(metadata ?? {}) };
  delete md['managedFields'];
  return { apiVersion: 'v1', kind: 'Namespace', metadata: md, spec: spec ?? {}, status: status ?? {} };
}

export interface ActivationInput {
  attributes: AdmissionAttributes;
  params?: unknown;
  namespace?: Record<string, unknown>;
}

/** the activation of one evaluation: the request's objects as CEL values; `variables` filled by the caller */
export function activation(input: ActivationInput): Record<string, unknown> {
  const a = input.attributes;
  return {
    object: toCel(a.object ?? null),
    oldObject: toCel(a.oldObject ?? null),
    request: toCel(admissionRequest(a, '')),
    params: toCel(input.params ?? null),
    namespaceObject: toCel(namespaceObject(input.namespace)),
    variables: {},
  };
}

export function compileAdmission(expression: string): Program | { message: string } {
  return compile(expression, ADMISSION_VARIABLES);
}

/** evaluate one admission expression; errors in upstream's words ("expression '…' resulted in error: …") */
export function evalExpression(expression: string, act: Record<string, unknown>, budget: Budget): unknown {
  const p = compileAdmission(expression);
  if (isCompileError(p)) throw new ExpressionError(`compilation error: ${p.message}`);
  if (budget.remaining <= 0)
    throw new ExpressionError('validation failed due to running out of cost budget', true);
  try {
    const { value, cost } = p.evaluate(act, Math.min(PER_CALL_LIMIT, budget.remaining));
    budget.remaining -= cost;
    return value;
  } catch (e) {
    if (e instanceof CostLimitError) {
      budget.remaining = 0;
      throw new ExpressionError(`operation cancelled: actual cost limit exceeded`, true);
    }
    throw new ExpressionError(`expression '${expression}' resulted in error: ${evaluationErrorMessage(e)}`);
  }
}

/** spec.variables as lazily evaluated, cached members of `variables` (upstream's composition) */
export function bindVariables(
  variables: { name: string; expression: string }[] | undefined,
  act: Record<string, unknown>,
  budget: Budget,
): void {
  const vars: Record<string, unknown> = {};
  for (const v of variables ?? []) {
    let done: { value?: unknown; error?: unknown } | undefined;
    Object.defineProperty(vars, v.name, {
      enumerable: true,
      get() {
        if (!done) {
          try {
            done = { value: evalExpression(v.expression, act, budget) };
          } catch (e) {
            done = { error: e };
          }
        }
        if (done.error) throw done.error as Error;
        return done.value;
      },
    });
  }
  act['variables'] = vars;
}

export interface MatchCondition {
  name: string;
  expression: string;
}

/**
 * upstream's matchconditions.Matcher: every condition true → match; one false → no match (even if another
 * errs); otherwise the errors, joined, for the failure policy to decide.
 */
export function matchConditions(
  conditions: MatchCondition[] | undefined,
  act: Record<string, unknown>,
  budget: Budget,
): { matches: boolean; error?: string } {
  const errors: string[] = [];
  for (const c of conditions ?? []) {
    try {
      const v = evalExpression(c.expression, act, budget);
      if (v === false) return { matches: false };
      if (v !== true) errors.push(`matchCondition '${c.name}' must evaluate to bool`);
    } catch (e) {
      errors.push(`matchCondition '${c.name}': ${(e as Error).message}`);
    }
  }
  if (errors.length) return { matches: false, error: errors.join('; ') };
  return { matches: true };
}
