// A Job's podFailurePolicy, successPolicy and managedBy, and the index-interval syntax its successPolicy and status
// use (upstream pkg/apis/batch/validation/validation.go, validatePodFailurePolicy, validateSuccessPolicy,
// validateIndexesFormat; apimachinery IsDomainPrefixedPath), with upstream's field paths and messages.
import type { JobSpec, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import { fe, type FieldError } from '../errors.js';
import { isDomainPrefixedPath, nonNegative } from './meta.js';
import { isQualifiedName } from './names.js';

const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_MANAGED_BY_LENGTH = 63;

// sets.List order (sorted)
const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];

const quoted = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

const GO_INT = /^[+-]?\d+$/;

/** parseIndexInterval: `x` or `x-y`, both below completions, x < y */
function parseIndexInterval(interval: string, completions: number): [number, number] | string {
  const limits = interval.split('-');
  if (limits.length > 2) {
    return `the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`;
  }
  const parse = (s: string): number | string => {
    if (!GO_INT.test(s)) return `cannot convert string to integer for index: ${JSON.stringify(s)}`;
    const n = Number(s);
    return n >= completions ? `too large index: ${JSON.stringify(s)}` : n;
  };
  const x = parse(limits[0]);
  if (typeof x === 'string') return x;
  if (limits.length === 1) return [x, x];
  const y = parse(limits[1]);
  if (typeof y === 'string') return y;
  if (x >= y) return `non-increasing order, previous: ${x}, current: ${y}`;
  return [x, y];
}

/** validateIndexesFormat: comma-separated increasing intervals; the number of indexes, or the problem */
export function validateIndexesFormat(indexes: string, completions: number): number | string {
  if (indexes.length === 0) return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of indexes.split(',')) {
    const parsed = parseIndexInterval(interval, completions);
    if (typeof parsed === 'string') return parsed;
    const [x, y] = parsed;
    if (last !== undefined && last >= x) return `non-increasing order, previous: ${last}, current: ${x}`;
    total += y - x + 1;
    last = y;
  }
  return total;
}

/** spec.managedBy: apimachinery's IsDomainPrefixedPath (e.g. "acme.io/foo") and a 63-character limit */
export function validateManagedBy(value: string, path: string): FieldError[] {
  const errs = isDomainPrefixedPath(value, path);
  if (value.length > MAX_MANAGED_BY_LENGTH) errs.push(fe.tooLong(path, value, MAX_MANAGED_BY_LENGTH));
  return errs;
}

