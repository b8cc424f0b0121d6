// admissionregistration.k8s.io/v1 validation: webhook configurations, ValidatingAdmissionPolicy and its binding
// (upstream's pkg/apis/admissionregistration/validation/validation.go; CEL expressions are not compiled here).
import type {
  MatchResources,
  MutatingWebhook,
  MutatingWebhookConfiguration,
  NamedRuleWithOperations,
  RuleWithOperations,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
  WebhookClientConfig,
} from 'kubernetes-types/admissionregistration/v1.js';
import { compile, isCompileError } from '../cel/index.js';
import { fe, type FieldError } from '../errors.js';
import {
  nameIsDNSSubdomain,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPortNum } from './names.js';

const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const NO_SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const REVIEW_VERSIONS = ['v1', 'v1beta1'];
const REINVOCATION = ['IfNeeded', 'Never'];

/** utilvalidation.IsFullyQualifiedName */
export function isFullyQualifiedName(path: string, name: string | undefined): FieldError[] {
  if (!name) return [fe.required(path)];
  const errs = isDNS1123Subdomain(name);
  if (errs.length) return [fe.invalid(path, name, errs.join(','))];
  if (name.split('.').length < 3)
    return [fe.invalid(path, name, 'should be a domain with at least three segments separated by dots')];
  return [];
}

const hasWildcard = (list: string[]): boolean => list.includes('*');

function validateResources(resources: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(fe.required(path));
  resources.forEach((r, i) => {
    if (r === '') errs.push(fe.required(`${path}[${i}]`));
  });
  if (resources.length > 1 && resources.includes('*/*'))
    errs.push(fe.invalid(path, resources, "if '*/*' is present, must not specify other resources"));
  if (resources.includes('*') && resources.some((r) => r !== '*' && !r.includes('/')))
    errs.push(
      fe.invalid(path, resources, "if '*' is present, must not specify other resources without subresources"),
    );
  return errs;
}

function validateRule(r: RuleWithOperations, path: string): FieldError[] {
  // kubernetes-types 1.30 lacks the Rule fields RuleWithOperations embeds
  const rule = r as RuleWithOperations & { resources?: string[]; scope?: string };
  const errs: FieldError[] = [];
  const ops = rule.operations ?? [];
  if (ops.length === 0) errs.push(fe.required(`${path}.operations`));
  if (ops.length > 1 && hasWildcard(ops))
    errs.push(fe.invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op)) errs.push(fe.notSupported(`${path}.operations[${i}]`, op, OPERATIONS));
  });
  const groups = rule.apiGroups ?? [];
  if (groups.length === 0) errs.push(fe.required(`${path}.apiGroups`));
  if (groups.length > 1 && hasWildcard(groups))
    errs.push(
      fe.invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other API groups"),
    );
  const versions = rule.apiVersions ?? [];
  if (versions.length === 0) errs.push(fe.required(`${path}.apiVersions`));
  if (versions.length > 1 && hasWildcard(versions))
    errs.push(
      fe.invalid(`${path}.apiVersions`, versions, "if '*' is present, must not specify other API versions"),
    );
  versions.forEach((v, i) => {
    if (v === '') errs.push(fe.required(`${path}.apiVersions[${i}]`));
  });
  errs.push(...validateResources(rule.resources ?? [], `${path}.resources`));
  if (rule.scope !== undefined && !SCOPES.includes(rule.scope))
    errs.push(fe.notSupported(`${path}.scope`, rule.scope, SCOPES));
  return errs;
}

/** webhook.ValidateWebhookURL with forceHttps */
function validateWebhookUrl(path: string, raw: string): FieldError[] {
  const form = '; desired format: https://host[/path]';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    if (raw === '' || !raw.includes('://')) return [fe.invalid(path, '', `host must be specified${form}`)];
    return [fe.required(path, `url must be a valid URL: parse ${JSON.stringify(raw)}: invalid URL${form}`)];
  }
  const errs: FieldError[] = [];
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'https')
    errs.push(fe.invalid(path, scheme, `'https' is the only allowed URL scheme${form}`));
  if (!u.host) errs.push(fe.invalid(path, '', `host must be specified${form}`));
  if (u.username || u.password)
    errs.push(fe.invalid(path, u.username, 'user information is not permitted in the URL'));
  if (u.hash) errs.push(fe.invalid(path, u.hash.slice(1), 'fragments are not permitted in the URL'));
  if (u.search)
    errs.push(fe.invalid(path, u.search.slice(1), 'query parameters are not permitted in the URL'));
  return errs;
}

