// Table printers of the platform kinds (rbac, admissionregistration, apiextensions, flowcontrol, certificates,
// networking policy/IP kinds), ported from upstream's pkg/printers/internalversion/printers.go (1.33). Role,
// ClusterRole and CustomResourceDefinition have no printer upstream: the default table convertor prints
// NAME and CREATED AT.
import { ageColumn, column, doc, nameColumn, wide } from './columns.js';
import { humanDuration } from './duration.js';
import { formatLabelSelector, labelSelectorString } from './format.js';
import type { KindPrinter } from './types.js';
import { objectAge as age, objectName as name, printer, type HasMeta } from './printer.js';

/** rest.NewDefaultTableConvertor: NAME and CREATED AT (RFC 3339, UTC) */
export const createdAtPrinter = printer<HasMeta>(
  [nameColumn(), column('Created At', 'date', doc('meta/v1.ObjectMeta', 'creationTimestamp'))],
  (o) => [name(o), createdAt(o.metadata?.creationTimestamp)],
);

function createdAt(ts: string | undefined): string {
  const t = ts ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Binding extends HasMeta {
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/** rbac.SubjectsStrings: users, groups, service accounts as namespace/name */
function subjectsStrings(subjects: Binding['subjects']): [string[], string[], string[]] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name ?? ''}`);
    else if (s.kind === 'User') users.push(s.name ?? '');
    else if (s.kind === 'Group') groups.push(s.name ?? '');
  }
  return [users, groups, sas];
}

const bindingPrinter = (what: string): KindPrinter =>
  printer<Binding>(
    [
      nameColumn(),
      column('Role', 'string', doc(`rbac/v1.${what}`, 'roleRef')),
      ageColumn(),
      column('Users', 'string', `Users in the ${what[0].toLowerCase()}${what.slice(1)}`, wide),
      column('Groups', 'string', `Groups in the ${what[0].toLowerCase()}${what.slice(1)}`, wide),
      column(
        'ServiceAccounts',
        'string',
        `ServiceAccounts in the ${what[0].toLowerCase()}${what.slice(1)}`,
        wide,
      ),
    ],
    (b, ctx) => {
      const [users, groups, sas] = subjectsStrings(b.subjects);
      return [
        name(b),
        `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
        age(b, ctx),
        users.join(', '),
        groups.join(', '),
        sas.join(', '),
      ];
    },
  );

