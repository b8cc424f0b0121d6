// flowcontrol.apiserver.k8s.io/v1 validation: FlowSchema and PriorityLevelConfiguration
// (upstream's pkg/apis/flowcontrol/validation/validation.go, the rules a user meets).
import type {
  FlowSchema,
  LimitedPriorityLevelConfiguration,
  PolicyRulesWithSubjects,
  PriorityLevelConfiguration,
  Subject,
} from 'kubernetes-types/flowcontrol/v1.js';
import { fe, type FieldError } from '../errors.js';
import { validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from './meta.js';
import { isValidPathSegmentName } from './names.js';

const pathSegment: NameValidator = (name, prefix) => isValidPathSegmentName(name, prefix);
const DISTINGUISHERS = ['ByNamespace', 'ByUser'];
const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];

function validateSubject(s: Subject, path: string): FieldError[] {
  switch (s.kind) {
    case 'User':
      if (!s.user) return [fe.required(`${path}.user`, "user is required when subject kind is 'User'")];
      return s.user.name ? [] : [fe.required(`${path}.user.name`, 'username is required')];
    case 'Group':
      if (!s.group) return [fe.required(`${path}.group`, "group is required when subject kind is 'Group'")];
      return s.group.name ? [] : [fe.required(`${path}.group.name`, 'name is required')];
    case 'ServiceAccount': {
      if (!s.serviceAccount)
        return [
          fe.required(
            `${path}.serviceAccount`,
            "serviceAccount is required when subject kind is 'ServiceAccount'",
          ),
        ];
      const errs: FieldError[] = [];
      if (!s.serviceAccount.name) errs.push(fe.required(`${path}.serviceAccount.name`, 'name is required'));
      if (!s.serviceAccount.namespace)
        errs.push(
          fe.required(`${path}.serviceAccount.namespace`, 'must specify namespace for service account'),
        );
      return errs;
    }
    default:
      return [fe.notSupported(`${path}.kind`, s.kind, SUBJECT_KINDS)];
  }
}

