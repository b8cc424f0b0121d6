// flowcontrol.apiserver.k8s.io/v1 validation: FlowSchema and PriorityLevelConfiguration, a port of upstream's
// pkg/apis/flowcontrol/validation/validation.go (names are DNS subdomains, subjects are unions, verbs, wildcards,
// namespaces and non-resource URLs checked, the mandatory `exempt` and `catch-all` objects' spec fixed, queuing's
// shuffle-sharding entropy bounded, status conditions keyed by type).
import type {
  ExemptPriorityLevelConfiguration,
  FlowSchema,
  LimitedPriorityLevelConfiguration,
  NonResourcePolicyRule,
  PolicyRulesWithSubjects,
  PriorityLevelConfiguration,
  QueuingConfiguration,
  ResourcePolicyRule,
  Subject,
} from 'kubernetes-types/flowcontrol/v1.js';
import { deepCopy } from '../../util/objects.js';
import { defaultFlowSchema, defaultPriorityLevelConfiguration } from '../defaults/flowcontrol.js';
import { fe, type FieldError } from '../errors.js';
import { mandatoryFlowSchema, mandatoryPriorityLevel } from '../flowcontrol/mandatory.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain } from './names.js';

const MAX_MATCHING_PRECEDENCE = 10000;
const MAX_QUEUES = 10 * 1000 * 1000;
/** shufflesharding.MaxHashBits */
const MAX_HASH_BITS = 60;
const DISTINGUISHERS = ['ByNamespace', 'ByUser'];
const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];
/** upstream's supportedVerbs, sorted as sets.String.List() */
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'proxy', 'update', 'watch'];
const NS_ERR_INTRO = "each member of this list must be '*' or a DNS-1123 label; ";

const hasWildcard = (list: string[]): boolean => list.includes('*');

/** ValidateFlowSchemaSubject: the member named by `kind` is required, the other two are forbidden */
function validateSubject(s: Subject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const forbid = (member: 'user' | 'group' | 'serviceAccount', kind: string): void => {
    if (s[member] !== undefined && s[member] !== null)
      errs.push(
        fe.forbidden(`${path}.${member}`, `${member} is forbidden when subject kind is not '${kind}'`),
      );
  };
  switch (s.kind) {
    case 'ServiceAccount': {
      const sa = s.serviceAccount;
      const p = `${path}.serviceAccount`;
      if (!sa) errs.push(fe.required(p, "serviceAccount is required when subject kind is 'ServiceAccount'"));
      else {
        if (!sa.name) errs.push(fe.required(`${p}.name`));
        else if (sa.name !== '*')
          for (const m of isDNS1123Subdomain(sa.name)) errs.push(fe.invalid(`${p}.name`, sa.name, m));
        if (sa.namespace)
          for (const m of isDNS1123Label(sa.namespace))
            errs.push(fe.invalid(`${p}.namespace`, sa.namespace, m));
        else errs.push(fe.required(`${p}.namespace`, 'must specify namespace for service account'));
      }
      forbid('user', 'User');
      forbid('group', 'Group');
      break;
    }
    case 'User':
      if (!s.user) errs.push(fe.required(`${path}.user`, "user is required when subject kind is 'User'"));
      else if (!s.user.name) errs.push(fe.required(`${path}.user.name`));
      forbid('serviceAccount', 'ServiceAccount');
      forbid('group', 'Group');
      break;
    case 'Group':
      if (!s.group) errs.push(fe.required(`${path}.group`, "group is required when subject kind is 'Group'"));
      else if (!s.group.name) errs.push(fe.required(`${path}.group.name`));
      forbid('serviceAccount', 'ServiceAccount');
      forbid('user', 'User');
      break;
    default:
      errs.push(fe.notSupported(`${path}.kind`, s.kind, SUBJECT_KINDS));
  }
  return errs;
}

function validateVerbs(verbs: string[] | undefined, path: string): FieldError[] {
  const list = verbs ?? [];
  if (list.length === 0) return [fe.required(path, 'verbs must contain at least one value')];
  if (hasWildcard(list))
    return list.length > 1 ? [fe.invalid(path, list, "if '*' is present, must not specify other verbs")] : [];
  return list.every((v) => VERBS.includes(v)) ? [] : [fe.notSupported(path, list, VERBS)];
}

/** ValidateNonResourceURLPath */
export function nonResourceURLPathError(url: string): string | undefined {
  if (url.length === 0) return 'must not be empty';
  if (url === '/') return undefined;
  if (!url.startsWith('/')) return 'must start with slash';
  if (url.includes(' ')) return 'must not contain white-space';
  if (url.includes('//')) return 'must not contain double slash';
  const wildcards = url.split('*').length - 1;
  if (wildcards > 1 || (wildcards === 1 && !url.endsWith('/*')))
    return 'wildcard can only do suffix matching';
  return undefined;
}

