// ValidatingAdmissionPolicy (upstream's admission/plugin/policy/validating): every policy whose matchConstraints
// match the request, with each of its bindings that matches, evaluates its matchConditions, variables and
// validations (CEL) against the object, the old object, the request, the params and the namespace. A failed
// validation is acted on as the binding's validationActions say: Deny refuses the request (upstream's message and
// reason), Warn adds a warning, Audit records an audit annotation. Errors (compilation, evaluation, missing
// params) follow the policy's failurePolicy.
import { ApiError, REASON_CODES, type StatusReason } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { findByKind, parseApiVersion } from '../../api/resources.js';
import { selectorMatches } from '../../api/labels.js';
import { RUNTIME_CEL_COST_BUDGET, fromCel } from '../../api/cel/index.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import {
  admissionForbidden,
  type AdmissionAttributes,
  type AdmissionPlugin,
  type AdmissionStore,
} from './interface.js';
import {
  activation,
  bindVariables,
  Budget,
  evalExpression,
  ExpressionError,
  matchConditions,
  type MatchCondition,
} from './policy/cel-admission.js';
import {
  isExemptConfigurationResource,
  matchResourcesMatch,
  type MatchResources,
} from './policy/matching.js';

const GROUP = 'admissionregistration.k8s.io';

interface Validation {
  expression: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
}

interface Policy extends KubeObject {
  spec?: {
    failurePolicy?: 'Fail' | 'Ignore';
    paramKind?: { apiVersion?: string; kind?: string };
    matchConstraints?: MatchResources;
    matchConditions?: MatchCondition[];
    validations?: Validation[];
    auditAnnotations?: { key: string; valueExpression: string }[];
    variables?: { name: string; expression: string }[];
  };
}

interface Binding extends KubeObject {
  spec?: {
    policyName?: string;
    paramRef?: {
      name?: string;
      namespace?: string;
      selector?: LabelSelector;
      parameterNotFoundAction?: 'Allow' | 'Deny';
    };
    matchResources?: MatchResources;
    validationActions?: ('Deny' | 'Warn' | 'Audit')[];
  };
}

interface Denial {
  policy: string;
  binding?: string;
  message: string;
  reason?: string;
}

/** upstream's maxAuditAnnotationValueLength */
const MAX_AUDIT_ANNOTATION_VALUE = 10 * 1024;
/** upstream's MaxEvaluatedMessageExpressionSizeBytes */
const MAX_MESSAGE = 5 * 1024;

class ConfigError extends Error {}

/** upstream's generic.CollectParams: the binding's param objects (an empty list: none found, allowed) */
async function collectParams(
  policy: Policy,
  binding: Binding,
  a: AdmissionAttributes,
  store: AdmissionStore,
): Promise<(KubeObject | undefined)[]> {
  const pk = policy.spec?.paramKind;
  const ref = binding.spec?.paramRef;
  if (!pk) return [undefined];
  if (!ref) throw new ConfigError(`paramKind kind \`${pk.kind}\` is specified but paramRef is missing`);
  const gv = parseApiVersion(pk.apiVersion ?? '');
  const ri = findByKind(gv.group, pk.kind ?? '');
  if (!ri)
    throw new ConfigError(
      `failed to find resource referenced by paramKind: '${pk.apiVersion}, Kind=${pk.kind}'`,
    );
  let namespace = '';
  if (ri.namespaced) {
    namespace = ref.namespace ?? a.namespace;
    if (!namespace)
      throw new ConfigError(
        'cannot use namespaced paramRef in policy binding that matches cluster-scoped resources',
      );
  }
  let found: KubeObject[];
  if (ref.name) {
    const o = await store.get(ri.group, ri.resource, namespace, ref.name);
    found = o ? [o] : [];
  } else {
    const all = await store.list(ri.group, ri.resource, namespace);
    found = all.filter((o) => selectorMatches(ref.selector ?? {}, o.metadata?.labels ?? {}));
  }
  if (found.length === 0) {
    if (ref.parameterNotFoundAction === 'Deny')
      throw new ConfigError('no params found for policy binding with `Deny` parameterNotFoundAction');
    return [];
  }
  return found.map((o) => ({ apiVersion: pk.apiVersion, kind: pk.kind, ...o }));
}

function decisionMessage(v: Validation, act: Record<string, unknown>, budget: Budget): string {
  if (v.messageExpression) {
    try {
      const m = evalExpression(v.messageExpression, act, budget);
      if (typeof m === 'string') {
        const t = m.trim();
        if (t && t.length <= MAX_MESSAGE && !t.includes('\n')) return t;
      }
    } catch (e) {
      if (e instanceof ExpressionError && e.outOfBudget) return `failed messageExpression: ${e.message}`;
    }
  }
  if (v.message?.trim()) return v.message.trim();
  return `failed expression: ${v.expression.trim()}`;
}

function reasonOf(r: string | undefined): StatusReason {
  return r && r in REASON_CODES ? (r as StatusReason) : 'Invalid';
}

export class ValidatingAdmissionPolicyPlugin implements AdmissionPlugin {
  readonly name = 'ValidatingAdmissionPolicy';