function validateRules(rule: PolicyRulesWithSubjects, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.subjects?.length)
    errs.push(fe.required(`${path}.subjects`, 'subjects must contain at least one value'));
  (rule.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, `${path}.subjects[${i}]`)));
  if (!rule.resourceRules?.length && !rule.nonResourceRules?.length)
    errs.push(fe.required(path, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
  (rule.resourceRules ?? []).forEach((r, i) => {
    const p = `${path}.resourceRules[${i}]`;
    if (!r.verbs?.length) errs.push(fe.required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (!r.apiGroups?.length)
      errs.push(fe.required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!r.resources?.length)
      errs.push(fe.required(`${p}.resources`, 'resource rules must supply at least one resource'));
    if (!r.namespaces?.length && !r.clusterScope)
      errs.push(
        fe.required(
          `${p}.namespaces`,
          'resource rules that are not cluster scoped must supply at least one namespace',
        ),
      );
  });
  (rule.nonResourceRules ?? []).forEach((r, i) => {
    const p = `${path}.nonResourceRules[${i}]`;
    if (!r.verbs?.length) errs.push(fe.required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (!r.nonResourceURLs?.length)
      errs.push(fe.required(`${p}.nonResourceURLs`, 'nonResourceURLs must contain at least one value'));
  });
  return errs;
}

export function validateFlowSchema(fs: FlowSchema): FieldError[] {
  const errs = validateObjectMeta(fs.metadata, false, pathSegment);
  const spec = fs.spec ?? ({} as NonNullable<FlowSchema['spec']>);
  const precedence = spec.matchingPrecedence ?? 0;
  if (precedence <= 0)
    errs.push(fe.invalid('spec.matchingPrecedence', precedence, 'must be a positive value'));
  if (precedence > 10000)
    errs.push(fe.invalid('spec.matchingPrecedence', precedence, 'must not be greater than 10000'));
  const dm = spec.distinguisherMethod;
  if (dm && !DISTINGUISHERS.includes(dm.type))
    errs.push(fe.notSupported('spec.distinguisherMethod.type', dm.type, DISTINGUISHERS));
  if (!spec.priorityLevelConfiguration?.name)
    errs.push(fe.required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  (spec.rules ?? []).forEach((r, i) => errs.push(...validateRules(r, `spec.rules[${i}]`)));
  return errs;
}

export function validateFlowSchemaUpdate(fs: FlowSchema, old: FlowSchema): FieldError[] {
  return [
    ...validateFlowSchema(fs),
    ...validateObjectMetaUpdate(fs.metadata, old.metadata, false, pathSegment),
  ];
}

function validateLimited(l: LimitedPriorityLevelConfiguration, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ncs = l.nominalConcurrencyShares;
  if (ncs !== undefined && ncs < 0)
    errs.push(fe.invalid(`${path}.nominalConcurrencyShares`, ncs, 'must be a non-negative integer'));
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
  const lr = l.limitResponse;
  const lrp = `${path}.limitResponse`;
  if (lr) {
    if (lr.type === 'Queue') {
      const q = lr.queuing;
      if (!q) errs.push(fe.required(`${lrp}.queuing`, 'must not be empty if type is Queue'));
      else {
        const qp = `${lrp}.queuing`;
        if ((q.queueLengthLimit ?? 0) <= 0)
          errs.push(fe.invalid(`${qp}.queueLengthLimit`, q.queueLengthLimit ?? 0, 'must be positive'));
        if ((q.queues ?? 0) <= 0) errs.push(fe.invalid(`${qp}.queues`, q.queues ?? 0, 'must be positive'));
        if ((q.handSize ?? 0) <= 0)
          errs.push(fe.invalid(`${qp}.handSize`, q.handSize ?? 0, 'must be positive'));
        else if ((q.handSize ?? 0) > (q.queues ?? 0))
          errs.push(
            fe.invalid(`${qp}.handSize`, q.handSize, `should not be greater than queues (${q.queues ?? 0})`),
          );
      }
    } else if (lr.type === 'Reject') {
      if (lr.queuing)
        errs.push(fe.forbidden(`${lrp}.queuing`, 'must be nil if limited.limitResponse.type is not Limited'));
    } else {
      errs.push(fe.notSupported(`${lrp}.type`, lr.type, ['Queue', 'Reject']));
    }
  }
  return errs;
}

export function validatePriorityLevelConfiguration(pl: PriorityLevelConfiguration): FieldError[] {
  const errs = validateObjectMeta(pl.metadata, false, pathSegment);
  const spec = pl.spec ?? ({} as NonNullable<PriorityLevelConfiguration['spec']>);
  switch (spec.type) {
    case 'Exempt':
      if (spec.limited) errs.push(fe.forbidden('spec.limited', 'must be nil if the type is not Limited'));
      if (spec.exempt) {
        const e = spec.exempt;
        if (e.nominalConcurrencyShares !== undefined && e.nominalConcurrencyShares < 0)
          errs.push(
            fe.invalid(
              'spec.exempt.nominalConcurrencyShares',
              e.nominalConcurrencyShares,
              'must be a non-negative integer',
            ),
          );
        if (e.lendablePercent !== undefined && (e.lendablePercent < 0 || e.lendablePercent > 100))
          errs.push(
            fe.invalid(
              'spec.exempt.lendablePercent',
              e.lendablePercent,
              'must be between 0 and 100, inclusive',
            ),
          );
      }
      break;
    case 'Limited':
      if (spec.exempt) errs.push(fe.forbidden('spec.exempt', 'must be nil if the type is Limited'));
      if (!spec.limited) errs.push(fe.required('spec.limited', 'must not be empty when type is Limited'));
      else errs.push(...validateLimited(spec.limited, 'spec.limited'));
      break;
    default:
      errs.push(fe.notSupported('spec.type', spec.type ?? '', ['Exempt', 'Limited']));
  }
  return errs;
}

export function validatePriorityLevelConfigurationUpdate(
  pl: PriorityLevelConfiguration,
  old: PriorityLevelConfiguration,
): FieldError[] {
  return [
    ...validatePriorityLevelConfiguration(pl),
    ...validateObjectMetaUpdate(pl.metadata, old.metadata, false, pathSegment),
  ];
}

/** status writes: metadata rules only */
export function validateFlowcontrolStatusUpdate(
  o: FlowSchema | PriorityLevelConfiguration,
  old: FlowSchema | PriorityLevelConfiguration,
): FieldError[] {
  return validateObjectMetaUpdate(o.metadata, old.metadata, false, pathSegment);
}