function validateOnExitCodes(
  req: NonNullable<PodFailurePolicyRule['onExitCodes']>,
  path: string,
  containerNames: Set<string>,
): FieldError[] {
  const errs: FieldError[] = [];
  const op = req.operator;
  if (!op) errs.push(fe.required(`${path}.operator`, `valid values: ${quoted(OPERATORS)}`));
  else if (!OPERATORS.includes(op)) errs.push(fe.notSupported(`${path}.operator`, op, OPERATORS));
  if (req.containerName !== undefined && !containerNames.has(req.containerName)) {
    errs.push(
      fe.invalid(
        `${path}.containerName`,
        req.containerName,
        'must be one of the container or initContainer names in the pod template',
      ),
    );
  }
  const values = req.values ?? [];
  if (values.length === 0) errs.push(fe.invalid(`${path}.values`, values, 'at least one value is required'));
  else if (values.length > MAX_ON_EXIT_CODES_VALUES) {
    errs.push(fe.tooMany(`${path}.values`, values.length, MAX_ON_EXIT_CODES_VALUES));
  }
  const seen = new Set<number>();
  let ordered = true;
  values.forEach((v, j) => {
    const vp = `${path}.values[${j}]`;
    if (op === 'In' && v === 0) errs.push(fe.invalid(vp, v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(fe.duplicate(vp, v));
    else seen.add(v);
    if (j > 0 && values[j - 1] > v) ordered = false;
  });
  if (!ordered) errs.push(fe.invalid(`${path}.values`, values, 'must be ordered'));
  return errs;
}

function validateOnPodConditions(
  patterns: NonNullable<PodFailurePolicyRule['onPodConditions']>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS) {
    errs.push(fe.tooMany(path, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
  }
  patterns.forEach((pattern, j) => {
    const pp = `${path}[${j}]`;
    for (const msg of isQualifiedName(pattern.type)) errs.push(fe.invalid(`${pp}.type`, pattern.type, msg));
    const status = pattern.status;
    if (!status) errs.push(fe.required(`${pp}.status`, `valid values: ${quoted(CONDITION_STATUSES)}`));
    else if (!CONDITION_STATUSES.includes(status)) {
      errs.push(fe.notSupported(`${pp}.status`, status, CONDITION_STATUSES));
    }
  });
  return errs;
}

/** validatePodFailurePolicy: at most 20 rules, each with a known action and exactly one of its two matchers */
export function validatePodFailurePolicy(spec: JobSpec, path: string): FieldError[] {
  const rules = spec.podFailurePolicy?.rules ?? [];
  const errs: FieldError[] = [];
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) {
    errs.push(fe.tooMany(`${path}.rules`, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  }
  const podSpec = spec.template?.spec;
  const containerNames = new Set(
    [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])].map((c) => c.name),
  );
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    const action = rule.action;
    if (!action) errs.push(fe.required(`${rp}.action`, `valid values: ${quoted(ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined) {
        errs.push(fe.invalid(`${rp}.action`, action, 'requires the backoffLimitPerIndex to be set'));
      }
    } else if (!ACTIONS.includes(action)) errs.push(fe.notSupported(`${rp}.action`, action, ACTIONS));
    const conditions = rule.onPodConditions ?? [];
    if (rule.onExitCodes)
      errs.push(...validateOnExitCodes(rule.onExitCodes, `${rp}.onExitCodes`, containerNames));
    if (conditions.length > 0) errs.push(...validateOnPodConditions(conditions, `${rp}.onPodConditions`));
    if (rule.onExitCodes && conditions.length > 0) {
      errs.push(
        fe.invalid(rp, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'),
      );
    }
    if (!rule.onExitCodes && conditions.length === 0) {
      errs.push(fe.invalid(rp, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'));
    }
  });
  return errs;
}

/** validateSuccessPolicy (the caller checked Indexed mode): 1–20 rules, each with a count and/or indexes */
export function validateSuccessPolicy(spec: JobSpec, path: string): FieldError[] {
  const rules = spec.successPolicy?.rules ?? [];
  const errs: FieldError[] = [];
  const rulesPath = `${path}.rules`;
  if (rules.length === 0) {
    errs.push(
      fe.required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'),
    );
  }
  if (rules.length > MAX_SUCCESS_POLICY_RULES) {
    errs.push(fe.tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
  }
  const completions = spec.completions ?? 0;
  rules.forEach((rule, i) => {
    const rp = `${rulesPath}[${i}]`;
    if (rule.succeededCount === undefined && rule.succeededIndexes === undefined) {
      errs.push(fe.required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
    }
    let total = 0;
    if (rule.succeededIndexes !== undefined) {
      const ip = `${rp}.succeededIndexes`;
      if (rule.succeededIndexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) {
        errs.push(fe.tooLong(ip, rule.succeededIndexes, MAX_SUCCEEDED_INDEXES_LENGTH));
      }
      const parsed = validateIndexesFormat(rule.succeededIndexes, completions);
      if (typeof parsed === 'string') {
        errs.push(fe.invalid(ip, rule.succeededIndexes, `error parsing succeededIndexes: ${parsed}`));
      } else total = parsed;
    }
    if (rule.succeededCount !== undefined) {
      const cp = `${rp}.succeededCount`;
      const count = rule.succeededCount;
      errs.push(...nonNegative(count, cp));
      if (count > completions) {
        errs.push(
          fe.invalid(
            cp,
            count,
            `must be less than or equal to ${completions} (the number of specified completions)`,
          ),
        );
      }
      if (rule.succeededIndexes !== undefined && count > total) {
        errs.push(
          fe.invalid(
            cp,
            count,
            `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`,
          ),
        );
      }
    }
  });
  return errs;
}
