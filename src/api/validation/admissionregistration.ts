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
  deepEqual,
  nameIsDNSSubdomain,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import {
  isDNS1035Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPathSegmentName,
  isValidPortNum,
} from './names.js';

const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const NO_SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
/** every side-effect class, allowed on update where a stored webhook already has one with side effects */
const SIDE_EFFECTS = ['None', 'NoneOnDryRun', 'Some', 'Unknown'];
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

/** validateResources (subresources allowed): a wildcard subresource or resource excludes the forms it covers */
function validateResources(resources: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(fe.required(path));
  const withWildcardSub = new Set<string>();
  const subWithWildcardRes = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  // as upstream, the last resource without a subresource decides
  let withoutSubresource = false;
  resources.forEach((r, i) => {
    if (r === '') {
      errs.push(fe.required(`${path}[${i}]`));
      return;
    }
    if (r === '*/*') doubleWildcard = true;
    if (r === '*') singleWildcard = true;
    const slash = r.indexOf('/');
    if (slash < 0) {
      withoutSubresource = r !== '*';
      return;
    }
    const res = r.slice(0, slash);
    const sub = r.slice(slash + 1);
    if (withWildcardSub.has(res))
      errs.push(fe.invalid(`${path}[${i}]`, r, `if '${res}/*' is present, must not specify ${r}`));
    if (subWithWildcardRes.has(sub))
      errs.push(fe.invalid(`${path}[${i}]`, r, `if '*/${sub}' is present, must not specify ${r}`));
    if (sub === '*') withWildcardSub.add(res);
    if (res === '*') subWithWildcardRes.add(sub);
  });
  if (resources.length > 1 && doubleWildcard)
    errs.push(fe.invalid(path, resources, "if '*/*' is present, must not specify other resources"));
  if (singleWildcard && withoutSubresource)
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

/** the variables of a webhook's matchConditions (upstream's; `authorizer` is not offered by kubemu's CEL library) */
const WEBHOOK_CEL_VARIABLES = ['object', 'oldObject', 'request'];
/** a ValidatingAdmissionPolicy's expressions: `params` only when the policy has a paramKind (HasParams) */
const policyVariables = (hasParams: boolean): string[] =>
  hasParams
    ? ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables']
    : ['object', 'oldObject', 'request', 'namespaceObject', 'variables'];

/** upstream's CEL compilation at validation: `Invalid value: "<expr>": compilation failed: ERROR: <input>:…` */
function celErrors(expression: string | undefined, path: string, variables: readonly string[]): FieldError[] {
  if (!expression?.trim()) return [];
  const p = compile(expression, variables);
  return isCompileError(p) ? [fe.invalid(path, expression, `compilation failed: ${p.message}`)] : [];
}

/** ValidateQualifiedName's errors at `path` */
const qualifiedName = (name: string, path: string): FieldError[] =>
  isQualifiedName(name).map((m) => fe.invalid(path, name, m));

/** validateMatchConditions: at most 64; each an expression that compiles and a qualified, unique name */
function validateMatchConditions(
  conditions: { name?: string; expression?: string }[] | undefined,
  path: string,
  variables: readonly string[] = WEBHOOK_CEL_VARIABLES,
): FieldError[] {
  const list = conditions ?? [];
  const errs: FieldError[] = [];
  if (list.length > 64) errs.push(fe.tooMany(path, list.length, 64));
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.expression?.trim()) errs.push(fe.required(`${p}.expression`));
    else errs.push(...celErrors(c.expression.trim(), `${p}.expression`, variables));
    if (!c.name) errs.push(fe.required(`${p}.name`));
    else errs.push(...qualifiedName(c.name, `${p}.name`));
    if (c.name) {
      if (seen.has(c.name)) errs.push(fe.duplicate(`${p}.name`, c.name));
      else seen.add(c.name);
    }
  });
  return errs;
}