/** webhook.ValidateWebhookURL / ValidateWebhookService of a client config (also a CRD conversion webhook's) */
export function validateClientConfig(cc: WebhookClientConfig | undefined, path: string): FieldError[] {
  const c = cc ?? {};
  if ((c.url === undefined) === (c.service === undefined))
    return [fe.required(path, 'exactly one of url or service is required')];
  if (c.url !== undefined) return validateWebhookUrl(`${path}.url`, c.url);
  const svc = c.service!;
  const sp = `${path}.service`;
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(fe.required(`${sp}.name`, 'service name is required'));
  if (!svc.namespace) errs.push(fe.required(`${sp}.namespace`, 'service namespace is required'));
  const port = svc.port ?? 443;
  const portErrs = isValidPortNum(port);
  if (portErrs.length) errs.push(fe.invalid(`${sp}.port`, port, `port is not valid: ${portErrs.join(', ')}`));
  const p = svc.path;
  if (p !== undefined && p !== '' && p !== '/') {
    if (!p.startsWith('/')) errs.push(fe.invalid(`${sp}.path`, p, "must start with a '/'"));
    else if (p === '//') errs.push(fe.invalid(`${sp}.path`, p, 'segment[0] may not be empty'));
  }
  return errs;
}

/** the variables of a webhook's matchConditions (upstream's; `authorizer` is not offered by kubemu) */
const WEBHOOK_CEL_VARIABLES = ['object', 'oldObject', 'request'];
/** the variables of a ValidatingAdmissionPolicy's expressions */
const POLICY_CEL_VARIABLES = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables'];

/** upstream's CEL compilation at validation: `Invalid value: "<expr>": compilation failed: ERROR: <input>:…` */
function celErrors(expression: string | undefined, path: string, variables: readonly string[]): FieldError[] {
  if (!expression?.trim()) return [];
  const p = compile(expression, variables);
  return isCompileError(p) ? [fe.invalid(path, expression, `compilation failed: ${p.message}`)] : [];
}

function validateMatchConditions(
  conditions: { name?: string; expression?: string }[] | undefined,
  path: string,
  variables: readonly string[] = WEBHOOK_CEL_VARIABLES,
): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(fe.required(`${p}.name`));
    else if (seen.has(c.name)) errs.push(fe.duplicate(`${p}.name`, c.name));
    if (c.name) seen.add(c.name);
    if (!c.expression?.trim()) errs.push(fe.required(`${p}.expression`));
    errs.push(...celErrors(c.expression, `${p}.expression`, variables));
  });
  return errs;
}

