// CEL for kubemu (upstream's apiserver/pkg/cel) on @marcbachmann/cel-js.
export {
  compile,
  isCompileError,
  evaluationErrorMessage,
  formatCelError,
  MAX_EXPRESSION_LENGTH,
} from './compile.js';
export type { Program, CompileError } from './compile.js';
export { CostLimitError, PER_CALL_LIMIT, RUNTIME_CEL_COST_BUDGET } from './budget.js';
export { toCel, fromCel, celTypeName } from './values.js';
export {
  validateSchemaRules,
  hasSchemaRules,
  normalizeRuleFieldPath,
  uncompilableRules,
} from './schema-rules.js';
export type { RuleSchema, ValidationRule, SchemaRulesOptions, UncompilableRule } from './schema-rules.js';