function validateResourceRule(r: ResourcePolicyRule, path: string): FieldError[] {
  const errs = validateVerbs(r.verbs, `${path}.verbs`);
  const groups = r.apiGroups ?? [];
  if (groups.length === 0)
    errs.push(fe.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  else if (groups.length > 1 && hasWildcard(groups))
    errs.push(
      fe.invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other api groups"),
    );
  const resources = r.resources ?? [];
  if (resources.length === 0)
    errs.push(fe.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  else if (resources.length > 1 && hasWildcard(resources))
    errs.push(
      fe.invalid(`${path}.resources`, resources, "if '*' is present, must not specify other resources"),
    );
  const namespaces = r.namespaces ?? [];
  if (namespaces.length === 0 && !r.clusterScope)
    errs.push(
      fe.required(
        `${path}.namespaces`,
        'resource rules that are not cluster scoped must supply at least one namespace',
      ),
    );
  else if (hasWildcard(namespaces)) {
    if (namespaces.length > 1)
      errs.push(
        fe.invalid(`${path}.namespaces`, namespaces, "if '*' is present, must not specify other namespaces"),
      );
  } else
    namespaces.forEach((ns, i) => {
      for (const m of isDNS1123Label(ns))
        errs.push(fe.invalid(`${path}.namespaces[${i}]`, ns, NS_ERR_INTRO + m));
    });
  return errs;
}

function validateNonResourceRule(r: NonResourcePolicyRule, path: string): FieldError[] {
  const errs = validateVerbs(r.verbs, `${path}.verbs`);
  const urls = r.nonResourceURLs ?? [];
  const p = `${path}.nonResourceURLs`;
  if (urls.length === 0) errs.push(fe.required(p, 'nonResourceURLs must contain at least one value'));
  else if (hasWildcard(urls)) {
    if (urls.length > 1)
      errs.push(fe.invalid(p, urls, "if '*' is present, must not specify other non-resource URLs"));
  } else
    urls.forEach((u, i) => {
      const why = nonResourceURLPathError(u);
      if (why) errs.push(fe.invalid(`${p}[${i}]`, u, why));
    });
  return errs;
}

function validateRules(rule: PolicyRulesWithSubjects, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (rule.subjects?.length)
    rule.subjects.forEach((s, i) => errs.push(...validateSubject(s, `${path}.subjects[${i}]`)));
  else errs.push(fe.required(`${path}.subjects`, 'subjects must contain at least one value'));
  if (!rule.resourceRules?.length && !rule.nonResourceRules?.length)
    errs.push(fe.required(path, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
  (rule.resourceRules ?? []).forEach((r, i) =>
    errs.push(...validateResourceRule(r, `${path}.resourceRules[${i}]`)),
  );
  (rule.nonResourceRules ?? []).forEach((r, i) =>
    errs.push(...validateNonResourceRule(r, `${path}.nonResourceRules[${i}]`)),
  );
  return errs;
}

/**
 * apiequality.Semantic.DeepEqual of the internal types on JSON: a missing list or map equals an empty one, and a
 * non-pointer field's zero value (false, "") equals its absence.
 */
function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown): boolean =>
    v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a && b) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    return [...new Set([...Object.keys(ao), ...Object.keys(bo)])].every((k) => semanticEqual(ao[k], bo[k]));
  }
  return a === b;
}

/** the spec a mandatory object must have, defaulted as a written object is */
function mandatorySpec<T extends FlowSchema | PriorityLevelConfiguration>(
  obj: T | undefined,
  defaults: (o: T) => void,
): T['spec'] | undefined {
  if (!obj) return undefined;
  const copy = deepCopy(obj);
  defaults(copy);
  return copy.spec;
}

function validateConditions(conditions: { type?: string }[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const p = `status.conditions[${i}].type`;
    const type = c.type ?? '';
    if (seen.has(type)) errs.push(fe.duplicate(p, type));
    seen.add(type);
    if (!type) errs.push(fe.required(p, 'must not be empty'));
  });
  return errs;
}