function validateWebhook(hook: ValidatingWebhook | MutatingWebhook, path: string): FieldError[] {
  const errs = isFullyQualifiedName(`${path}.name`, hook.name);
  (hook.rules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.rules[${i}]`)));
  if (hook.failurePolicy !== undefined && !FAILURE_POLICIES.includes(hook.failurePolicy))
    errs.push(fe.notSupported(`${path}.failurePolicy`, hook.failurePolicy, FAILURE_POLICIES));
  if (hook.matchPolicy !== undefined && !MATCH_POLICIES.includes(hook.matchPolicy))
    errs.push(fe.notSupported(`${path}.matchPolicy`, hook.matchPolicy, MATCH_POLICIES));
  if (hook.sideEffects === undefined)
    errs.push(fe.required(`${path}.sideEffects`, `must specify one of ${NO_SIDE_EFFECTS.join(', ')}`));
  else if (!NO_SIDE_EFFECTS.includes(hook.sideEffects))
    errs.push(fe.notSupported(`${path}.sideEffects`, hook.sideEffects, NO_SIDE_EFFECTS));
  if (hook.timeoutSeconds !== undefined && (hook.timeoutSeconds > 30 || hook.timeoutSeconds < 1))
    errs.push(
      fe.invalid(
        `${path}.timeoutSeconds`,
        hook.timeoutSeconds,
        'the timeout value must be between 1 and 30 seconds',
      ),
    );
  errs.push(...validateLabelSelector(hook.namespaceSelector, `${path}.namespaceSelector`));
  errs.push(...validateLabelSelector(hook.objectSelector, `${path}.objectSelector`));
  const reinvocation = (hook as MutatingWebhook).reinvocationPolicy;
  if (reinvocation !== undefined && !REINVOCATION.includes(reinvocation))
    errs.push(fe.notSupported(`${path}.reinvocationPolicy`, reinvocation, REINVOCATION));
  errs.push(...validateClientConfig(hook.clientConfig, `${path}.clientConfig`));
  errs.push(...validateMatchConditions(hook.matchConditions, `${path}.matchConditions`));
  return errs;
}

function validateReviewVersions(versions: string[] | undefined, path: string): FieldError[] {
  const list = versions ?? [];
  if (list.length === 0) return [fe.required(path, `must specify one of ${REVIEW_VERSIONS.join(', ')}`)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  list.forEach((v, i) => {
    if (seen.has(v)) {
      errs.push(fe.invalid(`${path}[${i}]`, v, 'duplicate version'));
      return;
    }
    seen.add(v);
    for (const m of isDNS1035Label(v)) errs.push(fe.invalid(`${path}[${i}]`, v, m));
  });
  if (!list.some((v) => REVIEW_VERSIONS.includes(v)))
    errs.push(fe.invalid(path, list, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  return errs;
}

function validateWebhooks(hooks: (ValidatingWebhook | MutatingWebhook)[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (hooks ?? []).forEach((hook, i) => {
    const p = `webhooks[${i}]`;
    errs.push(...validateWebhook(hook, p));
    errs.push(...validateReviewVersions(hook.admissionReviewVersions, `${p}.admissionReviewVersions`));
    if (hook.name) {
      if (names.has(hook.name)) errs.push(fe.duplicate(`${p}.name`, hook.name));
      names.add(hook.name);
    }
  });
  return errs;
}

type WebhookConfiguration = ValidatingWebhookConfiguration | MutatingWebhookConfiguration;

export function validateWebhookConfiguration(c: WebhookConfiguration): FieldError[] {
  return [...validateObjectMeta(c.metadata, false, nameIsDNSSubdomain), ...validateWebhooks(c.webhooks)];
}

export function validateWebhookConfigurationUpdate(
  c: WebhookConfiguration,
  old: WebhookConfiguration,
): FieldError[] {
  return [
    ...validateWebhookConfiguration(c),
    ...validateObjectMetaUpdate(c.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

function validateMatchResources(mc: MatchResources | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!mc) return errs;
  if (mc.matchPolicy === undefined) errs.push(fe.required(`${path}.matchPolicy`));
  else if (!MATCH_POLICIES.includes(mc.matchPolicy))
    errs.push(fe.notSupported(`${path}.matchPolicy`, mc.matchPolicy, MATCH_POLICIES));
  if (!mc.namespaceSelector) errs.push(fe.required(`${path}.namespaceSelector`));
  else errs.push(...validateLabelSelector(mc.namespaceSelector, `${path}.namespaceSelector`));
  if (!mc.objectSelector) errs.push(fe.required(`${path}.objectSelector`));
  else errs.push(...validateLabelSelector(mc.objectSelector, `${path}.objectSelector`));
  const named = (list: NamedRuleWithOperations[] | undefined, p: string): void =>
    (list ?? []).forEach((r, i) => errs.push(...validateRule(r, `${p}[${i}]`)));
  named(mc.resourceRules, `${path}.resourceRules`);
  named(mc.excludeResourceRules, `${path}.excludeResourceRules`);
  return errs;
}

const VALIDATION_REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge', 'Unauthorized'];

export function validateValidatingAdmissionPolicy(p: ValidatingAdmissionPolicy): FieldError[] {
  const errs = validateObjectMeta(p.metadata, false, nameIsDNSSubdomain);
  const spec = p.spec ?? {};
  if (spec.failurePolicy === undefined) errs.push(fe.required('spec.failurePolicy'));
  else if (!FAILURE_POLICIES.includes(spec.failurePolicy))
    errs.push(fe.notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
  if (spec.paramKind) {
    const pk = spec.paramKind;
    if (!pk.apiVersion) errs.push(fe.required('spec.paramKind.apiVersion'));
    if (!pk.kind) errs.push(fe.required('spec.paramKind.kind'));
    else
      for (const m of isDNS1035Label(pk.kind.toLowerCase()))
        errs.push(
          fe.invalid('spec.paramKind.kind', pk.kind, `may have mixed case, but should otherwise match: ${m}`),
        );
  }
  if (!spec.matchConstraints) errs.push(fe.required('spec.matchConstraints'));
  else {
    errs.push(...validateMatchResources(spec.matchConstraints, 'spec.matchConstraints'));
    if (!spec.matchConstraints.resourceRules?.length)
      errs.push(fe.required('spec.matchConstraints.resourceRules'));
  }
  errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions', POLICY_CEL_VARIABLES));
  (spec.variables ?? []).forEach((v, i) =>
    errs.push(...celErrors(v.expression, `spec.variables[${i}].expression`, POLICY_CEL_VARIABLES)),
  );
  const validations = spec.validations ?? [];
  const audits = spec.auditAnnotations ?? [];
  if (validations.length === 0 && audits.length === 0) {
    const why = 'validations or auditAnnotations must contain at least one item';
    errs.push(fe.required('spec.validations', why), fe.required('spec.auditAnnotations', why));
  }
  validations.forEach((v, i) => {
    const vp = `spec.validations[${i}]`;
    if (!v.expression?.trim()) errs.push(fe.required(`${vp}.expression`, 'expression is not specified'));
    errs.push(...celErrors(v.expression, `${vp}.expression`, POLICY_CEL_VARIABLES));
    errs.push(...celErrors(v.messageExpression, `${vp}.messageExpression`, POLICY_CEL_VARIABLES));
    if (v.reason !== undefined && !VALIDATION_REASONS.includes(v.reason))
      errs.push(fe.notSupported(`${vp}.reason`, v.reason, VALIDATION_REASONS));
  });
  const keys = new Set<string>();
  audits.forEach((a, i) => {
    const ap = `spec.auditAnnotations[${i}]`;
    if (!a.valueExpression?.trim()) errs.push(fe.required(`${ap}.valueExpression`));
    errs.push(...celErrors(a.valueExpression, `${ap}.valueExpression`, POLICY_CEL_VARIABLES));
    if (keys.has(a.key)) errs.push(fe.duplicate(`${ap}.key`, a.key));
    keys.add(a.key);
  });
  return errs;
}

export function validateValidatingAdmissionPolicyUpdate(
  p: ValidatingAdmissionPolicy,
  old: ValidatingAdmissionPolicy,
): FieldError[] {
  return [
    ...validateValidatingAdmissionPolicy(p),
    ...validateObjectMetaUpdate(p.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

/** the status subresource: only metadata rules (upstream checks the type-checking warnings' shape too) */
export function validateValidatingAdmissionPolicyStatusUpdate(
  p: ValidatingAdmissionPolicy,
  old: ValidatingAdmissionPolicy,
): FieldError[] {
  return validateObjectMetaUpdate(p.metadata, old.metadata, false, nameIsDNSSubdomain);
}

const VALIDATION_ACTIONS = ['Audit', 'Deny', 'Warn'];

export function validateValidatingAdmissionPolicyBinding(b: ValidatingAdmissionPolicyBinding): FieldError[] {
  const errs = validateObjectMeta(b.metadata, false, nameIsDNSSubdomain);
  const spec = b.spec ?? {};
  if (!spec.policyName) errs.push(fe.required('spec.policyName'));
  else
    for (const m of isDNS1123Subdomain(spec.policyName))
      errs.push(fe.invalid('spec.policyName', spec.policyName, m));
  const pr = spec.paramRef;
  if (pr) {
    if (pr.name && pr.selector)
      errs.push(fe.forbidden('spec.paramRef.name', 'name and selector are mutually exclusive'));
    if (!pr.name && !pr.selector)
      errs.push(fe.required('spec.paramRef', 'one of name or selector must be specified'));
    if (pr.parameterNotFoundAction === undefined)
      errs.push(fe.required('spec.paramRef.parameterNotFoundAction'));
    else if (!['Allow', 'Deny'].includes(pr.parameterNotFoundAction))
      errs.push(
        fe.notSupported('spec.paramRef.parameterNotFoundAction', pr.parameterNotFoundAction, [
          'Allow',
          'Deny',
        ]),
      );
  }
  // upstream's field path has this spelling
  errs.push(...validateMatchResources(spec.matchResources, 'spec.matchResouces'));
  const actions = spec.validationActions ?? [];
  if (actions.length === 0)
    errs.push(fe.required('spec.validationActions', 'at least one validation action is required'));
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (seen.has(a)) errs.push(fe.duplicate(`spec.validationActions[${i}]`, a));
    seen.add(a);
    if (!VALIDATION_ACTIONS.includes(a))
      errs.push(fe.notSupported(`spec.validationActions[${i}]`, a, VALIDATION_ACTIONS));
  });
  if (seen.has('Deny') && seen.has('Warn'))
    errs.push(
      fe.invalid(
        'spec.validationActions',
        actions,
        'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
      ),
    );
  return errs;
}

export function validateValidatingAdmissionPolicyBindingUpdate(
  b: ValidatingAdmissionPolicyBinding,
  old: ValidatingAdmissionPolicyBinding,
): FieldError[] {
  return [
    ...validateValidatingAdmissionPolicyBinding(b),
    ...validateObjectMetaUpdate(b.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}