/** upstream's validationOptions for webhook configurations: an update tolerates what the stored object has */
interface WebhookOptions {
  ignoreMatchConditions: boolean;
  requireNoSideEffects: boolean;
  requireRecognizedAdmissionReviewVersion: boolean;
  requireUniqueWebhookNames: boolean;
}
const CREATE_OPTIONS: WebhookOptions = {
  ignoreMatchConditions: false,
  requireNoSideEffects: true,
  requireRecognizedAdmissionReviewVersion: true,
  requireUniqueWebhookNames: true,
};

function validateWebhook(
  hook: ValidatingWebhook | MutatingWebhook,
  path: string,
  opts: WebhookOptions,
): FieldError[] {
  const errs = isFullyQualifiedName(`${path}.name`, hook.name);
  (hook.rules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.rules[${i}]`)));
  if (hook.failurePolicy !== undefined && !FAILURE_POLICIES.includes(hook.failurePolicy))
    errs.push(fe.notSupported(`${path}.failurePolicy`, hook.failurePolicy, FAILURE_POLICIES));
  if (hook.matchPolicy !== undefined && !MATCH_POLICIES.includes(hook.matchPolicy))
    errs.push(fe.notSupported(`${path}.matchPolicy`, hook.matchPolicy, MATCH_POLICIES));
  const sideEffects = opts.requireNoSideEffects ? NO_SIDE_EFFECTS : SIDE_EFFECTS;
  if (hook.sideEffects === undefined)
    errs.push(fe.required(`${path}.sideEffects`, `must specify one of ${sideEffects.join(', ')}`));
  else if (!sideEffects.includes(hook.sideEffects))
    errs.push(fe.notSupported(`${path}.sideEffects`, hook.sideEffects, sideEffects));
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
  if (!opts.ignoreMatchConditions)
    errs.push(...validateMatchConditions(hook.matchConditions, `${path}.matchConditions`));
  return errs;
}

function validateReviewVersions(
  versions: string[] | undefined,
  path: string,
  requireRecognized: boolean,
): FieldError[] {
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
  if (requireRecognized && !list.some((v) => REVIEW_VERSIONS.includes(v)))
    errs.push(fe.invalid(path, list, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  return errs;
}

function validateWebhooks(
  hooks: (ValidatingWebhook | MutatingWebhook)[] | undefined,
  opts: WebhookOptions,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (hooks ?? []).forEach((hook, i) => {
    const p = `webhooks[${i}]`;
    errs.push(...validateWebhook(hook, p, opts));
    errs.push(
      ...validateReviewVersions(
        hook.admissionReviewVersions,
        `${p}.admissionReviewVersions`,
        opts.requireRecognizedAdmissionReviewVersion,
      ),
    );
    if (opts.requireUniqueWebhookNames && hook.name) {
      if (names.has(hook.name)) errs.push(fe.duplicate(`${p}.name`, hook.name));
      else names.add(hook.name);
    }
  });
  return errs;
}

type WebhookConfiguration = ValidatingWebhookConfiguration | MutatingWebhookConfiguration;
type Webhook = ValidatingWebhook | MutatingWebhook;

export function validateWebhookConfiguration(c: WebhookConfiguration): FieldError[] {
  return [
    ...validateObjectMeta(c.metadata, false, nameIsDNSSubdomain),
    ...validateWebhooks(c.webhooks, CREATE_OPTIONS),
  ];
}

/**
 * Validate{Validating,Mutating}WebhookConfigurationUpdate: side effects, unrecognized review versions and duplicate
 * names are tolerated where the stored configuration already has them; unchanged matchConditions are not
 * recompiled.
 */
export function validateWebhookConfigurationUpdate(
  c: WebhookConfiguration,
  old: WebhookConfiguration,
): FieldError[] {
  const oldHooks: Webhook[] = old.webhooks ?? [];
  const newHooks: Webhook[] = c.webhooks ?? [];
  const opts: WebhookOptions = {
    ignoreMatchConditions:
      newHooks.length === oldHooks.length &&
      oldHooks.every((h, i) => deepEqual(h.matchConditions, newHooks[i].matchConditions)),
    requireNoSideEffects: oldHooks.every((h) => h.sideEffects && NO_SIDE_EFFECTS.includes(h.sideEffects)),
    requireRecognizedAdmissionReviewVersion: oldHooks.every(
      (h) =>
        !h.admissionReviewVersions?.length ||
        h.admissionReviewVersions.some((v) => REVIEW_VERSIONS.includes(v)),
    ),
    requireUniqueWebhookNames: new Set(oldHooks.map((h) => h.name)).size === oldHooks.length,
  };
  return [
    ...validateObjectMeta(c.metadata, false, nameIsDNSSubdomain),
    ...validateWebhooks(c.webhooks, opts),
    ...validateObjectMetaUpdate(c.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

/** validateNamedRuleWithOperations: resourceNames are unique path segments, then the rule */
function validateNamedRule(r: NamedRuleWithOperations, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (r.resourceNames ?? []).forEach((n, i) => {
    for (const m of isValidPathSegmentName(n)) errs.push(fe.invalid(`${path}.resourceNames[${i}]`, n, m));
    if (seen.has(n)) errs.push(fe.duplicate(`${path}.resourceNames[${i}]`, n));
    else seen.add(n);
  });
  errs.push(...validateRule(r, path));
  return errs;
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
  (mc.resourceRules ?? []).forEach((r, i) =>
    errs.push(...validateNamedRule(r, `${path}.resourceRules[${i}]`)),
  );
  (mc.excludeResourceRules ?? []).forEach((r, i) =>
    errs.push(...validateNamedRule(r, `${path}.excludeResourceRules[${i}]`)),
  );
  return errs;
}

/** upstream's supportedValidationPolicyReason, sorted */
const VALIDATION_REASONS = ['Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const MAX_AUDIT_ANNOTATIONS = 20;
const MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH = 5 * 1024;
const CEL_RESERVED = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while'.split(
    ' ',
  ),
);
const isCELIdentifier = (name: string): boolean =>
  /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(name) && !CEL_RESERVED.has(name);

/** validateParamKind: apiVersion a group/version (the group a DNS subdomain, the version a DNS-1035 label), a kind */
function validateParamKind(pk: { apiVersion?: string; kind?: string }, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const av = pk.apiVersion ?? '';
  if (!av) errs.push(fe.required(`${path}.apiVersion`));
  else if (av.split('/').length > 2)
    errs.push(fe.invalid(`${path}.apiVersion`, av, `unexpected GroupVersion string: ${av}`));
  else if (av !== '/') {
    const [group, version] = av.includes('/') ? av.split('/') : ['', av];
    if (group) {
      const m = isDNS1123Subdomain(group);
      if (m.length) errs.push(fe.invalid(`${path}.apiVersion`, group, m.join(',')));
    }
    if (!version) errs.push(fe.invalid(`${path}.apiVersion`, av, 'version must be specified'));
    else {
      const m = isDNS1035Label(version);
      if (m.length) errs.push(fe.invalid(`${path}.apiVersion`, version, m.join(',')));
    }
  }
  if (!pk.kind) errs.push(fe.required(`${path}.kind`));
  else {
    const m = isDNS1035Label(pk.kind.toLowerCase());
    if (m.length)
      errs.push(
        fe.invalid(
          `${path}.kind`,
          pk.kind,
          `may have mixed case, but should otherwise match: ${m.join(',')}`,
        ),
      );
  }
  return errs;
}

interface PolicyOptions {
  ignoreMatchConditions: boolean;
}

function validatePolicySpec(p: ValidatingAdmissionPolicy, opts: PolicyOptions): FieldError[] {
  const errs: FieldError[] = [];
  const spec = p.spec ?? {};
  const vars = policyVariables(spec.paramKind !== undefined);
  if (spec.failurePolicy === undefined) errs.push(fe.required('spec.failurePolicy'));
  else if (!FAILURE_POLICIES.includes(spec.failurePolicy))
    errs.push(fe.notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
  if (spec.paramKind) errs.push(...validateParamKind(spec.paramKind, 'spec.paramKind'));
  if (!spec.matchConstraints) errs.push(fe.required('spec.matchConstraints'));
  else {
    errs.push(...validateMatchResources(spec.matchConstraints, 'spec.matchConstraints'));
    if (!spec.matchConstraints.resourceRules?.length)
      errs.push(fe.required('spec.matchConstraints.resourceRules'));
  }
  if (!opts.ignoreMatchConditions)
    errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions', vars));
  (spec.variables ?? []).forEach((v, i) => {
    const vp = `spec.variables[${i}]`;
    if (!v.name?.trim()) errs.push(fe.required(`${vp}.name`, 'name is not specified'));
    else if (!isCELIdentifier(v.name))
      errs.push(fe.invalid(`${vp}.name`, v.name, 'name is not a valid CEL identifier'));
    if (!v.expression?.trim()) errs.push(fe.required(`${vp}.expression`, 'expression is not specified'));
    else errs.push(...celErrors(v.expression, `${vp}.expression`, vars));
  });
  const validations = spec.validations ?? [];
  const audits = spec.auditAnnotations ?? [];
  if (validations.length === 0 && audits.length === 0) {
    const why = 'validations or auditAnnotations must contain at least one item';
    errs.push(fe.required('spec.validations', why), fe.required('spec.auditAnnotations', why));
    return errs;
  }
  validations.forEach((v, i) => {
    const vp = `spec.validations[${i}]`;
    if (!v.expression?.trim()) errs.push(fe.required(`${vp}.expression`, 'expression is not specified'));
    else errs.push(...celErrors(v.expression, `${vp}.expression`, vars));
    const me = v.messageExpression;
    if (me !== undefined && me.length > 0 && !me.trim())
      errs.push(fe.invalid(`${vp}.messageExpression`, me, 'must be non-empty if specified'));
    else if (me?.trim()) errs.push(...celErrors(me, `${vp}.messageExpression`, vars));
    const msg = v.message;
    if (msg !== undefined && msg.length > 0 && !msg.trim())
      errs.push(fe.invalid(`${vp}.message`, msg, 'message must be non-empty if specified'));
    else if (/[\n\r]/.test((msg ?? '').trim()))
      errs.push(fe.invalid(`${vp}.message`, msg, 'message must not contain line breaks'));
    if (v.reason !== undefined && !VALIDATION_REASONS.includes(v.reason))
      errs.push(fe.notSupported(`${vp}.reason`, v.reason, VALIDATION_REASONS));
  });
  if (audits.length > MAX_AUDIT_ANNOTATIONS)
    errs.push(
      fe.invalid(
        'spec.auditAnnotations',
        audits,
        `must not have more than ${MAX_AUDIT_ANNOTATIONS} auditAnnotations`,
      ),
    );
  const keys = new Set<string>();
  const name = p.metadata?.name ?? '';
  audits.forEach((a, i) => {
    const ap = `spec.auditAnnotations[${i}]`;
    if (name) errs.push(...qualifiedName(`${name}/${a.key}`, `${ap}.key`));
    else errs.push(fe.invalid(`${ap}.key`, a.key, 'requires metadata.name be non-empty'));
    const ve = (a.valueExpression ?? '').trim();
    if (!ve) errs.push(fe.required(`${ap}.valueExpression`, 'valueExpression is not specified'));
    else if (ve.length > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH)
      errs.push(
        fe.required(
          `${ap}.valueExpression`,
          `must not exceed ${MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length`,
        ),
      );
    else errs.push(...celErrors(ve, `${ap}.valueExpression`, vars));
    if (keys.has(a.key)) errs.push(fe.duplicate(`${ap}.key`, a.key));
    keys.add(a.key);
  });
  return errs;
}

export function validateValidatingAdmissionPolicy(p: ValidatingAdmissionPolicy): FieldError[] {
  return [
    ...validateObjectMeta(p.metadata, false, nameIsDNSSubdomain),
    ...validatePolicySpec(p, { ignoreMatchConditions: false }),
  ];
}

/** ValidateValidatingAdmissionPolicyUpdate: matchConditions are not recompiled when they and paramKind are unchanged */
export function validateValidatingAdmissionPolicyUpdate(
  p: ValidatingAdmissionPolicy,
  old: ValidatingAdmissionPolicy,
): FieldError[] {
  const ignoreMatchConditions =
    deepEqual(p.spec?.paramKind, old.spec?.paramKind) &&
    deepEqual(p.spec?.matchConditions, old.spec?.matchConditions);
  return [
    ...validateObjectMeta(p.metadata, false, nameIsDNSSubdomain),
    ...validatePolicySpec(p, { ignoreMatchConditions }),
    ...validateObjectMetaUpdate(p.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

/**
 * ValidateValidatingAdmissionPolicyStatusUpdate: each type-checking warning has its warning text and a fieldRef
 * (upstream also parses the fieldRef as JSONPath; kubemu does not)
 */
export function validateValidatingAdmissionPolicyStatusUpdate(
  p: ValidatingAdmissionPolicy,
  old: ValidatingAdmissionPolicy,
): FieldError[] {
  const errs: FieldError[] = [];
  (p.status?.typeChecking?.expressionWarnings ?? []).forEach((w, i) => {
    const wp = `status.typeChecking.expressionWarnings[${i}]`;
    if (!w.warning) errs.push(fe.required(`${wp}.warning`));
    if (!w.fieldRef?.trim()) errs.push(fe.required(`${wp}.fieldRef`));
  });
  errs.push(...validateObjectMetaUpdate(p.metadata, old.metadata, false, nameIsDNSSubdomain));
  return errs;
}

/** upstream's validValidationActions, sorted */
const VALIDATION_ACTIONS = ['Audit', 'Deny', 'Warn'];

/** validateParamRef */
function validateParamRef(
  pr: NonNullable<ValidatingAdmissionPolicyBinding['spec']>['paramRef'],
): FieldError[] {
  const errs: FieldError[] = [];
  if (!pr) return errs;
  const p = 'spec.paramRef';
  if (pr.name) {
    for (const m of isValidPathSegmentName(pr.name)) errs.push(fe.invalid(`${p}.name`, pr.name, m));
    if (pr.selector) errs.push(fe.forbidden(`${p}.name`, 'name and selector are mutually exclusive'));
  }
  if (pr.selector) {
    errs.push(...validateLabelSelector(pr.selector, `${p}.selector`));
    if (pr.name) errs.push(fe.forbidden(`${p}.selector`, 'name and selector are mutually exclusive'));
  }
  if (!pr.name && !pr.selector) errs.push(fe.required(p, 'one of name or selector must be specified'));
  if (!pr.parameterNotFoundAction) errs.push(fe.required(`${p}.parameterNotFoundAction`));
  else if (!['Deny', 'Allow'].includes(pr.parameterNotFoundAction))
    errs.push(fe.notSupported(`${p}.parameterNotFoundAction`, pr.parameterNotFoundAction, ['Deny', 'Allow']));
  return errs;
}

export function validateValidatingAdmissionPolicyBinding(b: ValidatingAdmissionPolicyBinding): FieldError[] {
  const errs = validateObjectMeta(b.metadata, false, nameIsDNSSubdomain);
  const spec = b.spec ?? {};
  if (!spec.policyName) errs.push(fe.required('spec.policyName'));
  else
    for (const m of isDNS1123Subdomain(spec.policyName))
      errs.push(fe.invalid('spec.policyName', spec.policyName, m));
  errs.push(...validateParamRef(spec.paramRef));
  errs.push(...validateMatchResources(spec.matchResources, 'spec.matchResources'));
  const actions = spec.validationActions ?? [];
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!VALIDATION_ACTIONS.includes(a))
      errs.push(fe.notSupported(`spec.validationActions[${i}]`, a, VALIDATION_ACTIONS));
    if (seen.has(a)) errs.push(fe.duplicate(`spec.validationActions[${i}]`, a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn'))
    errs.push(
      fe.invalid(
        'spec.validationActions',
        actions,
        'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
      ),
    );
  if (seen.size === 0)
    errs.push(fe.required('spec.validationActions', 'at least one validation action is required'));
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