function validateFlowSchemaSpec(fs: FlowSchema): FieldError[] {
  const errs: FieldError[] = [];
  const spec = fs.spec ?? ({} as NonNullable<FlowSchema['spec']>);
  const precedence = spec.matchingPrecedence ?? 0;
  if (precedence <= 0)
    errs.push(fe.invalid('spec.matchingPrecedence', precedence, 'must be a positive value'));
  if (precedence > MAX_MATCHING_PRECEDENCE)
    errs.push(
      fe.invalid(
        'spec.matchingPrecedence',
        precedence,
        `must not be greater than ${MAX_MATCHING_PRECEDENCE}`,
      ),
    );
  if (precedence === 1 && fs.metadata?.name !== 'exempt')
    errs.push(
      fe.invalid(
        'spec.matchingPrecedence',
        precedence,
        "only the schema named 'exempt' may have matchingPrecedence 1",
      ),
    );
  const dm = spec.distinguisherMethod;
  if (dm && !DISTINGUISHERS.includes(dm.type))
    errs.push(fe.notSupported('spec.distinguisherMethod.type', dm, DISTINGUISHERS));
  const pl = spec.priorityLevelConfiguration?.name;
  if (pl)
    for (const m of isDNS1123Subdomain(pl))
      errs.push(fe.invalid('spec.priorityLevelConfiguration.name', pl, m));
  else errs.push(fe.required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  (spec.rules ?? []).forEach((r, i) => errs.push(...validateRules(r, `spec.rules[${i}]`)));
  return errs;
}

/** ValidateFlowSchema; an update validates the same (ValidateFlowSchemaUpdate) */
export function validateFlowSchema(fs: FlowSchema): FieldError[] {
  const errs = [...validateObjectMeta(fs.metadata, false, nameIsDNSSubdomain), ...validateFlowSchemaSpec(fs)];
  const name = fs.metadata?.name;
  const fixed = mandatorySpec(mandatoryFlowSchema(name) as FlowSchema | undefined, defaultFlowSchema);
  if (fixed && !semanticEqual(fs.spec, fixed))
    errs.push(fe.invalid('spec', fs.spec, `spec of '${name}' must equal the fixed value`));
  errs.push(...validateConditions(fs.status?.conditions));
  return errs;
}

export function validateFlowSchemaUpdate(fs: FlowSchema, old: FlowSchema): FieldError[] {
  return [
    ...validateFlowSchema(fs),
    ...validateObjectMetaUpdate(fs.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

/** ValidatePriorityLevelQueuingConfiguration, with shufflesharding.RequiredEntropyBits */
function validateQueuing(q: QueuingConfiguration, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const queueLengthLimit = q.queueLengthLimit ?? 0;
  const queues = q.queues ?? 0;
  const handSize = q.handSize ?? 0;
  if (queueLengthLimit <= 0)
    errs.push(fe.invalid(`${path}.queueLengthLimit`, queueLengthLimit, 'must be positive'));
  if (queues <= 0) errs.push(fe.invalid(`${path}.queues`, queues, 'must be positive'));
  else if (queues > MAX_QUEUES)
    errs.push(fe.invalid(`${path}.queues`, queues, `must not be greater than ${MAX_QUEUES}`));
  if (handSize <= 0) errs.push(fe.invalid(`${path}.handSize`, handSize, 'must be positive'));
  else if (handSize > queues)
    errs.push(fe.invalid(`${path}.handSize`, handSize, `should not be greater than queues (${queues})`));
  else if (Math.ceil(Math.log2(queues) * handSize) > MAX_HASH_BITS)
    errs.push(
      fe.invalid(
        `${path}.handSize`,
        handSize,
        `required entropy bits of deckSize ${queues} and handSize ${handSize} should not be greater than ${MAX_HASH_BITS}`,
      ),
    );
  return errs;
}

/**
 * ValidateLimitedPriorityLevelConfiguration as the strategy calls it: nominalConcurrencyShares must be positive
 * (the strategy's PriorityLevelValidationOptions leave AllowZeroLimitedNominalConcurrencyShares false, on create and
 * on update).
 */
function validateLimited(
  l: LimitedPriorityLevelConfiguration,
  path: string,
  allowZero: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const ncs = l.nominalConcurrencyShares ?? 0;
  if (allowZero ? ncs < 0 : ncs <= 0)
    errs.push(
      fe.invalid(
        `${path}.nominalConcurrencyShares`,
        ncs,
        allowZero ? 'must be a non-negative integer' : 'must be positive',
      ),
    );
  const lr = l.limitResponse;
  const lrp = `${path}.limitResponse`;
  switch (lr?.type) {
    case 'Reject':
      if (lr.queuing)
        errs.push(fe.forbidden(`${lrp}.queuing`, 'must be nil if limited.limitResponse.type is not Limited'));
      break;
    case 'Queue':
      if (!lr.queuing)
        errs.push(
          fe.required(`${lrp}.queuing`, 'must not be empty if limited.limitResponse.type is Limited'),
        );
      else errs.push(...validateQueuing(lr.queuing, `${lrp}.queuing`));
      break;
    default:
      errs.push(fe.notSupported(`${lrp}.type`, lr?.type ?? '', ['Queue', 'Reject']));
  }
  if (l.lendablePercent !== undefined && (l.lendablePercent < 0 || l.lendablePercent > 100))
    errs.push(
      fe.invalid(`${path}.lendablePercent`, l.lendablePercent, 'must be between 0 and 100, inclusive'),
    );
  if (l.borrowingLimitPercent !== undefined && l.borrowingLimitPercent < 0)
    errs.push(
      fe.invalid(
        `${path}.borrowingLimitPercent`,
        l.borrowingLimitPercent,
        'if specified, must be a non-negative integer',
      ),
    );
  return errs;
}

function validateExempt(e: ExemptPriorityLevelConfiguration, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (e.nominalConcurrencyShares !== undefined && e.nominalConcurrencyShares < 0)
    errs.push(
      fe.invalid(
        `${path}.nominalConcurrencyShares`,
        e.nominalConcurrencyShares,
        'must be a non-negative integer',
      ),
    );
  if (e.lendablePercent !== undefined && (e.lendablePercent < 0 || e.lendablePercent > 100))
    errs.push(
      fe.invalid(`${path}.lendablePercent`, e.lendablePercent, 'must be between 0 and 100, inclusive'),
    );
  return errs;
}

function validatePriorityLevelSpec(pl: PriorityLevelConfiguration, allowZero: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const spec = pl.spec ?? ({} as NonNullable<PriorityLevelConfiguration['spec']>);
  if ((pl.metadata?.name === 'exempt') !== (spec.type === 'Exempt'))
    errs.push(
      fe.invalid('spec.type', spec.type ?? '', "type must be 'Exempt' if and only if name is 'exempt'"),
    );
  switch (spec.type) {
    case 'Exempt':
      if (spec.limited) errs.push(fe.forbidden('spec.limited', 'must be nil if the type is not Limited'));
      if (spec.exempt) errs.push(...validateExempt(spec.exempt, 'spec.exempt'));
      break;
    case 'Limited':
      if (spec.exempt) errs.push(fe.forbidden('spec.exempt', 'must be nil if the type is Limited'));
      if (!spec.limited) errs.push(fe.required('spec.limited', 'must not be empty when type is Limited'));
      else errs.push(...validateLimited(spec.limited, 'spec.limited', allowZero));
      break;
    default:
      errs.push(fe.notSupported('spec.type', spec.type ?? '', ['Exempt', 'Limited']));
  }
  return errs;
}

/** the mandatory levels' spec is fixed; the exempt level's `spec.exempt` may be changed */
function validateMandatoryPriorityLevel(pl: PriorityLevelConfiguration): FieldError[] {
  const name = pl.metadata?.name;
  const fixed = mandatorySpec(
    mandatoryPriorityLevel(name) as PriorityLevelConfiguration | undefined,
    defaultPriorityLevelConfiguration,
  );
  if (!fixed) return [];
  if (name === 'exempt') {
    const without = (s: PriorityLevelConfiguration['spec']): unknown => ({ ...(s ?? {}), exempt: undefined });
    return semanticEqual(without(pl.spec), without(fixed))
      ? []
      : [
          fe.invalid(
            'spec',
            pl.spec,
            "spec of 'exempt' except the 'spec.exempt' field must equal the fixed value",
          ),
        ];
  }
  return semanticEqual(pl.spec, fixed)
    ? []
    : [fe.invalid('spec', pl.spec, `spec of '${name}' must equal the fixed value`)];
}

function validatePriorityLevel(pl: PriorityLevelConfiguration, allowZero: boolean): FieldError[] {
  return [
    ...validateObjectMeta(pl.metadata, false, nameIsDNSSubdomain),
    ...validatePriorityLevelSpec(pl, allowZero),
    ...validateMandatoryPriorityLevel(pl),
    ...validateConditions(pl.status?.conditions),
  ];
}

export function validatePriorityLevelConfiguration(pl: PriorityLevelConfiguration): FieldError[] {
  return validatePriorityLevel(pl, false);
}

export function validatePriorityLevelConfigurationUpdate(
  pl: PriorityLevelConfiguration,
  old: PriorityLevelConfiguration,
): FieldError[] {
  return [
    ...validatePriorityLevel(pl, false),
    ...validateObjectMetaUpdate(pl.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}

/** ValidateFlowSchemaStatusUpdate / ValidatePriorityLevelConfigurationStatusUpdate: the conditions, keyed by type */
export function validateFlowcontrolStatusUpdate(
  o: FlowSchema | PriorityLevelConfiguration,
  old: FlowSchema | PriorityLevelConfiguration,
): FieldError[] {
  return [
    ...validateConditions(o.status?.conditions),
    ...validateObjectMetaUpdate(o.metadata, old.metadata, false, nameIsDNSSubdomain),
  ];
}