  async validate(a: AdmissionAttributes, store: AdmissionStore): Promise<void> {
    if (isExemptConfigurationResource(a)) return;
    const policies = (await store.list(GROUP, 'validatingadmissionpolicies', '')) as Policy[];
    if (policies.length === 0) return;
    const bindings = (await store.list(GROUP, 'validatingadmissionpolicybindings', '')) as Binding[];
    if (bindings.length === 0) return;
    const denials: Denial[] = [];
    const budget = new Budget(RUNTIME_CEL_COST_BUDGET);
    let namespace: KubeObject | undefined | null = null;
    const annotations: Record<string, string[]> = {};

    for (const policy of policies) {
      const pname = policy.metadata?.name ?? '';
      const mine = bindings.filter((b) => b.spec?.policyName === pname);
      if (mine.length === 0) continue;
      if (!(await matchResourcesMatch(policy.spec?.matchConstraints, a, store, true))) continue;
      const fail = (policy.spec?.failurePolicy ?? 'Fail') === 'Fail';
      for (const binding of mine) {
        const bname = binding.metadata?.name ?? '';
        if (!(await matchResourcesMatch(binding.spec?.matchResources, a, store, false))) continue;
        let params: (KubeObject | undefined)[];
        try {
          params = await collectParams(policy, binding, a, store);
        } catch (e) {
          if (fail)
            denials.push({
              policy: pname,
              binding: bname,
              message: `failed to configure binding: ${(e as Error).message}`,
            });
          continue;
        }
        if (namespace === null)
          namespace =
            a.namespace && !(a.resource.group === '' && a.resource.resource === 'namespaces')
              ? await store.get('', 'namespaces', '', a.namespace)
              : undefined;
        for (const param of params) {
          this.evaluate(policy, binding, a, param, namespace, budget, fail, denials, annotations);
        }
      }
    }
    if (Object.keys(annotations).length) {
      a.auditAnnotations ??= {};
      for (const [k, vs] of Object.entries(annotations)) a.auditAnnotations[k] = vs.join(', ');
    }
    if (denials.length) {
      const d = denials[0];
      const message = d.binding
        ? `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}' denied request: ${d.message}`
        : `ValidatingAdmissionPolicy '${d.policy}' denied request: ${d.message}`;
      const forbidden = admissionForbidden(a, message, [{ message } as never]);
      throw new ApiError(reasonOf(d.reason), forbidden.message, forbidden.details);
    }
  }

  private evaluate(
    policy: Policy,
    binding: Binding,
    a: AdmissionAttributes,
    param: KubeObject | undefined,
    namespace: KubeObject | undefined,
    budget: Budget,
    fail: boolean,
    denials: Denial[],
    annotations: Record<string, string[]>,
  ): void {
    const pname = policy.metadata?.name ?? '';
    const bname = binding.metadata?.name ?? '';
    const spec = policy.spec ?? {};
    const act = activation({
      attributes: a,
      params: param,
      namespace: namespace,
    });
    bindVariables(spec.variables, act, budget);
    const onError = (message: string) => {
      if (fail) denials.push({ policy: pname, binding: bname, message });
    };
    const m = matchConditions(spec.matchConditions, act, budget);
    if (m.error) return onError(m.error);
    if (!m.matches) return;
    const actions = binding.spec?.validationActions ?? [];
    (spec.validations ?? []).forEach((v, i) => {
      let ok: unknown;
      try {
        ok = evalExpression(v.expression, act, budget);
      } catch (e) {
        return onError((e as Error).message);
      }
      if (ok === true) return;
      if (typeof ok !== 'boolean')
        return onError(`expression '${v.expression}' resulted in error: no such overload`);
      const message = decisionMessage(v, act, budget);
      for (const action of actions) {
        if (action === 'Deny') denials.push({ policy: pname, binding: bname, message, reason: v.reason });
        else if (action === 'Warn')
          a.warnings.push(
            `Validation failed for ValidatingAdmissionPolicy '${pname}' with binding '${bname}': ${message}`,
          );
        else if (action === 'Audit')
          (annotations['validation.policy.admission.k8s.io/validation_failure'] ??= []).push(
            JSON.stringify([
              { message, policy: pname, binding: bname, expressionIndex: i, validationActions: actions },
            ]),
          );
      }
    });
    for (const aa of spec.auditAnnotations ?? []) {
      try {
        const v = evalExpression(aa.valueExpression, act, budget);
        if (v === null) continue;
        if (typeof v !== 'string') {
          onError(
            `valueExpression '${aa.valueExpression}' resulted in unsupported return type: ${typeof fromCel(v)}. Return type must be either string or null.`,
          );
          continue;
        }
        const value = v.trim().slice(0, MAX_AUDIT_ANNOTATION_VALUE);
        if (!value) continue;
        const list = (annotations[`${pname}/${aa.key}`] ??= []);
        if (!list.includes(value)) list.push(value);
      } catch (e) {
        onError((e as Error).message);
      }
    }
  }
}

export const validatingAdmissionPolicyPlugin = new ValidatingAdmissionPolicyPlugin();