export const roleBindingPrinter = bindingPrinter('RoleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('ClusterRoleBinding');

export const webhookConfigurationPrinter = printer<HasMeta & { webhooks?: unknown[] }>(
  [
    nameColumn(),
    column(
      'Webhooks',
      'integer',
      'Webhooks indicates the number of webhooks registered in this configuration',
    ),
    ageColumn(),
  ],
  (c, ctx) => [name(c), c.webhooks?.length ?? 0, age(c, ctx)],
);

export const validatingAdmissionPolicyPrinter = printer<
  HasMeta & { spec?: { validations?: unknown[]; paramKind?: { apiVersion?: string; kind?: string } } }
>(
  [
    nameColumn(),
    column(
      'Validations',
      'integer',
      'Validations indicates the number of validation rules defined in this configuration',
    ),
    column(
      'ParamKind',
      'string',
      'ParamKind specifies the kind of resources used to parameterize this policy',
    ),
    ageColumn(),
  ],
  (p, ctx) => {
    const pk = p.spec?.paramKind;
    return [
      name(p),
      p.spec?.validations?.length ?? 0,
      pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>',
      age(p, ctx),
    ];
  },
);

export const validatingAdmissionPolicyBindingPrinter = printer<
  HasMeta & {
    spec?: {
      policyName?: string;
      paramRef?: { name?: string; namespace?: string; selector?: Parameters<typeof labelSelectorString>[0] };
    };
  }
>(
  [
    nameColumn(),
    column(
      'PolicyName',
      'string',
      'PolicyName indicates the policy definition which the policy binding binded to',
    ),
    column('ParamRef', 'string', 'ParamRef indicates the param resource which sets the configration param'),
    ageColumn(),
  ],
  (b, ctx) => {
    let param = '<unset>';
    const pr = b.spec?.paramRef;
    if (pr?.name) param = pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
    else if (pr?.selector) param = labelSelectorString(pr.selector);
    return [name(b), b.spec?.policyName ?? '', param, age(b, ctx)];
  },
);

interface FlowSchemaView extends HasMeta {
  spec?: {
    priorityLevelConfiguration?: { name?: string };
    matchingPrecedence?: number;
    distinguisherMethod?: { type?: string };
  };
  status?: { conditions?: { type?: string; status?: string }[] };
}

export const flowSchemaPrinter = printer<FlowSchemaView>(
  [
    nameColumn(),
    column('PriorityLevel', 'string', doc('flowcontrol/v1.PriorityLevelConfigurationReference', 'name')),
    column('MatchingPrecedence', 'string', doc('flowcontrol/v1.FlowSchemaSpec', 'matchingPrecedence')),
    column('DistinguisherMethod', 'string', doc('flowcontrol/v1.FlowSchemaSpec', 'distinguisherMethod')),
    ageColumn(),
    column('MissingPL', 'string', 'references a broken or non-existent PriorityLevelConfiguration'),
  ],
  (fs, ctx) => {
    const dangling = fs.status?.conditions?.find((c) => c.type === 'Dangling');
    return [
      name(fs),
      fs.spec?.priorityLevelConfiguration?.name ?? '',
      fs.spec?.matchingPrecedence ?? 0,
      fs.spec?.distinguisherMethod?.type ?? '<none>',
      age(fs, ctx),
      dangling?.status ?? '?',
    ];
  },
  // FlowSchemaSequence: by matching precedence, then name
  (a, b) =>
    (a.spec?.matchingPrecedence ?? 0) - (b.spec?.matchingPrecedence ?? 0) ||
    (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0),
);

interface PriorityLevelView extends HasMeta {
  spec?: {
    type?: string;
    limited?: {
      nominalConcurrencyShares?: number;
      limitResponse?: { queuing?: { queues?: number; handSize?: number; queueLengthLimit?: number } };
    };
  };
}

export const priorityLevelConfigurationPrinter = printer<PriorityLevelView>(
  [
    nameColumn(),
    column('Type', 'string', doc('flowcontrol/v1.PriorityLevelConfigurationSpec', 'type')),
    column(
      'NominalConcurrencyShares',
      'string',
      doc('flowcontrol/v1.LimitedPriorityLevelConfiguration', 'nominalConcurrencyShares'),
    ),
    column('Queues', 'string', doc('flowcontrol/v1.QueuingConfiguration', 'queues')),
    column('HandSize', 'string', doc('flowcontrol/v1.QueuingConfiguration', 'handSize')),
    column('QueueLengthLimit', 'string', doc('flowcontrol/v1.QueuingConfiguration', 'queueLengthLimit')),
    ageColumn(),
  ],
  (pl, ctx) => {
    const limited = pl.spec?.limited;
    const q = limited?.limitResponse?.queuing;
    return [
      name(pl),
      pl.spec?.type ?? '',
      limited ? (limited.nominalConcurrencyShares ?? 0) : '<none>',
      q ? (q.queues ?? 0) : '<none>',
      q ? (q.handSize ?? 0) : '<none>',
      q ? (q.queueLengthLimit ?? 0) : '<none>',
      age(pl, ctx),
    ];
  },
);

interface CsrView extends HasMeta {
  spec?: { signerName?: string; username?: string; expirationSeconds?: number };
  status?: { conditions?: { type?: string }[]; certificate?: string };
}

/** extractCSRStatus: Denied / Approved / Pending, then ,Failed and ,Issued */
export function csrCondition(csr: CsrView): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

export const csrPrinter = printer<CsrView>(
  [
    nameColumn(),
    ageColumn(),
    column('SignerName', 'string', doc('certificates/v1.CertificateSigningRequestSpec', 'signerName')),
    column('Requestor', 'string', doc('certificates/v1.CertificateSigningRequestSpec', 'request')),
    column(
      'RequestedDuration',
      'string',
      doc('certificates/v1.CertificateSigningRequestSpec', 'expirationSeconds'),
    ),
    column('Condition', 'string', doc('certificates/v1.CertificateSigningRequestStatus', 'conditions')),
  ],
  (csr, ctx) => [
    name(csr),
    age(csr, ctx),
    csr.spec?.signerName || '<none>',
    csr.spec?.username ?? '',
    csr.spec?.expirationSeconds !== undefined ? humanDuration(csr.spec.expirationSeconds * 1000) : '<none>',
    csrCondition(csr),
  ],
);

export const networkPolicyPrinter = printer<
  HasMeta & { spec?: { podSelector?: Parameters<typeof formatLabelSelector>[0] } }
>(
  [
    nameColumn(),
    column('Pod-Selector', 'string', doc('networking/v1.NetworkPolicySpec', 'podSelector')),
    ageColumn(),
  ],
  (np, ctx) => [name(np), formatLabelSelector(np.spec?.podSelector ?? {}), age(np, ctx)],
);

export const ipAddressPrinter = printer<
  HasMeta & {
    spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } };
  }
>([nameColumn(), column('ParentRef', 'string', doc('networking/v1.IPAddressSpec', 'parentRef'))], (ip) => {
  const ref = ip.spec?.parentRef;
  let parent = '<none>';
  if (ref) {
    // schema.GroupResource.String(), lower-cased
    parent = (ref.group ? `${ref.resource ?? ''}.${ref.group}` : (ref.resource ?? '')).toLowerCase();
    if (ref.namespace) parent += `/${ref.namespace}`;
    parent += `/${ref.name ?? ''}`;
  }
  return [name(ip), parent];
});

export const serviceCidrPrinter = printer<HasMeta & { spec?: { cidrs?: string[] } }>(
  [nameColumn(), column('CIDRs', 'string', doc('networking/v1.ServiceCIDRSpec', 'cidrs')), ageColumn()],
  (sc, ctx) => [name(sc), (sc.spec?.cidrs ?? []).join(','), age(sc, ctx)],
);

export const PLATFORM_PRINTERS: [string, KindPrinter][] = [
  ['rbac.authorization.k8s.io/Role', createdAtPrinter],
  ['rbac.authorization.k8s.io/ClusterRole', createdAtPrinter],
  ['rbac.authorization.k8s.io/RoleBinding', roleBindingPrinter],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', clusterRoleBindingPrinter],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', webhookConfigurationPrinter],
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', webhookConfigurationPrinter],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicy', validatingAdmissionPolicyPrinter],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding', validatingAdmissionPolicyBindingPrinter],
  ['apiextensions.k8s.io/CustomResourceDefinition', createdAtPrinter],
  ['flowcontrol.apiserver.k8s.io/FlowSchema', flowSchemaPrinter],
  ['flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration', priorityLevelConfigurationPrinter],
  ['certificates.k8s.io/CertificateSigningRequest', csrPrinter],
  ['networking.k8s.io/NetworkPolicy', networkPolicyPrinter],
  ['networking.k8s.io/IPAddress', ipAddressPrinter],
  ['networking.k8s.io/ServiceCIDR', serviceCidrPrinter],
];
